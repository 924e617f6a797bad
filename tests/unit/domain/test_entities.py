from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest

from cbp.domain.access import ApiKey, Scope
from cbp.domain.audit import AuditDraft, AuditEntry, first_broken_link
from cbp.domain.calendar import weekdays_only
from cbp.domain.customer import Channel
from cbp.domain.errors import (
    AmountOutOfRange,
    Forbidden,
    IdempotencyKeyInFlight,
    IdempotencyKeyReused,
    IllegalTransition,
    InvalidInput,
    LimitExceeded,
    SendDateNotAllowed,
    UnsupportedCurrency,
)
from cbp.domain.idempotency import IdempotencyRecord, check_key, fingerprint
from cbp.domain.identifiers import new_id
from cbp.domain.money import Money
from cbp.domain.notification import Notification, NotificationStatus
from cbp.domain.payment import PaymentStatus
from cbp.domain.payment_exception import ExceptionKind, ExceptionStatus, PaymentException
from cbp.domain.policy import PaymentPolicy
from cbp.domain.processing import JobProgress, JobStatus

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # 10:00 in New York, a Monday


def test_ids_carry_their_prefix_and_sort_by_creation() -> None:
    ids = [new_id("pmt") for _ in range(2000)]
    assert all(i.startswith("pmt_") for i in ids)
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


class TestPaymentPolicy:
    policy = PaymentPolicy(max_amount=Decimal("1000.00"), cutoff=time(17, 0))

    def test_amounts_outside_the_limits_are_refused(self) -> None:
        self.policy.check_amount(Money.of("1000.00", "USD"))
        with pytest.raises(AmountOutOfRange, match=r"between 0\.01 and 1000\.00"):
            self.policy.check_amount(Money.of("1000.01", "USD"))
        with pytest.raises(UnsupportedCurrency, match="must be in USD"):
            self.policy.check_amount(Money.of("10.00", "EUR"))

    def test_customer_limits_refuse_a_payment_or_a_day_that_would_pass_them(self) -> None:
        limited = PaymentPolicy(
            customer_daily_limit=Decimal("100.00"), customer_payment_limit=Decimal("60.00")
        )
        limited.check_amount(Money.of("60.00", "USD"))
        with pytest.raises(LimitExceeded, match=r"at most 60\.00 USD"):
            limited.check_amount(Money.of("60.01", "USD"))
        day = date(2026, 3, 2)
        limited.check_daily_total(Decimal("40.00"), Money.of("60.00", "USD"), day)
        with pytest.raises(LimitExceeded, match=r"2026-03-02 .* 100\.00 USD; 39\.99 USD is left"):
            limited.check_daily_total(Decimal("60.01"), Money.of("40.00", "USD"), day)
        PaymentPolicy().check_daily_total(Decimal("1e9"), Money.of("1.00", "USD"), day)

    @pytest.mark.parametrize("limit", ["0", "-1", "NaN", "Infinity"])
    def test_a_customer_limit_must_be_a_positive_amount(self, limit: str) -> None:
        with pytest.raises(InvalidInput, match="customer_daily_limit must be a positive"):
            PaymentPolicy(customer_daily_limit=Decimal(limit))

    def test_before_the_cutoff_a_payment_can_go_today(self) -> None:
        assert self.policy.resolve_send_on(None, NOW, weekdays_only) == date(2026, 3, 2)

    def test_after_the_cutoff_the_earliest_date_is_the_next_business_day(self) -> None:
        friday_evening = datetime(2026, 3, 6, 23, 0, tzinfo=UTC)  # 18:00 in New York
        assert self.policy.resolve_send_on(None, friday_evening, weekdays_only) == date(2026, 3, 9)
        with pytest.raises(SendDateNotAllowed, match="2026-03-09"):
            self.policy.resolve_send_on(date(2026, 3, 6), friday_evening, weekdays_only)

    def test_dates_in_the_past_or_beyond_the_window_are_refused(self) -> None:
        with pytest.raises(SendDateNotAllowed):
            self.policy.resolve_send_on(date(2026, 3, 1), NOW, weekdays_only)
        with pytest.raises(SendDateNotAllowed, match="within 365 days"):
            self.policy.resolve_send_on(date(2027, 3, 3), NOW, weekdays_only)


AUDIT_KEY = b"k" * 32


class TestAuditChain:
    def chain(self, n: int, key: bytes = AUDIT_KEY) -> list[AuditEntry]:
        entries: list[AuditEntry] = []
        for i in range(n):
            entries.append(
                AuditEntry.following(
                    entries[-1] if entries else None,
                    AuditDraft(
                        tenant_id="ten_1",
                        actor="key_1",
                        action="CreatePayment",
                        subject_id=f"pmt_{i}",
                        data={"amount": "1.00"},
                        recorded_at=NOW,
                    ),
                    key,
                )
            )
        return entries

    def test_an_untouched_chain_verifies(self) -> None:
        assert first_broken_link(self.chain(5), AUDIT_KEY) is None

    def test_an_edited_entry_breaks_the_chain_at_that_entry(self) -> None:
        entries = self.chain(5)
        entries[2] = replace(entries[2], data={"amount": "1000.00"})
        assert first_broken_link(entries, AUDIT_KEY) == 3

    def test_a_removed_entry_breaks_the_chain(self) -> None:
        entries = self.chain(5)
        del entries[1]
        assert first_broken_link(entries, AUDIT_KEY) == 3

    def test_a_whole_chain_rewritten_without_the_key_does_not_verify(self) -> None:
        forged = self.chain(5, key=b"guessed")
        assert first_broken_link(forged, AUDIT_KEY) == 1

    def test_unkeyed_entries_pass_only_before_the_first_keyed_one(self) -> None:
        legacy: list[AuditEntry] = []
        for entry in self.chain(2):
            unkeyed = replace(
                entry, previous_hash=legacy[-1].entry_hash if legacy else entry.previous_hash
            )
            legacy.append(replace(unkeyed, entry_hash=unkeyed.legacy_hash()))
        keyed = AuditEntry.following(
            legacy[-1], replace(legacy[-1], subject_id="pmt_x", data={}), AUDIT_KEY
        )
        assert first_broken_link([*legacy, keyed], AUDIT_KEY) is None
        after = replace(keyed, sequence=4, previous_hash=keyed.entry_hash, subject_id="pmt_y")
        after = replace(after, entry_hash=after.legacy_hash())
        assert first_broken_link([*legacy, keyed, after], AUDIT_KEY) == 4


class TestIdempotency:
    def record(self) -> IdempotencyRecord:
        return IdempotencyRecord(
            tenant_id="ten_1",
            key="k1",
            fingerprint=fingerprint("POST", "/p", b"{}"),
            created_at=NOW,
        )

    def test_the_same_request_replays_the_stored_response(self) -> None:
        record = self.record()
        record.complete(status=201, body=b'{"id": "pmt_1"}')
        assert record.replay_for(fingerprint("POST", "/p", b"{}")) == (201, b'{"id": "pmt_1"}')
        assert record.expires_at == NOW + timedelta(hours=24)

    def test_a_different_request_with_the_same_key_is_refused(self) -> None:
        record = self.record()
        record.complete(status=201, body=b"{}")
        with pytest.raises(IdempotencyKeyReused):
            record.replay_for(fingerprint("POST", "/p", b'{"amount": "2"}'))

    def test_a_retry_while_the_first_runs_is_refused(self) -> None:
        with pytest.raises(IdempotencyKeyInFlight):
            self.record().replay_for(fingerprint("POST", "/p", b"{}"))

    def test_fingerprints_do_not_collide_across_field_boundaries(self) -> None:
        assert fingerprint("POST", "/ab", b"c") != fingerprint("POST", "/a", b"bc")

    def test_keys_must_be_short_visible_ascii(self) -> None:
        assert check_key("a" * 255) == "a" * 255
        for bad in ("", "a" * 256, "clé", "a\nb"):
            with pytest.raises(InvalidInput):
                check_key(bad)


def test_an_exception_is_notified_then_resolved_once() -> None:
    exception = PaymentException(
        id="exc_1",
        tenant_id="t",
        payment_id="p",
        customer_id="c",
        kind=ExceptionKind.from_failure_code("nsf"),
        reason_code="nsf",
        created_at=NOW,
    )
    assert exception.kind is ExceptionKind.NSF
    exception.mark_notified()
    exception.resolve(resolution="customer paid", at=NOW)
    assert exception.status is ExceptionStatus.RESOLVED
    with pytest.raises(IllegalTransition):
        exception.resolve(resolution="again", at=NOW)
    assert ExceptionKind.from_failure_code("R99-weird") is ExceptionKind.PROCESSOR_ERROR


def test_a_notification_dies_after_its_last_attempt_and_then_never_changes() -> None:
    notification = Notification(
        id="ntf_1",
        tenant_id="t",
        customer_id="c",
        channel=Channel.EMAIL,
        recipient="a@example.com",
        template="x",
        payload={},
        created_at=NOW,
    )
    notification.record_failure(error="timeout", max_attempts=2)
    assert notification.status is NotificationStatus.FAILED
    notification.record_failure(error="timeout", max_attempts=2)
    assert notification.status is NotificationStatus.DEAD
    with pytest.raises(IllegalTransition):
        notification.record_sent(at=NOW)


def test_job_progress_counts_outcomes_from_statuses() -> None:
    s = PaymentStatus
    assert JobProgress.of([s.SCHEDULED, s.PROCESSING]).status is JobStatus.QUEUED
    running = JobProgress.of([s.COMPLETED, s.FAILED, s.SCHEDULED])
    assert (running.status, running.completed, running.failed, running.pending) == (
        JobStatus.RUNNING,
        1,
        1,
        1,
    )
    done = JobProgress.of([s.RETURNED, s.CANCELLED])
    assert (done.status, done.completed, done.returned, done.failed, done.cancelled) == (
        JobStatus.COMPLETED,
        0,
        1,
        0,
        1,
    )
    assert JobProgress.of([]).status is JobStatus.COMPLETED


def test_scopes_are_checked_and_unknown_ones_named() -> None:
    key = ApiKey(
        id="key_1",
        tenant_id="t",
        secret_hash="h",
        scopes=Scope.parse(["payments:read"]),
        created_at=NOW,
    )
    key.require(Scope.PAYMENTS_READ)
    with pytest.raises(Forbidden, match="payments:write"):
        key.require(Scope.PAYMENTS_WRITE)
    with pytest.raises(InvalidInput, match="payments:launch"):
        Scope.parse(["payments:launch"])
    key.revoke(at=NOW)
    key.revoke(at=NOW + timedelta(days=1))
    assert key.revoked_at == NOW
