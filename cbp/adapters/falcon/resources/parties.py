"""Customers, the biller directory, payees and funding accounts over HTTP."""

from __future__ import annotations

import hashlib
from functools import cached_property
from importlib.metadata import version

import falcon

from cbp.adapters.falcon import presenters as present
from cbp.adapters.falcon import schemas as s
from cbp.adapters.falcon.http import (
    principal,
)
from cbp.adapters.falcon.resources.base import Api, address_input, encode
from cbp.domain.errors import InvalidInput
from cbp.services import commands as c
from cbp.services.directory_searches import PageForm


class Customers(Api):
    """POST /customer, GET and PATCH /customer/{customer_id}."""

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = self.body(req, s.CustomerIn)
        tenant = principal(req).tenant
        customer_id = self.handle(
            req, c.CreateCustomer(tenant_id=tenant, **body.model_dump(), **self.actor(req))
        )
        self.send(resp, 201, present.customer(self.read(req).get_customer(tenant, customer_id)))

    def on_get_one(self, req: falcon.Request, resp: falcon.Response, customer_id: str) -> None:
        customer = self.read(req).get_customer(principal(req).tenant, customer_id)
        self.send(resp, 200, present.customer(customer))

    def on_patch_one(self, req: falcon.Request, resp: falcon.Response, customer_id: str) -> None:
        body = self.body(req, s.CustomerPatch)
        tenant = principal(req).tenant
        channels, notify_on = body.notification_channels, body.notify_on
        self.handle(
            req,
            c.SetNotificationPreferences(
                tenant_id=tenant,
                customer_id=customer_id,
                notification_channels=None if channels is None else tuple(channels),
                notify_on=None if notify_on is None else tuple(notify_on),
                **self.actor(req),
            ),
        )
        self.send(resp, 200, present.customer(self.read(req).get_customer(tenant, customer_id)))


class Directory(Api):
    """The biller directory: search, read, administer."""

    @cached_property
    def _responses(self) -> PageForm[bytes]:
        """Search pages cached as this version's response bodies: a repeat is one cache read."""
        return PageForm(
            f"http:{version('cbp')}",
            lambda page: encode(self.page(page, present.global_payee)),
            bytes,
        )

    def on_get_search_query(self, req: falcon.Request, resp: falcon.Response) -> None:
        partial_name = req.get_param("partial_name") or ""
        if not partial_name.strip():
            raise InvalidInput(
                "give a partial_name (in the path, or as ?partial_name= for any text)"
            )
        self.on_get_search(req, resp, partial_name)

    def on_get_search(self, req: falcon.Request, resp: falcon.Response, partial_name: str) -> None:
        cursor, limit = self.paging(req)
        body = self.read(req).search_directory_as(
            self._responses, partial_name, cursor=cursor, limit=limit
        )
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        resp.etag = etag
        resp.cache_control = ["private", "max-age=60"]
        if req.get_header("If-None-Match") == etag:
            resp.status = falcon.HTTP_304
            return
        resp.data = body
        resp.content_type = "application/json"

    def on_get_one(self, req: falcon.Request, resp: falcon.Response, global_payee_id: str) -> None:
        self.send(resp, 200, present.global_payee(self.read(req).get_global_payee(global_payee_id)))

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = self.body(req, s.GlobalPayeeIn)
        fields = body.model_dump(exclude={"address"})
        biller_id = self.handle(
            req,
            c.AddGlobalPayee(
                **{
                    **fields,
                    "aliases": tuple(body.aliases),
                    "account_masks": tuple(body.account_masks),
                },
                address=c.Address(**body.address.model_dump()),
                **self.actor(req),
            ),
        )
        self.send(resp, 201, present.global_payee(self.read(req).get_global_payee(biller_id)))

    def on_patch_one(
        self, req: falcon.Request, resp: falcon.Response, global_payee_id: str
    ) -> None:
        body = self.body(req, s.GlobalPayeePatch)
        fields = body.model_dump(
            exclude={"address", "aliases", "account_masks"}, exclude_unset=True
        )
        self.handle(
            req,
            c.UpdateGlobalPayee(
                global_payee_id=global_payee_id,
                address=address_input(body.address),
                aliases=None if body.aliases is None else tuple(body.aliases),
                account_masks=None if body.account_masks is None else tuple(body.account_masks),
                **fields,
                **self.actor(req),
            ),
        )
        self.send(resp, 200, present.global_payee(self.read(req).get_global_payee(global_payee_id)))


class Payees(Api):
    """Customers' payees."""

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = self.body(req, s.PayeeIn)
        tenant = principal(req).tenant
        payee_id = self.handle(
            req,
            c.AddPayee(
                tenant_id=tenant,
                **body.model_dump(exclude={"address"}),
                address=address_input(body.address),
                **self.actor(req),
            ),
        )
        self.send(resp, 201, present.payee(self.read(req).get_payee(tenant, payee_id)))

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        cursor, limit = self.paging(req)
        result = self.read(req).list_payees(
            principal(req).tenant,
            customer_id=req.get_param("customer_id"),
            cursor=cursor,
            limit=limit,
        )
        self.send(resp, 200, self.page(result, present.payee))

    def on_get_one(self, req: falcon.Request, resp: falcon.Response, payee_id: str) -> None:
        self.send(
            resp, 200, present.payee(self.read(req).get_payee(principal(req).tenant, payee_id))
        )

    def on_patch_one(self, req: falcon.Request, resp: falcon.Response, payee_id: str) -> None:
        body = self.body(req, s.PayeePatch)
        tenant = principal(req).tenant
        self.handle(
            req,
            c.UpdatePayee(
                tenant_id=tenant,
                payee_id=payee_id,
                **body.model_dump(exclude_unset=True),
                **self.actor(req),
            ),
        )
        self.send(resp, 200, present.payee(self.read(req).get_payee(tenant, payee_id)))


class FundingAccounts(Api):
    """Customers' funding accounts."""

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = self.body(req, s.FundingAccountIn)
        tenant = principal(req).tenant
        account_id = self.handle(
            req, c.AddFundingAccount(tenant_id=tenant, **body.model_dump(), **self.actor(req))
        )
        account = self.read(req).get_funding_account(tenant, account_id)
        self.send(resp, 201, present.funding_account(account))

    def on_get_one(self, req: falcon.Request, resp: falcon.Response, account_id: str) -> None:
        account = self.read(req).get_funding_account(principal(req).tenant, account_id)
        self.send(resp, 200, present.funding_account(account))

    def on_post_micro_deposits(
        self, req: falcon.Request, resp: falcon.Response, account_id: str
    ) -> None:
        body = self.body(req, s.MicroDepositsIn)
        tenant = principal(req).tenant
        self.handle(
            req,
            c.ConfirmMicroDeposits(
                tenant_id=tenant,
                account_id=account_id,
                amounts=tuple(body.amounts),
                **self.actor(req),
            ),
        )
        account = self.read(req).get_funding_account(tenant, account_id)
        self.send(resp, 200, present.funding_account(account))
