from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest

from cbp.adapters.memory.clock import InMemoryClock
from cbp.adapters.simulator.processor import SimulatedPaymentProcessor
from cbp.domain.errors import IllegalTransition, InvalidInput
from cbp.domain.notification import NotificationStatus
from cbp.domain.payment_exception import ExceptionKind, ExceptionStatus
from cbp.domain.processing import JobStatus
from cbp.ports import messages as m
from cbp.ports.errors import DependencyDeferred, PaymentRefused
from cbp.ports.processor import ProcessorResult, ProcessorStatus, Submission
from cbp.ports.storage.notices import ExceptionFilter
from cbp.services import commands as c
from cbp.services import processing, queueing
from cbp.services.auditing import chain_audit_log
from cbp.services.periodic import ReconcileInTurn
from tests.unit.services.conftest import World, make_world, memory_core


def exceptions_of(world: World, payment_id: str) -> list:  # type: ignore[type-arg]
    return [
        e
        for e in world.app.queries.list_exceptions(ExceptionFilter(tenant_id=world.tenant_id)).items
        if e.payment_id == payment_id
    ]


@pytest.mark.parametrize(
    ("amount", "status", "failure_code", "kind"),
    [
        ("25.00", "completed", None, None),
        ("25.13", "failed", "nsf", ExceptionKind.NSF),
        ("25.14", "returned", "R01", ExceptionKind.RETURNED),
        ("25.15", "failed", "account_closed", ExceptionKind.ACCOUNT_CLOSED),
        ("25.16", "failed", "invalid_account", ExceptionKind.INVALID_ACCOUNT),
    ],
)
def test_each_processor_outcome_ends_in_its_state_with_its_exception(
    world: World, amount: str, status: str, failure_code: str | None, kind: ExceptionKind | None
) -> None:
    payment_id = world.pay(amount)
    world.app.run_until_idle()
    payment = world.app.queries.get_payment(world.tenant_id, payment_id)
    assert (payment.status.value, payment.failure_code) == (status, failure_code)
    assert [e.kind for e in exceptions_of(world, payment_id)] == ([kind] if kind else [])


def test_a_failure_reaches_the_customer_as_a_delivered_notification(world: World, notifier) -> None:  # type: ignore[no-untyped-def]
    payment_id = world.pay("25.13")
    world.app.run_until_idle()
    (exception,) = exceptions_of(world, payment_id)
    assert exception.status is ExceptionStatus.NOTIFIED
    (sent,) = notifier.sent
    assert (sent.exception_id, sent.recipient, sent.payload["reason_code"]) == (
        exception.id,
        "ada@example.com",
        "nsf",
    )
    notification = world.app.queries.get_notification(world.tenant_id, sent.id)
    assert (notification.status, notification.attempts) == (NotificationStatus.SENT, 1)
    chain_audit_log(world.app.deps)
    published = [
        (e.data["event_type"], e.data.get("status"))
        for e in world.app.queries.audit_trail(payment_id)
        if e.actor == "audit-log"
    ]
    assert ("payment.exception.created", None) in published
    assert ("PaymentFailed", "failed") in published


def test_a_timed_out_submission_is_settled_by_the_reconciler_without_a_second_submission(
    world: World,
) -> None:
    payment_id = world.pay("25.17")
    world.app.run_until_idle()
    assert world.status(payment_id) == "processing"
    assert world.app.handle(c.ReconcilePayments()).moved == 1
    assert world.status(payment_id) == "completed"
    assert world.app.container.adapters.processor().submissions[payment_id] == 1
    assert world.app.handle(c.ReconcilePayments()).moved == 0


def test_a_processor_outage_leaves_the_payment_scheduled_and_the_retry_completes_it(
    world: World,
) -> None:
    payment_id = world.pay("25.18")
    world.app.run_until_idle()
    assert world.status(payment_id) == "completed"
    assert (
        world.app.container.adapters.processor().submissions[payment_id] == 2
    )  # refused, then taken
    assert world.app.queries.dead_letters() == []


def test_a_payee_deactivated_before_processing_fails_the_payment_with_an_exception(
    world: World,
) -> None:
    payment_id = world.pay()
    world.app.handle(
        c.UpdatePayee(tenant_id=world.tenant_id, payee_id=world.payee_id, status="inactive")
    )
    world.app.run_until_idle()
    payment = world.app.queries.get_payment(world.tenant_id, payment_id)
    assert (payment.status.value, payment.failure_code) == ("failed", "payee_not_payable")
    assert [e.kind for e in exceptions_of(world, payment_id)] == [ExceptionKind.VALIDATION_FAILED]
    assert world.app.container.adapters.processor().submissions[payment_id] == 0


def test_a_repeated_processing_message_has_one_effect(world: World) -> None:
    payment_id = world.pay()
    command = c.ProcessPayment(tenant_id=world.tenant_id, payment_id=payment_id, message_id="msg_1")
    world.app.handle(command)
    world.app.handle(command)
    world.app.run_until_idle()
    events = world.app.queries.payment_events(world.tenant_id, payment_id)
    assert [e.type for e in events].count("PaymentProcessed") == 1
    assert world.app.container.adapters.processor().submissions[payment_id] == 1


def test_a_return_after_completion_opens_an_exception(world: World) -> None:
    payment_id = world.pay()
    world.app.run_until_idle()
    world.app.handle(
        c.RecordPaymentReturn(
            tenant_id=world.tenant_id,
            payment_id=payment_id,
            return_code="R02",
            reason="account closed",
        )
    )
    assert world.status(payment_id) == "returned"
    assert [(e.kind, e.reason_code) for e in exceptions_of(world, payment_id)] == [
        (ExceptionKind.RETURNED, "R02")
    ]
    with pytest.raises(IllegalTransition):
        world.app.handle(
            c.RecordPaymentReturn(
                tenant_id=world.tenant_id, payment_id=payment_id, return_code="R02", reason="again"
            )
        )


class TestProcessingJobs:
    def test_a_job_over_given_payments_reports_counts_by_outcome(self, world: World) -> None:
        ids = (world.pay("10.00"), world.pay("10.13"), world.pay("10.17"))
        job_id = world.app.handle(c.StartProcessingJob(tenant_id=world.tenant_id, payment_ids=ids))
        job, progress = world.app.queries.job_progress(world.tenant_id, job_id)
        assert (job.payment_ids, progress.status, progress.pending) == (ids, JobStatus.QUEUED, 3)
        world.app.run_until_idle()
        _, progress = world.app.queries.job_progress(world.tenant_id, job_id)
        assert (progress.status, progress.completed, progress.failed, progress.pending) == (
            JobStatus.RUNNING,
            1,
            1,
            1,
        )
        world.app.handle(c.ReconcilePayments())
        _, progress = world.app.queries.job_progress(world.tenant_id, job_id)
        assert (progress.status, progress.completed) == (JobStatus.COMPLETED, 2)

    def test_a_job_leaves_a_payment_already_queued_to_its_delivery(self, world: World) -> None:
        queued, later = world.pay("10.00"), world.pay("10.00", send_on=date(2026, 3, 10))

        def processing_tasks() -> list[str | None]:
            with world.app.deps.unit_of_work() as uow:
                pending = uow.outbox.pending(100)
            return sorted(
                str(t.ordering_key) for t in pending if t.destination == m.PAYMENT_PROCESSING
            )

        assert processing_tasks() == [queued], "due today: queued as it was made"
        job_id = world.app.handle(
            c.StartProcessingJob(
                tenant_id=world.tenant_id, payment_ids=(queued, later), send_now=True
            )
        )
        assert processing_tasks() == sorted([queued, later]), "the job sent only the other"
        world.app.run_until_idle()
        job, progress = world.app.queries.job_progress(world.tenant_id, job_id)
        assert (job.payment_ids, progress.completed) == ((queued, later), 2)

    def test_a_job_leaves_out_a_payment_processed_since_it_read_it(
        self, world: World, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        payment_id = world.pay("10.00")
        with world.app.deps.unit_of_work(read_only=True) as uow:
            as_read = uow.payments.get(world.tenant_id, payment_id)
        world.app.run_until_idle()  # NOTE: processed, its delivery done, after the job's read
        monkeypatch.setattr(queueing, "_every_due", lambda uow, on, tenant_id: [as_read])
        world.app.handle(
            c.StartProcessingJob(tenant_id=world.tenant_id, due_on=as_read.send_on, send_now=True)
        )
        with world.app.deps.unit_of_work(read_only=True) as uow:
            pending = uow.outbox.pending(100)
        assert [t for t in pending if t.destination == m.PAYMENT_PROCESSING] == []
        world.app.run_until_idle()
        assert world.app.container.adapters.processor().submissions[payment_id] == 1

    def test_a_job_for_a_date_takes_every_payment_due_then(self, world: World, clock) -> None:  # type: ignore[no-untyped-def]
        due = world.pay(send_on=date(2026, 3, 3))
        world.pay(send_on=date(2026, 3, 4))
        clock.advance(days=1)  # NOTE: 2026-03-03 in New York
        job_id = world.app.handle(
            c.StartProcessingJob(tenant_id=world.tenant_id, due_on=date(2026, 3, 3))
        )
        job, _ = world.app.queries.job_progress(world.tenant_id, job_id)
        assert job.payment_ids == (due,)

    def test_a_job_for_a_date_reads_past_the_first_page_of_due_payments(
        self, world: World, clock: InMemoryClock, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(queueing, "DUE_PAGE", 2)
        due = [world.pay(send_on=date(2026, 3, 3)) for _ in range(5)]
        clock.advance(days=1)  # NOTE: 2026-03-03 in New York
        job_id = world.app.handle(
            c.StartProcessingJob(tenant_id=world.tenant_id, due_on=date(2026, 3, 3))
        )
        job, _ = world.app.queries.job_progress(world.tenant_id, job_id)
        assert sorted(job.payment_ids) == sorted(due)

    def test_nothing_goes_before_its_send_on_date_unless_sent_now_on_purpose(
        self, world: World
    ) -> None:
        future = world.pay(send_on=date(2026, 3, 10))
        with pytest.raises(InvalidInput, match="after today"):
            world.app.handle(
                c.StartProcessingJob(tenant_id=world.tenant_id, due_on=date(2026, 3, 10))
            )
        job_id = world.app.handle(
            c.StartProcessingJob(tenant_id=world.tenant_id, payment_ids=(future,), send_now=True)
        )
        world.app.run_until_idle()
        job, progress = world.app.queries.job_progress(world.tenant_id, job_id)
        assert (job.send_now, progress.completed, world.status(future)) == (True, 1, "completed")
        with world.app.deps.unit_of_work() as uow:
            (entry,) = [e for e in uow.audit.entries(limit=1000) if e.subject_id == job_id]
        assert (entry.data["payment_ids"], entry.data["send_now"]) == ([future], True)

    def test_every_outcome_is_counted_apart(self, world: World) -> None:
        ids = (world.pay("10.00"), world.pay("10.13"), world.pay("10.14"), world.pay("10.20"))
        world.app.handle(
            c.CancelPayment(tenant_id=world.tenant_id, payment_id=ids[3], reason="changed mind")
        )
        with pytest.raises(InvalidInput, match="no longer scheduled"):
            world.app.handle(c.StartProcessingJob(tenant_id=world.tenant_id, payment_ids=ids))
        job_id = world.app.handle(
            c.StartProcessingJob(tenant_id=world.tenant_id, payment_ids=ids[:3])
        )
        world.app.run_until_idle()
        _, p = world.app.queries.job_progress(world.tenant_id, job_id)
        assert (p.total, p.completed, p.failed, p.returned, p.cancelled, p.pending) == (
            3,
            1,
            1,
            1,
            0,
            0,
        )

    def test_a_job_needs_exactly_one_selector_and_due_payments(self, world: World) -> None:
        with pytest.raises(InvalidInput, match="either"):
            world.app.handle(c.StartProcessingJob(tenant_id=world.tenant_id))
        with pytest.raises(InvalidInput, match="either"):
            world.app.handle(
                c.StartProcessingJob(
                    tenant_id=world.tenant_id, payment_ids=("p",), due_on=date(2026, 3, 2)
                )
            )
        future = world.pay(send_on=date(2026, 3, 10))
        with pytest.raises(InvalidInput, match=future):
            world.app.handle(c.StartProcessingJob(tenant_id=world.tenant_id, payment_ids=(future,)))


class CancellingProcessor(SimulatedPaymentProcessor):
    """Takes each submission while the customer cancels its payment, as a race would have it."""

    def __init__(self, clock: InMemoryClock) -> None:
        super().__init__(clock)
        self.cancel: Callable[[str], object] = lambda payment_id: None

    def submit(self, submission: Submission) -> ProcessorResult:
        self.cancel(submission.reference)
        return super().submit(submission)


def test_a_payment_cancelled_while_it_was_submitted_stays_cancelled() -> None:
    clock = InMemoryClock()
    processor = CancellingProcessor(clock)
    app = memory_core(clock, processor=processor)
    world = make_world(app)
    processor.cancel = lambda payment_id: app.handle(
        c.CancelPayment(tenant_id=world.tenant_id, payment_id=payment_id)
    )
    payment_id = world.pay()
    app.run_until_idle()
    assert processor.submissions[payment_id] == 1
    assert world.status(payment_id) == "cancelled"
    events = app.queries.payment_events(world.tenant_id, payment_id)
    assert "PaymentProcessed" not in [e.type for e in events]
    with app.deps.unit_of_work() as uow:
        assert uow.deliveries.counts()[m.DeliveryStatus.DEAD] == 0
    app.close()


class RefusingProcessor(SimulatedPaymentProcessor):
    """Refuses, as a processor answers 422, every submission of 25.42."""

    def submit(self, submission: Submission) -> ProcessorResult:
        if submission.amount.amount == Decimal("25.42"):
            raise PaymentRefused("processor", "HTTP 422: invalid_payee")
        return super().submit(submission)


def test_a_submission_the_processor_refuses_fails_the_payment_instead_of_dead_lettering() -> None:
    clock = InMemoryClock()
    app = memory_core(clock, processor=RefusingProcessor(clock))
    world = make_world(app)
    refused, fine = world.pay("25.42"), world.pay("25.00")
    app.run_until_idle()
    payment = app.queries.get_payment(world.tenant_id, refused)
    assert (payment.status.value, payment.failure_code) == ("failed", "processor_refused")
    assert [e.kind for e in exceptions_of(world, refused)] == [ExceptionKind.PROCESSOR_ERROR]
    assert world.status(fine) == "completed"
    with app.deps.unit_of_work() as uow:
        assert uow.deliveries.counts()[m.DeliveryStatus.DEAD] == 0
    app.close()


class SlowSettlingProcessor(SimulatedPaymentProcessor):
    """Keeps the references in ``in_flight`` accepted, as ACH keeps a payment for days."""

    def __init__(self, clock: InMemoryClock) -> None:
        super().__init__(clock)
        self.in_flight: set[str] = set()

    def outcome(self, reference: str) -> ProcessorResult:
        if reference in self.in_flight:
            return ProcessorResult(reference=reference, status=ProcessorStatus.ACCEPTED)
        return super().outcome(reference)


def test_the_reconciler_takes_its_pages_in_turn_past_payments_still_in_flight() -> None:
    clock = InMemoryClock()
    processor = SlowSettlingProcessor(clock)
    app = memory_core(clock, processor=processor)
    world = make_world(app)
    timed_out = [world.pay("25.17") for _ in range(3)]  # NOTE: taken, but no answer came
    app.run_until_idle()
    processor.in_flight.update(timed_out[:2])
    turns = ReconcileInTurn(app.bus, page=2)
    turns()
    assert [world.status(p) for p in timed_out] == ["processing"] * 3
    assert turns.after == max(timed_out[:2])
    turns()
    assert [world.status(p) for p in timed_out] == ["processing", "processing", "completed"]
    assert turns.after is None  # NOTE: the last page was short: the next pass starts over
    app.close()


class DeferringProcessor(SimulatedPaymentProcessor):
    """Its breaker opens after ``answers`` questions: the rest of the pass is deferred."""

    def __init__(self, clock: InMemoryClock, answers: int) -> None:
        super().__init__(clock)
        self.answers = answers

    def outcome(self, reference: str) -> ProcessorResult:
        if self.answers == 0:
            raise DependencyDeferred("processor", "breaker open")
        self.answers -= 1
        return super().outcome(reference)


def test_a_pass_cut_short_by_an_open_breaker_resumes_with_the_first_payment_not_asked() -> None:
    clock = InMemoryClock()
    processor = DeferringProcessor(clock, answers=1)
    app = memory_core(clock, processor=processor)
    world = make_world(app)
    timed_out = sorted(world.pay("25.17") for _ in range(3))
    app.run_until_idle()
    first = app.handle(c.ReconcilePayments(limit=3))
    assert (first.moved, first.resume_after) == (1, timed_out[0])
    processor.answers = 5
    second = app.handle(c.ReconcilePayments(limit=3, after=first.resume_after))
    assert (second.moved, second.resume_after) == (2, None)
    assert [world.status(p) for p in timed_out] == ["completed"] * 3
    app.close()


def test_a_payment_the_reconciler_cannot_settle_does_not_keep_it_from_the_others(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    clock = InMemoryClock()
    app = memory_core(clock)
    world = make_world(app)
    broken, fine = sorted(world.pay("25.17") for _ in range(2))
    app.run_until_idle()
    apply_result = processing._apply_result

    def failing_for_one(uow, payment, *args, **kwargs):  # type: ignore[no-untyped-def]
        if payment.id == broken:
            raise RuntimeError("a fault of this payment alone")
        return apply_result(uow, payment, *args, **kwargs)

    monkeypatch.setattr(processing, "_apply_result", failing_for_one)
    assert app.handle(c.ReconcilePayments()).moved == 1
    assert [world.status(broken), world.status(fine)] == ["processing", "completed"]
    failure = [r for r in caplog.records if r.getMessage() == "payment not reconciled"]
    assert [r.payment_id for r in failure] == [broken]  # type: ignore[attr-defined]
    app.close()
