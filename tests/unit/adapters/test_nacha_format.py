"""The NACHA format: files written pass the bank's rules, read back whole, and faults are caught."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cbp.adapters.nacha import format as nacha
from cbp.adapters.nacha.codes import CHANGE_REASONS, RETURN_REASONS, reason_of

ODFI = "01100001"
ROUTINGS = ("011000015", "021000021", "026009593", "121000358")


def entry(n: int, *, cents: int = 1234, code: int = nacha.CHECKING_DEBIT) -> nacha.Entry:
    return nacha.Entry(
        transaction_code=code,
        routing_number=ROUTINGS[n % len(ROUTINGS)],
        account_number=f"{100000 + n}",
        amount_cents=cents,
        individual_id=f"PMT{n:012d}",
        individual_name=f"Customer {n}",
        trace_number=f"{ODFI}{n:07d}",
    )


def batch(entries: list[nacha.Entry], number: int = 1, sec: str = "PPD") -> nacha.Batch:
    return nacha.Batch(
        sec_code=sec,
        company_name="CBP BILL PAY",
        company_id="1234567890",
        entry_description="BILL PAY",
        effective_date=date(2026, 12, 7),
        odfi=ODFI,
        number=number,
        entries=tuple(entries),
    )


def document(*batches: nacha.Batch) -> nacha.NachaFile:
    return nacha.NachaFile(
        destination_routing="011000015",
        origin_id="1234567890",
        destination_name="FEDERAL RESERVE BANK",
        origin_name="CBP BILL PAY",
        created_at=datetime(2026, 12, 4, 16, 0),
        file_id_modifier="A",
        batches=batches,
    )


def test_two_hundred_payments_make_a_file_that_passes_the_rules_and_reads_back() -> None:
    debits = [entry(n, cents=1000 + n) for n in range(200)]
    credits = [entry(1000 + n, cents=n + 1, code=nacha.CHECKING_CREDIT) for n in range(2)]
    text = nacha.write(document(batch(debits), batch(credits, number=2)))
    lines = text.splitlines()
    assert all(len(line) == 94 for line in lines)
    assert len(lines) % 10 == 0 and lines[-1] == "9" * 94
    totals = nacha.check(text)
    assert (totals.batches, totals.entries_and_addenda, totals.blocks) == (2, 202, len(lines) // 10)
    assert totals.total_debit == sum(1000 + n for n in range(200))
    assert totals.total_credit == 3
    assert totals.entry_hash == sum(int(e.routing_number[:8]) for e in debits + credits) % 10**10
    parsed = nacha.read(text)
    assert [b.service_class for b in parsed.batches] == [nacha.DEBITS_ONLY, nacha.CREDITS_ONLY]
    assert [
        (e.account_number, e.amount_cents, e.trace_number) for e in parsed.batches[0].entries
    ] == [(e.account_number, e.amount_cents, e.trace_number) for e in debits]
    assert parsed.batches[0].effective_date == date(2026, 12, 7)


@settings(max_examples=50)
@given(st.lists(st.integers(min_value=1, max_value=99_999_999), min_size=1, max_size=40))
def test_any_amounts_balance_and_pad_to_a_block(amounts: list[int]) -> None:
    text = nacha.write(document(batch([entry(n, cents=c) for n, c in enumerate(amounts)])))
    totals = nacha.check(text)
    assert totals.total_debit == sum(amounts)
    assert len(text.splitlines()) == totals.blocks * 10


def corrupt(text: str, line: int, column: int, replacement: str) -> str:
    lines = text.splitlines()
    target = lines[line]
    lines[line] = target[:column] + replacement + target[column + len(replacement) :]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda t: t.replace("\n", "X\n", 1), "95 characters"),
        (lambda t: corrupt(t, 2, 29, "0000009999"), "debits"),
        (lambda t: corrupt(t, 2, 3, "021000021"), "entry hash"),
        (lambda t: corrupt(t, 2, 11, "0" if t.splitlines()[2][11] != "0" else "1"), "check digit"),
        (lambda t: "\n".join(t.splitlines()[:-1]) + "\n", "multiple of 10"),
        (lambda t: corrupt(t, 1, 1, "220"), "service class"),
        (lambda t: corrupt(t, 5, 1, "000002"), "batch count"),
        (lambda t: corrupt(t, 0, 34, "095"), "record size"),
        (lambda t: corrupt(t, 7, 0, "1"), "only filler"),
        (lambda t: corrupt(corrupt(t, 1, 87, " " * 7), 4, 87, " " * 7), "batch number is 7"),
    ],
)
def test_a_broken_file_is_refused_with_the_fault_named(damage, message: str) -> None:  # type: ignore[no-untyped-def]
    text = nacha.write(document(batch([entry(0), entry(1)])))
    with pytest.raises(nacha.NachaError, match=message):
        nacha.check(damage(text))


def return_file(codes: list[str]) -> str:
    """An ODFI's return file: one return (99) or change (98) entry per code."""
    entries = []
    for n, code in enumerate(codes):
        original = entry(n)
        change = code.startswith("C")
        entries.append(
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
                    corrected_data="123456789" if change else "",
                ),
            )
        )
    returns = [e for e in entries if e.addenda and e.addenda.type_code == "99"]
    changes = [e for e in entries if e.addenda and e.addenda.type_code == "98"]
    batches = [batch(returns)] if returns else []
    if changes:
        batches.append(batch(changes, number=len(batches) + 1, sec="COR"))
    return nacha.write(document(*batches))


def test_every_return_code_family_and_every_change_code_reads_back() -> None:
    codes = sorted(RETURN_REASONS) + sorted(CHANGE_REASONS)
    parsed = nacha.read(return_file(codes))
    read = [e.addenda for b in parsed.batches for e in b.entries]
    assert sorted(a.reason_code for a in read if a) == sorted(codes)
    families = {code[:2] for code in RETURN_REASONS}
    assert families >= {"R0", "R1", "R2", "R3", "R5", "R6", "R7", "R8"}
    assert sorted(CHANGE_REASONS) == [f"C{n:02d}" for n in range(1, 15)]
    assert all(a is not None and a.original_trace.startswith(ODFI) for a in read)
    assert reason_of("R03") == "no account / unable to locate account"
    assert reason_of("R99") == "returned (R99)"


def as_a_bank_sends_it(text: str, *, effective: str = "000000") -> str:
    """The same file with trailing spaces trimmed, CRLF line ends, no padding block, and
    the batches' effective date zero or blank, as return files come."""
    lines = [line for line in text.splitlines() if line != nacha.FILLER]
    lines = [line[:69] + effective + line[75:] if line[0] == "5" else line for line in lines]
    return "\r\n".join(line.rstrip() for line in lines) + "\r\n"


@pytest.mark.parametrize("effective", ["000000", "      "])
def test_a_return_file_as_banks_send_it_reads_the_same(effective: str) -> None:
    text = return_file(["R01", "R03", "C01", "C09"])
    sent = as_a_bank_sends_it(text, effective=effective)
    assert min(len(line) for line in sent.splitlines()) < nacha.RECORD_LENGTH
    assert len(sent.splitlines()) % nacha.BLOCKING_FACTOR
    parsed, original = nacha.read(sent), nacha.read(text)
    assert [b.effective_date for b in parsed.batches] == [None, None]
    assert [e.addenda for b in parsed.batches for e in b.entries] == [
        e.addenda for b in original.batches for e in b.entries
    ]
    with pytest.raises(nacha.NachaError, match="characters, not 94"):
        nacha.check(sent)  # NOTE: what cbp itself writes is held to more


def one_stream(text: str) -> str:
    return text.replace("\n", "")


def cr_line_ends(text: str) -> str:
    return text.replace("\n", "\r")


def spaces_added(text: str) -> str:
    return "\n".join(line + "   " for line in text.splitlines()) + "\n"


def blank_lines_and_a_dos_end(text: str) -> str:
    return "\r\n" + text.replace("\n", "\r\n\r\n") + "\x1a"


@pytest.mark.parametrize(
    "transfer", [one_stream, cr_line_ends, spaces_added, blank_lines_and_a_dos_end]
)
def test_a_return_file_however_its_records_are_delimited_reads_the_same(
    transfer: Callable[[str], str],
) -> None:
    text = return_file(["R01", "R03", "C01", "C09"])
    assert nacha.read(transfer(text)) == nacha.read(text)


@pytest.mark.parametrize(
    ("codes", "message"),
    [
        (["R97"], "'R97' is not a Nacha return reason"),
        (["C99"], "'C99' is not a Nacha change code"),
    ],
)
def test_a_code_the_rules_do_not_define_is_an_error_naming_its_record(
    codes: list[str], message: str
) -> None:
    with pytest.raises(nacha.NachaError, match=rf"record 4: {message}"):
        nacha.read(return_file(codes))


def test_a_date_that_is_no_date_is_an_error_naming_its_record() -> None:
    text = return_file(["R01"])
    with pytest.raises(nacha.NachaError, match="record 2: the effective entry date '261399'"):
        nacha.read(corrupt(text, 1, 69, "261399"))


def test_names_are_transliterated_not_blanked() -> None:
    named = nacha.Entry(
        transaction_code=nacha.CHECKING_DEBIT,
        routing_number="011000015",
        account_number="12345",
        amount_cents=100,
        individual_id="pmt_1",
        individual_name="Zoë Ñandú-O'Brien",
        trace_number=f"{ODFI}0000001",
    )
    (read_back,) = nacha.read(nacha.write(document(batch([named])))).batches[0].entries
    assert read_back.individual_name == "ZOE NANDU-O'BRIEN"


#: A return file as a bank sends it, the text every damage below starts from.
RECEIVED = as_a_bank_sends_it(return_file(["R01", "R03", "C01", "C05"]))


@st.composite
def damaged(draw: st.DrawFn) -> str:
    """The received file with a few characters, lines or line ends changed at random."""
    lines = RECEIVED.split("\r\n")
    for _ in range(draw(st.integers(1, 4))):
        n = draw(st.integers(0, len(lines) - 1))
        kind = draw(st.sampled_from(["overwrite", "drop", "duplicate", "cut", "insert"]))
        if kind == "overwrite" and lines[n]:
            at = draw(st.integers(0, len(lines[n]) - 1))
            text = draw(st.text(min_size=1, max_size=12))
            lines[n] = lines[n][:at] + text + lines[n][at + len(text) :]
        elif kind == "drop":
            del lines[n]
        elif kind == "duplicate":
            lines.insert(n, lines[n])
        elif kind == "cut":
            lines[n] = lines[n][: draw(st.integers(0, len(lines[n])))]
        else:
            lines.insert(n, draw(st.text(max_size=100)))
        if not lines:
            break
    return "\r\n".join(lines)


@settings(max_examples=300, deadline=None)
@given(damaged())
def test_a_damaged_file_is_read_or_refused_with_its_fault_never_a_crash(text: str) -> None:
    try:
        nacha.read(text)
    except nacha.NachaError as refusal:
        fault = str(refusal)
    else:
        return
    assert fault, "a refusal names the fault it found"
