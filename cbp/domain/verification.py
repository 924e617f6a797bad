"""Account verification: shared by payees and funding accounts."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import ClassVar

from cbp.domain.events import AccountUpdated, AccountVerified
from cbp.domain.recording import RecordsEvents


class VerificationStatus(enum.StrEnum):
    """Whether an account number has been checked."""

    PENDING = "pending"
    VERIFIED = "verified"
    FAILED = "failed"


class VerifiesAccount(RecordsEvents):
    """An entity holding an account number that a verifier must vouch for."""

    account_kind: ClassVar[str]
    tenant_id: str
    verification_status: VerificationStatus

    def request_verification(self, *, at: datetime) -> None:
        """Announce that the account number must be verified (in the background)."""
        self.verification_status = VerificationStatus.PENDING
        self._record(AccountUpdated, at, tenant_id=self.tenant_id, account_kind=self.account_kind)

    def record_verification(self, *, verified: bool, reason: str | None, at: datetime) -> None:
        """Store the verifier's answer and announce it."""
        self.verification_status = (
            VerificationStatus.VERIFIED if verified else VerificationStatus.FAILED
        )
        self._record(
            AccountVerified,
            at,
            tenant_id=self.tenant_id,
            account_kind=self.account_kind,
            verified=verified,
            reason=reason,
        )
