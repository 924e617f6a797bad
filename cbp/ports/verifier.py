"""Account verification: whether a funding account exists and belongs to its owner."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from cbp.domain.banking import AccountMask


@dataclass(frozen=True, kw_only=True)
class VerificationResult:
    """Whether an account checked out and, if not, why."""

    verified: bool
    reason: str | None = None


class AccountVerifier(Protocol):
    """Checks account numbers before money moves."""

    def verify_payee_account(
        self, account_number: str, masks: tuple[AccountMask, ...]
    ) -> VerificationResult:
        """Check a customer's account number at a biller."""
        ...

    def verify_funding_account(
        self, routing_number: str, account_number: str
    ) -> VerificationResult:
        """Check a customer's bank account."""
        ...
