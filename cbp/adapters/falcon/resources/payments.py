"""Payments, recurring payments, and the processor's signed events over HTTP."""

from __future__ import annotations

import falcon

from cbp.adapters.falcon import presenters as present
from cbp.adapters.falcon import responses as out
from cbp.adapters.falcon import schemas as s
from cbp.adapters.falcon.http import (
    principal,
    raw_body,
)
from cbp.adapters.falcon.resources.base import Api
from cbp.domain.errors import InvalidInput, Unauthenticated
from cbp.domain.payment import PaymentStatus
from cbp.domain.recurring import ScheduleStatus
from cbp.domain.webhook_signature import SignatureInvalid, verify
from cbp.ports.storage.payments import PaymentFilter, ScheduleFilter
from cbp.services import commands as c


class Payments(Api):
    """One-time payments, their history, cancellation and processing jobs."""

    def on_post_one_time(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = self.body(req, s.PaymentIn)
        tenant = principal(req).tenant
        payment_id = self.handle(
            req, c.CreateOneTimePayment(tenant_id=tenant, **body.model_dump(), **self.actor(req))
        )
        self.send(resp, 201, present.payment(self.read(req).get_payment(tenant, payment_id)))

    def on_get_quote(self, req: falcon.Request, resp: falcon.Response) -> None:
        payee_id = req.get_param("payee_id")
        if not payee_id:
            raise InvalidInput("payee_id is required: the payee the payment would go to")
        quote = self.read(req).quote_delivery(
            principal(req).tenant,
            payee_id,
            send_on=self.date_param(req, "send_on"),
            due_on=self.date_param(req, "due_on"),
        )
        self.send(resp, 200, present.delivery_quote(quote))

    def on_patch_one(self, req: falcon.Request, resp: falcon.Response, payment_id: str) -> None:
        body = self.body(req, s.PaymentPatch)
        tenant = principal(req).tenant
        self.handle(
            req,
            c.ChangePayment(
                tenant_id=tenant,
                payment_id=payment_id,
                **body.model_dump(exclude_unset=True),
                **self.actor(req),
            ),
        )
        self.send(resp, 200, present.payment(self.read(req).get_payment(tenant, payment_id)))

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        cursor, limit = self.paging(req)
        query = PaymentFilter(
            tenant_id=principal(req).tenant,
            customer_id=req.get_param("customer_id"),
            status=self.choice_param(req, "status", PaymentStatus),
        )
        result = self.read(req).list_payments(query, cursor=cursor, limit=limit)
        self.send(resp, 200, self.page(result, present.payment))

    def on_get_one(self, req: falcon.Request, resp: falcon.Response, payment_id: str) -> None:
        payment = self.read(req).get_payment(principal(req).tenant, payment_id)
        self.send(resp, 200, present.payment(payment))

    def on_get_events(self, req: falcon.Request, resp: falcon.Response, payment_id: str) -> None:
        events = self.read(req).payment_events(principal(req).tenant, payment_id)
        self.send_history(resp, events, present.event)

    def on_get_audit(self, req: falcon.Request, resp: falcon.Response, payment_id: str) -> None:
        entries = self.read(req).payment_audit(principal(req).tenant, payment_id)
        self.send_history(resp, entries, present.audit_entry)

    def on_post_cancel(self, req: falcon.Request, resp: falcon.Response, payment_id: str) -> None:
        body = self.body(req, s.CancelIn)
        tenant = principal(req).tenant
        self.handle(
            req,
            c.CancelPayment(
                tenant_id=tenant, payment_id=payment_id, reason=body.reason, **self.actor(req)
            ),
        )
        self.send(resp, 200, present.payment(self.read(req).get_payment(tenant, payment_id)))

    def on_get_check(self, req: falcon.Request, resp: falcon.Response, payment_id: str) -> None:
        check = self.read(req).get_check(principal(req).tenant, payment_id)
        self.send(resp, 200, present.check(check))

    def on_post_stop_check(
        self, req: falcon.Request, resp: falcon.Response, payment_id: str
    ) -> None:
        tenant = principal(req).tenant
        self.handle(req, c.StopCheck(tenant_id=tenant, payment_id=payment_id, **self.actor(req)))
        self.send(resp, 200, present.check(self.read(req).get_check(tenant, payment_id)))

    def on_post_process(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = self.body(req, s.ProcessIn)
        tenant = principal(req).tenant
        job_id = self.handle(
            req,
            c.StartProcessingJob(
                tenant_id=tenant,
                payment_ids=tuple(body.payment_ids),
                due_on=body.due_on,
                send_now=body.send_now,
                **self.actor(req),
            ),
        )
        job, progress = self.read(req).job_progress(tenant, job_id)
        resp.location = f"/payment/process/{job_id}"
        self.send(resp, 202, present.job(job, progress))

    def on_get_job(self, req: falcon.Request, resp: falcon.Response, job_id: str) -> None:
        job, progress = self.read(req).job_progress(principal(req).tenant, job_id)
        self.send(resp, 200, present.job(job, progress))


class RecurringPayments(Api):
    """Recurring payments: schedules, their next occurrence, and their history."""

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = self.body(req, s.RecurringPaymentIn)
        tenant = principal(req).tenant
        schedule_id = self.handle(
            req, c.CreateRecurringPayment(tenant_id=tenant, **body.model_dump(), **self.actor(req))
        )
        self.send(resp, 201, self._present(req, tenant, schedule_id))

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        cursor, limit = self.paging(req)
        query = ScheduleFilter(
            tenant_id=principal(req).tenant,
            customer_id=req.get_param("customer_id"),
            status=self.choice_param(req, "status", ScheduleStatus),
        )
        result = self.read(req).list_recurring_payments(query, cursor=cursor, limit=limit)
        self.send(resp, 200, self.page(result, present.recurring_payment))

    def on_get_one(self, req: falcon.Request, resp: falcon.Response, schedule_id: str) -> None:
        self.send(resp, 200, self._present(req, principal(req).tenant, schedule_id))

    def on_patch_one(self, req: falcon.Request, resp: falcon.Response, schedule_id: str) -> None:
        body = self.body(req, s.RecurringPaymentPatch)
        tenant = principal(req).tenant
        self.handle(
            req,
            c.ChangeRecurringPayment(
                tenant_id=tenant,
                schedule_id=schedule_id,
                **body.model_dump(exclude_unset=True),
                **self.actor(req),
            ),
        )
        self.send(resp, 200, self._present(req, tenant, schedule_id))

    def on_patch_next(self, req: falcon.Request, resp: falcon.Response, schedule_id: str) -> None:
        body = self.body(req, s.NextOccurrencePatch)
        tenant = principal(req).tenant
        self.handle(
            req,
            c.ChangeNextOccurrence(
                tenant_id=tenant,
                schedule_id=schedule_id,
                **body.model_dump(exclude_unset=True),
                **self.actor(req),
            ),
        )
        self.send(resp, 200, self._present(req, tenant, schedule_id))

    def on_post_skip(self, req: falcon.Request, resp: falcon.Response, schedule_id: str) -> None:
        tenant = principal(req).tenant
        self.handle(
            req, c.SkipNextOccurrence(tenant_id=tenant, schedule_id=schedule_id, **self.actor(req))
        )
        self.send(resp, 200, self._present(req, tenant, schedule_id))

    def on_get_events(self, req: falcon.Request, resp: falcon.Response, schedule_id: str) -> None:
        events = self.read(req).recurring_payment_events(principal(req).tenant, schedule_id)
        self.send_history(resp, events, present.event)

    def _present(
        self, req: falcon.Request, tenant: str, schedule_id: str
    ) -> out.RecurringPaymentOut:
        schedule = self.read(req).get_recurring_payment(tenant, schedule_id)
        upcoming = self.read(req).upcoming_occurrences(schedule)
        return present.recurring_payment(schedule, upcoming)


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
                now=self.clock.now().timestamp(),
                tolerance_seconds=self.options.processor_webhook_tolerance_seconds,
            )
        except SignatureInvalid as error:
            raise Unauthenticated(str(error)) from None
        if not (0 < len(event_id) <= 200 and event_id.isascii() and event_id.isprintable()):
            raise InvalidInput("webhook-id must be 1 to 200 printable ASCII characters")
        event = self.body(req, s.ProcessorEventIn)
        applied = self.handle(
            req,
            c.ApplyProcessorEvent(
                event_id=event_id,
                event_type=event.type,
                tenant_id=event.data.tenant_id,
                payment_id=event.data.reference,
                code=event.data.return_code or event.data.failure_code,
                reason=event.data.reason,
                actor="processor",
                traceparent=req.get_header("traceparent"),
            ),
        )
        self.send(resp, 200, out.ProcessorEventAckOut(event_id=event_id, duplicate=not applied))
