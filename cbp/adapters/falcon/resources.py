"""The REST resources: validate, build a command, call the use case, shape.

No business rule lives here, and no domain error is caught here: the error
handlers turn them into problems, and the idempotency middleware keeps the
answer for a replay.
"""

from __future__ import annotations

import hashlib
from typing import Any, TypeVar

import falcon
from pydantic import BaseModel

from cbp.adapters.falcon import presenters as present
from cbp.adapters.falcon import schemas as s
from cbp.adapters.falcon.cursors import CursorSeal
from cbp.adapters.falcon.http import (
    ApiOptions,
    is_ascii_number,
    is_blank,
    parse_json,
    principal,
    raw_body,
)
from cbp.adapters.falcon.telemetry import outgoing_context
from cbp.domain.errors import InvalidInput, Unauthenticated
from cbp.domain.webhook_signature import SignatureInvalid, verify
from cbp.ports.storage.pages import Page
from cbp.services import commands as c
from cbp.services.bus import CommandBus
from cbp.services.dependencies import Dependencies
from cbp.services.queries import Queries

M = TypeVar("M", bound=BaseModel)


def encode(model: BaseModel) -> bytes:
    """The JSON bytes of a response model (times in RFC 3339)."""
    return model.model_dump_json(by_alias=True).encode()


def _write(resp: falcon.Response, status: int, body: bytes) -> None:
    """A JSON body, or a problem for a 4xx or 5xx, that no cache may keep."""
    resp.status = falcon.code_to_http_status(status)
    resp.data = body
    resp.content_type = "application/problem+json" if status >= 400 else "application/json"
    resp.cache_control = ["no-store"]


class Api:
    """What every resource shares: the use cases and the request helpers."""

    def __init__(self, bus: CommandBus, queries: Queries, deps: Dependencies, options: ApiOptions):
        self.bus = bus
        self.queries = queries
        self.deps = deps
        self.options = options
        self.cursors = CursorSeal(options.cursor_key)

    def body(self, req: falcon.Request, model: type[M]) -> M:
        """The request body, parsed and validated against ``model`` (strictly, as JSON)."""
        raw = raw_body(req, self.options.max_body_bytes)
        parse_json(raw)  # NOTE: malformed or too deep is 400; the schema's verdict is 422
        return model.model_validate_json(b"{}" if is_blank(raw) else raw, strict=True)

    def send(self, resp: falcon.Response, status: int, data: BaseModel) -> None:
        """A JSON response that no cache may keep (it holds account data)."""
        _write(resp, status, encode(data))

    def paging(self, req: falcon.Request) -> tuple[str | None, int | None]:
        """The ``cursor`` (opened: only the API's own are taken) and ``limit`` parameters."""
        limit = req.get_param("limit")
        if limit is not None and not is_ascii_number(limit):
            raise InvalidInput("limit must be a whole number between 1 and 100")
        return self.cursors.open(req.get_param("cursor")), None if limit is None else int(limit)

    def page(self, items: Page[Any], present_item: Any) -> present.PageOut[Any]:
        """A page of presented items, its next cursor sealed."""
        return present.page(items, present_item, self.cursors.seal(items.next_cursor))

    def actor(self, req: falcon.Request) -> dict[str, Any]:
        """Who acts, and the correlation to carry into messages."""
        return {
            "actor": principal(req).key_id,
            "correlation_id": req.context.request_id,
            "traceparent": outgoing_context().get("traceparent"),
        }


def _address(a: s.AddressIn | None) -> c.AddressInput | None:
    return None if a is None else c.AddressInput(**a.model_dump())


class Customers(Api):
    """POST /customer, GET and PATCH /customer/{customer_id}."""

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = self.body(req, s.CustomerIn)
        tenant = principal(req).tenant
        customer_id = self.bus.handle(
            c.CreateCustomer(tenant_id=tenant, **body.model_dump(), **self.actor(req))
        )
        self.send(resp, 201, present.customer(self.queries.get_customer(tenant, customer_id)))

    def on_get_one(self, req: falcon.Request, resp: falcon.Response, customer_id: str) -> None:
        customer = self.queries.get_customer(principal(req).tenant, customer_id)
        self.send(resp, 200, present.customer(customer))

    def on_patch_one(self, req: falcon.Request, resp: falcon.Response, customer_id: str) -> None:
        body = self.body(req, s.CustomerPatch)
        tenant = principal(req).tenant
        channels, notify_on = body.notification_channels, body.notify_on
        self.bus.handle(
            c.SetNotificationPreferences(
                tenant_id=tenant,
                customer_id=customer_id,
                notification_channels=None if channels is None else tuple(channels),
                notify_on=None if notify_on is None else tuple(notify_on),
                **self.actor(req),
            )
        )
        self.send(resp, 200, present.customer(self.queries.get_customer(tenant, customer_id)))


class Directory(Api):
    """The biller directory: search, read, administer."""

    def on_get_search_query(self, req: falcon.Request, resp: falcon.Response) -> None:
        partial_name = req.get_param("partial_name") or ""
        if not partial_name.strip():
            raise InvalidInput(
                "give a partial_name (in the path, or as ?partial_name= for any text)"
            )
        self.on_get_search(req, resp, partial_name)

    def on_get_search(self, req: falcon.Request, resp: falcon.Response, partial_name: str) -> None:
        cursor, limit = self.paging(req)
        result = self.queries.search_directory(partial_name, cursor=cursor, limit=limit)
        body = encode(self.page(result, present.global_payee))
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        resp.etag = etag
        resp.cache_control = ["private", "max-age=60"]
        if req.get_header("If-None-Match") == etag:
            resp.status = falcon.HTTP_304
            return
        resp.data = body
        resp.content_type = "application/json"

    def on_get_one(self, req: falcon.Request, resp: falcon.Response, global_payee_id: str) -> None:
        self.send(resp, 200, present.global_payee(self.queries.get_global_payee(global_payee_id)))

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = self.body(req, s.GlobalPayeeIn)
        fields = body.model_dump(exclude={"address"})
        biller_id = self.bus.handle(
            c.AddGlobalPayee(
                **{
                    **fields,
                    "aliases": tuple(body.aliases),
                    "account_masks": tuple(body.account_masks),
                },
                address=c.AddressInput(**body.address.model_dump()),
                **self.actor(req),
            )
        )
        self.send(resp, 201, present.global_payee(self.queries.get_global_payee(biller_id)))

    def on_patch_one(
        self, req: falcon.Request, resp: falcon.Response, global_payee_id: str
    ) -> None:
        body = self.body(req, s.GlobalPayeePatch)
        fields = body.model_dump(
            exclude={"address", "aliases", "account_masks"}, exclude_unset=True
        )
        self.bus.handle(
            c.UpdateGlobalPayee(
                global_payee_id=global_payee_id,
                address=_address(body.address),
                aliases=None if body.aliases is None else tuple(body.aliases),
                account_masks=None if body.account_masks is None else tuple(body.account_masks),
                **fields,
                **self.actor(req),
            )
        )
        self.send(resp, 200, present.global_payee(self.queries.get_global_payee(global_payee_id)))


class Payees(Api):
    """Customers' payees."""

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = self.body(req, s.PayeeIn)
        tenant = principal(req).tenant
        payee_id = self.bus.handle(
            c.AddPayee(
                tenant_id=tenant,
                **body.model_dump(exclude={"address"}),
                address=_address(body.address),
                **self.actor(req),
            )
        )
        self.send(resp, 201, present.payee(self.queries.get_payee(tenant, payee_id)))

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        cursor, limit = self.paging(req)
        result = self.queries.list_payees(
            principal(req).tenant,
            customer_id=req.get_param("customer_id"),
            cursor=cursor,
            limit=limit,
        )
        self.send(resp, 200, self.page(result, present.payee))

    def on_get_one(self, req: falcon.Request, resp: falcon.Response, payee_id: str) -> None:
        self.send(resp, 200, present.payee(self.queries.get_payee(principal(req).tenant, payee_id)))

    def on_patch_one(self, req: falcon.Request, resp: falcon.Response, payee_id: str) -> None:
        body = self.body(req, s.PayeePatch)
        tenant = principal(req).tenant
        self.bus.handle(
            c.UpdatePayee(
                tenant_id=tenant,
                payee_id=payee_id,
                **body.model_dump(exclude_unset=True),
                **self.actor(req),
            )
        )
        self.send(resp, 200, present.payee(self.queries.get_payee(tenant, payee_id)))


class FundingAccounts(Api):
    """Customers' funding accounts."""

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = self.body(req, s.FundingAccountIn)
        tenant = principal(req).tenant
        account_id = self.bus.handle(
            c.AddFundingAccount(tenant_id=tenant, **body.model_dump(), **self.actor(req))
        )
        account = self.queries.get_funding_account(tenant, account_id)
        self.send(resp, 201, present.funding_account(account))

    def on_get_one(self, req: falcon.Request, resp: falcon.Response, account_id: str) -> None:
        account = self.queries.get_funding_account(principal(req).tenant, account_id)
        self.send(resp, 200, present.funding_account(account))

    def on_post_micro_deposits(
        self, req: falcon.Request, resp: falcon.Response, account_id: str
    ) -> None:
        body = self.body(req, s.MicroDepositsIn)
        tenant = principal(req).tenant
        self.bus.handle(
            c.ConfirmMicroDeposits(
                tenant_id=tenant,
                account_id=account_id,
                amounts=tuple(body.amounts),
                **self.actor(req),
            )
        )
        account = self.queries.get_funding_account(tenant, account_id)
        self.send(resp, 200, present.funding_account(account))


class Payments(Api):
    """One-time payments, their history, cancellation and processing jobs."""

    def on_post_one_time(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = self.body(req, s.PaymentIn)
        tenant = principal(req).tenant
        payment_id = self.bus.handle(
            c.CreateOneTimePayment(tenant_id=tenant, **body.model_dump(), **self.actor(req))
        )
        self.send(resp, 201, present.payment(self.queries.get_payment(tenant, payment_id)))

    def on_patch_one(self, req: falcon.Request, resp: falcon.Response, payment_id: str) -> None:
        body = self.body(req, s.PaymentPatch)
        tenant = principal(req).tenant
        self.bus.handle(
            c.ChangePayment(
                tenant_id=tenant,
                payment_id=payment_id,
                **body.model_dump(exclude_unset=True),
                **self.actor(req),
            )
        )
        self.send(resp, 200, present.payment(self.queries.get_payment(tenant, payment_id)))

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        cursor, limit = self.paging(req)
        result = self.queries.list_payments(
            principal(req).tenant,
            customer_id=req.get_param("customer_id"),
            status=req.get_param("status"),
            cursor=cursor,
            limit=limit,
        )
        self.send(resp, 200, self.page(result, present.payment))

    def on_get_one(self, req: falcon.Request, resp: falcon.Response, payment_id: str) -> None:
        payment = self.queries.get_payment(principal(req).tenant, payment_id)
        self.send(resp, 200, present.payment(payment))

    def on_get_events(self, req: falcon.Request, resp: falcon.Response, payment_id: str) -> None:
        events = self.queries.payment_events(principal(req).tenant, payment_id)
        self.send(
            resp,
            200,
            present.PageOut[Any](items=[present.event(e) for e in events], next_cursor=None),
        )

    def on_get_audit(self, req: falcon.Request, resp: falcon.Response, payment_id: str) -> None:
        entries = self.queries.payment_audit(principal(req).tenant, payment_id)
        self.send(
            resp,
            200,
            present.PageOut[Any](items=[present.audit_entry(e) for e in entries], next_cursor=None),
        )

    def on_post_cancel(self, req: falcon.Request, resp: falcon.Response, payment_id: str) -> None:
        body = self.body(req, s.CancelIn)
        tenant = principal(req).tenant
        self.bus.handle(
            c.CancelPayment(
                tenant_id=tenant, payment_id=payment_id, reason=body.reason, **self.actor(req)
            )
        )
        self.send(resp, 200, present.payment(self.queries.get_payment(tenant, payment_id)))

    def on_post_process(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = self.body(req, s.ProcessIn)
        tenant = principal(req).tenant
        job_id = self.bus.handle(
            c.StartProcessingJob(
                tenant_id=tenant,
                payment_ids=tuple(body.payment_ids),
                due_on=body.due_on,
                send_now=body.send_now,
                **self.actor(req),
            )
        )
        job, progress = self.queries.job_progress(tenant, job_id)
        resp.location = f"/payment/process/{job_id}"
        self.send(resp, 202, present.job(job, progress))

    def on_get_job(self, req: falcon.Request, resp: falcon.Response, job_id: str) -> None:
        job, progress = self.queries.job_progress(principal(req).tenant, job_id)
        self.send(resp, 200, present.job(job, progress))


class RecurringPayments(Api):
    """Recurring payments: schedules, their next occurrence, and their history."""

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = self.body(req, s.RecurringPaymentIn)
        tenant = principal(req).tenant
        schedule_id = self.bus.handle(
            c.CreateRecurringPayment(tenant_id=tenant, **body.model_dump(), **self.actor(req))
        )
        self.send(resp, 201, self._present(tenant, schedule_id))

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        cursor, limit = self.paging(req)
        result = self.queries.list_recurring_payments(
            principal(req).tenant,
            customer_id=req.get_param("customer_id"),
            status=req.get_param("status"),
            cursor=cursor,
            limit=limit,
        )
        self.send(resp, 200, self.page(result, present.recurring_payment))

    def on_get_one(self, req: falcon.Request, resp: falcon.Response, schedule_id: str) -> None:
        self.send(resp, 200, self._present(principal(req).tenant, schedule_id))

    def on_patch_one(self, req: falcon.Request, resp: falcon.Response, schedule_id: str) -> None:
        body = self.body(req, s.RecurringPaymentPatch)
        tenant = principal(req).tenant
        self.bus.handle(
            c.ChangeRecurringPayment(
                tenant_id=tenant,
                schedule_id=schedule_id,
                **body.model_dump(exclude_unset=True),
                **self.actor(req),
            )
        )
        self.send(resp, 200, self._present(tenant, schedule_id))

    def on_patch_next(self, req: falcon.Request, resp: falcon.Response, schedule_id: str) -> None:
        body = self.body(req, s.NextOccurrencePatch)
        tenant = principal(req).tenant
        self.bus.handle(
            c.ChangeNextOccurrence(
                tenant_id=tenant,
                schedule_id=schedule_id,
                **body.model_dump(exclude_unset=True),
                **self.actor(req),
            )
        )
        self.send(resp, 200, self._present(tenant, schedule_id))

    def on_post_skip(self, req: falcon.Request, resp: falcon.Response, schedule_id: str) -> None:
        tenant = principal(req).tenant
        self.bus.handle(
            c.SkipNextOccurrence(tenant_id=tenant, schedule_id=schedule_id, **self.actor(req))
        )
        self.send(resp, 200, self._present(tenant, schedule_id))

    def on_get_events(self, req: falcon.Request, resp: falcon.Response, schedule_id: str) -> None:
        events = self.queries.recurring_payment_events(principal(req).tenant, schedule_id)
        self.send(
            resp,
            200,
            present.PageOut[Any](items=[present.event(e) for e in events], next_cursor=None),
        )

    def _present(self, tenant: str, schedule_id: str) -> present.RecurringPaymentOut:
        schedule = self.queries.get_recurring_payment(tenant, schedule_id)
        upcoming = self.queries.upcoming_occurrences(schedule)
        return present.recurring_payment(schedule, upcoming)


class Exceptions(Api):
    """Payment exceptions and customer notifications."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        cursor, limit = self.paging(req)
        result = self.queries.list_exceptions(
            principal(req).tenant,
            status=req.get_param("status"),
            payment_id=req.get_param("payment_id"),
            customer_id=req.get_param("customer_id"),
            cursor=cursor,
            limit=limit,
        )
        sent = self.queries.exception_notifications(
            principal(req).tenant, [e.id for e in result.items]
        )
        self.send(resp, 200, self.page(result, lambda e: present.exception(e, sent.get(e.id, []))))

    def on_get_one(self, req: falcon.Request, resp: falcon.Response, exception_id: str) -> None:
        self.send(resp, 200, self._present(principal(req).tenant, exception_id))

    def _present(self, tenant: str, exception_id: str) -> present.ExceptionOut:
        exception = self.queries.get_exception(tenant, exception_id)
        sent = self.queries.exception_notifications(tenant, [exception_id])
        return present.exception(exception, sent.get(exception_id, []))

    def on_post_resolve(
        self, req: falcon.Request, resp: falcon.Response, exception_id: str
    ) -> None:
        body = self.body(req, s.ResolveIn)
        tenant = principal(req).tenant
        self.bus.handle(
            c.ResolveException(
                tenant_id=tenant,
                exception_id=exception_id,
                resolution=body.resolution,
                **self.actor(req),
            )
        )
        self.send(resp, 200, self._present(tenant, exception_id))

    def on_post_notify(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = self.body(req, s.NotifyIn)
        ids = self.bus.handle(
            c.SendCustomerNotification(
                tenant_id=principal(req).tenant,
                exception_id=body.exception_id,
                channels=tuple(body.channels),
                template=body.template,
                **self.actor(req),
            )
        )
        self.send(resp, 202, present.NotificationIdsOut(notification_ids=ids))

    def on_get_notification(
        self, req: falcon.Request, resp: falcon.Response, notification_id: str
    ) -> None:
        notification = self.queries.get_notification(principal(req).tenant, notification_id)
        self.send(resp, 200, present.notification(notification))


class DeadLetters(Api):
    """Deliveries that ran out of attempts: a tenant's own, or every one for an operator key."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        _, limit = self.paging(req)
        dead = self.queries.dead_letters(
            tenant_id=principal(req).tenant_id, limit=self.queries.page_size(limit)
        )
        items = [present.dead_letter(d) for d in dead]
        self.send(resp, 200, present.PageOut[present.DeadLetterOut](items=items, next_cursor=None))

    def on_post_retry(self, req: falcon.Request, resp: falcon.Response, delivery_id: str) -> None:
        tenant = principal(req).tenant_id
        self.queries.dead_letter(tenant, delivery_id)  # NOTE: another tenant's is 404
        self.bus.handle(c.RetryDeadLetter(delivery_id=delivery_id, **self.actor(req)))
        self.send(resp, 202, present.dead_letter(self.queries.dead_letter(tenant, delivery_id)))


class WebhookEndpoints(Api):
    """The tenant's webhook endpoint: register, rotate, resume, replay, remove."""

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = self.body(req, s.WebhookEndpointIn)
        tenant = principal(req).tenant
        issued = self.bus.handle(
            c.RegisterWebhookEndpoint(tenant_id=tenant, url=body.url, **self.actor(req))
        )
        self.send(resp, 201, self._present(tenant, issued.secret))

    def on_patch(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = self.body(req, s.WebhookEndpointIn)
        tenant = principal(req).tenant
        self.bus.handle(c.ChangeWebhookEndpoint(tenant_id=tenant, url=body.url, **self.actor(req)))
        self.send(resp, 200, self._present(tenant))

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.send(resp, 200, self._present(principal(req).tenant))

    def on_delete(self, req: falcon.Request, resp: falcon.Response) -> None:
        tenant = principal(req).tenant
        self.bus.handle(c.RemoveWebhookEndpoint(tenant_id=tenant, **self.actor(req)))
        resp.status = falcon.HTTP_204

    def on_post_rotate(self, req: falcon.Request, resp: falcon.Response) -> None:
        tenant = principal(req).tenant
        issued = self.bus.handle(c.RotateWebhookSecret(tenant_id=tenant, **self.actor(req)))
        self.send(resp, 200, self._present(tenant, issued.secret))

    def on_post_resume(self, req: falcon.Request, resp: falcon.Response) -> None:
        tenant = principal(req).tenant
        replayed = self.bus.handle(c.ResumeWebhookEndpoint(tenant_id=tenant, **self.actor(req)))
        self.send(resp, 202, present.WebhookReplayOut(replayed=replayed))

    def on_post_replay(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = self.body(req, s.WebhookReplayIn)
        if body.since.tzinfo is None:
            raise InvalidInput("since must carry a time zone (Z or an offset)")
        replayed = self.bus.handle(
            c.ReplayWebhooks(
                tenant_id=principal(req).tenant,
                since=body.since,
                unsent_only=body.unsent_only,
                **self.actor(req),
            )
        )
        self.send(resp, 202, present.WebhookReplayOut(replayed=replayed))

    def _present(self, tenant_id: str, secret: str | None = None) -> present.WebhookEndpointOut:
        endpoint = self.queries.webhook_endpoint(tenant_id)
        return present.webhook_endpoint(endpoint, at=self.deps.clock.now(), secret=secret)


class ProcessorEvents(Api):
    """Events the processor pushes back: each becomes the command it stands for."""

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        raw = raw_body(req, self.options.max_body_bytes)
        event_id = req.get_header("webhook-id") or ""
        try:
            verify(
                list(self.options.processor_webhook_secrets),
                message_id=event_id,
                timestamp=req.get_header("webhook-timestamp") or "",
                signature_header=req.get_header("webhook-signature") or "",
                body=raw,
                now=self.deps.clock.now().timestamp(),
                tolerance_seconds=self.options.processor_webhook_tolerance_seconds,
            )
        except SignatureInvalid as error:
            raise Unauthenticated(str(error)) from None
        if not (0 < len(event_id) <= 200 and event_id.isascii() and event_id.isprintable()):
            raise InvalidInput("webhook-id must be 1 to 200 printable ASCII characters")
        event = self.body(req, s.ProcessorEventIn)
        applied = self.bus.handle(
            c.ApplyProcessorEvent(
                event_id=event_id,
                event_type=event.type,
                tenant_id=event.data.tenant_id,
                payment_id=event.data.reference,
                code=event.data.return_code or event.data.failure_code,
                reason=event.data.reason,
                actor="processor",
                traceparent=req.get_header("traceparent"),
            )
        )
        self.send(resp, 200, present.ProcessorEventAckOut(event_id=event_id, duplicate=not applied))
