"""Writing a NACHA file: 94-character records, control totals, blocks of ten."""

from __future__ import annotations

import re

from anyascii import anyascii

from cbp.adapters.nacha.layout import (
    RECORD_LENGTH,
    Addenda,
    Batch,
    NachaError,
    NachaFile,
    digits,
    entry_hash,
    padded_to_blocks,
    totals_of,
)


def _alpha(value: str, width: int) -> str:
    """Upper-case, ASCII letters, digits and simple punctuation; left-justified.

    Letters outside ASCII are transliterated ("Zoë Ñandú" is "ZOE NANDU"),
    not blanked; what has no ASCII form becomes a space.
    """
    cleaned = re.sub(r"[^A-Z0-9 .,&/'()-]", " ", anyascii(value).upper())
    return cleaned[:width].ljust(width)


def _record(*fields: str) -> str:
    record = "".join(fields)
    if len(record) != RECORD_LENGTH:
        raise NachaError(f"a record of {len(record)} characters, not {RECORD_LENGTH}")
    return record


def write(nacha: NachaFile) -> str:
    """The file as text: records of 94 characters, one a line, padded to blocks of 10."""
    records = [
        _record(
            "1",
            "01",
            " " + digits(nacha.destination_routing, 9),
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
            *totals.control_fields(),
            " " * 39,
        )
    )
    return "\n".join(padded_to_blocks(records)) + "\n"


def _batch_records(batch: Batch) -> list[str]:
    number = digits(batch.number, 7)
    odfi = digits(batch.odfi, 8)
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
                digits(entry.transaction_code, 2),
                digits(entry.routing_number, 9),
                entry.account_number.ljust(17)[:17],
                digits(entry.amount_cents, 10),
                _alpha(entry.individual_id, 15),
                _alpha(entry.individual_name, 22),
                "  ",
                "1" if entry.addenda else "0",
                digits(entry.trace_number, 15),
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
            digits(count, 6),
            digits(entry_hash(batch.entries), 10),
            digits(debit, 12),
            digits(credit, 12),
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
            digits(addenda.original_trace, 15),
            " " * 6,
            digits(addenda.original_routing, 8),
            _alpha(addenda.information, 44),
            digits(trace_number, 15),
        )
    return _record(
        "7",
        "98",
        addenda.reason_code,
        digits(addenda.original_trace, 15),
        " " * 6,
        digits(addenda.original_routing, 8),
        addenda.corrected_data.ljust(29)[:29],
        " " * 15,
        digits(trace_number, 15),
    )
