"""Exceptions, dead letters and webhook endpoints over HTTP."""

from __future__ import annotations

import falcon

from cbp.adapters.falcon import presenters as present
from cbp.adapters.falcon import responses as out
from cbp.adapters.falcon import schemas as s
from cbp.adapters.falcon.http import (
    principal,
)
from cbp.adapters.falcon.resources.base import Api
from cbp.domain.errors import InvalidInput
from cbp.domain.payment_exception import ExceptionStatus
from cbp.ports.storage.notices import ExceptionFilter
from cbp.services import commands as c


class Exceptions(Api):
    """Payment exceptions and customer notifications."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        cursor, limit = self.paging(req)
        query = ExceptionFilter(
            tenant_id=principal(req).tenant,
            status=self.choice_param(req, "status", ExceptionStatus),
            payment_id=req.get_param("payment_id"),
            customer_id=req.get_param("customer_id"),
        )
        result = self.read(req).list_exceptions(query, cursor=cursor, limit=limit)
        sent = self.read(req).exception_notifications(
            principal(req).tenant, [e.id for e in result.items]
        )
        self.send(resp, 200, self.page(result, lambda e: present.exception(e, sent.get(e.id, []))))

    def on_get_one(self, req: falcon.Request, resp: falcon.Response, exception_id: str) -> None:
        self.send(resp, 200, self._present(req, principal(req).tenant, exception_id))

    def _present(self, req: falcon.Request, tenant: str, exception_id: str) -> out.ExceptionOut:
        exception = self.read(req).get_exception(tenant, exception_id)
        sent = self.read(req).exception_notifications(tenant, [exception_id])
        return present.exception(exception, sent.get(exception_id, []))

    def on_post_resolve(
        self, req: falcon.Request, resp: falcon.Response, exception_id: str
    ) -> None:
        body = self.body(req, s.ResolveIn)
        tenant = principal(req).tenant
        self.handle(
            req,
            c.ResolveException(
                tenant_id=tenant,
                exception_id=exception_id,
                resolution=body.resolution,
                **self.actor(req),
            ),
        )
        self.send(resp, 200, self._present(req, tenant, exception_id))

    def on_post_notify(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = self.body(req, s.NotifyIn)
        ids = self.handle(
            req,
            c.SendCustomerNotification(
                tenant_id=principal(req).tenant,
                exception_id=body.exception_id,
                channels=tuple(body.channels),
                template=body.template,
                **self.actor(req),
            ),
        )
        self.send(resp, 202, out.NotificationIdsOut(notification_ids=ids))

    def on_get_notification(
        self, req: falcon.Request, resp: falcon.Response, notification_id: str
    ) -> None:
        notification = self.read(req).get_notification(principal(req).tenant, notification_id)
        self.send(resp, 200, present.notification(notification))


class DeadLetters(Api):
    """Deliveries that ran out of attempts: a tenant's own, or every one for an operator key."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        _, limit = self.paging(req)
        dead = self.read(req).dead_letters(
            tenant_id=principal(req).tenant_id, limit=self.read(req).page_size(limit)
        )
        items = [present.dead_letter(d) for d in dead]
        self.send(resp, 200, out.PageOut[out.DeadLetterOut](items=items, next_cursor=None))

    def on_post_retry(self, req: falcon.Request, resp: falcon.Response, delivery_id: str) -> None:
        tenant = principal(req).tenant_id
        self.read(req).dead_letter(tenant, delivery_id)  # NOTE: another tenant's is 404
        self.handle(req, c.RetryDeadLetter(delivery_id=delivery_id, **self.actor(req)))
        self.send(resp, 202, present.dead_letter(self.read(req).dead_letter(tenant, delivery_id)))


class WebhookEndpoints(Api):
    """The tenant's webhook endpoint: register, rotate, resume, replay, remove."""

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = self.body(req, s.WebhookEndpointIn)
        tenant = principal(req).tenant
        issued = self.handle(
            req, c.RegisterWebhookEndpoint(tenant_id=tenant, url=body.url, **self.actor(req))
        )
        self.send(resp, 201, self._present(req, tenant, issued.secret))

    def on_patch(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = self.body(req, s.WebhookEndpointIn)
        tenant = principal(req).tenant
        self.handle(req, c.ChangeWebhookEndpoint(tenant_id=tenant, url=body.url, **self.actor(req)))
        self.send(resp, 200, self._present(req, tenant))

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.send(resp, 200, self._present(req, principal(req).tenant))

    def on_delete(self, req: falcon.Request, resp: falcon.Response) -> None:
        tenant = principal(req).tenant
        self.handle(req, c.RemoveWebhookEndpoint(tenant_id=tenant, **self.actor(req)))
        resp.status = falcon.HTTP_204

    def on_post_rotate(self, req: falcon.Request, resp: falcon.Response) -> None:
        tenant = principal(req).tenant
        issued = self.handle(req, c.RotateWebhookSecret(tenant_id=tenant, **self.actor(req)))
        self.send(resp, 200, self._present(req, tenant, issued.secret))

    def on_post_resume(self, req: falcon.Request, resp: falcon.Response) -> None:
        tenant = principal(req).tenant
        replayed = self.handle(req, c.ResumeWebhookEndpoint(tenant_id=tenant, **self.actor(req)))
        self.send(resp, 202, out.WebhookReplayOut(replayed=replayed))

    def on_post_replay(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = self.body(req, s.WebhookReplayIn)
        if body.since.tzinfo is None:
            raise InvalidInput("since must carry a time zone (Z or an offset)")
        replayed = self.handle(
            req,
            c.ReplayWebhooks(
                tenant_id=principal(req).tenant,
                since=body.since,
                unsent_only=body.unsent_only,
                **self.actor(req),
            ),
        )
        self.send(resp, 202, out.WebhookReplayOut(replayed=replayed))

    def _present(
        self, req: falcon.Request, tenant_id: str, secret: str | None = None
    ) -> out.WebhookEndpointOut:
        endpoint = self.read(req).webhook_endpoint(tenant_id)
        return present.webhook_endpoint(endpoint, at=self.clock.now(), secret=secret)
