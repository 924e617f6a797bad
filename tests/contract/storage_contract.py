"""The contract of the storage ports, for every adapter to pass unchanged.

A subclass provides the ``uow_factory`` fixture: a callable returning a new
unit of work on a fresh, empty store.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from cbp.adapters.memory.clock import InMemoryClock
from cbp.domain.audit import AuditDraft, first_broken_link
from cbp.domain.customer import Channel
from cbp.domain.errors import AlreadyExists, ConcurrencyConflict, IllegalTransition, NotFound
from cbp.domain.idempotency import IdempotencyState
from cbp.domain.payment import Payment, PaymentStatus
from cbp.domain.payment_exception import ExceptionStatus
from cbp.ports.messages import (
    Backlog,
    Delivery,
    DeliveryStatus,
    Headers,
    Message,
    delivery_id,
)
from cbp.ports.storage.notices import ExceptionFilter
from cbp.ports.storage.payments import PaymentFilter
from cbp.ports.storage.unit_of_work import ReadOnly, UnitOfWork
from cbp.services.bus import retry_on_conflict
from cbp.services.commands import PurgeExpiredIdempotencyKeys
from cbp.services.idempotency import purge_expired_idempotency_keys
from tests.contract import builders as b

KEY = b"chain-key"
#: Opens a unit of work of the store under test (``read_only=True`` for one that only reads).
UowFactory = Callable[..., UnitOfWork]
HEADERS = Headers(tenant_id="ten_1", correlation_id="cor_1", traceparent="00-abc-def-01")


class UnitOfWorkContract:
    """Atomicity: all of a unit of work, or none of it."""

    def test_committed_work_is_seen_by_the_next_unit_of_work(self, uow_factory: UowFactory) -> None:
        tenant = b.tenant()
        with uow_factory() as uow:
            uow.tenants.add(tenant)
            uow.commit()
        with uow_factory() as uow:
            assert uow.tenants.get(tenant.id).name == "Acme"

    def test_a_unit_of_work_opened_to_read_sees_what_is_committed_and_cannot_commit(
        self, uow_factory: UowFactory
    ) -> None:
        tenant = b.tenant()
        with uow_factory() as uow:
            uow.tenants.add(tenant)
            uow.commit()
        with uow_factory(read_only=True) as reader:
            assert reader.tenants.get(tenant.id).name == tenant.name
            reader.outbox.add(b.message())
            with pytest.raises(ReadOnly):
                reader.commit()
        with uow_factory() as uow:
            assert uow.outbox.pending(10) == []

    def test_work_left_uncommitted_is_discarded(self, uow_factory: UowFactory) -> None:
        tenant = b.tenant()
        with uow_factory() as uow:
            uow.tenants.add(tenant)
            uow.outbox.add(b.message())
        with uow_factory() as uow:
            with pytest.raises(NotFound):
                uow.tenants.get(tenant.id)
            assert uow.outbox.pending(10) == []

    def test_an_error_rolls_back_state_events_and_messages_together(
        self, uow_factory: UowFactory
    ) -> None:
        payment = b.payment("ten_1")
        with pytest.raises(RuntimeError), uow_factory() as uow:
            uow.payments.save(payment)
            uow.outbox.add(b.message())
            raise RuntimeError("crash before commit")
        with uow_factory() as uow:
            with pytest.raises(NotFound):
                uow.payments.get("ten_1", payment.id)
            assert uow.outbox.pending(10) == []
            assert uow.events.read_all() == []


class EventStoreContract:
    """Streams with optimistic concurrency and a global order for replay."""

    def test_a_stream_loads_in_version_order_with_its_data(self, uow_factory: UowFactory) -> None:
        payment = b.payment("ten_1")
        events = payment.pull_events()
        with uow_factory() as uow:
            uow.events.append(payment.id, events, expected_version=0, headers=HEADERS)
            uow.commit()
        with uow_factory() as uow:
            loaded = uow.events.load(payment.id)
        assert [(e.type, e.version, e.event_id) for e in loaded] == [
            (e.type, e.version, e.event_id) for e in events
        ]
        assert loaded[0].data() == events[0].data()
        assert loaded[0].occurred_at == events[0].occurred_at

    def test_appending_at_a_stale_version_is_a_conflict(self, uow_factory: UowFactory) -> None:
        """Two writers hold the stream at one version; the second to append loses."""
        payment = b.payment("ten_1")
        created = payment.pull_events()
        with uow_factory() as uow:
            uow.events.append(payment.id, created, expected_version=0, headers=HEADERS)
            uow.commit()
        at = len(created)
        first, second = Payment.restore(payment.snapshot()), Payment.restore(payment.snapshot())
        first.submit(processor_reference=payment.id, at=b.NOW)
        second.cancel(reason="the customer asked", at=b.NOW)
        submitted = first.pull_events()
        with uow_factory() as uow:
            uow.events.append(payment.id, submitted, expected_version=at, headers=HEADERS)
            uow.commit()
        with uow_factory() as uow, pytest.raises(ConcurrencyConflict):
            uow.events.append(
                payment.id, second.pull_events(), expected_version=at, headers=HEADERS
            )
            uow.commit()
        with uow_factory() as uow:
            kept = [e.type for e in uow.events.load(payment.id)]
        assert kept == [e.type for e in created + submitted]

    def test_a_conflict_found_at_commit_leaves_nothing_of_the_loser(
        self, uow_factory: UowFactory
    ) -> None:
        """Two first appends to one stream: the second fails as its writes go in, all of them."""
        payment = b.payment("ten_1")
        events = payment.pull_events()
        with uow_factory() as uow:
            uow.events.append(payment.id, events, expected_version=0, headers=HEADERS)
            uow.commit()
        loser = b.message()
        with uow_factory() as uow, pytest.raises(ConcurrencyConflict):
            uow.events.append(payment.id, events, expected_version=0, headers=HEADERS)
            uow.outbox.add(loser)
            uow.audit.record(
                AuditDraft(
                    tenant_id="ten_1",
                    actor="key_1",
                    action="Test",
                    subject_id=payment.id,
                    data={},
                    recorded_at=b.NOW,
                )
            )
            uow.commit()
        with uow_factory() as uow:
            assert [e.event_id for e in uow.events.load(payment.id)] == [e.event_id for e in events]
            assert uow.outbox.pending(10) == []
            assert uow.audit.pending() == 0
            uow.outbox.add(b.message())  # NOTE: the connection the loser used serves again
            uow.commit()

    def test_of_two_concurrent_writers_exactly_one_change_lands(
        self, uow_factory: UowFactory
    ) -> None:
        """Optimistic stores refuse the loser; SQLite makes it wait and see the winner."""
        payment = b.payment("ten_1")
        with uow_factory() as uow:
            uow.payments.save(payment)
            uow.commit()
        changes = {
            "cancel": lambda p: p.cancel(reason="customer", at=b.NOW),
            "submit": lambda p: p.submit(processor_reference=p.id, at=b.NOW),
        }
        outcomes = run_concurrently(uow_factory, payment.id, changes)
        assert sorted(outcomes.values()) == ["committed", "refused"]
        winner = next(name for name, outcome in outcomes.items() if outcome == "committed")
        with uow_factory() as uow:
            final = uow.payments.get("ten_1", payment.id)
        expected = {"cancel": PaymentStatus.CANCELLED, "submit": PaymentStatus.PROCESSING}
        assert (final.status, final.version) == (expected[winner], 3)

    def test_read_all_returns_every_stream_in_commit_order(self, uow_factory: UowFactory) -> None:
        payments = [b.payment("ten_1") for _ in range(3)]
        for payment in payments:
            with uow_factory() as uow:
                uow.payments.save(payment)
                uow.commit()
        with uow_factory() as uow:
            everything = uow.events.read_all()
            tail = uow.events.read_all(after_position=everything[1].position, limit=2)
        assert [s.event.stream_id for s in everything] == [p.id for p in payments for _ in range(2)]
        positions = [s.position for s in everything]
        assert positions == sorted(positions) and len(set(positions)) == 6
        assert [s.position for s in tail] == positions[2:4]


class PaymentRepositoryContract:
    """Payments by replay, with a view to list, sweep and reconcile them."""

    def save(self, uow_factory: UowFactory, payment: Payment) -> None:
        with uow_factory() as uow:
            uow.payments.save(payment)
            uow.commit()

    def test_a_saved_payment_comes_back_the_same_and_only_for_its_tenant(
        self, uow_factory: UowFactory
    ) -> None:
        payment = b.payment("ten_1")
        self.save(uow_factory, payment)
        with uow_factory() as uow:
            loaded = uow.payments.get("ten_1", payment.id)
            with pytest.raises(NotFound):
                uow.payments.get("ten_2", payment.id)
            with pytest.raises(NotFound):
                uow.payments.get("ten_1", "pmt_missing")
        assert (loaded.status, loaded.amount, loaded.send_on, loaded.memo, loaded.version) == (
            PaymentStatus.SCHEDULED,
            payment.amount,
            payment.send_on,
            "rent",
            2,
        )

    def test_payments_are_found_newest_first_by_customer_and_status(
        self, uow_factory: UowFactory
    ) -> None:
        payments = [b.payment("ten_1", customer_id="cus_a" if i % 2 else "cus_b") for i in range(5)]
        payments[0].cancel(reason="x", at=b.NOW)
        for payment in [*payments, b.payment("ten_2")]:
            self.save(uow_factory, payment)
        with uow_factory() as uow:
            first = uow.payments.find(PaymentFilter(tenant_id="ten_1"), cursor=None, limit=3)
            rest = uow.payments.find(
                PaymentFilter(tenant_id="ten_1"), cursor=first.next_cursor, limit=3
            )
            cus_a = uow.payments.find(
                PaymentFilter(tenant_id="ten_1", customer_id="cus_a"), cursor=None, limit=10
            )
            cancelled = uow.payments.find(
                PaymentFilter(tenant_id="ten_1", status=PaymentStatus.CANCELLED),
                cursor=None,
                limit=10,
            )
        newest_first = [p.id for p in reversed(payments)]
        assert [p.id for p in first.items + rest.items] == newest_first
        assert rest.next_cursor is None
        assert [p.id for p in cus_a.items] == [payments[3].id, payments[1].id]
        assert [p.id for p in cancelled.items] == [payments[0].id]

    def test_due_and_in_status_sweep_across_tenants(self, uow_factory: UowFactory) -> None:
        today = b.payment("ten_1", send_on=date(2026, 3, 2))
        other_tenant = b.payment("ten_2", send_on=date(2026, 3, 1))
        later = b.payment("ten_1", send_on=date(2026, 3, 5))
        unvalidated = b.payment("ten_1", validated=False)
        submitted, also_submitted = b.payment("ten_1"), b.payment("ten_2")
        for payment in (submitted, also_submitted):
            payment.submit(processor_reference=payment.id, at=b.NOW)
        for payment in (today, other_tenant, later, unvalidated, submitted, also_submitted):
            self.save(uow_factory, payment)
        with uow_factory() as uow:
            due = {p.id for p in uow.payments.due(date(2026, 3, 2), limit=100)}
            due_ten_1 = {
                p.id for p in uow.payments.due(date(2026, 3, 2), limit=100, tenant_id="ten_1")
            }
            processing = [p.id for p in uow.payments.in_status(PaymentStatus.PROCESSING)]
            first = [p.id for p in uow.payments.in_status(PaymentStatus.PROCESSING, limit=1)]
            rest = uow.payments.in_status(PaymentStatus.PROCESSING, after=first[-1])
            by_date = [p.id for p in uow.payments.due(date(2026, 3, 5), limit=100)]
            past_today = uow.payments.due(
                date(2026, 3, 5), limit=100, after=(today.send_on, today.id)
            )
        assert by_date == [other_tenant.id, today.id, later.id]
        assert [p.id for p in past_today] == [later.id]
        assert due == {today.id, other_tenant.id}
        assert due_ten_1 == {today.id}
        assert processing == [submitted.id, also_submitted.id]
        assert first + [p.id for p in rest] == processing

    def test_the_held_sweep_finds_only_payments_whose_payee_has_an_answer(
        self, uow_factory: UowFactory
    ) -> None:
        pending, verified, refused = (b.payee("ten_1", "cus_1") for _ in range(3))
        verified.record_verification(verified=True, reason=None, at=b.NOW)
        refused.record_verification(verified=False, reason="account_not_found", at=b.NOW)
        held = []
        for payee in (pending, verified, refused, verified):
            payment = b.payment("ten_1", payee_id=payee.id, validated=False)
            payment.hold(reason="payee_verification_pending", at=b.NOW)
            held.append(payment)
        with uow_factory() as uow:
            for payee in (pending, verified, refused):
                uow.payees.add(payee)
            uow.commit()
        for payment in (*held, b.payment("ten_1", payee_id=verified.id)):
            self.save(uow_factory, payment)
        with uow_factory() as uow:
            found = [p.id for p in uow.payments.held_on_answered_payees()]
            first_two = [p.id for p in uow.payments.held_on_answered_payees(limit=2)]
        assert found == sorted(p.id for p in held[1:])
        assert first_two == found[:2]

    def test_a_days_total_counts_the_customers_payments_that_move_money(
        self, uow_factory: UowFactory
    ) -> None:
        day = date(2026, 3, 2)
        scheduled = [b.payment("ten_1", send_on=day) for _ in range(2)]
        submitted = b.payment("ten_1", send_on=day)
        submitted.submit(processor_reference=submitted.id, at=b.NOW)
        cancelled = b.payment("ten_1", send_on=day)
        cancelled.cancel(reason="customer", at=b.NOW)
        failed = b.payment("ten_1", send_on=day)
        failed.fail(failure_code="nsf", reason="no funds", at=b.NOW)
        others = [
            b.payment("ten_1", send_on=day, customer_id="cus_2"),
            b.payment("ten_1", send_on=date(2026, 3, 3)),
            b.payment("ten_2", send_on=day),
        ]
        for payment in (*scheduled, submitted, cancelled, failed, *others):
            self.save(uow_factory, payment)
        with uow_factory() as uow:
            total = uow.payments.total_sent_on("ten_1", "cus_1", day)
            none = uow.payments.total_sent_on("ten_1", "cus_1", date(2026, 3, 4))
        assert (total, none) == (Decimal("37.02"), Decimal(0))

    def test_the_view_holds_the_state_a_replay_rebuilds(self, uow_factory: UowFactory) -> None:
        cancelled = b.payment("ten_1")
        cancelled.cancel(reason="x", at=b.NOW)
        submitted = b.payment("ten_1")
        submitted.submit(processor_reference="ref-1", at=b.NOW)
        submitted.fail(failure_code="nsf", reason="no funds", at=b.NOW)
        for payment in (cancelled, submitted):
            self.save(uow_factory, payment)
        with uow_factory() as uow:
            for payment in (cancelled, submitted):
                assert uow.payments.view("ten_1", payment.id).snapshot() == payment.snapshot()
                replayed = uow.payments.get("ten_1", payment.id)
                assert replayed.snapshot() == payment.snapshot()
            with pytest.raises(NotFound):
                uow.payments.view("ten_2", cancelled.id)
            assert sorted(uow.payments.statuses("ten_1", [cancelled.id, submitted.id])) == [
                PaymentStatus.CANCELLED,
                PaymentStatus.FAILED,
            ]
            assert uow.payments.statuses("ten_2", [cancelled.id]) == []

    def test_a_payment_saved_is_viewed_in_its_own_unit_of_work_until_rolled_back(
        self, uow_factory: UowFactory
    ) -> None:
        payment = b.payment("ten_1")
        with uow_factory() as uow:
            uow.payments.save(payment)
            assert uow.payments.view("ten_1", payment.id).snapshot() == payment.snapshot()
            uow.rollback()
            with pytest.raises(NotFound):
                uow.payments.view("ten_1", payment.id)

    def test_payments_saved_are_found_by_every_read_of_their_own_unit_of_work(
        self, uow_factory: UowFactory
    ) -> None:
        day = date(2026, 3, 2)
        first, second = b.payment("ten_1", send_on=day), b.payment("ten_1", send_on=day)
        with uow_factory() as uow:
            uow.payments.save(first)
            uow.payments.save(second)
            second.cancel(reason="customer", at=b.NOW)
            uow.payments.save(second)
            found = uow.payments.find(PaymentFilter(tenant_id="ten_1"), cursor=None, limit=5)
            statuses = uow.payments.statuses("ten_1", [first.id, second.id])
            total = uow.payments.total_sent_on("ten_1", "cus_1", day)
            uow.commit()
        with uow_factory() as uow:
            cancelled = uow.payments.view("ten_1", second.id)
        assert {p.id for p in found.items} == {first.id, second.id}
        assert set(statuses) == {first.status, PaymentStatus.CANCELLED}
        assert total == first.amount.amount
        assert cancelled.status is PaymentStatus.CANCELLED

    def test_rebuilding_the_views_from_events_restores_them(self, uow_factory: UowFactory) -> None:
        payment = b.payment("ten_1")
        payment.cancel(reason="x", at=b.NOW)
        self.save(uow_factory, payment)
        with uow_factory() as uow:
            replayed = Payment.replay(payment.id, uow.events.load(payment.id))
            uow.payments.rebuild_views([replayed])
            uow.commit()
        with uow_factory() as uow:
            found = uow.payments.find(
                PaymentFilter(tenant_id="ten_1", status=PaymentStatus.CANCELLED),
                cursor=None,
                limit=5,
            )
        assert [p.snapshot() for p in found.items] == [payment.snapshot()]


class RecordRepositoriesContract:
    """Tenants' records: round trips, isolation, uniqueness."""

    def test_a_payments_parties_are_found_together_and_only_in_their_tenant(
        self, uow_factory: UowFactory
    ) -> None:
        tenant, other = b.tenant(), b.tenant()
        customer = b.customer(tenant.id)
        biller = b.biller()
        billed = replace(b.payee(tenant.id, customer.id), global_payee_id=biller.id)
        personal = b.payee(tenant.id, customer.id)
        account = b.funding_account(tenant.id, customer.id)
        with uow_factory() as uow:
            for record, repository in (
                (tenant, uow.tenants),
                (other, uow.tenants),
                (customer, uow.customers),
                (biller, uow.directory),
                (billed, uow.payees),
                (personal, uow.payees),
                (account, uow.funding_accounts),
            ):
                repository.add(record)  # type: ignore[attr-defined]
            uow.commit()
        with uow_factory() as uow:
            found = uow.parties.for_payment(tenant.id, customer.id, billed.id, account.id)
            assert (found.tenant.id, found.customer.email) == (tenant.id, customer.email)
            assert found.payee.account_number == billed.account_number
            assert found.funding_account.routing_number == account.routing_number
            assert found.biller is not None and found.biller.id == biller.id
            alone = uow.parties.for_payment(tenant.id, customer.id, personal.id, account.id)
            assert alone.biller is None
            for ids, missing in (
                (("ten_missing", customer.id, billed.id, account.id), "tenant"),
                ((other.id, customer.id, billed.id, account.id), "customer"),
                ((tenant.id, customer.id, "pye_missing", account.id), "payee"),
                ((tenant.id, customer.id, billed.id, "fac_missing"), "funding account"),
            ):
                with pytest.raises(NotFound, match=missing):
                    uow.parties.for_payment(*ids)

    def test_the_unit_of_work_collects_what_its_aggregates_recorded_once(
        self, uow_factory: UowFactory
    ) -> None:
        tenant = b.tenant()
        customer = b.customer(tenant.id)
        payee = b.payee(tenant.id, customer.id)
        payee.request_verification(at=b.NOW)
        payment = b.payment(tenant.id)
        with uow_factory() as uow:
            uow.tenants.add(tenant)
            uow.customers.add(customer)
            uow.payees.add(payee)
            uow.payments.save(payment)
            first = uow.collect_new_events()
            assert [[e.type for e in r.events] for r in first] == [
                ["AccountUpdated"],
                ["PaymentCreated", "PaymentValidated"],
            ]
            assert (first[0].payment, first[1].payment) == (None, payment.snapshot())
            assert uow.collect_new_events() == []
            payee.record_verification(verified=True, reason=None, at=b.NOW)
            uow.payees.save(payee)
            uow.rollback()
            assert uow.collect_new_events() == []

    def test_a_tenants_customer_limits_round_trip(self, uow_factory: UowFactory) -> None:
        tenant = b.tenant()
        limited = replace(
            tenant,
            policy=replace(
                tenant.policy,
                customer_daily_limit=Decimal("2500.00"),
                customer_payment_limit=Decimal("999.99"),
            ),
        )
        with uow_factory() as uow:
            uow.tenants.add(tenant)
            uow.tenants.save(limited)
            uow.commit()
        with uow_factory() as uow:
            assert uow.tenants.get(tenant.id).policy == limited.policy

    def test_units_of_work_holding_one_customer_each_see_the_others_payment(
        self, uow_factory: UowFactory
    ) -> None:
        """Each pays only if the day is still empty: with the hold, exactly one pays.

        SQL stores make the second holder wait; optimistic ones refuse the
        later commit, which runs again and then sees the first payment.
        """
        tenant = b.tenant()
        customer = b.customer(tenant.id)
        with uow_factory() as uow:
            uow.tenants.add(tenant)
            uow.customers.add(customer)
            uow.commit()
        day = date(2026, 3, 2)
        paid: list[str] = []
        errors: list[BaseException] = []

        def pay_if_the_day_is_empty() -> None:
            with uow_factory() as uow:
                uow.customers.hold(tenant.id, customer.id)
                already = uow.payments.total_sent_on(tenant.id, customer.id, day)
                time.sleep(0.1)  # NOTE: long enough for the other to read the same total
                if already == 0:
                    payment = b.payment(tenant.id, customer_id=customer.id, send_on=day)
                    uow.payments.save(payment)
                    uow.commit()
                    paid.append(payment.id)

        def run() -> None:
            try:
                retry_on_conflict(pay_if_the_day_is_empty, attempts=20)
            except BaseException as error:
                errors.append(error)

        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert errors == []
        assert len(paid) == 1
        with uow_factory() as uow:
            assert uow.payments.total_sent_on(tenant.id, customer.id, day) == Decimal("12.34")
            with pytest.raises(NotFound):
                uow.customers.hold(tenant.id, "cus_missing")

    def test_records_round_trip_and_stay_inside_their_tenant(self, uow_factory: UowFactory) -> None:
        tenant = b.tenant()
        customer = b.customer(tenant.id)
        payee = b.payee(tenant.id, customer.id)
        account = b.funding_account(tenant.id, customer.id)
        exception = b.exception(tenant.id)
        notification = b.notification(tenant.id)
        job = b.job(tenant.id)
        key = b.api_key(tenant.id)
        with uow_factory() as uow:
            uow.tenants.add(tenant)
            uow.customers.add(customer)
            uow.payees.add(payee)
            uow.funding_accounts.add(account)
            uow.exceptions.add(exception)
            uow.notifications.add(notification)
            uow.jobs.add(job)
            uow.api_keys.add(key)
            uow.commit()
        with uow_factory() as uow:
            assert uow.customers.get(tenant.id, customer.id).email == "ada@example.com"
            loaded_payee = uow.payees.get(tenant.id, payee.id)
            assert (loaded_payee.account_number, loaded_payee.nickname, loaded_payee.address) == (
                "4417123456",
                "rent",
                b.ADDRESS,
            )
            loaded_account = uow.funding_accounts.get(tenant.id, account.id)
            assert (loaded_account.routing_number, loaded_account.account_number) == (
                "011000015",
                "000123456789",
            )
            assert uow.exceptions.get(tenant.id, exception.id).kind == exception.kind
            assert uow.notifications.get(tenant.id, notification.id).payload == {"kind": "nsf"}
            assert uow.notifications.get_any(notification.id).recipient == "ada@example.com"
            assert uow.jobs.get(tenant.id, job.id).payment_ids == ("pmt_1", "pmt_2")
            assert uow.jobs.get(tenant.id, job.id).due_on == date(2026, 3, 2)
            assert uow.api_keys.get(key.id).scopes == key.scopes
            for lookup in (
                lambda: uow.customers.get("ten_other", customer.id),
                lambda: uow.payees.get("ten_other", payee.id),
                lambda: uow.funding_accounts.get("ten_other", account.id),
                lambda: uow.exceptions.get("ten_other", exception.id),
                lambda: uow.notifications.get("ten_other", notification.id),
                lambda: uow.jobs.get("ten_other", job.id),
                lambda: uow.tenants.get("ten_other"),
                lambda: uow.api_keys.get("key_other"),
            ):
                with pytest.raises(NotFound):
                    lookup()

    def test_changes_are_saved(self, uow_factory: UowFactory) -> None:
        exception = b.exception("ten_1")
        notification = b.notification("ten_1")
        key = b.api_key("ten_1")
        with uow_factory() as uow:
            uow.exceptions.add(exception)
            uow.notifications.add(notification)
            uow.api_keys.add(key)
            uow.commit()
        with uow_factory() as uow:
            loaded = uow.exceptions.get("ten_1", exception.id)
            loaded.resolve(resolution="done", at=b.NOW)
            uow.exceptions.save(loaded)
            sent = uow.notifications.get("ten_1", notification.id)
            sent.record_sent(at=b.NOW)
            uow.notifications.save(sent)
            revoked = uow.api_keys.get(key.id)
            revoked.revoke(at=b.NOW)
            uow.api_keys.save(revoked)
            uow.commit()
        with uow_factory() as uow:
            assert uow.exceptions.get("ten_1", exception.id).status is ExceptionStatus.RESOLVED
            assert uow.notifications.get("ten_1", notification.id).sent_at == b.NOW
            assert not uow.api_keys.get(key.id).is_active_at(b.NOW)

    def test_a_customers_external_id_is_unique_per_tenant(self, uow_factory: UowFactory) -> None:
        with uow_factory() as uow:
            uow.customers.add(b.customer("ten_1", external_id="u-1"))
            uow.customers.add(b.customer("ten_2", external_id="u-1"))
            uow.commit()
        with uow_factory() as uow, pytest.raises(AlreadyExists):
            uow.customers.add(b.customer("ten_1", external_id="u-1"))
            uow.commit()

    def test_exceptions_and_payees_are_listed_in_pages(self, uow_factory: UowFactory) -> None:
        exceptions = [b.exception("ten_1") for _ in range(3)]
        payees = [b.payee("ten_1", "cus_1") for _ in range(3)]
        exceptions[0].resolve(resolution="x", at=b.NOW)
        with uow_factory() as uow:
            for exception in exceptions:
                uow.exceptions.add(exception)
            for payee in payees:
                uow.payees.add(payee)
            uow.payees.add(b.payee("ten_1", "cus_2"))
            uow.commit()
        with uow_factory() as uow:
            every = ExceptionFilter(tenant_id="ten_1")
            first = uow.exceptions.find(every, cursor=None, limit=2)
            rest = uow.exceptions.find(every, cursor=first.next_cursor, limit=2)
            still_open = ExceptionFilter(tenant_id="ten_1", status=ExceptionStatus.OPEN)
            open_ = uow.exceptions.find(still_open, cursor=None, limit=5)
            payee_page = uow.payees.find("ten_1", customer_id="cus_1", cursor=None, limit=5)
        assert [e.id for e in first.items + rest.items] == [e.id for e in reversed(exceptions)]
        assert {e.id for e in open_.items} == {exceptions[1].id, exceptions[2].id}
        assert [p.id for p in payee_page.items] == [p.id for p in payees]

    def test_exceptions_are_found_by_payment_and_by_customer(self, uow_factory: UowFactory) -> None:
        exceptions = [replace(b.exception("ten_1"), customer_id=f"cus_{i % 2}") for i in range(4)]
        other_tenant = replace(b.exception("ten_2"), payment_id=exceptions[0].payment_id)
        with uow_factory() as uow:
            for exception in [*exceptions, other_tenant]:
                uow.exceptions.add(exception)
            uow.commit()

        def found(**where: str) -> list[str]:
            with uow_factory() as uow:
                query = ExceptionFilter(tenant_id="ten_1", **where)
                page = uow.exceptions.find(query, cursor=None, limit=10)
            return [e.id for e in page.items]

        assert found(payment_id=exceptions[0].payment_id) == [exceptions[0].id]
        assert found(customer_id="cus_1") == [exceptions[3].id, exceptions[1].id]
        assert found(customer_id="cus_1", payment_id=exceptions[0].payment_id) == []
        assert found(payment_id="pmt_none") == []


class DirectoryContract:
    """Biller search: partial, case-insensitive, prefix first, paginated."""

    def add(self, uow_factory: UowFactory, *billers: object) -> None:
        with uow_factory() as uow:
            for biller in billers:
                uow.directory.add(biller)  # type: ignore[arg-type]
            uow.commit()

    def test_search_ranks_name_prefixes_then_word_or_alias_prefixes_then_the_rest(
        self, uow_factory: UowFactory
    ) -> None:
        self.add(
            uow_factory,
            b.biller("Bell Atlantic"),
            b.biller("Atlantic City Electric"),
            b.biller("Southern Gas", aliases=("Atlantic Gas",)),
            b.biller("Transatlantic Cable"),
            b.biller("Pacific Power"),
        )
        with uow_factory() as uow:
            page = uow.directory.search("ATLANTIC", cursor=None, limit=10)
        assert [p.name for p in page.items] == [
            "Atlantic City Electric",
            "Bell Atlantic",
            "Southern Gas",
            "Transatlantic Cable",
        ]

    def test_words_typed_from_a_word_start_rank_above_the_same_letters_inside_a_word(
        self, uow_factory: UowFactory
    ) -> None:
        self.add(uow_factory, b.biller("Gas City", aliases=("Gasco Co",)), b.biller("Gas Co City"))
        with uow_factory() as uow:
            page = uow.directory.search("co c", cursor=None, limit=10)
        assert [p.name for p in page.items] == ["Gas Co City", "Gas City"]

    def test_the_better_known_biller_comes_first_within_a_rank_across_pages(
        self, uow_factory: UowFactory
    ) -> None:
        self.add(
            uow_factory,
            b.biller("Pacific Austin Hospital Co."),
            replace(b.biller("Pacific Gas and Electric"), popularity=950_000),
            replace(b.biller("Pacific Bell"), popularity=10),
            replace(b.biller("Trans Pacific Lines"), popularity=999_999),
        )
        names: list[str] = []
        cursor = None
        with uow_factory() as uow:
            while True:
                page = uow.directory.search("pacific", cursor=cursor, limit=1)
                names += [p.name for p in page.items]
                if not (cursor := page.next_cursor):
                    break
        assert names == [
            "Pacific Gas and Electric",
            "Pacific Bell",
            "Pacific Austin Hospital Co.",
            "Trans Pacific Lines",  # NOTE: a word inside ranks below every name prefix
        ]

    def test_search_pages_cover_every_match_exactly_once(self, uow_factory: UowFactory) -> None:
        self.add(uow_factory, *[b.biller(f"Water Co {i:02d}") for i in range(11)])
        names: list[str] = []
        cursor = None
        with uow_factory() as uow:
            while True:
                page = uow.directory.search("water", cursor=cursor, limit=4)
                names += [p.name for p in page.items]
                if not (cursor := page.next_cursor):
                    break
        assert names == [f"Water Co {i:02d}" for i in range(11)]

    def test_a_biller_round_trips_and_saves(self, uow_factory: UowFactory) -> None:
        biller = b.biller("Springfield Power", aliases=("SPC",))
        self.add(uow_factory, biller)
        with uow_factory() as uow:
            loaded = uow.directory.get(biller.id)
            assert (loaded.aliases, loaded.account_masks, loaded.lead_days, loaded.address) == (
                ("SPC",),
                biller.account_masks,
                3,
                b.ADDRESS,
            )
            loaded.update(name="Springfield Power & Light", at=b.NOW)
            uow.directory.save(loaded)
            uow.commit()
        with uow_factory() as uow:
            assert uow.directory.get(biller.id).name == "Springfield Power & Light"
            with pytest.raises(NotFound):
                uow.directory.get("gpy_missing")

    def test_wildcards_in_the_search_text_match_only_themselves(
        self, uow_factory: UowFactory
    ) -> None:
        self.add(uow_factory, b.biller("100% Solar"), b.biller("Solar_One"), b.biller("Solar Two"))
        with uow_factory() as uow:
            assert [p.name for p in uow.directory.search("%", cursor=None, limit=5).items] == [
                "100% Solar"
            ]
            assert [p.name for p in uow.directory.search("r_", cursor=None, limit=5).items] == [
                "Solar_One"
            ]


class IdempotencyStoreContract:
    """One record per tenant and key; released keys are free again."""

    def test_the_first_claim_wins_and_later_claims_see_it(self, uow_factory: UowFactory) -> None:
        with uow_factory() as uow:
            assert uow.idempotency.claim(b.idempotency("ten_1")) is None
            uow.commit()
        with uow_factory() as uow:
            holder = uow.idempotency.claim(b.idempotency("ten_1"))
            assert holder is not None and holder.state is IdempotencyState.IN_FLIGHT
            assert uow.idempotency.claim(b.idempotency("ten_2")) is None

    def test_a_completed_response_is_kept_byte_for_byte(self, uow_factory: UowFactory) -> None:
        record = b.idempotency("ten_1")
        with uow_factory() as uow:
            uow.idempotency.claim(record)
            record.complete(status=201, body=b'{"id":"pmt_1","amount":"1.00"}')
            uow.idempotency.save(record)
            uow.commit()
        with uow_factory() as uow:
            stored = uow.idempotency.claim(b.idempotency("ten_1"))
        assert stored is not None
        assert stored.replay_for(record.fingerprint) == (201, b'{"id":"pmt_1","amount":"1.00"}')

    def test_an_answer_saved_but_not_committed_is_not_kept(self, uow_factory: UowFactory) -> None:
        record = b.idempotency("ten_1")
        with uow_factory() as uow:
            uow.idempotency.claim(record)
            uow.commit()
        with uow_factory() as uow:
            record.complete(status=201, body=b"{}")
            uow.idempotency.save(record)
            uow.rollback()
            uow.commit()  # NOTE: nothing left to write
        with uow_factory() as uow:
            holder = uow.idempotency.claim(b.idempotency("ten_1"))
        assert holder is not None and holder.state is IdempotencyState.IN_FLIGHT

    def test_a_released_key_can_be_claimed_again(self, uow_factory: UowFactory) -> None:
        with uow_factory() as uow:
            uow.idempotency.claim(b.idempotency("ten_1"))
            uow.commit()
        with uow_factory() as uow:
            uow.idempotency.release("ten_1", "k-1")
            uow.commit()
        with uow_factory() as uow:
            assert uow.idempotency.claim(b.idempotency("ten_1")) is None

    def test_expired_keys_are_purged(self, uow_factory: UowFactory) -> None:
        with uow_factory() as uow:
            uow.idempotency.claim(b.idempotency("ten_1", "old", b.NOW - timedelta(hours=25)))
            uow.idempotency.claim(b.idempotency("ten_1", "new", b.NOW))
            uow.commit()
        with uow_factory() as uow:
            assert uow.idempotency.purge_expired(b.NOW, limit=10) == 1
            uow.commit()
        with uow_factory() as uow:
            assert uow.idempotency.claim(b.idempotency("ten_1", "old")) is None
            assert uow.idempotency.claim(b.idempotency("ten_1", "new")) is not None

    def test_the_periodic_purge_keeps_the_table_bounded_under_a_steady_load(
        self, uow_factory: UowFactory
    ) -> None:
        # NOTE: a day and a half of new keys, 40 an hour, purged hourly in batches of 25
        # (more than one batch each time): only the keys of the last 24 hours are kept
        clock = InMemoryClock(b.NOW)
        held: list[int] = []
        for hour in range(36):
            with uow_factory() as uow:
                for n in range(40):
                    uow.idempotency.claim(b.idempotency("ten_1", f"h{hour}-{n}", clock.now()))
                uow.commit()
            purge = PurgeExpiredIdempotencyKeys(batch=25)
            purge_expired_idempotency_keys(purge, unit_of_work=uow_factory, clock=clock)
            with uow_factory() as uow:
                held.append(
                    sum(
                        uow.idempotency.claim(b.idempotency("ten_1", f"h{h}-0")) is not None
                        for h in range(hour + 1)
                    )
                )
                uow.rollback()
            clock.advance(hours=1)
        assert held[:24] == list(range(1, 25))
        assert held[24:] == [24] * 12  # NOTE: the first key of each of the last 24 hours


class AuditLogContract:
    """Drafts committed by any number of writers end in one unbroken hash chain."""

    def record(self, uow: UnitOfWork, subject: str) -> None:
        uow.audit.record(
            AuditDraft(
                tenant_id="ten_1",
                actor="key_1",
                action="Test",
                subject_id=subject,
                data={"n": subject},
                recorded_at=b.NOW,
            )
        )

    def chain(self, uow_factory: UowFactory, *, limit: int = 1000) -> int:
        with uow_factory() as uow:
            chained = uow.audit.chain_pending(KEY, limit=limit)
            uow.commit()
        return chained

    def test_drafts_are_chained_in_commit_order_in_batches(self, uow_factory: UowFactory) -> None:
        for n in range(3):
            with uow_factory() as uow:
                self.record(uow, f"s{n}")
                self.record(uow, f"t{n}")
                uow.commit()
        with uow_factory() as uow:
            self.record(uow, "rolled back")  # NOTE: never committed, never chained
        with uow_factory() as uow:
            assert uow.audit.pending() == 6
            assert uow.audit.entries() == []
        assert self.chain(uow_factory, limit=4) == 4
        assert self.chain(uow_factory, limit=4) == 2
        assert self.chain(uow_factory) == 0
        with uow_factory() as uow:
            entries = uow.audit.entries()
            assert uow.audit.entries(after_sequence=4, limit=1)[0].sequence == 5
            assert uow.audit.last() == entries[-1]
            assert uow.audit.pending() == 0
        assert [e.subject_id for e in entries] == ["s0", "t0", "s1", "t1", "s2", "t2"]
        assert [e.sequence for e in entries] == list(range(1, 7))
        assert first_broken_link(entries, KEY) is None

    def test_concurrent_writers_and_chainers_leave_one_valid_chain(
        self, uow_factory: UowFactory
    ) -> None:
        errors: list[BaseException] = []

        def write(n: int) -> None:
            try:
                for i in range(5):
                    with uow_factory() as uow:
                        self.record(uow, f"{n}-{i}")
                        uow.commit()
                    self.chain(uow_factory, limit=3)
            except BaseException as error:  # pragma: no cover - reported below
                errors.append(error)

        threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        self.chain(uow_factory)
        with uow_factory() as uow:
            entries = uow.audit.entries()
        assert sorted(e.subject_id for e in entries) == sorted(
            f"{n}-{i}" for n in range(4) for i in range(5)
        )
        assert first_broken_link(entries, KEY) is None


class OutboxInboxContract:
    """Messages leave only after commit, once; consumers remember what they did."""

    def test_messages_are_pending_after_commit_and_gone_once_dispatched(
        self, uow_factory: UowFactory
    ) -> None:
        messages = [b.message() for _ in range(3)]
        with uow_factory() as uow:
            for message in messages:
                uow.outbox.add(message)
            uow.commit()
        with uow_factory() as uow:
            pending = uow.outbox.pending(10)
            assert pending == messages
            assert uow.outbox.pending(2) == messages[:2]
            uow.outbox.mark_dispatched([messages[0].message_id], b.NOW)
            uow.commit()
        with uow_factory() as uow:
            assert uow.outbox.pending(10) == messages[1:]

    def test_messages_with_no_cause_yet_take_the_one_they_are_stamped_with(
        self, uow_factory: UowFactory
    ) -> None:
        caused = b.message()
        bare = replace(b.message(), headers=Headers(tenant_id="ten_1", causation_id="evt_1"))
        trace = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        with uow_factory() as uow:
            uow.outbox.add(caused)
            uow.outbox.add(bare)
            uow.outbox.stamp_cause("cor_2", trace)
            uow.commit()
        with uow_factory() as uow:
            pending = {m.message_id: m.headers for m in uow.outbox.pending(10)}
        assert pending[caused.message_id] == caused.headers
        assert pending[bare.message_id] == Headers(
            tenant_id="ten_1", correlation_id="cor_2", causation_id="evt_1", traceparent=trace
        )

    def test_the_backlog_counts_undispatched_messages_and_their_oldest_time(
        self, uow_factory: UowFactory
    ) -> None:
        with uow_factory() as uow:
            assert uow.outbox.backlog() == Backlog(pending=0, oldest_created_at=None)
        older = replace(b.message(), created_at=b.NOW - timedelta(minutes=3))
        newer = b.message()
        with uow_factory() as uow:
            uow.outbox.add(older)
            uow.outbox.add(newer)
            uow.commit()
        with uow_factory() as uow:
            assert uow.outbox.backlog() == Backlog(pending=2, oldest_created_at=older.created_at)
            uow.outbox.mark_dispatched([older.message_id], b.NOW)
            uow.commit()
        with uow_factory() as uow:
            assert uow.outbox.backlog() == Backlog(pending=1, oldest_created_at=newer.created_at)

    def test_the_inbox_remembers_only_committed_consumption(self, uow_factory: UowFactory) -> None:
        with uow_factory() as uow:
            assert uow.inbox.claim("consumer", "msg_1", b.NOW)
            assert uow.inbox.seen("consumer", "msg_1")
            assert not uow.inbox.claim("consumer", "msg_1", b.NOW)
        with uow_factory() as uow:
            assert not uow.inbox.seen("consumer", "msg_1")
            assert uow.inbox.claim("consumer", "msg_1", b.NOW)
            uow.commit()
        with uow_factory() as uow:
            assert uow.inbox.seen("consumer", "msg_1")
            assert not uow.inbox.claim("consumer", "msg_1", b.NOW)
            assert not uow.inbox.seen("other-consumer", "msg_1")

    def test_a_note_is_seen_once_committed_and_may_repeat(self, uow_factory: UowFactory) -> None:
        with uow_factory() as uow:
            uow.inbox.note("queued", "msg_1", b.NOW)
            assert uow.inbox.seen("queued", "msg_1")
        with uow_factory() as uow:
            assert not uow.inbox.seen("queued", "msg_1")
            uow.inbox.note("queued", "msg_1", b.NOW)
            uow.inbox.note("queued", "msg_2", b.NOW)
            uow.commit()
        with uow_factory() as uow:
            uow.inbox.note("queued", "msg_1", b.NOW)  # NOTE: noted before: left as it is
            uow.commit()
        with uow_factory() as uow:
            assert uow.inbox.seen_among("queued", ["msg_1", "msg_2", "msg_3"]) == {
                "msg_1",
                "msg_2",
            }
            assert not uow.inbox.claim("queued", "msg_2", b.NOW)

    def test_the_inbox_tells_which_of_many_were_seen(self, uow_factory: UowFactory) -> None:
        with uow_factory() as uow:
            uow.inbox.claim("consumer", "msg_1", b.NOW)
            uow.inbox.claim("consumer", "msg_3", b.NOW)
            uow.inbox.claim("other-consumer", "msg_2", b.NOW)
            uow.commit()
        with uow_factory() as uow:
            uow.inbox.claim("consumer", "msg_4", b.NOW)
            asked = [f"msg_{n}" for n in range(1, 6)]
            assert uow.inbox.seen_among("consumer", asked) == {"msg_1", "msg_3", "msg_4"}
            assert uow.inbox.seen_among("consumer", []) == set()

    def test_only_one_of_two_concurrent_consumers_claims_a_message(
        self, uow_factory: UowFactory
    ) -> None:
        outcomes: list[str] = []

        def consume() -> None:
            try:
                with uow_factory() as uow:
                    claimed = uow.inbox.claim("c", "msg_1", b.NOW)
                    time.sleep(0.05)
                    uow.commit()
                outcomes.append("claimed" if claimed else "handled already")
            except ConcurrencyConflict:
                outcomes.append("refused")

        threads = [threading.Thread(target=consume) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(outcomes) in (["claimed", "handled already"], ["claimed", "refused"])


def run_concurrently(
    uow_factory: UowFactory, payment_id: str, changes: dict[str, Callable[[Payment], None]]
) -> dict[str, str]:
    """Apply each change to the payment in its own thread and unit of work, overlapping."""
    outcomes: dict[str, str] = {}
    loaded = threading.Barrier(len(changes))

    def write(name: str, change: Callable[[Payment], None]) -> None:
        try:
            with uow_factory() as uow:
                payment = uow.payments.get("ten_1", payment_id)
                with contextlib.suppress(threading.BrokenBarrierError):
                    loaded.wait(timeout=0.5)  # NOTE: SQLite lets only one writer get here at once
                change(payment)
                uow.payments.save(payment)
                uow.commit()
            outcomes[name] = "committed"
        except (ConcurrencyConflict, IllegalTransition):
            outcomes[name] = "refused"

    threads = [threading.Thread(target=write, args=item) for item in changes.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


class DeliveryStoreContract:
    """Leased, retried, dead-lettered deliveries, in order per key."""

    def schedule(
        self, uow_factory: UowFactory, *messages: Message, subscribers: tuple[str, ...] = ("a", "b")
    ) -> None:
        with uow_factory() as uow:
            for message in messages:
                uow.outbox.add(message)
                uow.deliveries.schedule(message, list(subscribers), at=b.NOW)
            uow.commit()

    def claim(
        self, uow_factory: UowFactory, at: datetime = b.NOW, lease: float = 30, limit: int = 10
    ) -> list[Delivery]:
        with uow_factory() as uow:
            claimed = uow.deliveries.claim_due(at, lease_seconds=lease, limit=limit)
            uow.commit()
        return claimed

    def test_each_subscriber_gets_the_message_whole_and_a_lease_hides_it(
        self, uow_factory: UowFactory
    ) -> None:
        message = b.message()
        self.schedule(uow_factory, message)
        claimed = self.claim(uow_factory)
        assert sorted(d.subscriber for d in claimed) == ["a", "b"]
        assert all(d.message == message and d.attempts == 1 for d in claimed)
        assert claimed[0].id == delivery_id(message.message_id, claimed[0].subscriber)
        assert self.claim(uow_factory, b.NOW + timedelta(seconds=29)) == []
        again = self.claim(uow_factory, b.NOW + timedelta(seconds=31))
        assert sorted((d.subscriber, d.attempts) for d in again) == [("a", 2), ("b", 2)]

    def test_a_delivery_is_read_back_by_id_whatever_its_status(
        self, uow_factory: UowFactory
    ) -> None:
        message = b.message()
        self.schedule(uow_factory, message, subscribers=("a",))
        with uow_factory() as uow:
            found = uow.deliveries.get(delivery_id(message.message_id, "a"))
            assert (found.message, found.status, found.attempts) == (
                message,
                DeliveryStatus.PENDING,
                0,
            )
            uow.deliveries.complete(found.id, at=b.NOW)
            uow.commit()
        with uow_factory() as uow:
            assert uow.deliveries.get(found.id).status is DeliveryStatus.DONE
            with pytest.raises(NotFound):
                uow.deliveries.get("msg_missing.a")

    def test_a_claim_on_commit_commits_once_and_refuses_the_message_again(
        self, uow_factory: UowFactory
    ) -> None:
        with uow_factory() as uow:
            uow.inbox.claim_on_commit("consumer", "msg_1", b.NOW)
            uow.commit()
        with uow_factory() as uow:
            assert uow.inbox.seen("consumer", "msg_1")
            assert not uow.inbox.seen("other", "msg_1")
        with uow_factory() as uow, pytest.raises(ConcurrencyConflict):
            uow.inbox.claim_on_commit("consumer", "msg_1", b.NOW)
            uow.commit()

    def test_several_deliveries_are_read_at_once_in_the_order_asked(
        self, uow_factory: UowFactory
    ) -> None:
        first, second = b.message(), b.message()
        self.schedule(uow_factory, first, subscribers=("a", "b"))
        self.schedule(uow_factory, second, subscribers=("a",))
        asked = [
            delivery_id(second.message_id, "a"),
            delivery_id(first.message_id, "b"),
            delivery_id(first.message_id, "a"),
        ]
        with uow_factory() as uow:
            uow.deliveries.complete(asked[1], at=b.NOW)
            uow.commit()
        with uow_factory() as uow:
            found = uow.deliveries.get_many(asked)
            assert [d.id for d in found] == asked
            assert [d.message for d in found] == [second, first, first]
            assert [d.status for d in found] == [
                DeliveryStatus.PENDING,
                DeliveryStatus.DONE,
                DeliveryStatus.PENDING,
            ]
            with pytest.raises(NotFound):
                uow.deliveries.get_many([asked[0], "msg_missing.a"])

    def test_a_completed_delivery_never_comes_back(self, uow_factory: UowFactory) -> None:
        self.schedule(uow_factory, b.message(), subscribers=("a",))
        (delivery,) = self.claim(uow_factory)
        with uow_factory() as uow:
            uow.deliveries.complete(delivery.id, at=b.NOW)
            uow.commit()
        assert self.claim(uow_factory, b.NOW + timedelta(days=1)) == []

    def test_a_failure_backs_off_and_the_last_one_dead_letters(
        self, uow_factory: UowFactory
    ) -> None:
        self.schedule(uow_factory, b.message(), subscribers=("a",))
        (delivery,) = self.claim(uow_factory)
        with uow_factory() as uow:
            uow.deliveries.fail(delivery.id, error="timeout", retry_at=b.NOW + timedelta(minutes=5))
            uow.commit()
        assert self.claim(uow_factory, b.NOW + timedelta(minutes=4)) == []
        (retried,) = self.claim(uow_factory, b.NOW + timedelta(minutes=5))
        with uow_factory() as uow:
            uow.deliveries.fail(retried.id, error="still broken", retry_at=None)
            uow.commit()
        assert self.claim(uow_factory, b.NOW + timedelta(days=9)) == []
        with uow_factory() as uow:
            (dead,) = uow.deliveries.dead_letters(limit=10)
        assert (dead.id, dead.status, dead.attempts, dead.last_error) == (
            delivery.id,
            DeliveryStatus.DEAD,
            2,
            "still broken",
        )
        with uow_factory() as uow:
            uow.deliveries.revive(dead.id, at=b.NOW + timedelta(days=10))
            uow.commit()
        (revived,) = self.claim(uow_factory, b.NOW + timedelta(days=10))
        assert (revived.id, revived.attempts) == (delivery.id, 1)
        with uow_factory() as uow, pytest.raises(IllegalTransition):
            uow.deliveries.revive(revived.id, at=b.NOW)

    def test_dead_letters_are_found_by_tenant_in_the_store_oldest_first(
        self, uow_factory: UowFactory
    ) -> None:
        mine = [replace(b.message(), ordering_key=f"k{i}") for i in range(2)]
        theirs = [
            replace(b.message(), ordering_key=f"o{i}", headers=Headers(tenant_id="ten_2"))
            for i in range(5)
        ]
        for message in [*theirs, *mine]:  # NOTE: the other tenant's come first
            self.schedule(uow_factory, message, subscribers=("a",))
        with uow_factory() as uow:
            for delivery in uow.deliveries.claim_due(b.NOW, lease_seconds=60, limit=100):
                uow.deliveries.fail(delivery.id, error="x", retry_at=None)
            uow.commit()
        with uow_factory() as uow:
            found = uow.deliveries.dead_letters(limit=2, tenant_id="ten_1")
            everyone = uow.deliveries.dead_letters(limit=100)
        assert [d.message.message_id for d in found] == [m.message_id for m in mine]
        assert len(everyone) == 7

    def test_a_deferred_delivery_comes_back_later_without_spending_its_attempt(
        self, uow_factory: UowFactory
    ) -> None:
        self.schedule(uow_factory, b.message(), subscribers=("a",))
        (delivery,) = self.claim(uow_factory)
        with uow_factory() as uow:
            uow.deliveries.defer(
                delivery.id, until=b.NOW + timedelta(seconds=40), reason="breaker open"
            )
            uow.commit()
        assert self.claim(uow_factory, b.NOW + timedelta(seconds=39)) == []
        (again,) = self.claim(uow_factory, b.NOW + timedelta(seconds=40))
        assert (again.id, again.attempts, again.status) == (
            delivery.id,
            1,
            DeliveryStatus.PENDING,
        )

    def test_a_message_is_owed_until_its_delivery_is_over(self, uow_factory: UowFactory) -> None:
        message = b.message()
        key = message.ordering_key
        assert key is not None
        asked = [key, "another-key"]
        with uow_factory() as uow:
            uow.outbox.add(message)
            uow.commit()
        with uow_factory() as uow:
            assert uow.deliveries.owed(message.destination, "a", asked) == {key}, "not relayed"
            assert uow.deliveries.owed("another-destination", "a", asked) == set()
            uow.deliveries.schedule(message, ["a"], at=b.NOW)
            uow.outbox.mark_dispatched([message.message_id], b.NOW)
            uow.commit()
        with uow_factory() as uow:
            assert uow.deliveries.owed(message.destination, "a", asked) == {key}, "pending"
            assert uow.deliveries.owed(message.destination, "b", asked) == set()
        (delivery,) = self.claim(uow_factory)
        with uow_factory() as uow:
            uow.deliveries.fail(delivery.id, error="poison", retry_at=None)
            uow.commit()
        with uow_factory() as uow:
            assert uow.deliveries.owed(message.destination, "a", asked) == set(), "dead"
            assert uow.deliveries.owed(message.destination, "a", []) == set()

    def test_deliveries_are_counted_by_status(self, uow_factory: UowFactory) -> None:
        unordered = [replace(b.message(), ordering_key=None) for _ in range(2)]
        self.schedule(uow_factory, *unordered, subscribers=("a",))
        first, second = self.claim(uow_factory)
        with uow_factory() as uow:
            assert uow.deliveries.counts() == {
                DeliveryStatus.PENDING: 2,
                DeliveryStatus.DONE: 0,
                DeliveryStatus.DEAD: 0,
            }
            uow.deliveries.complete(first.id, at=b.NOW)
            uow.deliveries.fail(second.id, error="poison", retry_at=None)
            uow.commit()
        with uow_factory() as uow:
            assert uow.deliveries.counts() == {
                DeliveryStatus.PENDING: 0,
                DeliveryStatus.DONE: 1,
                DeliveryStatus.DEAD: 1,
            }

    def test_old_done_deliveries_and_their_messages_are_purged_and_nothing_else(
        self, uow_factory: UowFactory
    ) -> None:
        old, owed, fresh = (replace(b.message(), ordering_key=None) for _ in range(3))
        old = replace(old, created_at=b.NOW - timedelta(days=10))
        owed = replace(owed, created_at=b.NOW - timedelta(days=10))
        with uow_factory() as uow:
            for message, at in (
                (old, b.NOW - timedelta(days=10)),
                (owed, b.NOW - timedelta(days=10)),
                (fresh, b.NOW),
            ):
                uow.outbox.add(message)
                uow.deliveries.schedule(message, ["a"], at=at)
            uow.outbox.mark_dispatched([old.message_id, owed.message_id, fresh.message_id], b.NOW)
            uow.commit()
        for delivery in self.claim(uow_factory):
            with uow_factory() as uow:
                if delivery.message.message_id == owed.message_id:
                    uow.deliveries.fail(delivery.id, error="poison", retry_at=None)
                else:
                    uow.deliveries.complete(delivery.id, at=b.NOW)
                uow.commit()
        cutoff = b.NOW - timedelta(days=7)
        with uow_factory() as uow:
            assert uow.deliveries.purge_done(cutoff, limit=100) == 1
            assert uow.outbox.purge(cutoff, limit=100) == 1
            uow.commit()
        with uow_factory() as uow:
            assert uow.deliveries.counts()[DeliveryStatus.DONE] == 1  # the fresh one
            (dead,) = uow.deliveries.dead_letters(limit=10)
            assert dead.message == owed, "a dead letter keeps its message"
            with pytest.raises(NotFound):
                uow.deliveries.get(delivery_id(old.message_id, "a"))
            assert uow.deliveries.purge_done(cutoff, limit=100) == 0
            assert uow.outbox.purge(cutoff, limit=100) == 0

    def test_one_keys_messages_reach_each_subscriber_in_order(
        self, uow_factory: UowFactory
    ) -> None:
        first, second = b.message(), b.message()  # both ordered by pmt_1
        other_key = replace(b.message(), ordering_key="pmt_2")
        self.schedule(uow_factory, first, second, other_key)
        claimed = self.claim(uow_factory)
        assert sorted((d.subscriber, d.message.message_id) for d in claimed) == sorted(
            (s, m.message_id) for s in ("a", "b") for m in (first, other_key)
        )
        done = next(d for d in claimed if d.subscriber == "a" and d.message == first)
        with uow_factory() as uow:
            uow.deliveries.complete(done.id, at=b.NOW)
            uow.commit()
        (next_for_a,) = self.claim(uow_factory, b.NOW + timedelta(seconds=1))
        assert (next_for_a.subscriber, next_for_a.message) == ("a", second)

    def test_a_completion_is_part_of_the_unit_of_work(self, uow_factory: UowFactory) -> None:
        self.schedule(uow_factory, b.message(), subscribers=("a",))
        (delivery,) = self.claim(uow_factory)
        with uow_factory() as uow:
            uow.deliveries.complete(delivery.id, at=b.NOW)
            assert uow.deliveries.get(delivery.id).status is DeliveryStatus.DONE
        with uow_factory() as uow:
            assert uow.deliveries.get(delivery.id).status is DeliveryStatus.PENDING

    def test_scheduling_is_part_of_the_unit_of_work(self, uow_factory: UowFactory) -> None:
        with uow_factory() as uow:
            uow.deliveries.schedule(b.message(), ["a"], at=b.NOW)
        assert self.claim(uow_factory) == []

    def test_concurrent_claimers_never_share_a_delivery(self, uow_factory: UowFactory) -> None:
        self.schedule(
            uow_factory,
            *[replace(b.message(), ordering_key=None) for _ in range(40)],
            subscribers=("a",),
        )
        claimed: list[str] = []
        errors: list[BaseException] = []

        def claimer() -> None:
            try:
                while True:
                    batch = retry_on_conflict(lambda: self.claim(uow_factory, limit=3))
                    if not batch:
                        return
                    claimed.extend(d.id for d in batch)
            except BaseException as error:  # pragma: no cover - reported below
                errors.append(error)

        threads = [threading.Thread(target=claimer) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        assert len(claimed) == 40 and len(set(claimed)) == 40


class WebhookEndpointContract:
    """One endpoint per tenant; secrets round trip; a delivery's health never undoes a rotation."""

    def test_an_endpoint_round_trips_once_per_tenant(self, uow_factory: UowFactory) -> None:
        endpoint = b.webhook_endpoint("ten_1")
        with uow_factory() as uow:
            assert uow.webhook_endpoints.for_tenant("ten_1") is None
            uow.webhook_endpoints.add(endpoint)
            uow.commit()
        with uow_factory() as uow:
            assert uow.webhook_endpoints.for_tenant("ten_1") == endpoint
            assert uow.webhook_endpoints.for_tenant("ten_2") is None
        with uow_factory() as uow, pytest.raises(AlreadyExists):
            uow.webhook_endpoints.add(b.webhook_endpoint("ten_1"))
            uow.commit()

    def test_saving_health_keeps_a_rotation_made_meanwhile(self, uow_factory: UowFactory) -> None:
        with uow_factory() as uow:
            uow.webhook_endpoints.add(b.webhook_endpoint("ten_1"))
            uow.commit()
        with uow_factory() as uow:
            seen_by_delivery = uow.webhook_endpoints.for_tenant("ten_1")
        assert seen_by_delivery is not None
        with uow_factory() as uow:
            rotating = uow.webhook_endpoints.for_tenant("ten_1")
            assert rotating is not None
            rotating.rotate_secret("whsec_bmV3", at=b.NOW, overlap=timedelta(hours=1))
            uow.webhook_endpoints.save(rotating)
            uow.commit()
        seen_by_delivery.record_failed(at=b.NOW, pause_after=timedelta(0))
        with uow_factory() as uow:
            uow.webhook_endpoints.save_health(seen_by_delivery)
            uow.commit()
        with uow_factory() as uow:
            stored = uow.webhook_endpoints.for_tenant("ten_1")
        assert stored is not None
        assert (stored.status.value, stored.failing_since) == ("paused", b.NOW)
        assert stored.signing_secrets(b.NOW)[0] == "whsec_bmV3"
        assert len(stored.signing_secrets(b.NOW)) == 2

    def test_removing_forgets_and_a_missing_one_is_not_found(self, uow_factory: UowFactory) -> None:
        with uow_factory() as uow:
            uow.webhook_endpoints.add(b.webhook_endpoint("ten_1"))
            uow.commit()
        with uow_factory() as uow:
            uow.webhook_endpoints.remove("ten_1")
            uow.commit()
        with uow_factory() as uow:
            assert uow.webhook_endpoints.for_tenant("ten_1") is None
            with pytest.raises(NotFound):
                uow.webhook_endpoints.remove("ten_1")

    def test_replay_finds_a_tenants_webhooks_since_a_moment_oldest_first(
        self, uow_factory: UowFactory
    ) -> None:
        made = [b.webhook_notification("ten_1", at=b.NOW + timedelta(minutes=i)) for i in range(4)]
        made[1].record_sent(at=b.NOW)
        others = [b.webhook_notification("ten_2", at=b.NOW), b.notification("ten_1")]
        with uow_factory() as uow:
            for notification in [*made, *others]:
                uow.notifications.add(notification)
            uow.commit()
        since = b.NOW + timedelta(minutes=1)
        with uow_factory() as uow:
            every = uow.notifications.for_replay(
                "ten_1", Channel.WEBHOOK, since, unsent_only=False, limit=10
            )
            unsent = uow.notifications.for_replay(
                "ten_1", Channel.WEBHOOK, since, unsent_only=True, limit=10
            )
            first = uow.notifications.for_replay(
                "ten_1", Channel.WEBHOOK, b.NOW, unsent_only=False, limit=1
            )
        assert [n.id for n in every] == [n.id for n in made[1:]]
        assert [n.id for n in unsent] == [made[2].id, made[3].id]
        assert [n.id for n in first] == [made[0].id]

    def test_an_exceptions_notifications_are_found_by_it_in_its_tenant(
        self, uow_factory: UowFactory
    ) -> None:
        told = [
            replace(b.notification("ten_1"), exception_id=exception, created_at=b.NOW + later)
            for exception, later in (
                ("exc_a", timedelta(minutes=2)),
                ("exc_b", timedelta(0)),
                ("exc_a", timedelta(minutes=1)),
            )
        ]
        stranger = replace(b.notification("ten_2"), exception_id="exc_a")
        with uow_factory() as uow:
            for notification in [*told, stranger]:
                uow.notifications.add(notification)
            uow.commit()
        with uow_factory() as uow:
            found = uow.notifications.of_exceptions("ten_1", ["exc_a", "exc_b", "exc_none"])
            assert uow.notifications.of_exceptions("ten_1", []) == {}
        assert found == {"exc_a": [told[2].id, told[0].id], "exc_b": [told[1].id]}


class StorageContract(
    WebhookEndpointContract,
    UnitOfWorkContract,
    EventStoreContract,
    PaymentRepositoryContract,
    RecordRepositoriesContract,
    DirectoryContract,
    IdempotencyStoreContract,
    AuditLogContract,
    OutboxInboxContract,
    DeliveryStoreContract,
):
    """Every storage port's contract; subclass it and provide ``uow_factory``."""
