"""Bills and autopay rules over HTTP."""

from __future__ import annotations

import falcon

from cbp.adapters.falcon import presenters as present
from cbp.adapters.falcon import schemas as s
from cbp.adapters.falcon.http import principal
from cbp.adapters.falcon.resources.base import Api
from cbp.domain.bill import BillStatus
from cbp.ports.storage.bills import BillFilter
from cbp.services import commands as c


class Bills(Api):
    """Bills presented for customers' payees: listed, read, corrected and withdrawn."""

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = self.body(req, s.BillIn)
        tenant = principal(req).tenant
        bill_id = self.handle(
            req, c.PresentBill(tenant_id=tenant, **body.model_dump(), **self.actor(req))
        )
        resp.location = f"/bill/{bill_id}"
        self.send(resp, 201, present.bill(self.read(req).get_bill(tenant, bill_id)))

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        cursor, limit = self.paging(req)
        query = BillFilter(
            tenant_id=principal(req).tenant,
            customer_id=req.get_param("customer_id"),
            payee_id=req.get_param("payee_id"),
            status=self.choice_param(req, "status", BillStatus),
        )
        result = self.read(req).list_bills(query, cursor=cursor, limit=limit)
        self.send(resp, 200, self.page(result, present.bill))

    def on_get_one(self, req: falcon.Request, resp: falcon.Response, bill_id: str) -> None:
        self.send(resp, 200, present.bill(self.read(req).get_bill(principal(req).tenant, bill_id)))

    def on_patch_one(self, req: falcon.Request, resp: falcon.Response, bill_id: str) -> None:
        body = self.body(req, s.BillPatch)
        tenant = principal(req).tenant
        self.handle(
            req,
            c.CorrectBill(
                tenant_id=tenant,
                bill_id=bill_id,
                **body.model_dump(exclude_unset=True),
                **self.actor(req),
            ),
        )
        self.send(resp, 200, present.bill(self.read(req).get_bill(tenant, bill_id)))

    def on_post_withdraw(self, req: falcon.Request, resp: falcon.Response, bill_id: str) -> None:
        body = self.body(req, s.WithdrawIn)
        tenant = principal(req).tenant
        self.handle(
            req,
            c.WithdrawBill(
                tenant_id=tenant, bill_id=bill_id, reason=body.reason, **self.actor(req)
            ),
        )
        self.send(resp, 200, present.bill(self.read(req).get_bill(tenant, bill_id)))

    def on_get_events(self, req: falcon.Request, resp: falcon.Response, bill_id: str) -> None:
        events = self.read(req).bill_events(principal(req).tenant, bill_id)
        self.send_history(resp, events, present.event)


class Autopay(Api):
    """A payee's autopay rule: set, read, removed."""

    def on_post(self, req: falcon.Request, resp: falcon.Response, payee_id: str) -> None:
        body = self.body(req, s.AutopayIn)
        tenant = principal(req).tenant
        self.handle(
            req,
            c.SetAutopay(
                tenant_id=tenant, payee_id=payee_id, **body.model_dump(), **self.actor(req)
            ),
        )
        self.send(resp, 200, present.autopay_rule(self.read(req).get_autopay(tenant, payee_id)))

    def on_get(self, req: falcon.Request, resp: falcon.Response, payee_id: str) -> None:
        rule = self.read(req).get_autopay(principal(req).tenant, payee_id)
        self.send(resp, 200, present.autopay_rule(rule))

    def on_delete(self, req: falcon.Request, resp: falcon.Response, payee_id: str) -> None:
        tenant = principal(req).tenant
        self.handle(req, c.RemoveAutopay(tenant_id=tenant, payee_id=payee_id, **self.actor(req)))
        resp.status = falcon.HTTP_204
