"""A tenant's webhook endpoint: registering it, rotating its secret, resuming and replaying."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cbp.domain import identifiers
from cbp.domain.customer import Channel
from cbp.domain.errors import AlreadyExists, IllegalTransition, NotFound
from cbp.domain.webhook_endpoint import (
    EndpointStatus,
    SigningSecret,
    WebhookEndpoint,
    check_url,
)
from cbp.domain.webhook_signature import new_secret
from cbp.ports.notifiers import WebhookSender
from cbp.ports.storage.unit_of_work import UnitOfWork
from cbp.ports.system import Clock, IdGenerator
from cbp.services.commands import (
    ChangeWebhookEndpoint,
    RegisterWebhookEndpoint,
    RemoveWebhookEndpoint,
    ReplayWebhooks,
    ResumeWebhookEndpoint,
    RotateWebhookSecret,
)
from cbp.services.notifications import queue_delivery

#: The most notifications one replay sends again; replay a later ``since`` for more.
MAX_REPLAY = 10_000


@dataclass(frozen=True)
class IssuedSecret:
    """An endpoint and its new signing secret, shown to the caller once."""

    endpoint_id: str
    secret: str = field(repr=False)


def register_webhook_endpoint(
    command: RegisterWebhookEndpoint,
    *,
    uow: UnitOfWork,
    clock: Clock,
    ids: IdGenerator,
    webhooks: WebhookSender,
) -> IssuedSecret:
    """Register the tenant's endpoint and make its signing secret, returned once."""
    url = check_url(command.url)
    webhooks.vet(url)
    secret = new_secret()
    uow.tenants.get(command.tenant_id)
    if uow.webhook_endpoints.for_tenant(command.tenant_id) is not None:
        raise AlreadyExists("the tenant has a webhook endpoint already: change its URL")
    endpoint = WebhookEndpoint(
        id=ids.new(identifiers.WEBHOOK_ENDPOINT),
        tenant_id=command.tenant_id,
        url=url,
        secrets=(SigningSecret(value=secret),),
        created_at=clock.now(),
    )
    uow.webhook_endpoints.add(endpoint)
    return IssuedSecret(endpoint.id, secret)


def change_webhook_endpoint(
    command: ChangeWebhookEndpoint,
    *,
    uow: UnitOfWork,
    webhooks: WebhookSender,
) -> None:
    """Point the endpoint at a new URL; its secrets stay, its failures are forgotten."""
    url = check_url(command.url)
    webhooks.vet(url)
    endpoint = _endpoint(uow, command.tenant_id)
    endpoint.change_url(url)
    uow.webhook_endpoints.save(endpoint)


def rotate_webhook_secret(
    command: RotateWebhookSecret,
    *,
    uow: UnitOfWork,
    clock: Clock,
    webhook_secret_overlap_seconds: float,
) -> IssuedSecret:
    """Make a new signing secret; the old ones keep signing for the overlap."""
    secret = new_secret()
    endpoint = _endpoint(uow, command.tenant_id)
    endpoint.rotate_secret(
        secret,
        at=clock.now(),
        overlap=timedelta(seconds=webhook_secret_overlap_seconds),
    )
    uow.webhook_endpoints.save(endpoint)
    return IssuedSecret(endpoint.id, secret)


def remove_webhook_endpoint(command: RemoveWebhookEndpoint, *, uow: UnitOfWork) -> None:
    """Forget the endpoint; webhooks made from now on are not sent anywhere."""
    _endpoint(uow, command.tenant_id)
    uow.webhook_endpoints.remove(command.tenant_id)


def resume_webhook_endpoint(
    command: ResumeWebhookEndpoint,
    *,
    uow: UnitOfWork,
    clock: Clock,
    ids: IdGenerator,
    webhook_retry_schedule: tuple[float, ...],
) -> int:
    """Un-pause the endpoint and send again what failed since it began failing.

    A notification made a little before the first failure may have been
    retrying then, so the replay reaches back one whole retry schedule.
    Returns how many notifications are sent again.
    """
    endpoint = _endpoint(uow, command.tenant_id)
    failing_since = endpoint.resume()
    uow.webhook_endpoints.save(endpoint)
    replayed = 0
    if failing_since is not None:
        reach = timedelta(seconds=sum(webhook_retry_schedule))
        since = failing_since - reach
        replayed = _replay(
            uow, endpoint.tenant_id, since, ids=ids, at=clock.now(), unsent_only=True
        )
    return replayed


def replay_webhooks(
    command: ReplayWebhooks, *, uow: UnitOfWork, clock: Clock, ids: IdGenerator
) -> int:
    """Send the tenant's webhooks made since ``since`` again; returns how many.

    Each goes with its original ``webhook-id``, so a receiver that has it
    already can tell. A paused endpoint is resumed first, not replayed to.
    """
    endpoint = _endpoint(uow, command.tenant_id)
    if endpoint.status is EndpointStatus.PAUSED:
        raise IllegalTransition("webhook endpoint", endpoint.status.value, "replay to")
    return _replay(
        uow,
        endpoint.tenant_id,
        command.since,
        ids=ids,
        at=clock.now(),
        unsent_only=command.unsent_only,
    )


def _replay(
    uow: UnitOfWork,
    tenant_id: str,
    since: datetime,
    *,
    ids: IdGenerator,
    at: datetime,
    unsent_only: bool,
) -> int:
    notifications = uow.notifications.for_replay(
        tenant_id, Channel.WEBHOOK, since, unsent_only=unsent_only, limit=MAX_REPLAY
    )
    in_order = ids.new(identifiers.MESSAGE)  # NOTE: one replay, delivered in order
    for notification in notifications:
        notification.reopen()
        uow.notifications.save(notification)
        queue_delivery(uow, notification, ids=ids, at=at, after=in_order)
    return len(notifications)


def _endpoint(uow: UnitOfWork, tenant_id: str) -> WebhookEndpoint:
    endpoint = uow.webhook_endpoints.for_tenant(tenant_id)
    if endpoint is None:
        raise NotFound("webhook endpoint", tenant_id)
    return endpoint
