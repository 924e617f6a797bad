"""What each notification says: an email's subject and body, and the line a text message carries.

One wording per template, shared by every channel, so that a customer told
of a completed payment by text reads the same news as by email. A template
this module does not know (a tenant's own, sent through the API) gets a
neutral message with its reference, never another template's words.
"""

from __future__ import annotations

from dataclasses import dataclass

from cbp.domain.notification import Notification


@dataclass(frozen=True)
class NoticeText:
    """The words of one notification."""

    subject: str
    body: str

    @property
    def line(self) -> str:
        """The body's first line: what a text message says."""
        return self.body.splitlines()[0]


#: Subject and body by template (a status notice by ``payment_status.<status>``).
TEMPLATES: dict[str, tuple[str, str]] = {
    "payment_exception": (
        "A payment needs your attention",
        "Your payment {payment_id} could not be completed ({kind}, code {reason_code}).\n"
        "Reference: {exception_id}",
    ),
    "payment_status.scheduled": ("Payment scheduled", "Your payment {payment_id} is scheduled."),
    "payment_status.sent": ("Payment sent", "Your payment {payment_id} has been sent."),
    "payment_status.completed": ("Payment completed", "Your payment {payment_id} has completed."),
    "payment_status.failed": ("Payment failed", "Your payment {payment_id} failed{code}."),
    "payment_status.returned": (
        "Payment returned",
        "Your payment {payment_id} was returned by the bank{code}.",
    ),
    "account_corrected": (
        "Your bank account details were corrected",
        "Your bank corrected the details of funding account {funding_account_id} "
        "(change {change_code}); it is being verified again.",
    ),
    "micro_deposits_expired": (
        "Your bank account was not verified",
        "The two small deposits to funding account {funding_account_id} were not confirmed "
        "in time; add the account again to verify it.",
    ),
    "payee_needs_update": (
        "A payee needs a new account number",
        "{biller} changed the format of its account numbers, and the one you gave payee "
        "{payee_id} no longer fits it. Payments to it are held until you give a new one.",
    ),
    "micro_deposits_returned": (
        "Your bank account was not verified",
        "Your bank returned the two small deposits to funding account {funding_account_id} "
        "({reason}, code {return_code}); check the account's details and add it again.",
    ),
    "bill_presented": (
        "You have a new bill",
        "A bill of {amount_due} {currency} from payee {payee_id} is due on {due_on} "
        "(minimum due {minimum_due}).\nBill: {bill_id}",
    ),
    "bill_past_due": (
        "A bill is past due",
        "Your bill {bill_id} from payee {payee_id} was due on {due_on} and is not paid.",
    ),
    "autopay_skipped": (
        "Autopay did not pay a bill",
        "Autopay did not pay your bill {bill_id} from payee {payee_id}, due on {due_on}: "
        "{reason}. Pay it yourself, or change your autopay rule.",
    ),
    "webhook_endpoint_paused": (
        "Webhook deliveries paused",
        "Deliveries to webhook endpoint {endpoint_id} failed from {failing_since} "
        "and were paused at {paused_at}.\nMend the endpoint, then resume it.",
    ),
}
_OTHER = ("A message about your payments", "Reference: {reference}")


class _Fields(dict[str, str]):
    """The payload's fields as text; a field the payload lacks reads as empty."""

    def __missing__(self, key: str) -> str:
        return ""


def notice_text(notification: Notification) -> NoticeText:
    """The subject and body of ``notification``, filled in from its payload."""
    fields = _Fields({key: str(value) for key, value in notification.payload.items()})
    fields["reference"] = notification.exception_id or notification.id
    fields["code"] = f" (code {fields['failure_code']})" if fields["failure_code"] else ""
    key = notification.template
    if key == "payment_status":
        key = f"payment_status.{fields['status']}"
    subject, body = TEMPLATES.get(key, _OTHER)
    return NoticeText(subject, body.format_map(fields))
