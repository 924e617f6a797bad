"""The NACHA records as data: entries, addenda, batches and files, and their codes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

__all__ = [
    "BLOCKING_FACTOR",
    "CHECKING_CREDIT",
    "CHECKING_DEBIT",
    "CREDITS_ONLY",
    "DEBITS",
    "DEBITS_ONLY",
    "FILLER",
    "MIXED",
    "RECORD_LENGTH",
    "RETURN_OF",
    "SAVINGS_CREDIT",
    "SAVINGS_DEBIT",
    "Addenda",
    "Batch",
    "Entry",
    "NachaError",
    "NachaFile",
    "Totals",
    "account_type_of",
    "digits",
    "entry_hash",
    "padded_to_blocks",
    "service_class_of",
    "totals_of",
    "transaction_code",
]

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

    def control_fields(self) -> tuple[str, ...]:
        """The file control record's six figures, as its fields write them."""
        return (
            digits(self.batches, 6),
            digits(self.blocks, 6),
            digits(self.entries_and_addenda, 8),
            digits(self.entry_hash, 10),
            digits(self.total_debit, 12),
            digits(self.total_credit, 12),
        )


def digits(value: int | str, width: int) -> str:
    """A number as a field of ``width`` digits, zero-padded on the left."""
    text = str(value)
    if not text.isdigit() or len(text) > width:
        raise NachaError(f"{text!r} does not fit {width} digits")
    return text.zfill(width)


def padded_to_blocks(records: list[str]) -> list[str]:
    """The records followed by as many filler records as complete the last block of ten."""
    return records + [FILLER] * (-len(records) % BLOCKING_FACTOR)


def entry_hash(entries: tuple[Entry, ...] | list[Entry]) -> int:
    """The sum of the entries' 8-digit receiving DFI numbers, to its last 10 digits."""
    return sum(int(e.routing_number[:8]) for e in entries) % 10**10


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
