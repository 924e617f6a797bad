"""A customer's payee: a directory biller or a personal payee."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from cbp.domain.banking import AccountMask, mask_account_number
from cbp.domain.directory import Address, PayeeStatus
from cbp.domain.errors import IllegalTransition, InvalidInput
from cbp.domain.events import DomainEvent, PayeeStatusChanged
from cbp.domain.verification import VerificationStatus, VerifiesAccount


@dataclass(kw_only=True, eq=False)
class Payee(VerifiesAccount):
    """Whom a customer pays, and the customer's account number there.

    The account number is held in the clear in memory only; storage adapters
    encrypt it and every output shows ``account_number_masked``.
    """

    id: str
    tenant_id: str
    customer_id: str
    name: str
    account_number: str = field(repr=False)
    created_at: datetime
    global_payee_id: str | None = None
    address: Address | None = None
    nickname: str | None = None
    lead_days: int = 5
    status: PayeeStatus = PayeeStatus.ACTIVE
    verification_status: VerificationStatus = VerificationStatus.PENDING
    version: int = 0
    account_kind: ClassVar[str] = "payee"
    _pending: list[DomainEvent] = field(default_factory=list, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.global_payee_id is None and self.address is None:
            raise InvalidInput("a personal payee needs an address")
        if not self.name.strip():
            raise InvalidInput("a payee needs a name")

    @property
    def account_number_masked(self) -> str:
        """The account number as every output shows it."""
        return mask_account_number(self.account_number)

    @property
    def is_payable(self) -> bool:
        """Whether payments may be sent to this payee now."""
        return (
            self.status is PayeeStatus.ACTIVE
            and self.verification_status is VerificationStatus.VERIFIED
        )

    @property
    def is_suspended(self) -> bool:
        """Whether the payee waits for a new account number that fits its biller's format."""
        return self.status is PayeeStatus.SUSPENDED

    @property
    def awaits_verification(self) -> bool:
        """Whether the payee is active and its account number is still being verified.

        Payments to it are accepted and held until the verifier answers.
        """
        return (
            self.status is PayeeStatus.ACTIVE
            and self.verification_status is VerificationStatus.PENDING
        )

    def change_account_number(self, account_number: str, *, at: datetime) -> None:
        """Replace the account number; it must be verified again.

        A payee suspended because its biller's format changed is active
        again: the new number has been checked against that format.
        """
        self.account_number = account_number
        if self.status is PayeeStatus.SUSPENDED:
            self.change_status(PayeeStatus.ACTIVE, at=at)
        self.request_verification(at=at)

    def follow_biller(
        self, name: str, lead_days: int, masks: tuple[AccountMask, ...], *, at: datetime
    ) -> bool:
        """Take a changed biller's name and lead days, and check the account number again.

        An active payee whose number no longer fits the biller's masks is
        suspended: no payment goes to it until the customer gives a number
        that does. A suspended one whose number fits again is active, and
        verified again. Returns whether the payee was suspended now.
        """
        self.name, self.lead_days = name, lead_days
        fits = not masks or any(mask.matches(self.account_number) for mask in masks)
        if fits and self.status is PayeeStatus.SUSPENDED:
            self.change_status(PayeeStatus.ACTIVE, at=at)
            self.request_verification(at=at)
        if fits or self.status is not PayeeStatus.ACTIVE:
            return False
        self.change_status(PayeeStatus.SUSPENDED, at=at)
        return True

    def change_status(self, new_status: PayeeStatus, *, at: datetime) -> None:
        """Activate or deactivate the payee."""
        if new_status is self.status:
            raise IllegalTransition("payee", self.status.value, f"set status {new_status}")
        old, self.status = self.status, new_status
        self._record(
            PayeeStatusChanged,
            at,
            tenant_id=self.tenant_id,
            payee_kind="payee",
            old_status=old.value,
            new_status=new_status.value,
        )
