"""The NACHA file format: 94-character records, batches, control totals, blocks of ten.

Writes PPD or CCD batches of entries, and reads files back: the ones cbp
writes, and the return files an ODFI sends (return entries with their
``99`` addenda, and notifications of change: ``COR`` entries with ``98``
addenda). ``check`` validates a file against the rules a bank applies
before taking it: record lengths and types, counts, entry hash, debit and
credit totals, routing check digits, return and change codes, and padding
to a multiple of ten records. A file received from a bank may come as
banks send them: CRLF or LF line ends, trailing spaces trimmed, no padding
block, and a zero or blank effective date on a return batch.

No maintained Python library both writes and reads the format, returns
and changes included, so it is written here, to the NACHA Operating Rules'
record layouts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from anyascii import anyascii

from cbp.adapters.nacha.codes import CHANGE_REASONS, RETURN_REASONS
from cbp.domain.banking import is_valid_routing_number

RECORD_LENGTH = 94
BLOCKING_FACTOR = 10
FILLER = "9" * RECORD_LENGTH

#: Transaction codes: a credit or a debit to a checking or savings account.
CHECKING_CREDIT, CHECKING_DEBIT, SAVINGS_CREDIT, SAVINGS_DEBIT = 22, 27, 32, 37
#: The codes of returns and changes to each (21 for 22, 26 for 27, 31 for 32, 36 for 37).
RETURN_OF = {22: 21, 27: 26, 32: 31, 37: 36}
DEBITS = frozenset({26, 27, 28, 36, 37, 38})
#: Service class codes: mixed, credits only, debits only.
MIXED, CREDITS_ONLY, DEBITS_ONLY = 200, 220, 225


class NachaError(ValueError):
    """A file breaks the format or its rules; ``line`` is the 1-based record number."""

    def __init__(self, detail: str, line: int | None = None) -> None:
        super().__init__(detail if line is None else f"record {line}: {detail}")
        self.line = line


def transaction_code(account_type: str, *, debit: bool) -> int:
    """The code of a debit or credit to a ``checking`` or ``savings`` account."""
    if account_type == "savings":
        return SAVINGS_DEBIT if debit else SAVINGS_CREDIT
    return CHECKING_DEBIT if debit else CHECKING_CREDIT


def account_type_of(code: int) -> str:
    """``checking`` or ``savings``, from any transaction code."""
    return "savings" if 30 <= code < 40 else "checking"


@dataclass(frozen=True, kw_only=True)
class Entry:
    """One entry detail record (type 6), with its addenda if it is a return or a change."""

    transaction_code: int
    routing_number: str = field(repr=False)
    account_number: str = field(repr=False)
    amount_cents: int
    individual_id: str
    individual_name: str
    trace_number: str
    addenda: Addenda | None = None

    @property
    def is_debit(self) -> bool:
        """Whether the entry takes money from the account."""
        return self.transaction_code in DEBITS


@dataclass(frozen=True, kw_only=True)
class Addenda:
    """A return (type ``99``, an R code) or change (type ``98``, a C code) addenda."""

    type_code: str
    reason_code: str
    original_trace: str
    original_routing: str
    #: A change's corrected data (29 characters, laid out by its C code); empty for a return.
    corrected_data: str = field(default="", repr=False)
    information: str = ""


@dataclass(frozen=True, kw_only=True)
class Batch:
    """A company batch: header, entries, control."""

    sec_code: str
    company_name: str
    company_id: str
    entry_description: str
    #: ``None`` where a return or change batch leaves it zero or blank, as banks may.
    effective_date: date | None
    odfi: str
    number: int
    entries: tuple[Entry, ...]

    @property
    def service_class(self) -> int:
        """Mixed, credits only or debits only, from the entries."""
        return service_class_of(self.entries)


def service_class_of(entries: tuple[Entry, ...] | list[Entry]) -> int:
    """The service class code that fits these entries: mixed, credits only or debits only."""
    kinds = {e.is_debit for e in entries}
    if kinds == {True}:
        return DEBITS_ONLY
    if kinds == {False}:
        return CREDITS_ONLY
    return MIXED


@dataclass(frozen=True, kw_only=True)
class NachaFile:
    """A whole file: its header's fields and its batches."""

    destination_routing: str
    origin_id: str
    destination_name: str
    origin_name: str
    created_at: datetime
    file_id_modifier: str
    batches: tuple[Batch, ...]


@dataclass(frozen=True, kw_only=True)
class Totals:
    """What a file's control record says, as computed from its entries."""

    batches: int
    blocks: int
    entries_and_addenda: int
    entry_hash: int
    total_debit: int
    total_credit: int


# -- writing ----------------------------------------------------------------------


def _alpha(value: str, width: int) -> str:
    """Upper-case, ASCII letters, digits and simple punctuation; left-justified.

    Letters outside ASCII are transliterated ("Zoë Ñandú" is "ZOE NANDU"),
    not blanked; what has no ASCII form becomes a space.
    """
    cleaned = re.sub(r"[^A-Z0-9 .,&/'()-]", " ", anyascii(value).upper())
    return cleaned[:width].ljust(width)


def _digits(value: int | str, width: int) -> str:
    text = str(value)
    if not text.isdigit() or len(text) > width:
        raise NachaError(f"{text!r} does not fit {width} digits")
    return text.zfill(width)


def _record(*fields: str) -> str:
    record = "".join(fields)
    if len(record) != RECORD_LENGTH:
        raise NachaError(f"a record of {len(record)} characters, not {RECORD_LENGTH}")
    return record


def entry_hash(entries: tuple[Entry, ...] | list[Entry]) -> int:
    """The sum of the entries' 8-digit receiving DFI numbers, to its last 10 digits."""
    return sum(int(e.routing_number[:8]) for e in entries) % 10**10


def write(nacha: NachaFile) -> str:
    """The file as text: records of 94 characters, one a line, padded to blocks of 10."""
    records = [
        _record(
            "1",
            "01",
            " " + _digits(nacha.destination_routing, 9),
            nacha.origin_id.rjust(10)[:10],
            nacha.created_at.strftime("%y%m%d"),
            nacha.created_at.strftime("%H%M"),
            nacha.file_id_modifier,
            "094",
            "10",
            "1",
            _alpha(nacha.destination_name, 23),
            _alpha(nacha.origin_name, 23),
            " " * 8,
        )
    ]
    for batch in nacha.batches:
        records.extend(_batch_records(batch))
    totals = totals_of(nacha.batches, records_before_control=len(records))
    records.append(
        _record(
            "9",
            _digits(totals.batches, 6),
            _digits(totals.blocks, 6),
            _digits(totals.entries_and_addenda, 8),
            _digits(totals.entry_hash, 10),
            _digits(totals.total_debit, 12),
            _digits(totals.total_credit, 12),
            " " * 39,
        )
    )
    while len(records) % BLOCKING_FACTOR:
        records.append(FILLER)
    return "\n".join(records) + "\n"


def _batch_records(batch: Batch) -> list[str]:
    number = _digits(batch.number, 7)
    odfi = _digits(batch.odfi, 8)
    records = [
        _record(
            "5",
            str(batch.service_class),
            _alpha(batch.company_name, 16),
            " " * 20,
            batch.company_id.ljust(10)[:10],
            batch.sec_code,
            _alpha(batch.entry_description, 10),
            " " * 6,
            batch.effective_date.strftime("%y%m%d") if batch.effective_date else "000000",
            "   ",
            "1",
            odfi,
            number,
        )
    ]
    for entry in batch.entries:
        records.append(
            _record(
                "6",
                _digits(entry.transaction_code, 2),
                _digits(entry.routing_number, 9),
                entry.account_number.ljust(17)[:17],
                _digits(entry.amount_cents, 10),
                _alpha(entry.individual_id, 15),
                _alpha(entry.individual_name, 22),
                "  ",
                "1" if entry.addenda else "0",
                _digits(entry.trace_number, 15),
            )
        )
        if entry.addenda is not None:
            records.append(_addenda_record(entry.addenda, entry.trace_number))
    debit = sum(e.amount_cents for e in batch.entries if e.is_debit)
    credit = sum(e.amount_cents for e in batch.entries if not e.is_debit)
    count = len(batch.entries) + sum(1 for e in batch.entries if e.addenda)
    records.append(
        _record(
            "8",
            str(batch.service_class),
            _digits(count, 6),
            _digits(entry_hash(batch.entries), 10),
            _digits(debit, 12),
            _digits(credit, 12),
            batch.company_id.ljust(10)[:10],
            " " * 19,
            " " * 6,
            odfi,
            number,
        )
    )
    return records


def _addenda_record(addenda: Addenda, trace_number: str) -> str:
    if addenda.type_code == "99":
        return _record(
            "7",
            "99",
            addenda.reason_code,
            _digits(addenda.original_trace, 15),
            " " * 6,
            _digits(addenda.original_routing, 8),
            _alpha(addenda.information, 44),
            _digits(trace_number, 15),
        )
    return _record(
        "7",
        "98",
        addenda.reason_code,
        _digits(addenda.original_trace, 15),
        " " * 6,
        _digits(addenda.original_routing, 8),
        addenda.corrected_data.ljust(29)[:29],
        " " * 15,
        _digits(trace_number, 15),
    )


def totals_of(batches: tuple[Batch, ...], *, records_before_control: int) -> Totals:
    """The file control's figures for these batches (the blocks counting the padding)."""
    entries = [e for b in batches for e in b.entries]
    records = records_before_control + 1
    return Totals(
        batches=len(batches),
        blocks=-(-records // BLOCKING_FACTOR),
        entries_and_addenda=len(entries) + sum(1 for e in entries if e.addenda),
        entry_hash=entry_hash(entries),
        total_debit=sum(e.amount_cents for e in entries if e.is_debit),
        total_credit=sum(e.amount_cents for e in entries if not e.is_debit),
    )


# -- reading ----------------------------------------------------------------------


def records(text: str, *, received: bool = False) -> list[str]:
    """The file's records; a ``received`` file's as banks send them.

    Line ends may be CRLF or LF. A received file may also have lost the
    trailing spaces of its records to a transfer tool (they are put back)
    and end in blank lines.
    """
    lines = text.splitlines()
    if not received:
        return lines
    while lines and not lines[-1].strip():
        lines.pop()
    return [line.ljust(RECORD_LENGTH) for line in lines]


def read(text: str) -> NachaFile:
    """Parse a file, ours or one received from a bank, after ``check`` has found it sound."""
    check(text, received=True)
    lines = [line for line in records(text, received=True) if line != FILLER]
    header = lines[0]
    batches: list[Batch] = []
    index = 1
    while lines[index][0] == "5":
        batch_header = lines[index]
        index += 1
        entries: list[Entry] = []
        while lines[index][0] == "6":
            entry_line = lines[index]
            index += 1
            addenda = None
            if lines[index][0] == "7":
                addenda = _read_addenda(lines[index])
                index += 1
            entries.append(
                Entry(
                    transaction_code=int(entry_line[1:3]),
                    routing_number=entry_line[3:12],
                    account_number=entry_line[12:29].strip(),
                    amount_cents=int(entry_line[29:39]),
                    individual_id=entry_line[39:54].strip(),
                    individual_name=entry_line[54:76].strip(),
                    trace_number=entry_line[79:94],
                    addenda=addenda,
                )
            )
        index += 1  # NOTE: the batch control, checked already
        batches.append(
            Batch(
                sec_code=batch_header[50:53],
                company_name=batch_header[4:20].strip(),
                company_id=batch_header[40:50].strip(),
                entry_description=batch_header[53:63].strip(),
                effective_date=_effective_date(batch_header[69:75]),
                odfi=batch_header[79:87],
                number=int(batch_header[87:94]),
                entries=tuple(entries),
            )
        )
    return NachaFile(
        destination_routing=header[4:13],
        origin_id=header[13:23].strip(),
        destination_name=header[40:63].strip(),
        origin_name=header[63:86].strip(),
        created_at=_created_at(header[23:33]),
        file_id_modifier=header[33],
        batches=tuple(batches),
    )


def _effective_date(text: str) -> date | None:
    """A batch's effective entry date: YYMMDD, or zero or blank on a return batch."""
    if text.strip(" 0") == "":
        return None
    return datetime.strptime(text, "%y%m%d").date()


def _created_at(text: str) -> datetime:
    """A file's creation date and time (YYMMDDHHMM; the time may be blank)."""
    return datetime.strptime(text[:6] + (text[6:].strip() or "0000"), "%y%m%d%H%M")


def _read_addenda(line: str) -> Addenda:
    type_code = line[1:3]
    if type_code not in ("98", "99"):
        raise NachaError(f"addenda type {type_code} is neither a return (99) nor a change (98)")
    return Addenda(
        type_code=type_code,
        reason_code=line[3:6],
        original_trace=line[6:21],
        original_routing=line[27:35],
        corrected_data=line[35:64] if type_code == "98" else "",
        information=line[35:79].strip() if type_code == "99" else "",
    )


_EXPECTED_NEXT = {"1": "5", "5": "6", "6": "678", "7": "68", "8": "59"}


def check(text: str, *, received: bool = False) -> Totals:
    """Validate a whole file; return its control totals. Raises NachaError at the first fault.

    Every record is 94 characters; records come in the order header,
    batches (header, entries with their addenda, control), file control,
    then filler to a multiple of ten; each batch control and the file
    control agree with the entries (counts, entry hash, debit and credit
    totals) and with the batch's service class and number. Every receiving
    DFI's check digit is right, dates are dates, and every addenda's return
    or change code is one the Nacha rules define. A ``received`` file may
    have the shapes ``records`` accepts, and no padding block.
    """
    lines = records(text, received=received)
    if not lines or lines[0][:1] != "1":
        raise NachaError("a file starts with its file header (record type 1)", 1)
    for number, line in enumerate(lines, start=1):
        if len(line) != RECORD_LENGTH:
            raise NachaError(f"{len(line)} characters, not {RECORD_LENGTH}", number)
    if len(lines) % BLOCKING_FACTOR and not received:
        raise NachaError(f"{len(lines)} records is not a multiple of {BLOCKING_FACTOR}")
    _check_dates(lines[0][23:33], 1, _created_at, "file creation date and time")
    if lines[0][34:40] != "094101":
        raise NachaError("the file header must say record size 094, blocking 10, format 1", 1)
    all_entries: list[Entry] = []
    batches = 0
    addenda_count = 0
    position = 1
    previous = "1"
    batch_entries: list[Entry] = []
    batch_addenda = 0
    batch_header = ""
    for number, line in enumerate(lines[1:], start=2):
        kind = line[0]
        if previous == "9":
            if line != FILLER:
                raise NachaError("only filler (all 9s) may follow the file control", number)
            continue
        if kind not in _EXPECTED_NEXT.get(previous, ""):
            raise NachaError(f"a type {kind} record cannot follow a type {previous}", number)
        if kind == "5":
            batch_header, batch_entries, batch_addenda = line, [], 0
            batches += 1
            _check_dates(line[69:75], number, _effective_date, "effective entry date")
        elif kind == "6":
            if not line[1:3].isdigit() or not line[29:39].isdigit():
                raise NachaError("an entry's transaction code and amount are digits", number)
            batch_entries.append(
                Entry(
                    transaction_code=int(line[1:3]),
                    routing_number=line[3:12],
                    account_number="",
                    amount_cents=int(line[29:39]),
                    individual_id="",
                    individual_name="",
                    trace_number=line[79:94],
                )
            )
            if not line[3:12].isdigit():
                raise NachaError("an entry's receiving DFI is 9 digits", number)
            if not is_valid_routing_number(line[3:12]):
                raise NachaError("the receiving DFI's check digit is wrong", number)
        elif kind == "7":
            if lines[number - 2][78] != "1":
                raise NachaError("an addenda follows an entry whose indicator is not 1", number)
            _check_codes(line, number)
            batch_addenda += 1
        elif kind == "8":
            _check_batch_control(line, batch_header, batch_entries, batch_addenda, number)
            all_entries.extend(batch_entries)
            addenda_count += batch_addenda
        elif kind == "9":
            position = number
        previous = kind
    if previous != "9":
        raise NachaError("the file has no file control (record type 9)")
    control = lines[position - 1]
    totals = Totals(
        batches=batches,
        blocks=-(-len(lines) // BLOCKING_FACTOR),
        entries_and_addenda=len(all_entries) + addenda_count,
        entry_hash=entry_hash(all_entries),
        total_debit=sum(e.amount_cents for e in all_entries if e.is_debit),
        total_credit=sum(e.amount_cents for e in all_entries if not e.is_debit),
    )
    stated = (
        control[1:7],
        control[7:13],
        control[13:21],
        control[21:31],
        control[31:43],
        control[43:55],
    )
    computed = (
        _digits(totals.batches, 6),
        _digits(totals.blocks, 6),
        _digits(totals.entries_and_addenda, 8),
        _digits(totals.entry_hash, 10),
        _digits(totals.total_debit, 12),
        _digits(totals.total_credit, 12),
    )
    names = ("batch count", "block count", "entry count", "entry hash", "debits", "credits")
    for name, says, is_ in zip(names, stated, computed, strict=True):
        if says != is_:
            raise NachaError(f"the file control's {name} is {says}, the file's is {is_}", position)
    return totals


def _check_dates(text: str, number: int, parse: Any, name: str) -> None:
    try:
        parse(text)
    except ValueError:
        raise NachaError(f"the {name} {text.strip()!r} is not a date", number) from None


def _check_codes(line: str, number: int) -> None:
    """A return's (99) or a change's (98) code must be one the Nacha rules define."""
    type_code, code = line[1:3], line[3:6]
    known = {"99": RETURN_REASONS, "98": CHANGE_REASONS}.get(type_code)
    if known is None:
        return  # NOTE: another addenda (05, 02): no code to check
    if code not in known:
        kind = "return reason" if type_code == "99" else "change code"
        raise NachaError(f"{code!r} is not a Nacha {kind}", number)


def _check_batch_control(
    line: str, header: str, entries: list[Entry], addenda: int, number: int
) -> None:
    stated_class = line[1:4]
    if stated_class != header[1:4]:
        raise NachaError("the batch control's service class differs from its header's", number)
    if header[1:4] != "200" and stated_class != str(service_class_of(entries)) and entries:
        raise NachaError(f"service class {stated_class} does not fit its entries", number)
    figures = (
        ("entry count", line[4:10], _digits(len(entries) + addenda, 6)),
        ("entry hash", line[10:20], _digits(entry_hash(entries), 10)),
        ("debits", line[20:32], _digits(sum(e.amount_cents for e in entries if e.is_debit), 12)),
        (
            "credits",
            line[32:44],
            _digits(sum(e.amount_cents for e in entries if not e.is_debit), 12),
        ),
        ("batch number", line[87:94], header[87:94]),
    )
    for name, says, is_ in figures:
        if says != is_:
            raise NachaError(f"the batch control's {name} is {says}, the batch's is {is_}", number)
