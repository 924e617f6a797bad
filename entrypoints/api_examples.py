"""Every resource of the API by example: real requests, and the answers a real core gives.

``cbp reference api --write docs/api-examples.md`` runs a bank's day on an
in-memory core with a clock that stands still and ids in creation order,
through the same Falcon app ``cbp serve`` runs, and writes each request with
its answer. The answers are therefore the API's own, and a test fails when
the page and the code differ.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import falcon.testing
from pydantic import SecretStr

from cbp.adapters.memory.clock import InMemoryClock, SequentialIdGenerator
from cbp.bootstrap import Cbp, bootstrap
from cbp.domain.access import OPERATOR_SCOPES, TENANT_SCOPES
from cbp.services import commands as c
from cbp.settings import Settings

from .wsgi import api_app

#: A fixed Fernet key: the examples store accounts encrypted like any deployment.
_EXAMPLE_KEY = "q0oyCMfTLd3uqdUIGr8Vg3ek7IQWeyHHF3Ikm_i-ejY="
#: What differs on every run is shown elided: signing secrets, request and event ids.
_VARYING = (
    (re.compile(r"whsec_[A-Za-z0-9+/=]+"), "whsec_..."),
    (re.compile(r"req_[0-9a-f]{32}"), "req_..."),
    (re.compile(r"evt_[0-9a-f]{32}"), "evt_..."),
)


@dataclass
class _Session:
    """A client of the examples' app that records every exchange as Markdown."""

    client: falcon.testing.TestClient
    core: Cbp
    key: str
    operator_key: str
    sections: list[str] = field(default_factory=list)

    def title(self, text: str, prose: str) -> None:
        self.sections.append(f"## {text}\n\n{prose}\n")

    def call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        operator: bool = False,
        headers: dict[str, str] | None = None,
    ) -> Any:
        sent = {"Authorization": f"Bearer {self.operator_key if operator else self.key}"}
        sent |= headers or {}
        result = self.client.simulate_request(method, path, json=body, headers=sent)
        self.core.run_until_idle()
        shown_headers = "".join(f"{k}: {v}\n" for k, v in (headers or {}).items())
        request = f"{method} {path}\n{shown_headers}"
        if body is not None:
            request += "\n" + json.dumps(body, indent=2) + "\n"
        answer = result.json if result.content else None
        shown = json.dumps(answer, indent=2) if answer else ""
        for pattern, elided in _VARYING:
            shown = pattern.sub(elided, shown)
        self.sections.append(
            f"```http\n{request}```\n\n```http\n{result.status}\n\n{shown}\n```\n".replace(
                "\n\n\n```", "\n```"
            )
        )
        return answer


@contextmanager
def _session() -> Iterator[_Session]:
    settings = Settings(
        database_url="memory://",
        api_key_secret=SecretStr("api-examples"),
        encryption_keys=SecretStr(_EXAMPLE_KEY),
        audit_key=SecretStr("api-examples"),
        notifier="memory",
        delivery_retry_base_seconds=0,
        webhook_allowed_networks="203.0.113.0/24",  # NOTE: the receiver's documentation address
    )
    core = bootstrap(settings, clock=InMemoryClock(), ids=SequentialIdGenerator())
    try:
        core.handle(
            c.AddGlobalPayee(
                name="Pacific Gas & Electric",
                category="utilities",
                aliases=("PG&E",),
                account_masks=("9999999999",),
                lead_days=2,
                popularity=100,
                address=c.Address(
                    line1="77 Beale St", city="San Francisco", state="CA", postal_code="94105"
                ),
            )
        )
        tenant = core.handle(c.CreateTenant(name="Acme Bank"))
        key = core.handle(c.CreateApiKey(tenant_id=tenant, scopes=tuple(sorted(TENANT_SCOPES))))
        operator = core.handle(
            c.CreateApiKey(tenant_id=None, scopes=tuple(sorted(OPERATOR_SCOPES)))
        )
        client = falcon.testing.TestClient(api_app(core, settings))
        yield _Session(client, core, key.token, operator.token)
    finally:
        core.close()


def api_examples() -> str:
    """The Markdown of every resource by example, the same on every run."""
    with _session() as s:
        s.title("The directory", "Search billers by name, alias or prefix (`payees:read`).")
        found = s.call("GET", "/payee/global-payee/name/pacific?limit=1")
        biller = found["items"][0]["id"]

        s.title("Customers", "A customer of the tenant, and the channels they are told on.")
        customer = s.call(
            "POST",
            "/customer",
            {"external_id": "ada-1", "name": "Ada Lovelace", "email": "ada@example.com"},
        )["id"]
        s.call(
            "PATCH",
            f"/customer/{customer}",
            {"notification_channels": ["email"], "notify_on": ["completed", "failed"]},
        )

        s.title(
            "Payees",
            "The customer's account at a biller; its number must fit the biller's masks. "
            "It is verified by the account verifier before it is paid.",
        )
        payee = s.call(
            "POST",
            "/payee",
            {"customer_id": customer, "global_payee_id": biller, "account_number": "4417123456"},
        )["id"]
        s.call("GET", f"/payee/{payee}")

        s.title("Funding accounts", "The account a customer pays from, verified at once.")
        funding = s.call(
            "POST",
            "/funding-account",
            {
                "customer_id": customer,
                "routing_number": "011000015",
                "account_number": "000123456789",
                "account_type": "checking",
                "holder_name": "Ada Lovelace",
            },
        )["id"]

        parties = {"customer_id": customer, "payee_id": payee, "funding_account_id": funding}
        s.title(
            "When a payment would arrive",
            "Before confirming: the send-on date (the one asked for, moved off a weekend or "
            "holiday, or the earliest), the payee's deliver-by date, and whether that is by "
            "the bill's due date; `latest_send_on` is the last day that still is.",
        )
        s.call("GET", f"/payment/quote?payee_id={payee}&send_on=2026-03-07&due_on=2026-03-10")
        s.title(
            "One-time payments",
            "Made with an `Idempotency-Key`; changed until it is sent; sent by a "
            "processing job (here at once, with `send_now`).",
        )
        payment = s.call(
            "POST",
            "/payment/one-time",
            {**parties, "amount": "42.00", "memo": "March", "send_on": "2026-03-04"},
            headers={"Idempotency-Key": "ada-march-bill"},
        )
        s.call("PATCH", f"/payment/{payment['id']}", {"amount": "45.10"})
        job = s.call("POST", "/payment/process", {"payment_ids": [payment["id"]], "send_now": True})
        s.call("GET", f"/payment/process/{job['id']}")
        s.call("GET", f"/payment/{payment['id']}")
        s.call("GET", f"/payment?customer_id={customer}&limit=2")
        s.call("GET", f"/payment/{payment['id']}/events")
        s.call("GET", f"/payment/{payment['id']}/audit")

        s.title("Cancelling", "A payment not yet sent can be cancelled.")
        later = s.call(
            "POST",
            "/payment/one-time",
            {**parties, "amount": "12.00", "send_on": "2026-03-16"},
            headers={"Idempotency-Key": "ada-later"},
        )
        s.call("POST", f"/payment/{later['id']}/cancel", {"reason": "paid by phone"})

        s.title("Recurring payments", "A schedule that makes a payment for each occurrence.")
        schedule = s.call(
            "POST",
            "/payment/recurring",
            {**parties, "amount": "60.00", "frequency": "monthly", "starts_on": "2026-03-31"},
            headers={"Idempotency-Key": "ada-monthly"},
        )
        s.call("POST", f"/payment/recurring/{schedule['id']}/skip-next")

        s.title(
            "Bills and autopay",
            "A biller presents a bill (`bills:write`); the payee's autopay rule pays it at "
            "once, to arrive by the due date, and the bill is paid once its payment completes.",
        )
        s.call(
            "POST",
            f"/payee/{payee}/autopay",
            {"funding_account_id": funding, "basis": "statement_balance", "cap": "500.00"},
        )
        bill = s.call(
            "POST",
            "/bill",
            {
                "customer_id": customer,
                "payee_id": payee,
                "amount_due": "142.50",
                "minimum_due": "35.00",
                "statement_balance": "142.50",
                "due_on": "2026-03-20",
                "statement_on": "2026-03-01",
                "reference": "STMT-2026-03",
            },
        )
        s.call("GET", f"/bill/{bill['id']}")
        s.call("GET", f"/bill?customer_id={customer}&status=scheduled")

        s.title(
            "Exceptions and notifications",
            "A payment for today is sent at once; this one fails (the simulator refuses "
            "amounts ending in .13), which opens an exception that tells the customer.",
        )
        failed = s.call(
            "POST",
            "/payment/one-time",
            {**parties, "amount": "42.13"},
            headers={"Idempotency-Key": "ada-nsf"},
        )
        exceptions = s.call("GET", f"/exception?payment_id={failed['id']}")
        exception = exceptions["items"][0]
        s.call("GET", f"/notification/{exception['notification_ids'][0]}")
        s.call("POST", f"/exception/{exception['id']}/resolve", {"resolution": "customer paid"})

        s.title("Webhooks", "Each tenant's endpoint, signed with Standard Webhooks.")
        s.call("POST", "/webhook-endpoint", {"url": "https://203.0.113.10/cbp"})
        s.call("GET", "/webhook-endpoint")

        s.title("Dead letters", "Deliveries that ran out of attempts (none here).")
        s.call("GET", "/dead-letter")

        s.title("Errors", "Every refusal is a problem+json naming each bad field.")
        s.call(
            "POST",
            "/payment/one-time",
            {**parties, "amount": "-5"},
            headers={"Idempotency-Key": "bad"},
        )
        return "\n".join(s.sections)
