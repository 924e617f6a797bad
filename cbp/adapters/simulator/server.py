"""The simulator as a server: cbp's processor and verifier protocols over real HTTP.

It keeps the embedded simulator's outcomes by amount and its shared ledger,
and answers the protocol in ``docs/processor-api.json``. Its admin
endpoints inject faults, so demos, tests and benchmarks can make a real
network dependency slow, flaky, hung or down:

- ``PUT /_admin/faults`` ``{latency_ms, error_rate, timeout_rate, reset_rate,
  hang, outage}``: added latency; a share of 503s; a share of answers held
  for ``timeout_seconds`` (longer than any client waits); a share of
  connections reset; every call held until released; every call reset;
- ``POST /_admin/release`` frees hung calls; ``GET /_admin/faults`` reads them;
- with an events URL, each payment's final outcome is pushed to cbp as a
  signed event (``payment.settled``, ``payment.failed``, ``payment.returned``);
- ``GET /_admin/submissions``: attempts per reference, how many were taken,
  and each reference's tenant (what a real processor's events echo back), and
  ``GET /_admin/calls``: the last calls with their ``traceparent``.

The fault plan lives in the process: serve it with one worker process
(``cbp simulator serve`` does).
"""

from __future__ import annotations

import json
import logging
import random
import socket
import struct
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any

import falcon

from cbp.adapters.simulator.events import EventPusher
from cbp.adapters.simulator.processor import SimulatedPaymentProcessor
from cbp.domain.banking import AccountMask
from cbp.domain.errors import DomainError
from cbp.domain.money import Money
from cbp.ports.errors import DependencyTimeout, DependencyUnavailable
from cbp.ports.processor import Credit, ProcessorResult, Submission
from cbp.ports.verifier import AccountVerifier

logger = logging.getLogger("cbp.simulator")


@dataclass(frozen=True, kw_only=True)
class Faults:
    """What the simulator does to the calls it receives."""

    latency_ms: int = 0
    error_rate: float = 0.0
    timeout_rate: float = 0.0
    timeout_seconds: float = 60.0
    reset_rate: float = 0.0
    hang: bool = False
    outage: bool = False
    #: Answer every account verification "not verified", as a bank that knows no such account.
    refuse_verifications: bool = False


class FaultPlan:
    """The current faults and the gate that hung calls wait behind."""

    def __init__(self) -> None:
        self.faults = Faults()
        self.released = threading.Event()
        self.released.set()

    def change(self, **values: Any) -> Faults:
        """Replace some faults; turning ``hang`` on closes the gate."""
        self.faults = replace(self.faults, **values)
        if self.faults.hang:
            self.released.clear()
        else:
            self.released.set()
        return self.faults

    def release(self) -> None:
        """Let every hung call go on, and stop hanging new ones."""
        self.faults = replace(self.faults, hang=False)
        self.released.set()


def _reset(req: falcon.Request) -> None:
    """Close the client's connection with a TCP reset (SO_LINGER 0)."""
    sock = req.env.get("gunicorn.socket")
    if isinstance(sock, socket.socket):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    raise falcon.HTTPServiceUnavailable(description="connection reset")


class FaultInjection:
    """Middleware that applies the fault plan to every protocol call."""

    def __init__(self, plan: FaultPlan, calls: deque[dict[str, Any]]) -> None:
        self.plan = plan
        self.calls = calls

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Log the call, then delay, hang, fail or reset it as planned."""
        if req.path.startswith("/_admin"):
            return
        self.calls.append(
            {
                "method": req.method,
                "path": req.path,
                "traceparent": req.get_header("traceparent"),
                "idempotency_key": req.get_header("Idempotency-Key"),
                "at": time.time(),
            }
        )
        f = self.plan.faults
        if f.outage or random.random() < f.reset_rate:
            _reset(req)
        if f.hang:
            self.plan.released.wait(f.timeout_seconds)
        if f.latency_ms:
            time.sleep(f.latency_ms / 1000)
        if random.random() < f.timeout_rate:
            time.sleep(f.timeout_seconds)
        if random.random() < f.error_rate:
            raise falcon.HTTPServiceUnavailable(description="injected fault")


def _json(resp: falcon.Response, body: Any, status: str = falcon.HTTP_200) -> None:
    resp.status = status
    resp.content_type = falcon.MEDIA_JSON
    resp.text = json.dumps(body)


def _body(req: falcon.Request) -> dict[str, Any]:
    try:
        data = json.load(req.bounded_stream)
    except ValueError:
        raise falcon.HTTPBadRequest(description="the body is not JSON") from None
    if not isinstance(data, dict):
        raise falcon.HTTPBadRequest(description="the body must be a JSON object")
    return data


def _result_body(result: ProcessorResult) -> dict[str, Any]:
    return {
        "reference": result.reference,
        "status": result.status.value,
        "failure_code": result.failure_code,
        "reason": result.reason,
    }


def _reference(req: falcon.Request, data: dict[str, Any]) -> str:
    """The reference a request names, which must also be its Idempotency-Key."""
    reference = str(data["reference"])
    if req.get_header("Idempotency-Key") != reference:
        raise falcon.HTTPBadRequest(description="Idempotency-Key must be the reference")
    return reference


class Payments:
    """``POST /v1/payments`` and ``GET /v1/payments/{reference}``."""

    def __init__(self, processor: SimulatedPaymentProcessor) -> None:
        self.processor = processor
        #: Each reference's tenant, as submitted: what the processor's events echo back.
        self.tenants: dict[str, str] = {}

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Take a submission; idempotent on the reference."""
        data = _body(req)
        try:
            reference = _reference(req, data)
            payee, funding = data["payee"], data["funding_account"]
            submission = Submission(
                reference=reference,
                tenant_id=str(data["tenant_id"]),
                amount=Money.of(Decimal(str(data["amount"])), str(data["currency"])),
                payee_id=str(payee["id"]),
                payee_name=str(payee["name"]),
                payee_account_number=str(payee["account_number"]),
                funding_account_id=str(funding["id"]),
                funding_routing_number=str(funding["routing_number"]),
                funding_account_number=str(funding["account_number"]),
                deliver_by=str(data["deliver_by"]),
                traceparent=req.get_header("traceparent"),
            )
        except (KeyError, TypeError, InvalidOperation, DomainError) as error:
            raise falcon.HTTPUnprocessableEntity(description=f"bad submission: {error}") from None
        self.tenants[reference] = submission.tenant_id
        try:
            result = self.processor.submit(submission)
        except DependencyUnavailable:
            raise falcon.HTTPServiceUnavailable(description="simulated outage") from None
        except DependencyTimeout:
            time.sleep(60)  # NOTE: taken, but the answer never comes in time
            raise falcon.HTTPServiceUnavailable(description="simulated timeout") from None
        _json(resp, _result_body(result))

    def on_get_one(self, req: falcon.Request, resp: falcon.Response, reference: str) -> None:
        """The outcome of one reference; 404 if never taken."""
        result = self.processor.outcome(reference)
        if result.status.value == "unknown":
            raise falcon.HTTPNotFound(description="no such payment")
        _json(resp, _result_body(result))


class Credits:
    """``POST /v1/credits``: micro-deposits, taken once per reference."""

    def __init__(self, processor: SimulatedPaymentProcessor) -> None:
        self.processor = processor

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Take a credit; a repeat of the reference credits nothing more."""
        data = _body(req)
        try:
            reference = _reference(req, data)
            account = data["account"]
            credit = Credit(
                reference=reference,
                tenant_id=str(data["tenant_id"]),
                routing_number=str(account["routing_number"]),
                account_number=str(account["account_number"]),
                amount=Money.of(Decimal(str(data["amount"])), str(data["currency"])),
            )
        except (KeyError, TypeError, InvalidOperation, DomainError) as error:
            raise falcon.HTTPUnprocessableEntity(description=f"bad credit: {error}") from None
        self.processor.send_credit(credit)
        _json(resp, {"reference": reference, "status": "accepted"})


class Verifications:
    """``POST /v1/account-verifications``: a verifier (the rules one, say) over HTTP."""

    def __init__(self, verifier: AccountVerifier, plan: FaultPlan) -> None:
        self.verifier = verifier
        self.plan = plan

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Check a payee or funding account number."""
        data = _body(req)
        if self.plan.faults.refuse_verifications:
            _json(resp, {"verified": False, "reason": "account_not_found"})
            return
        try:
            if data["kind"] == "payee":
                masks = tuple(AccountMask(str(p)) for p in data.get("masks", []))
                result = self.verifier.verify_payee_account(str(data["account_number"]), masks)
            else:
                result = self.verifier.verify_funding_account(
                    str(data["routing_number"]), str(data["account_number"])
                )
        except (KeyError, TypeError, DomainError) as error:
            raise falcon.HTTPUnprocessableEntity(description=f"bad request: {error}") from None
        _json(resp, {"verified": result.verified, "reason": result.reason})


class Admin:
    """Fault injection and the simulator's books, for tests and demos."""

    def __init__(
        self,
        plan: FaultPlan,
        payments: Payments,
        calls: deque[dict[str, Any]],
    ) -> None:
        self.plan = plan
        self.payments = payments
        self.processor = payments.processor
        self.calls = calls

    def on_get_faults(self, req: falcon.Request, resp: falcon.Response) -> None:
        """The faults in force."""
        _json(resp, asdict(self.plan.faults))

    def on_put_faults(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Replace some of the faults."""
        known = set(Faults.__dataclass_fields__)
        data = _body(req)
        unknown = set(data) - known
        if unknown:
            raise falcon.HTTPUnprocessableEntity(description=f"unknown faults: {sorted(unknown)}")
        _json(resp, asdict(self.plan.change(**data)))

    def on_post_release(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Free every hung call."""
        self.plan.release()
        _json(resp, asdict(self.plan.faults))

    def on_get_submissions(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Attempts per reference, and how many references were taken."""
        _json(
            resp,
            {
                "attempts": dict(self.processor.submissions),
                "accepted": self.processor.distinct_submissions,
                "tenants": self.payments.tenants,
            },
        )

    def on_get_credits(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Each micro-deposit taken: its amount and attempts (what the customer's bank shows)."""
        _json(
            resp,
            {
                reference: {"amount": amount, "attempts": attempts}
                for reference, (amount, attempts) in self.processor.credits().items()
            },
        )

    def on_get_calls(self, req: falcon.Request, resp: falcon.Response) -> None:
        """The most recent protocol calls, oldest first."""
        _json(resp, list(self.calls))


def create_simulator_app(
    processor: SimulatedPaymentProcessor,
    verifier: AccountVerifier,
    *,
    events_url: str | None = None,
    events_secret: str | None = None,
) -> falcon.App:  # type: ignore[type-arg]
    """The simulator's WSGI app around one processor ledger and a verifier.

    With ``events_url`` (and the ``whsec_`` secret cbp verifies with), it also
    pushes each payment's final outcome there, as a processor does.
    """
    plan = FaultPlan()
    calls: deque[dict[str, Any]] = deque(maxlen=10_000)
    app = falcon.App(middleware=[FaultInjection(plan, calls)])
    payments = Payments(processor)
    app.add_route("/v1/payments", payments)
    app.add_route("/v1/payments/{reference}", payments, suffix="one")
    app.add_route("/v1/credits", Credits(processor))
    app.add_route("/v1/account-verifications", Verifications(verifier, plan))
    admin = Admin(plan, payments, calls)
    app.add_route("/_admin/faults", admin, suffix="faults")
    app.add_route("/_admin/release", admin, suffix="release")
    app.add_route("/_admin/submissions", admin, suffix="submissions")
    app.add_route("/_admin/calls", admin, suffix="calls")
    app.add_route("/_admin/credits", admin, suffix="credits")
    if events_url:
        if not events_secret:
            raise ValueError("pushing events needs the secret that signs them")
        EventPusher(processor, payments.tenants, url=events_url, secret=events_secret).start()
    return app
