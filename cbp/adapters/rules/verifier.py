"""The embedded default verifier: ABA checksum and biller account masks."""

from __future__ import annotations

from cbp.domain.banking import AccountMask, is_valid_routing_number
from cbp.ports.verifier import VerificationResult


class RulesAccountVerifier:
    """Verifies what can be checked without asking a bank."""

    def verify_payee_account(
        self, account_number: str, masks: tuple[AccountMask, ...]
    ) -> VerificationResult:
        """Verified when the number fits one of the biller's masks (or it has none)."""
        if masks and not any(mask.matches(account_number) for mask in masks):
            return VerificationResult(verified=False, reason="account_mask_mismatch")
        return VerificationResult(verified=True)

    def verify_funding_account(
        self, routing_number: str, account_number: str
    ) -> VerificationResult:
        """Verified when the routing number is a valid ABA number and the account 4-17 digits."""
        if not is_valid_routing_number(routing_number):
            return VerificationResult(verified=False, reason="invalid_routing_number")
        if not (account_number.isdigit() and 4 <= len(account_number) <= 17):
            return VerificationResult(verified=False, reason="invalid_account_number")
        return VerificationResult(verified=True)
