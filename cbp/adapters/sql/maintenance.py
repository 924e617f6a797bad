"""Database maintenance that only the SQL adapter can do: key rotation."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine, Table, func, select, update

from cbp.adapters.sql import schema as t
from cbp.adapters.sql.crypto import FieldCipher

#: Every encrypted column, by table.
ENCRYPTED_COLUMNS: dict[Table, tuple[str, ...]] = {
    t.payees: ("account_number_enc",),
    t.funding_accounts: ("routing_number_enc", "account_number_enc", "micro_deposits_enc"),
    t.webhook_endpoints: ("secrets_enc",),
    t.ach_entries: ("account_number_enc",),
    t.ach_files: ("content_enc",),
}


def rotate_encryption_keys(
    engine: Engine,
    cipher: FieldCipher,
    *,
    batch: int = 500,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Re-encrypt every stored number under the newest key; return rows rewritten.

    Each batch commits on its own, and a row already under the newest key is
    rewritten harmlessly, so an interrupted rotation is finished by running
    it again.
    """
    with engine.connect() as conn:
        total = sum(
            conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in ENCRYPTED_COLUMNS
        )
    done = 0
    for table, columns in ENCRYPTED_COLUMNS.items():
        (key,) = table.primary_key.columns
        last_key = ""
        while True:
            with engine.begin() as conn:
                rows = conn.execute(
                    select(key, *(table.c[c] for c in columns))
                    .where(key > last_key)
                    .order_by(key)
                    .limit(batch)
                ).all()
                for row in rows:
                    stored = {c: getattr(row, c) for c in columns}
                    rotated = {c: cipher.rotate(v) for c, v in stored.items() if v is not None}
                    conn.execute(update(table).where(key == row[0]).values(rotated))
            if not rows:
                break
            last_key = rows[-1][0]
            done += len(rows)
            if progress:
                progress(done, total)
    return done
