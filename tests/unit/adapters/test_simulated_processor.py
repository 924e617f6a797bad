"""The simulated processor: deterministic by cents, idempotent, its books shareable."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from cbp.adapters.memory.clock import InMemoryClock
from cbp.adapters.simulator.processor import SimulatedPaymentProcessor
from cbp.domain.money import Money
from cbp.ports.errors import DependencyTimeout, DependencyUnavailable
from cbp.ports.processor import ProcessorStatus, Submission


def submission(reference: str, amount: str) -> Submission:
    return Submission(
        reference=reference,
        tenant_id="ten_1",
        amount=Money.of(Decimal(amount), "USD"),
        payee_id="pye_1",
        payee_name="Pacific Gas and Electric",
        payee_account_number="1234567890",
        funding_account_id="fac_1",
        funding_routing_number="021000021",
        funding_account_number="000123456789",
        deliver_by="2026-03-04",
    )


def test_a_repeated_submission_returns_the_first_answer_and_moves_money_once() -> None:
    processor = SimulatedPaymentProcessor(InMemoryClock())
    first = processor.submit(submission("pmt_1", "10.13"))
    again = processor.submit(submission("pmt_1", "10.13"))
    assert first == again
    assert (first.status, first.failure_code) == (ProcessorStatus.FAILED, "nsf")
    assert processor.submissions["pmt_1"] == 2 and processor.distinct_submissions == 1


def test_an_outage_then_a_timeout_then_the_reconcilers_question() -> None:
    processor = SimulatedPaymentProcessor(InMemoryClock())
    with pytest.raises(DependencyUnavailable):
        processor.submit(submission("pmt_18", "1.18"))
    assert processor.submit(submission("pmt_18", "1.18")).status is ProcessorStatus.SETTLED
    with pytest.raises(DependencyTimeout):
        processor.submit(submission("pmt_17", "1.17"))
    assert processor.outcome("pmt_17").status is ProcessorStatus.SETTLED
    assert processor.outcome("pmt_never").status is ProcessorStatus.UNKNOWN


def test_settlement_waits_for_the_delay_and_a_return_comes_after(tmp_path: Path) -> None:
    clock = InMemoryClock()
    processor = SimulatedPaymentProcessor(clock, settle_after_seconds=60)
    assert processor.submit(submission("pmt_14", "3.14")).status is ProcessorStatus.ACCEPTED
    clock.advance(seconds=61)
    returned = processor.outcome("pmt_14")
    assert (returned.status, returned.failure_code) == (ProcessorStatus.RETURNED, "R01")


def test_processes_sharing_a_ledger_file_share_the_books(tmp_path: Path) -> None:
    ledger = str(tmp_path / "ledger.sqlite3")
    worker = SimulatedPaymentProcessor(InMemoryClock(), ledger_path=ledger)
    reconciler = SimulatedPaymentProcessor(InMemoryClock(), ledger_path=ledger)
    with pytest.raises(DependencyTimeout):
        worker.submit(submission("pmt_9", "9.17"))
    assert reconciler.outcome("pmt_9").status is ProcessorStatus.SETTLED
    assert reconciler.submit(submission("pmt_9", "9.17")).status is ProcessorStatus.SETTLED
    assert worker.submissions["pmt_9"] == 2 and worker.distinct_submissions == 1
