"""What notifications say: each template's own words, on every channel."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cbp.domain.customer import Channel, StatusAlert
from cbp.domain.notice_text import notice_text
from cbp.domain.notification import Notification


def notification(template: str, payload: dict[str, Any], **extra: Any) -> Notification:
    return Notification(
        id="ntf_1",
        tenant_id="ten_1",
        customer_id="cus_1",
        channel=Channel.SMS,
        recipient="+14155550100",
        template=template,
        payload=payload,
        created_at=datetime(2026, 3, 2, tzinfo=UTC),
        **extra,
    )


@pytest.mark.parametrize(
    ("status", "subject", "line"),
    [
        ("scheduled", "Payment scheduled", "Your payment pmt_7 is scheduled."),
        ("sent", "Payment sent", "Your payment pmt_7 has been sent."),
        ("completed", "Payment completed", "Your payment pmt_7 has completed."),
        ("failed", "Payment failed", "Your payment pmt_7 failed (code nsf)."),
        ("returned", "Payment returned", "Your payment pmt_7 was returned by the bank (code nsf)."),
    ],
)
def test_a_status_notice_says_what_happened_to_the_payment(
    status: str, subject: str, line: str
) -> None:
    payload = {"payment_id": "pmt_7", "status": status}
    if status in ("failed", "returned"):
        payload["failure_code"] = "nsf"
    text = notice_text(notification("payment_status", payload))
    assert (text.subject, text.line) == (subject, line)


def test_every_status_a_customer_can_opt_into_has_its_own_words() -> None:
    def told(alert: StatusAlert) -> str:
        if alert.value.startswith("bill_"):  # NOTE: a bill's news is its own template
            return notice_text(notification(alert.value, {"bill_id": "b"})).line
        return notice_text(
            notification("payment_status", {"payment_id": "p", "status": alert.value})
        ).line

    texts = {told(a) for a in StatusAlert}
    assert len(texts) == len(StatusAlert)
    assert not any("attention" in line or "Reference" in line for line in texts)


def test_a_failure_without_a_code_says_so_plainly() -> None:
    payload = {"payment_id": "pmt_7", "status": "failed"}
    assert notice_text(notification("payment_status", payload)).line == "Your payment pmt_7 failed."


def test_an_exception_notice_names_the_payment_the_kind_and_the_reference() -> None:
    payload = {"payment_id": "pmt_7", "kind": "nsf", "reason_code": "R01", "exception_id": "exc_3"}
    text = notice_text(notification("payment_exception", payload))
    assert text.subject == "A payment needs your attention"
    assert text.body == (
        "Your payment pmt_7 could not be completed (nsf, code R01).\nReference: exc_3"
    )
    assert text.line == "Your payment pmt_7 could not be completed (nsf, code R01)."


def test_an_account_correction_and_a_paused_endpoint_have_their_own_words() -> None:
    corrected = notice_text(
        notification("account_corrected", {"funding_account_id": "fac_2", "change_code": "C01"})
    )
    assert corrected.line == (
        "Your bank corrected the details of funding account fac_2 (change C01); "
        "it is being verified again."
    )
    paused = notice_text(
        notification(
            "webhook_endpoint_paused",
            {"endpoint_id": "whe_1", "failing_since": "09:00", "paused_at": "10:00"},
        )
    )
    assert paused.subject == "Webhook deliveries paused"
    assert "whe_1" in paused.body and "resume" in paused.body


def test_a_template_of_the_tenants_own_gets_neutral_words_and_its_reference() -> None:
    text = notice_text(notification("loyalty_bonus", {"payment_id": "pmt_7"}, exception_id="exc_9"))
    assert (text.subject, text.body) == ("A message about your payments", "Reference: exc_9")
    assert notice_text(notification("loyalty_bonus", {})).body == "Reference: ntf_1"


def test_expired_micro_deposits_tell_the_customer_what_to_do() -> None:
    text = notice_text(notification("micro_deposits_expired", {"funding_account_id": "fac_2"}))
    assert text.subject == "Your bank account was not verified"
    assert "fac_2" in text.line and "add the account again" in text.line
