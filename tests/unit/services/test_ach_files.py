"""The nacha processor on every storage adapter: payments filed, then returns and changes read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import achkit
import pytest

from cbp.adapters.memory.clock import InMemoryClock
from cbp.adapters.memory.notifiers import InMemoryNotifier
from cbp.adapters.nacha import format as nacha
from cbp.bootstrap import bootstrap
from cbp.domain.errors import InvalidInput
from cbp.ports.storage.notices import ExceptionFilter
from cbp.services import commands as c
from cbp.services import processing
from cbp.settings import Settings
from tests.unit.services.conftest import World

RETURN_CODES = ("R01", "R02", "R03", "R29")


@pytest.fixture
def core_settings(tmp_path: Path) -> dict[str, Any]:
    return {
        "processor": "nacha",
        "nacha_outbound_dir": str(tmp_path / "outbound"),
    }


def outbound(core_settings: dict[str, Any]) -> list[Path]:
    return sorted(Path(core_settings["nacha_outbound_dir"]).glob("*.ach"))


def return_file(filed: nacha.NachaFile, returns: dict[int, str]) -> str:
    """The ODFI's answer to ``filed``: entry n returned by its R code, or changed by its C code."""
    entries = [e for b in filed.batches for e in b.entries]
    answers = []
    for n, code in returns.items():
        original = entries[n]
        change = code.startswith("C")
        corrected = {"C01": "99887766", "C05": f"{nacha.SAVINGS_DEBIT}"}.get(code, "")
        answers.append(
            nacha.Entry(
                transaction_code=nacha.RETURN_OF[original.transaction_code],
                routing_number=original.routing_number,
                account_number=original.account_number,
                amount_cents=0 if change else original.amount_cents,
                individual_id=original.individual_id,
                individual_name=original.individual_name,
                trace_number=f"02100002{n:07d}",
                addenda=nacha.Addenda(
                    type_code="98" if change else "99",
                    reason_code=code,
                    original_trace=original.trace_number,
                    original_routing=original.routing_number[:8],
                    corrected_data=corrected,
                ),
            )
        )
    batches = []
    for sec, chosen in (
        ("PPD", [a for a in answers if a.amount_cents]),
        ("COR", [a for a in answers if not a.amount_cents]),
    ):
        if chosen:
            batches.append(
                nacha.Batch(
                    sec_code=sec,
                    company_name="CBP BILL PAY",
                    company_id="1234567890",
                    entry_description="RETURN",
                    effective_date=filed.batches[0].effective_date,
                    odfi="02100002",
                    number=len(batches) + 1,
                    entries=tuple(chosen),
                )
            )
    return nacha.write(
        nacha.NachaFile(
            destination_routing="011000015",
            origin_id="021000021",
            destination_name="CBP BILL PAY",
            origin_name="ODFI",
            created_at=filed.created_at,
            file_id_modifier="A",
            batches=tuple(batches),
        )
    )


def test_two_hundred_payments_filed_then_returned_and_changed_once(
    world: World,
    clock: InMemoryClock,
    notifier: InMemoryNotifier,
    core_settings: dict[str, Any],
) -> None:
    app = world.app
    paid = [world.pay(f"{10 + n // 100}.{n % 100:02d}") for n in range(200)]
    app.run_until_idle()
    assert {world.status(p) for p in paid} == {"processing"}
    (name,) = app.handle(c.RunAchCutOff(now=True))
    (path,) = outbound(core_settings)
    assert path.name == name
    text = path.read_text()
    totals = nacha.check(text)
    assert (totals.batches, totals.entries_and_addenda) == (1, 200)
    assert totals.total_debit == sum(1000 + n // 100 * 100 + n % 100 for n in range(200))
    filed = nacha.read(text)
    assert filed.batches[0].sec_code == "PPD"
    assert {e.transaction_code for e in filed.batches[0].entries} == {nacha.CHECKING_DEBIT}
    assert app.handle(c.RunAchCutOff(now=True)) == []  # NOTE: nothing pending: no empty file
    with app.deps.unit_of_work() as uow:
        handed = [m for m in uow.outbox.pending(5000) if m.type == "ach.file_handed_off"]
    assert [m.payload["file_name"] for m in handed] == [name]

    answers = {0: "R01", 1: "R02", 2: "R03", 3: "R29", 4: "C01", 5: "C05"}
    returns = return_file(filed, answers)
    applied = app.handle(c.ReadAchReturns(content=returns))
    assert applied.summary() == "4 returned, 2 changed, 0 applied before, 0 noted, 0 not ours"
    for n, code in enumerate(RETURN_CODES):
        payment = app.queries.get_payment(world.tenant_id, paid[n])
        assert (payment.status.value, payment.failure_code) == ("returned", code)
    exceptions = app.queries.list_exceptions(
        ExceptionFilter(tenant_id=world.tenant_id), limit=100
    ).items
    assert sorted(e.reason_code for e in exceptions) == sorted(RETURN_CODES)
    account = app.queries.get_funding_account(world.tenant_id, world.funding_id)
    assert (account.account_number, account.account_type.value) == ("99887766", "savings")
    app.run_until_idle()
    account = app.queries.get_funding_account(world.tenant_id, world.funding_id)
    assert account.verification_status.value == "verified"  # NOTE: verified again
    corrected = [
        n.payload["change_code"] for n in notifier.sent if n.template == "account_corrected"
    ]
    assert sorted(corrected) == ["C01", "C05"]

    again = app.handle(c.ReadAchReturns(content=returns))
    assert again.summary() == "0 returned, 0 changed, 6 applied before, 0 noted, 0 not ours"
    assert (
        len(
            app.queries.list_exceptions(ExceptionFilter(tenant_id=world.tenant_id), limit=100).items
        )
        == 4
    )

    clock.advance(days=3)  # NOTE: past the file's effective date: the rest settle
    app.handle(c.ReconcilePayments())
    statuses = [world.status(p) for p in paid]
    assert statuses.count("completed") == 196 and statuses.count("returned") == 4


def test_files_are_made_at_each_cut_off_time_only(
    world: World, clock: InMemoryClock, core_settings: dict[str, Any]
) -> None:
    app = world.app
    world.pay("20.00")
    app.run_until_idle()
    assert app.handle(c.RunAchCutOff()) == []  # NOTE: 09:00 in New York: before 10:00
    clock.advance(hours=1, minutes=1)
    assert len(app.handle(c.RunAchCutOff())) == 1
    world.pay("21.00")
    app.run_until_idle()
    assert app.handle(c.RunAchCutOff()) == []  # NOTE: the 10:00 cut-off was taken
    clock.advance(hours=4)
    assert len(app.handle(c.RunAchCutOff())) == 1
    assert len(outbound(core_settings)) == 2


def test_a_file_recorded_but_not_written_is_written_again_the_same(
    world: World, core_settings: dict[str, Any]
) -> None:
    app = world.app
    world.pay("20.00")
    app.run_until_idle()
    processor = app.container.adapters.processor()
    (hand_off,) = processor.cut_off(app.deps.clock.now(), now=True)  # NOTE: not announced
    (path,) = outbound(core_settings)
    first = path.read_bytes()
    path.unlink()  # NOTE: as if the process died between the record and the write
    (again,) = processor.cut_off(app.deps.clock.now())
    assert again.name == hand_off.name
    assert path.read_bytes() == first
    assert app.handle(c.RunAchCutOff(now=True)) == [hand_off.name]  # NOTE: announced at last
    assert app.handle(c.RunAchCutOff(now=True)) == []


def test_an_entry_is_filed_only_if_the_payment_records_its_submission(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = world.app
    paid = world.pay("20.00")

    def die(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the worker died before its commit")

    monkeypatch.setattr(processing, "_record_submission", die)
    with pytest.raises(RuntimeError, match="died"):
        app.handle(c.ProcessPayment(tenant_id=world.tenant_id, payment_id=paid))
    monkeypatch.undo()
    assert (
        app.container.adapters.ach_ledger().standing(paid) is None
    )  # NOTE: no entry without the record

    app.handle(c.CancelPayment(tenant_id=world.tenant_id, payment_id=paid))
    app.run_until_idle()
    assert world.status(paid) == "cancelled"
    assert app.handle(c.RunAchCutOff(now=True)) == []  # NOTE: a cancelled payment is never filed

    kept = world.pay("21.00")
    app.run_until_idle()
    assert world.status(kept) == "processing"
    assert app.container.adapters.ach_ledger().standing(kept) is not None
    assert len(app.handle(c.RunAchCutOff(now=True))) == 1


def test_reading_returns_without_the_nacha_processor_is_refused() -> None:
    app = bootstrap(Settings(database_url="memory://", api_key_secret="s"))
    try:
        with pytest.raises(InvalidInput, match="CBP_PROCESSOR=nacha"):
            app.handle(c.ReadAchReturns(content=""))
        assert app.handle(c.RunAchCutOff()) == []
    finally:
        app.close()


def test_each_entry_is_reported_by_trace_and_a_change_of_nothing_kept_is_only_noted(
    world: World, notifier: InMemoryNotifier, core_settings: dict[str, Any]
) -> None:
    app = world.app
    paid = [world.pay(f"3{n}.00") for n in range(3)]
    app.run_until_idle()
    app.handle(c.RunAchCutOff(now=True))
    (path,) = outbound(core_settings)
    filed = nacha.read(path.read_text())
    traces = [e.trace_number for e in filed.batches[0].entries]
    returns = return_file(filed, {0: "R01", 1: "C09"})
    foreign = returns.replace(traces[0], traces[0][:-7] + "9999999")  # NOTE: none of ours
    applied = app.handle(c.ReadAchReturns(content=returns))
    assert applied.outcomes == ((traces[0], "returned"), (traces[1], "noted"))
    assert not [n for n in notifier.sent if n.template == "account_corrected"]
    assert world.status(paid[1]) == "processing"
    again = app.handle(c.ReadAchReturns(content=foreign))
    assert again.outcomes == ((traces[1], "noted"), (traces[0][:-7] + "9999999", "not ours"))


def test_a_file_that_breaks_a_rule_applies_nothing_and_names_the_record(
    world: World, core_settings: dict[str, Any]
) -> None:
    app = world.app
    paid = world.pay("40.00")
    app.run_until_idle()
    app.handle(c.RunAchCutOff(now=True))
    (path,) = outbound(core_settings)
    returns = return_file(nacha.read(path.read_text()), {0: "R01"}).splitlines()
    returns[2] = returns[2][:3] + "011000016" + returns[2][12:]  # NOTE: a wrong check digit
    with pytest.raises(InvalidInput, match="record 3: the receiving DFI's check digit is wrong"):
        app.handle(c.ReadAchReturns(content="\n".join(returns) + "\n"))
    assert world.status(paid) == "processing"


def test_returned_micro_deposits_fail_the_account_and_the_customer_is_told_once(
    world: World, notifier: InMemoryNotifier, core_settings: dict[str, Any]
) -> None:
    app = world.app
    account_id = app.handle(
        c.AddFundingAccount(
            tenant_id=world.tenant_id,
            customer_id=world.customer_id,
            routing_number="011000015",
            account_number="55512345",
            account_type="checking",
            holder_name="Zoë Ñandú-O'Brien",
            verification="micro_deposits",
        )
    )
    app.run_until_idle()
    app.handle(c.RunAchCutOff(now=True))
    (path,) = outbound(core_settings)
    filed = nacha.read(path.read_text())
    (micro,) = [b for b in filed.batches if b.entry_description == "ACCTVERIFY"]
    assert {e.individual_name for e in micro.entries} == {"ZOE NANDU-O'BRIEN"}
    assert {e.transaction_code for e in micro.entries} == {nacha.CHECKING_CREDIT}
    entries = [e for b in filed.batches for e in b.entries]
    credits = {n: "R03" for n, e in enumerate(entries) if e.transaction_code == 22}
    applied = app.handle(c.ReadAchReturns(content=return_file(filed, credits)))
    assert [outcome for _, outcome in applied.outcomes] == ["returned", "returned"]
    account = app.queries.get_funding_account(world.tenant_id, account_id)
    assert account.verification_status.value == "failed"
    app.run_until_idle()
    told = [n for n in notifier.sent if n.template == "micro_deposits_returned"]
    assert len({n.id for n in told}) == len(told) >= 1
    assert {n.payload["return_code"] for n in told} == {"R03"}
    assert len({n.channel for n in told}) == len(told)  # NOTE: once on each channel


def test_an_independent_parser_accepts_the_files_cbp_writes(
    world: World, core_settings: dict[str, Any]
) -> None:
    app = world.app
    for n in range(12):
        world.pay(f"{20 + n}.{n:02d}")
    app.handle(
        c.AddFundingAccount(
            tenant_id=world.tenant_id,
            customer_id=world.customer_id,
            routing_number="021000021",
            account_number="7700123",
            account_type="savings",
            holder_name="Zoë Ñandú-O'Brien",
            verification="micro_deposits",
        )
    )
    app.run_until_idle()
    app.handle(c.RunAchCutOff(now=True))
    (path,) = outbound(core_settings)
    text = path.read_text()
    assert achkit.validate(text) == {"ok": True, "errors": []}
    theirs, ours = achkit.parse(text)["control"], nacha.check(text)
    assert (theirs["batch_count"], theirs["block_count"]) == (ours.batches, ours.blocks) == (2, 2)
    assert (theirs["total_debit"], theirs["total_credit"]) == (ours.total_debit, ours.total_credit)
    assert theirs["entry_addenda_count"] == ours.entries_and_addenda == 14
