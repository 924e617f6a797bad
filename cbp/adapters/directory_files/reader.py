"""Reading and writing biller directories as CSV or JSON.

CSV columns: ``name, category, aliases, line1, line2, city, state,
postal_code, country, payment_method, lead_days, account_masks, popularity``
(popularity optional, 0 when absent: searches rank better-known billers first); lists
(aliases, masks) are ``|``-separated. JSON is a list of objects shaped like
the API's GlobalPayee (``address`` nested, lists as lists).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from cbp.domain.errors import InvalidInput
from cbp.services.commands import AddGlobalPayee, Address

CSV_COLUMNS = (
    "name",
    "category",
    "aliases",
    "line1",
    "line2",
    "city",
    "state",
    "postal_code",
    "country",
    "payment_method",
    "lead_days",
    "account_masks",
    "popularity",
)


def read_directory(path: Path) -> Iterator[AddGlobalPayee]:
    """The billers in a ``.csv`` or ``.json`` file, one command each."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open(newline="", encoding="utf-8-sig") as handle:
            for row_number, row in enumerate(csv.DictReader(handle), start=1):
                yield _from_record(_nest_csv(row), row_number)
    elif suffix == ".json":
        records = json.loads(path.read_text(encoding="utf-8-sig"))
        if not isinstance(records, list):
            raise InvalidInput("a JSON directory must be a list of billers")
        for row_number, record in enumerate(records, start=1):
            yield _from_record(record, row_number)
    else:
        raise InvalidInput(f"cannot read {path.name}: use a .csv or .json file")


def write_directory(path: Path, billers: Iterable[AddGlobalPayee]) -> int:
    """Write billers as CSV or JSON by the file's suffix; return how many."""
    records = [_to_record(b) for b in billers]
    if path.suffix.lower() == ".csv":
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
            writer.writeheader()
            for record in records:
                address = record.pop("address")
                writer.writerow(
                    {
                        **record,
                        **address,
                        "aliases": "|".join(record["aliases"]),
                        "account_masks": "|".join(record["account_masks"]),
                    }
                )
    else:
        path.write_text(json.dumps(records, indent=1), encoding="utf-8")
    return len(records)


def _nest_csv(row: dict[str, str]) -> dict[str, Any]:
    return {
        "name": row.get("name", ""),
        "category": row.get("category", ""),
        "aliases": [a for a in (row.get("aliases") or "").split("|") if a],
        "address": {
            key: row.get(key) or None
            for key in ("line1", "line2", "city", "state", "postal_code", "country")
        },
        "payment_method": row.get("payment_method") or "electronic",
        "lead_days": row.get("lead_days") or 2,
        "account_masks": [m for m in (row.get("account_masks") or "").split("|") if m],
        "popularity": row.get("popularity") or 0,
    }


def _from_record(record: Any, row: int) -> AddGlobalPayee:
    try:
        address = record["address"]
        return AddGlobalPayee(
            name=str(record["name"]),
            category=str(record["category"]),
            aliases=tuple(str(a) for a in record.get("aliases") or ()),
            address=Address(
                line1=str(address["line1"]),
                line2=address.get("line2"),
                city=str(address["city"]),
                state=str(address["state"]),
                postal_code=str(address["postal_code"]),
                country=address.get("country") or "US",
            ),
            payment_method=str(record.get("payment_method") or "electronic"),
            lead_days=int(record.get("lead_days", 2)),
            account_masks=tuple(str(m) for m in record.get("account_masks") or ()),
            popularity=int(record.get("popularity") or 0),
            actor="directory-import",
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise InvalidInput(f"row {row}: missing or malformed field {error}") from None


def _to_record(biller: AddGlobalPayee) -> dict[str, Any]:
    return {
        "name": biller.name,
        "category": biller.category,
        "aliases": list(biller.aliases),
        "address": asdict(biller.address),
        "payment_method": biller.payment_method,
        "lead_days": biller.lead_days,
        "account_masks": list(biller.account_masks),
        "popularity": biller.popularity,
    }
