"""The shared biller directory: GlobalPayee and its address."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from cbp.domain.banking import AccountMask
from cbp.domain.errors import IllegalTransition, InvalidInput
from cbp.domain.events import BillerChanged, DomainEvent, PayeeStatusChanged
from cbp.domain.recording import RecordsEvents

MAX_LEAD_DAYS = 30


class PayeeStatus(enum.StrEnum):
    """Whether payments may be sent to a biller or payee."""

    ACTIVE = "active"
    INACTIVE = "inactive"
    SUSPENDED = "suspended"


class PaymentMethod(enum.StrEnum):
    """How money reaches a biller."""

    ELECTRONIC = "electronic"
    CHECK = "check"


@dataclass(frozen=True, slots=True)
class Address:
    """A postal address; ``country`` is ISO 3166 alpha-2."""

    line1: str
    city: str
    state: str
    postal_code: str
    country: str = "US"
    line2: str | None = None


#: A biller's details that its payees take from it, or are checked against.
FOLLOWED_BY_PAYEES = ("name", "address", "payment_method", "lead_days", "account_masks")


@dataclass(kw_only=True, eq=False)
class GlobalPayee(RecordsEvents):
    """A biller in the directory every tenant searches."""

    id: str
    name: str
    category: str
    address: Address
    payment_method: PaymentMethod = PaymentMethod.ELECTRONIC
    lead_days: int = 2
    account_masks: tuple[AccountMask, ...] = ()
    aliases: tuple[str, ...] = ()
    status: PayeeStatus = PayeeStatus.ACTIVE
    #: How well known the biller is; searches rank the better known first.
    popularity: int = 0
    version: int = 0
    _pending: list[DomainEvent] = field(default_factory=list, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_lead_days(self.lead_days)
        check_popularity(self.popularity)
        if not self.name.strip():
            raise InvalidInput("a biller needs a name")

    @property
    def is_payable(self) -> bool:
        """Whether new payments may be sent to this biller."""
        return self.status is PayeeStatus.ACTIVE

    def days_to_deliver(self, check_mailing_days: int) -> int:
        """Business days a payment takes to reach the biller, by how it is paid.

        Its own lead days when paid electronically; paid by check, no fewer
        than the days a mailed check takes.
        """
        if self.payment_method is PaymentMethod.CHECK:
            return max(self.lead_days, check_mailing_days)
        return self.lead_days

    def change_status(self, new_status: PayeeStatus, *, at: datetime) -> None:
        """Activate, deactivate or suspend the biller."""
        if new_status is self.status:
            raise IllegalTransition("biller", self.status.value, f"set status {new_status}")
        old, self.status = self.status, new_status
        self._record(
            PayeeStatusChanged,
            at,
            tenant_id=None,
            payee_kind="global_payee",
            old_status=old.value,
            new_status=new_status.value,
        )

    def update(
        self,
        *,
        name: str | None = None,
        aliases: tuple[str, ...] | None = None,
        category: str | None = None,
        address: Address | None = None,
        payment_method: PaymentMethod | None = None,
        lead_days: int | None = None,
        account_masks: tuple[AccountMask, ...] | None = None,
        popularity: int | None = None,
        at: datetime,
    ) -> None:
        """Change the biller's details; ``None`` leaves a field as it is.

        A change to what its payees take from it (its name, address, method,
        lead days or account masks) is recorded, so that they follow it.
        """
        before = {name: getattr(self, name) for name in FOLLOWED_BY_PAYEES}
        if popularity is not None:
            self.popularity = check_popularity(popularity)
        if lead_days is not None:
            self.lead_days = check_lead_days(lead_days)
        if name is not None:
            if not name.strip():
                raise InvalidInput("a biller needs a name")
            self.name = name
        self.aliases = self.aliases if aliases is None else aliases
        self.category = self.category if category is None else category
        self.address = self.address if address is None else address
        self.payment_method = self.payment_method if payment_method is None else payment_method
        self.account_masks = self.account_masks if account_masks is None else account_masks
        changed = tuple(name for name, was in before.items() if getattr(self, name) != was)
        if changed:
            self._record(BillerChanged, at, changed=changed)


MAX_POPULARITY = 1_000_000_000


def check_popularity(popularity: int) -> int:
    """A popularity is a whole number from 0 (unknown) up."""
    if not 0 <= popularity <= MAX_POPULARITY:
        raise InvalidInput(f"popularity must be between 0 and {MAX_POPULARITY}")
    return popularity


def check_lead_days(lead_days: int) -> int:
    """Lead days are whole business days between 0 and ``MAX_LEAD_DAYS``."""
    if not 0 <= lead_days <= MAX_LEAD_DAYS:
        raise InvalidInput(f"lead days must be between 0 and {MAX_LEAD_DAYS}")
    return lead_days
