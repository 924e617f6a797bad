"""A customer's funding account: the bank account a payment is drawn from."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from cbp.domain.banking import mask_account_number
from cbp.domain.errors import IllegalTransition, InvalidInput
from cbp.domain.events import DomainEvent, MicroDepositsRequested
from cbp.domain.micro_deposits import Confirmation, MicroDeposits, VerificationMethod
from cbp.domain.money import Money
from cbp.domain.verification import VerificationStatus, VerifiesAccount


class AccountType(enum.StrEnum):
    """Deposit account types a payment may be drawn from."""

    CHECKING = "checking"
    SAVINGS = "savings"


@dataclass(kw_only=True, eq=False)
class FundingAccount(VerifiesAccount):
    """A verified bank account of the customer's; numbers stay secret."""

    id: str
    tenant_id: str
    customer_id: str
    routing_number: str = field(repr=False)
    account_number: str = field(repr=False)
    account_type: AccountType
    holder_name: str
    created_at: datetime
    verification_status: VerificationStatus = VerificationStatus.PENDING
    verification_method: VerificationMethod = VerificationMethod.INSTANT
    #: The credits awaiting the customer's confirmation (micro-deposit verification only).
    micro_deposits: MicroDeposits | None = field(default=None, repr=False)
    version: int = 0
    account_kind: ClassVar[str] = "funding_account"
    _pending: list[DomainEvent] = field(default_factory=list, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.holder_name.strip():
            raise InvalidInput("a funding account needs a holder name")

    @property
    def routing_number_masked(self) -> str:
        """The routing number as every output shows it."""
        return mask_account_number(self.routing_number)

    @property
    def account_number_masked(self) -> str:
        """The account number as every output shows it."""
        return mask_account_number(self.account_number)

    @property
    def is_usable(self) -> bool:
        """Whether payments may be drawn from this account."""
        return self.verification_status is VerificationStatus.VERIFIED

    def start_micro_deposits(
        self, amounts: tuple[Money, Money], *, expires_at: datetime, at: datetime
    ) -> None:
        """Prove the account by two small credits, to be confirmed by ``expires_at``."""
        self.verification_method = VerificationMethod.MICRO_DEPOSITS
        self.verification_status = VerificationStatus.PENDING
        self.micro_deposits = MicroDeposits(amounts=amounts, expires_at=expires_at)
        self._record(MicroDepositsRequested, at, tenant_id=self.tenant_id)

    def confirm_micro_deposits(self, answer: tuple[Money, ...], *, at: datetime) -> Confirmation:
        """Check the customer's amounts: verified, a miss, or failed for good.

        A third wrong answer, or any answer after the expiry, fails the
        account's verification; it must be added again to start over.
        """
        challenge = self.micro_deposits
        if self.expire_micro_deposits(at=at) or self._expired_unconfirmed(at):
            return Confirmation.EXPIRED
        if challenge is None or self.verification_status is not VerificationStatus.PENDING:
            status = self.verification_status.value
            raise IllegalTransition("funding account", status, "confirm micro-deposits of")
        if challenge.matches(answer):
            self.record_verification(verified=True, reason=None, at=at)
            return Confirmation.VERIFIED
        self.micro_deposits = challenge.missed()
        if self.micro_deposits.tries_left == 0:
            self.record_verification(verified=False, reason="micro_deposits_locked", at=at)
            return Confirmation.LOCKED
        return Confirmation.MISMATCH

    def expire_micro_deposits(self, *, at: datetime) -> bool:
        """Fail the verification of micro-deposits left unconfirmed past their expiry.

        True if this call failed it; an account verified, failed already, or
        still within its time is left as it is.
        """
        challenge = self.micro_deposits
        if (
            challenge is None
            or self.verification_status is not VerificationStatus.PENDING
            or at < challenge.expires_at
        ):
            return False
        self.record_verification(verified=False, reason="micro_deposits_expired", at=at)
        return True

    def fail_returned_micro_deposits(self, return_code: str, *, at: datetime) -> bool:
        """Fail the verification whose micro-deposits the bank returned (no such account, say).

        True if this call failed it; an account no longer waiting for its
        micro-deposits (verified, failed already) is left as it is.
        """
        if (
            self.micro_deposits is None
            or self.verification_status is not VerificationStatus.PENDING
        ):
            return False
        self.record_verification(
            verified=False, reason=f"micro_deposits_returned_{return_code}", at=at
        )
        return True

    def _expired_unconfirmed(self, at: datetime) -> bool:
        """Whether the micro-deposits expired before anyone confirmed them (failed since)."""
        challenge = self.micro_deposits
        return (
            challenge is not None
            and self.verification_status is VerificationStatus.FAILED
            and challenge.tries_left > 0
            and at >= challenge.expires_at
        )

    def correct(
        self,
        *,
        routing_number: str | None,
        account_number: str | None,
        account_type: AccountType | None,
        holder_name: str | None,
        at: datetime,
    ) -> None:
        """Take the bank's corrected details (a notification of change); it is verified again."""
        self.routing_number = routing_number or self.routing_number
        self.account_number = account_number or self.account_number
        self.account_type = account_type or self.account_type
        self.holder_name = holder_name or self.holder_name
        self.request_verification(at=at)
