"""cbp's processor protocol over HTTP (``docs/processor-api.json``).

Submissions carry the payment's id as ``Idempotency-Key``, so the resilience
policy may repeat them safely; reads are always safe to repeat.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import Any

import httpx

from cbp.adapters.http_clients.client import send, trace_headers
from cbp.domain.directory import Address
from cbp.ports.errors import DependencyUnavailable, PaymentRefused
from cbp.ports.processor import Credit, ProcessorResult, ProcessorStatus, Submission
from cbp.ports.resilience import OutboundCall

DEPENDENCY = "processor"
#: Answers that refuse the submission itself: repeating it cannot help.
REFUSALS = frozenset({400, 409, 422})
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,49}$")


class HttpPaymentProcessor:
    """Talks to a processor (or a translator in front of one) that speaks cbp's protocol."""

    def __init__(self, client: httpx.Client, call: OutboundCall) -> None:
        self.client = client
        self.call = call

    def submit(self, submission: Submission) -> ProcessorResult:
        """Submit once per reference; a repeat returns the processor's first answer."""
        body = {
            "reference": submission.reference,
            "tenant_id": submission.tenant_id,
            "amount": str(submission.amount.amount),
            "currency": submission.amount.currency,
            "deliver_by": submission.deliver_by,
            "payee": {
                "id": submission.payee_id,
                "name": submission.payee_name,
                "account_number": submission.payee_account_number,
                **_mail_to(submission.mail_to),
            },
            "funding_account": {
                "id": submission.funding_account_id,
                "routing_number": submission.funding_routing_number,
                "account_number": submission.funding_account_number,
            },
        }
        headers = {"Idempotency-Key": submission.reference, **trace_headers(submission.traceparent)}

        def post(base: str) -> ProcessorResult:
            url = f"{base}/v1/payments"
            response = send(
                self.client, "POST", url, dependency=DEPENDENCY, json=body, headers=headers
            )
            if response.status_code in REFUSALS:
                raise PaymentRefused(DEPENDENCY, _refusal(response))
            if response.status_code >= 400:  # NOTE: our credentials or URL: not the payment's fault
                raise DependencyUnavailable(DEPENDENCY, f"HTTP {response.status_code} at {url}")
            return _result(response)

        return self.call(post, retryable=True)

    def send_credit(self, credit: Credit) -> None:
        """Send a micro-deposit once per reference (its ``Idempotency-Key``)."""
        body = {
            "reference": credit.reference,
            "tenant_id": credit.tenant_id,
            "amount": str(credit.amount.amount),
            "currency": credit.amount.currency,
            "account": {
                "routing_number": credit.routing_number,
                "account_number": credit.account_number,
            },
        }
        headers = {"Idempotency-Key": credit.reference, **trace_headers(credit.traceparent)}

        def post(base: str) -> None:
            url = f"{base}/v1/credits"
            response = send(
                self.client, "POST", url, dependency=DEPENDENCY, json=body, headers=headers
            )
            if response.status_code >= 400:
                raise DependencyUnavailable(DEPENDENCY, f"HTTP {response.status_code} at {url}")

        self.call(post, retryable=True)

    def outcome(self, reference: str) -> ProcessorResult:
        """The processor's view of a reference; UNKNOWN if it never took it."""

        def get(base: str) -> ProcessorResult:
            url = f"{base}/v1/payments/{reference}"
            response = send(self.client, "GET", url, dependency=DEPENDENCY, headers=trace_headers())
            if response.status_code == 404:
                return ProcessorResult(reference=reference, status=ProcessorStatus.UNKNOWN)
            if response.status_code >= 400:
                raise DependencyUnavailable(DEPENDENCY, f"HTTP {response.status_code} at {url}")
            return _result(response)

        return self.call(get, retryable=True)


def _result(response: httpx.Response) -> ProcessorResult:
    data = response.json()
    return ProcessorResult(
        reference=str(data["reference"]),
        status=ProcessorStatus(data["status"]),
        failure_code=data.get("failure_code"),
        reason=data.get("reason"),
    )


def _refusal(response: httpx.Response) -> str:
    """The status and the processor's error code; never its free text, which may echo accounts."""
    try:
        code = response.json().get("code")
    except (ValueError, AttributeError):
        code = None
    if isinstance(code, str) and _CODE.match(code):
        return f"HTTP {response.status_code}: {code}"
    return f"HTTP {response.status_code}"


def _mail_to(address: Address | None) -> dict[str, Any]:
    """The payee's mailing address, for a payee paid by check (nothing for the others)."""
    if address is None:
        return {}
    return {"mail_to": asdict(address)}
