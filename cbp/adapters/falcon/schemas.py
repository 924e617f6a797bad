"""Request bodies, validated strictly: unknown or read-only fields are refused."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from cbp.domain.money import MINOR_UNITS

#: Text without control characters (C0, DEL, C1), as the API publishes it.
PRINTABLE = r"^[^\x00-\x1f\x7f-\x9f]*$"
#: The same, with at least one character that is not a space.
SOME_TEXT = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"


Category = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=SOME_TEXT)]
Nickname = Annotated[str, StringConstraints(max_length=100, pattern=PRINTABLE)]
Memo = Annotated[str, StringConstraints(max_length=140, pattern=PRINTABLE)]
Reason = Annotated[str, StringConstraints(max_length=200, pattern=PRINTABLE)]
Resolution = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=SOME_TEXT)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=SOME_TEXT)]
ID_PATTERN = r"^[a-z]{3}_[0-9a-z]{1,36}$"
#: A delivery is its message and its subscriber: ``msg_....audit-log``.
DELIVERY_ID_PATTERN = r"^[a-z]{3}_[0-9a-z]{1,36}\.[a-z0-9_-]{1,100}$"
Id = Annotated[str, StringConstraints(min_length=5, max_length=40, pattern=ID_PATTERN)]
#: An amount greater than zero, in at most three decimals (the finest currency's).
Money = Annotated[
    str,
    StringConstraints(
        pattern=r"^(?:[1-9][0-9]{0,12}(?:\.[0-9]{1,3})?|0?\.(?:[1-9][0-9]{0,2}|0[1-9][0-9]?|00[1-9]))$"
    ),
]
#: A currency cbp can hold amounts in (a tenant pays in one of them).
Currency = Annotated[str, StringConstraints(pattern=f"^(?:{'|'.join(sorted(MINOR_UNITS))})$")]


def parse_day(value: Any) -> Any:
    """A calendar day written as JSON carries one: ``YYYY-MM-DD`` and nothing else."""
    if isinstance(value, str):
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            raise ValueError("must be a date written YYYY-MM-DD")
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError("must be a date that exists") from None
    return value


#: A date from a JSON string, however the model is validated (a PATCH body checks
#: its fields before they are read, and strict validation of Python data takes no text).
Day = Annotated[date, BeforeValidator(parse_day)]
AccountNumber = Annotated[
    str, StringConstraints(max_length=40, pattern=r"^[ -]*(?:[A-Za-z0-9][ -]*){1,34}$")
]
Mask = Annotated[str, StringConstraints(min_length=1, max_length=34, pattern=r"^[0-9A-Z]+$")]
#: A micro-deposit is a credit of 0.01 to 0.99: no sign, no whole dollars, cents only.
MicroDepositAmount = Annotated[str, StringConstraints(pattern=r"^0?\.(0[1-9]|[1-9][0-9]?)$")]


class Strict(BaseModel):
    """A body held to its schema: nothing coerced, nothing unnamed, no control characters.

    Unknown fields (a client sending ``status``) are refused; ``false`` is not
    a number and ``0`` is not a date.
    """

    model_config = ConfigDict(extra="forbid", str_max_length=2000, strict=True)

    @field_validator("*", mode="after")
    @classmethod
    def _printable(cls, value: Any) -> Any:
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str) and not is_clean_text(text):
                raise ValueError("must not contain control characters")
        return value


def _whole(value: Any) -> Any:
    """732.0 is the integer 732 to JSON Schema, so it is taken as one; 732.5 is not."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


# NOTE: a whole number written as JSON Schema counts one: 732 or 732.0. The bounds
# come before the validator, or the published schema says "ge" for "minimum".
LeadDays = Annotated[int, Field(ge=0, le=30), BeforeValidator(_whole)]
#: What a customer may ask to be told of: a payment's status changes, a bill's news.
StatusAlertName = Literal[
    "scheduled", "sent", "completed", "failed", "returned", "bill_presented", "bill_past_due"
]
Popularity = Annotated[int, Field(ge=0, le=1_000_000_000), BeforeValidator(_whole)]
Occurrences = Annotated[int, Field(ge=1, le=1000), BeforeValidator(_whole)]


def _change_schema(schema: dict[str, Any]) -> None:
    """A change's schema says what the server holds it to: a field or more, never null."""
    schema["minProperties"] = 1
    for prop in schema.get("properties", {}).values():
        prop.pop("default", None)
        kinds = [kind for kind in prop.pop("anyOf", []) if kind.get("type") != "null"]
        if len(kinds) == 1:
            prop.update(kinds[0])
        elif kinds:
            prop["anyOf"] = kinds


class Change(Strict):
    """A PATCH body that changes some fields: at least one, and none null.

    A field left out stays as it is; null would say nothing else, so it is
    refused rather than read as "left out".
    """

    model_config = ConfigDict(json_schema_extra=_change_schema)

    @model_validator(mode="before")
    @classmethod
    def _named_and_not_null(cls, data: Any) -> Any:
        if isinstance(data, dict):
            if not data:
                raise ValueError("name at least one field to change")
            nulls = sorted(name for name, value in data.items() if value is None)
            if nulls:
                raise ValueError(f"{', '.join(nulls)} cannot be null: leave a field out to keep it")
        return data


#: Unicode's control characters (category Cc) and surrogates (Cs), every one of them.
_UNCLEAN = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def is_clean_text(text: str) -> bool:
    """No control characters (NUL, escapes, line breaks) and no lone surrogates."""
    return _UNCLEAN.search(text) is None


class AddressIn(Strict):
    """A postal address."""

    line1: Text
    line2: Text | None = None
    city: Text
    state: Annotated[str, StringConstraints(min_length=2, max_length=40, pattern=SOME_TEXT)]
    postal_code: Annotated[str, StringConstraints(max_length=12, pattern=r"^[A-Za-z0-9 -]+$")]
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] = "US"


class CustomerIn(Strict):
    """POST /customer."""

    external_id: Text
    name: Text
    email: (
        Annotated[
            str,
            StringConstraints(
                max_length=320, pattern=r"^[^@\s\x00-\x1f\x7f-\x9f]+@[^@\s\x00-\x1f\x7f-\x9f]+$"
            ),
            Field(json_schema_extra={"format": "email"}),
        ]
        | None
    ) = None
    phone: (
        Annotated[str, StringConstraints(max_length=40, pattern=r"^\+?[0-9 ()-]{3,40}$")] | None
    ) = None


class CustomerPatch(Strict):
    """PATCH /customer/{id}: notification preferences; those left out stay as they are."""

    notification_channels: (
        Annotated[list[Literal["email", "sms", "webhook"]], Field(min_length=1, max_length=3)]
        | None
    ) = Field(default=None, description="Where the customer is told: at least one")
    notify_on: (
        Annotated[
            list[StatusAlertName],
            Field(max_length=7),
        ]
        | None
    ) = Field(
        default=None,
        description="The payment status changes and bill news the customer is told of",
    )


class GlobalPayeeIn(Strict):
    """POST /payee/global-payee."""

    name: Text
    category: Category
    address: AddressIn
    aliases: list[Text] = Field(default_factory=list, max_length=20)
    payment_method: Literal["electronic", "check"] = "electronic"
    lead_days: LeadDays = 2
    account_masks: list[Mask] = Field(default_factory=list, max_length=20)
    popularity: Popularity = Field(default=0, description="Searches rank higher first")


class GlobalPayeePatch(Change):
    """PATCH /payee/global-payee/{id}: the fields to change; those left out stay as they are."""

    name: Text | None = None
    category: Category | None = None
    address: AddressIn | None = None
    aliases: list[Text] | None = None
    payment_method: Literal["electronic", "check"] | None = None
    lead_days: LeadDays | None = None
    account_masks: list[Mask] | None = None
    status: Literal["active", "inactive", "suspended"] | None = None
    popularity: Popularity | None = None


class PayeeIn(Strict):
    """POST /payee: a directory biller, or a personal payee by name and address.

    With a directory id, the biller's own name and address are used.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {
                    "required": ["global_payee_id"],
                    "properties": {"global_payee_id": {"type": "string"}},
                },
                {
                    "required": ["name", "address"],
                    "properties": {"name": {"type": "string"}, "address": {"type": "object"}},
                },
            ]
        }
    )

    customer_id: Id
    account_number: AccountNumber
    global_payee_id: Id | None = None
    name: Text | None = None
    address: AddressIn | None = None
    nickname: Nickname | None = None


class PayeePatch(Strict):
    """PATCH /payee/{id}."""

    nickname: Nickname | None = None
    account_number: AccountNumber | None = None
    status: Literal["active", "inactive"] | None = None


class FundingAccountIn(Strict):
    """POST /funding-account."""

    customer_id: Id
    routing_number: Annotated[str, StringConstraints(pattern=r"^[0-9]{9}$")]
    account_number: Annotated[str, StringConstraints(pattern=r"^[0-9]{4,17}$")]
    account_type: Literal["checking", "savings"]
    holder_name: Text
    verification: Literal["instant", "micro_deposits"] = Field(
        default="instant",
        description="instant: asked of the account verifier; micro_deposits: two small "
        "credits the customer confirms",
    )


class MicroDepositsIn(Strict):
    """POST /funding-account/{id}/micro-deposits: the two amounts seen, in either order."""

    amounts: Annotated[list[MicroDepositAmount], Field(min_length=2, max_length=2)]


class PaymentIn(Strict):
    """POST /payment/one-time."""

    customer_id: Id
    payee_id: Id
    funding_account_id: Id
    amount: Money
    currency: Currency = "USD"
    send_on: Day | None = None
    memo: Memo | None = None
    due_on: Day | None = Field(
        default=None,
        description=(
            "The bill's due date: a payment that would arrive after it is refused "
            "(422 arrives_after_due_date, naming the latest send-on date that would not)"
        ),
    )
    bill_id: Id | None = Field(
        default=None,
        description="The bill the payment pays: it is linked to it, and its due date applies",
    )


class PaymentPatch(Change):
    """PATCH /payment/{id}: the terms to change; those left out stay as they are."""

    amount: Money | None = None
    send_on: Day | None = None
    memo: Memo | None = Field(default=None, description="An empty memo clears it")


class RecurringPaymentIn(Strict):
    """POST /payment/recurring: a payee paid on a schedule until a date, a count, or never."""

    customer_id: Id
    payee_id: Id
    funding_account_id: Id
    amount: Money
    currency: Currency = "USD"
    memo: Memo | None = None
    frequency: Literal[
        "weekly", "every_two_weeks", "monthly", "monthly_last_business_day", "yearly"
    ] = Field(description="monthly and yearly keep starts_on's day of the month")
    starts_on: Day = Field(description="The first occurrence's date (before rolling)")
    ends_on: Day | None = Field(default=None, description="No occurrence is sent after it")
    count: Occurrences | None = Field(default=None, description="How many occurrences in all")


class RecurringPaymentPatch(Change):
    """PATCH /payment/recurring/{id}: future occurrences' terms, or pause, resume, cancel."""

    amount: Money | None = None
    memo: Memo | None = Field(default=None, description="An empty memo clears it")
    status: Literal["active", "paused", "cancelled"] | None = Field(
        default=None, description="paused to pause, active to resume, cancelled to end it"
    )


class NextOccurrencePatch(Change):
    """PATCH /payment/recurring/{id}/next: the next occurrence alone."""

    amount: Money | None = None
    send_on: Day | None = None


BillReference = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=SOME_TEXT)]


class BillIn(Strict):
    """POST /bill: a bill a customer owes one of their payees."""

    customer_id: Id
    payee_id: Id
    amount_due: Money = Field(description="What is owed now")
    minimum_due: Money = Field(description="The least that keeps the account in good standing")
    statement_balance: Money = Field(description="The balance on the statement")
    currency: Currency = "USD"
    due_on: Day = Field(description="Within 400 days of today, either side")
    statement_on: Day = Field(description="The statement's date: not after due_on")
    reference: BillReference = Field(
        description="The biller's own reference for the bill: one bill per payee and reference"
    )


class BillPatch(Change):
    """PATCH /bill/{id}: the biller's correction; terms left out stay as they are."""

    amount_due: Money | None = None
    minimum_due: Money | None = None
    statement_balance: Money | None = None
    due_on: Day | None = None


class WithdrawIn(Strict):
    """POST /bill/{id}/withdraw."""

    reason: Reason = "withdrawn by the biller"


class AutopayIn(Strict):
    """POST /payee/{id}/autopay: how the payee's bills are paid without asking."""

    funding_account_id: Id
    basis: Literal["statement_balance", "minimum_due", "fixed_amount"]
    fixed_amount: Money | None = Field(
        default=None, description="Required with the fixed_amount basis, refused otherwise"
    )
    days_before_due: LeadDays = Field(
        default=0, description="Business days before the due date it should arrive; 0 is on it"
    )
    cap: Money | None = Field(
        default=None, description="A bill asking more is not paid; the customer is told"
    )
    currency: Currency = "USD"


class CancelIn(Strict):
    """POST /payment/{id}/cancel."""

    reason: Reason = "cancelled by customer"


class ProcessIn(Strict):
    """POST /payment/process: given payments, or all due on a date."""

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {"required": ["payment_ids"], "not": {"required": ["due_on"]}},
                {"required": ["due_on"], "not": {"required": ["payment_ids"]}},
            ]
        }
    )

    payment_ids: list[Id] = Field(default_factory=list, min_length=1, max_length=1000)
    due_on: Day = Field(
        default=None,  # type: ignore[assignment]  # NOTE: absent, never null
        description="Every payment due by this date (not after today)",
        json_schema_extra=lambda schema: schema.pop("default", None),  # type: ignore[arg-type]
    )
    send_now: bool = Field(
        default=False, description="Send payments before their send-on date (audited)"
    )


class ResolveIn(Strict):
    """POST /exception/{id}/resolve."""

    resolution: Resolution


class NotifyIn(Strict):
    """POST /exception/send-customer-notification."""

    exception_id: Id
    channels: list[Literal["email", "sms", "webhook"]] = Field(default_factory=list, max_length=3)
    template: Annotated[str, StringConstraints(max_length=100, pattern=r"^[a-z0-9_]+$")] = (
        "payment_exception"
    )


class ProcessorEventData(Strict):
    """Which payment an event is about, and the processor's codes."""

    model_config = ConfigDict(extra="ignore")  # NOTE: processors add fields; cbp reads these

    reference: Id
    tenant_id: Id
    failure_code: Annotated[str, StringConstraints(max_length=40)] | None = None
    return_code: Annotated[str, StringConstraints(pattern=r"^[RC][0-9]{2}$")] | None = None
    reason: Annotated[str, StringConstraints(max_length=500)] | None = None


class ProcessorEventIn(Strict):
    """An event the processor pushes (signed per Standard Webhooks)."""

    model_config = ConfigDict(extra="ignore")

    type: Literal[
        "payment.settled",
        "payment.failed",
        "payment.returned",
        "payment.notification_of_change",
    ]
    data: ProcessorEventData


class WebhookEndpointIn(Strict):
    """POST /webhook-endpoint."""

    url: Annotated[str, StringConstraints(min_length=8, max_length=2000, pattern=r"^https?://")]


class WebhookReplayIn(Strict):
    """POST /webhook-endpoint/replay."""

    since: datetime = Field(description="Replay the webhooks made at or after this instant")
    unsent_only: bool = Field(default=False, description="Only those not delivered yet")
