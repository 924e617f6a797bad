"""A customer's funding account: the bank account a payment is drawn from."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from cbp.domain.banking import mask_account_number
from cbp.domain.errors import InvalidInput
from cbp.domain.events import DomainEvent
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
