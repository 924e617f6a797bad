"""Commands about customers, the biller directory, payees and funding accounts."""

from __future__ import annotations

from dataclasses import dataclass, field

from cbp.services.commands.base import Address, Audited, Command


@dataclass(frozen=True, kw_only=True)
class CreateCustomer(Command):
    """Register a tenant's end user."""

    audit = Audited()

    tenant_id: str
    external_id: str
    name: str
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True, kw_only=True)
class SetNotificationPreferences(Command):
    """Choose a customer's channels, and which payment status changes they are told of.

    A preference left None stays as it is.
    """

    audit = Audited(subject="customer_id", fields=("notification_channels", "notify_on"))

    tenant_id: str
    customer_id: str
    notification_channels: tuple[str, ...] | None = None
    notify_on: tuple[str, ...] | None = None


@dataclass(frozen=True, kw_only=True)
class NotifyPaymentStatus(Command):
    """Tell a customer of a payment's status changes, each they opted into."""

    tenant_id: str
    customer_id: str
    payment_id: str
    #: The events recorded together, oldest first: each one's type and the payment's version
    #: after it.
    changes: tuple[tuple[str, int], ...]
    failure_code: str | None = None
    message_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class AddGlobalPayee(Command):
    """Add a biller to the shared directory."""

    audit = Audited(fields=("name",))

    name: str
    category: str
    address: Address
    payment_method: str = "electronic"
    lead_days: int = 2
    account_masks: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    popularity: int = 0


@dataclass(frozen=True, kw_only=True)
class ForgetDirectorySearches(Command):
    """The directory changed elsewhere: every cached search is stale."""

    message_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class UpdateGlobalPayee(Command):
    """Change a biller's details or status; ``None`` leaves a field alone."""

    audit = Audited(subject="global_payee_id", fields=("status",))

    global_payee_id: str
    name: str | None = None
    category: str | None = None
    address: Address | None = None
    payment_method: str | None = None
    lead_days: int | None = None
    account_masks: tuple[str, ...] | None = None
    aliases: tuple[str, ...] | None = None
    status: str | None = None
    popularity: int | None = None


@dataclass(frozen=True, kw_only=True)
class AddPayee(Command):
    """Add a payee for a customer: a directory biller or a personal payee."""

    audit = Audited(fields=("global_payee_id",), masked=("account_number",))

    tenant_id: str
    customer_id: str
    account_number: str = field(repr=False)
    global_payee_id: str | None = None
    name: str | None = None
    address: Address | None = None
    nickname: str | None = None


@dataclass(frozen=True, kw_only=True)
class UpdatePayee(Command):
    """Change a payee's nickname, account number or status."""

    audit = Audited(subject="payee_id", fields=("status",), masked=("account_number",))

    tenant_id: str
    payee_id: str
    nickname: str | None = None
    account_number: str | None = field(default=None, repr=False)
    status: str | None = None


@dataclass(frozen=True, kw_only=True)
class VerifyPayeeAccount(Command):
    """Check a payee's account number with the verifier."""

    audit = Audited(subject="payee_id")

    tenant_id: str
    payee_id: str
    message_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class FollowBiller(Command):
    """Bring the payees of a changed biller in step with it (from its ``BillerChanged``)."""

    audit = Audited(subject="global_payee_id")

    global_payee_id: str
    message_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class VerifyFundingAccount(Command):
    """Check a funding account with the verifier (it was down when the account was added)."""

    audit = Audited(subject="account_id")

    tenant_id: str
    account_id: str
    message_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class AddFundingAccount(Command):
    """Add a customer's bank account; it is verified before use.

    ``verification`` is ``instant`` (asked of the account verifier) or
    ``micro_deposits`` (two small credits the customer confirms).
    """

    audit = Audited(fields=("account_type", "verification"), masked=("account_number",))

    tenant_id: str
    customer_id: str
    routing_number: str = field(repr=False)
    account_number: str = field(repr=False)
    account_type: str
    holder_name: str
    verification: str = "instant"


@dataclass(frozen=True, kw_only=True)
class SendMicroDeposits(Command):
    """Send a funding account's two micro-deposits through the processor."""

    audit = Audited()

    tenant_id: str
    account_id: str
    message_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class ExpireMicroDeposits(Command):
    """Fail the verification of funding accounts whose micro-deposits expired unconfirmed."""

    limit: int = 1000


@dataclass(frozen=True, kw_only=True)
class ConfirmMicroDeposits(Command):
    """The customer's answer: the two amounts they saw credited."""

    audit = Audited(subject="account_id")

    tenant_id: str
    account_id: str
    amounts: tuple[str, ...] = field(repr=False)
