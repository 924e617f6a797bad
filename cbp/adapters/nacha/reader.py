"""Reading and checking a NACHA file, as cbp writes it or as a bank sends it back."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from cbp.adapters.nacha.codes import CHANGE_REASONS, RETURN_REASONS
from cbp.adapters.nacha.layout import (
    BLOCKING_FACTOR,
    FILLER,
    RECORD_LENGTH,
    Addenda,
    Batch,
    Entry,
    NachaError,
    NachaFile,
    Totals,
    digits,
    entry_hash,
    service_class_of,
)
from cbp.domain.banking import is_valid_routing_number


def records(text: str, *, received: bool = False) -> list[str]:
    """The file's records; a ``received`` file's as banks send them.

    Line ends may be CRLF, LF or CR. A received file may also come as one
    stream of 94-character records with no line ends at all, lose the
    trailing spaces of its records to a transfer tool (they are put back)
    or gain some, hold blank lines, and end in a DOS end-of-file mark.
    """
    if not received:
        return text.splitlines()
    lines = text.rstrip("\x1a\r\n").splitlines()
    if len(lines) == 1 and len(lines[0]) > RECORD_LENGTH and len(lines[0]) % RECORD_LENGTH == 0:
        stream = lines[0]
        lines = [stream[at : at + RECORD_LENGTH] for at in range(0, len(stream), RECORD_LENGTH)]
    return [line.rstrip().ljust(RECORD_LENGTH) for line in lines if line.strip()]


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
            if not line[87:94].isdigit():
                raise NachaError("a batch header's batch number is 7 digits", number)
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
    computed = totals.control_fields()
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
        ("entry count", line[4:10], digits(len(entries) + addenda, 6)),
        ("entry hash", line[10:20], digits(entry_hash(entries), 10)),
        ("debits", line[20:32], digits(sum(e.amount_cents for e in entries if e.is_debit), 12)),
        (
            "credits",
            line[32:44],
            digits(sum(e.amount_cents for e in entries if not e.is_debit), 12),
        ),
        ("batch number", line[87:94], header[87:94]),
    )
    for name, says, is_ in figures:
        if says != is_:
            raise NachaError(f"the batch control's {name} is {says}, the batch's is {is_}", number)
