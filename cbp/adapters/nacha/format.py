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
record layouts. The record layouts are in ``layout``, the writer in ``writer``,
the reader and its checks in ``reader``; this module is their one face.
"""

from cbp.adapters.nacha import layout
from cbp.adapters.nacha.layout import *  # noqa: F403 (the record layouts are part of this face)
from cbp.adapters.nacha.reader import check, read, records
from cbp.adapters.nacha.writer import write

__all__ = ["check", "read", "records", "write"]
__all__ += layout.__all__
