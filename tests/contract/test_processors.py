"""The processor contract on each processor: the simulator, nacha files, and printed checks."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from cbp.adapters.calendar.federal_reserve import FederalReserveCalendar
from cbp.adapters.checks.processor import CheckProcessor
from cbp.adapters.memory.ach_ledger import InMemoryAchLedger
from cbp.adapters.memory.clock import InMemoryClock
from cbp.adapters.memory.database import InMemoryDatabase
from cbp.adapters.memory.unit_of_work import InMemoryUnitOfWork
from cbp.adapters.nacha.processor import NachaPaymentProcessor, NachaSettings
from cbp.adapters.simulator.processor import SimulatedPaymentProcessor
from cbp.adapters.sql.crypto import FieldCipher
from cbp.adapters.sql.unit_of_work import SqlAlchemyUnitOfWork
from cbp.domain.check import CheckStatus
from cbp.domain.errors import ConcurrencyConflict
from cbp.ports.processor import PaymentProcessor
from tests.contract.processor_contract import ProcessorContract, submission
from tests.databases import postgres_engine, postgres_url, sqlite_engine, sqlite_template

__all__ = ["postgres_engine", "postgres_url", "sqlite_engine", "sqlite_template"]


class TestSimulatedProcessor(ProcessorContract):
    @pytest.fixture
    def processor(self) -> PaymentProcessor:
        return SimulatedPaymentProcessor(InMemoryClock())


class TestNachaProcessor(ProcessorContract):
    @pytest.fixture
    def processor(self, tmp_path: Path) -> PaymentProcessor:
        settings = NachaSettings(
            odfi_routing="011000015",
            destination_routing="011000015",
            destination_name="FED RESERVE BANK",
            origin_id="1234567890",
            origin_name="CBP BANK",
            company_name="CBP BILL PAY",
            company_id="1234567890",
        )
        return NachaPaymentProcessor(
            InMemoryClock(),
            FederalReserveCalendar().is_business_day,
            settings,
            ledger=InMemoryAchLedger(),
            outbound_dir=str(tmp_path / "ach"),
        )


class TestCheckProcessorInMemory(ProcessorContract):
    @pytest.fixture
    def processor(self, tmp_path: Path) -> CheckProcessor:
        db = InMemoryDatabase()
        return CheckProcessor(
            InMemoryClock(),
            lambda **how: InMemoryUnitOfWork(db, **how),
            first_number=1001,
            outbound_dir=str(tmp_path / "checks"),
        )


@pytest.fixture(
    params=["sqlite_engine", pytest.param("postgres_engine", marks=pytest.mark.services)]
)
def engine(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    return request.getfixturevalue(request.param)


class TestCheckProcessorOnSql(ProcessorContract):
    @pytest.fixture
    def processor(self, tmp_path: Path, engine) -> CheckProcessor:  # type: ignore[no-untyped-def]
        cipher = FieldCipher([FieldCipher.generate_key()])
        return CheckProcessor(
            InMemoryClock(),
            lambda **how: SqlAlchemyUnitOfWork(engine, cipher, **how),
            first_number=1001,
            outbound_dir=str(tmp_path / "checks"),
        )

    def test_a_repeated_reference_keeps_its_check_number(self, processor: CheckProcessor) -> None:
        processor.submit(submission("pmt_numbered"))
        processor.submit(submission("pmt_numbered"))
        processor.submit(submission("pmt_numbered_2"))
        with processor.unit_of_work() as uow:
            checks = [uow.checks.get(r) for r in ("pmt_numbered", "pmt_numbered_2")]
        assert [check.number for check in checks if check] == [1001, 1002]

    def test_a_check_printed_by_one_run_is_not_printed_by_another(
        self, processor: CheckProcessor
    ) -> None:
        processor.submit(submission("pmt_printed_once"))
        for run in ("first", "second"):
            with processor.unit_of_work() as uow:
                check = uow.checks.get("pmt_printed_once")
                assert check is not None
                check.status = (
                    CheckStatus.ISSUED
                )  # NOTE: as a run that read it before the first wrote
                check.printed(f"checks-{run}.csv", on=date(2026, 3, 2))
                if run == "second":
                    with pytest.raises(ConcurrencyConflict):
                        uow.checks.mark_printed([check])
                    continue
                uow.checks.mark_printed([check])
                uow.commit()
        with processor.unit_of_work() as uow:
            stored = uow.checks.get("pmt_printed_once")
        assert stored is not None and stored.print_file == "checks-first.csv"
