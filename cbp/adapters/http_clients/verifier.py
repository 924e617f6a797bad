"""Account verification over HTTP (``docs/processor-api.json``, the verification path)."""

from __future__ import annotations

import httpx

from cbp.adapters.http_clients.client import send, trace_headers
from cbp.domain.banking import AccountMask
from cbp.ports.errors import DeliveryRejected
from cbp.ports.resilience import OutboundCall
from cbp.ports.verifier import VerificationResult

DEPENDENCY = "verifier"


class HttpAccountVerifier:
    """Asks a verification service whether an account checks out; reads, so retried."""

    def __init__(self, client: httpx.Client, call: OutboundCall) -> None:
        self.client = client
        self.call = call

    def verify_payee_account(
        self, account_number: str, masks: tuple[AccountMask, ...]
    ) -> VerificationResult:
        """Check a customer's account number at a biller."""
        return self._verify(
            {
                "kind": "payee",
                "account_number": account_number,
                "masks": [mask.pattern for mask in masks],
            }
        )

    def verify_funding_account(
        self, routing_number: str, account_number: str
    ) -> VerificationResult:
        """Check a customer's bank account."""
        return self._verify(
            {"kind": "funding", "routing_number": routing_number, "account_number": account_number}
        )

    def _verify(self, body: dict[str, object]) -> VerificationResult:
        def post(base: str) -> VerificationResult:
            url = f"{base}/v1/account-verifications"
            response = send(
                self.client, "POST", url, dependency=DEPENDENCY, json=body, headers=trace_headers()
            )
            if response.status_code >= 400:
                raise DeliveryRejected(DEPENDENCY, f"HTTP {response.status_code} at {url}")
            data = response.json()
            return VerificationResult(verified=bool(data["verified"]), reason=data.get("reason"))

        return self.call(post, retryable=True)
