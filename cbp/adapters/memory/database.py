"""An in-memory database with transactions: staged writes, atomic commits.

Each unit of work stages its writes; readers see their own staged writes
over the committed state. ``commit`` checks every optimistic condition
(stream versions, unique keys) and applies all writes under one lock, or
none of them, so the fakes behave like the SQL adapters the contract
suites also run against.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from cbp.domain.audit import AuditDraft, AuditEntry
from cbp.domain.errors import AlreadyExists, ConcurrencyConflict
from cbp.domain.recording import RecordsEvents
from cbp.ports.messages import Message
from cbp.ports.storage.events import Changes, StoredEvent

#: The version a compare-and-set expects of a row that does not exist yet.
ABSENT = -1


@dataclass
class Table:
    """Rows by key, with optional unique indexes checked at commit."""

    unique: dict[str, Callable[[Any], Hashable]] = field(default_factory=dict)
    rows: dict[Hashable, Any] = field(default_factory=dict)


@dataclass
class InMemoryDatabase:
    """The committed state that every unit of work reads and writes."""

    tables: dict[str, Table] = field(default_factory=dict)
    events: list[StoredEvent] = field(default_factory=list)
    streams: dict[str, list[StoredEvent]] = field(default_factory=dict)
    outbox: dict[str, Message] = field(default_factory=dict)
    dispatched: set[str] = field(default_factory=set)
    inbox: set[tuple[str, str]] = field(default_factory=set)
    audit: list[AuditEntry] = field(default_factory=list)
    audit_drafts: list[AuditDraft] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)
    sequence: int = 0

    def next_sequence(self) -> int:
        """A number larger than every one handed out before."""
        with self.lock:
            self.sequence += 1
            return self.sequence

    def table(self, name: str, **unique: Callable[[Any], Hashable]) -> Table:
        """The table ``name``, created with its unique indexes on first use."""
        with self.lock:
            if name not in self.tables:
                self.tables[name] = Table(unique=dict(unique))
            return self.tables[name]


@dataclass
class Transaction:
    """The writes one unit of work has staged and not yet committed."""

    db: InMemoryDatabase
    rows: dict[str, dict[Hashable, Any]] = field(default_factory=dict)
    inserts: dict[str, set[Hashable]] = field(default_factory=dict)
    deletes: dict[str, set[Hashable]] = field(default_factory=dict)
    appends: list[tuple[str, int, list[StoredEvent]]] = field(default_factory=list)
    outbox: list[Message] = field(default_factory=list)
    dispatched: set[str] = field(default_factory=set)
    purged: set[str] = field(default_factory=set)
    inbox: set[tuple[str, str]] = field(default_factory=set)
    audit: list[AuditDraft] = field(default_factory=list)
    changes: Changes = field(default_factory=Changes)
    expected_versions: dict[tuple[str, Hashable], int] = field(default_factory=dict)
    #: Writes to stores beside this database, made with the commit or not at all.
    with_commit: list[Callable[[], None]] = field(default_factory=list)

    # -- rows ----------------------------------------------------------------

    def get(self, table: str, key: Hashable) -> Any | None:
        """A copy of the row as this transaction sees it."""
        if key in self.deletes.get(table, ()):
            return None
        staged = self.rows.get(table, {})
        if key in staged:
            return copy.deepcopy(staged[key])
        with self.db.lock:
            return copy.deepcopy(self.db.table(table).rows.get(key))

    def scan(self, table: str) -> list[Any]:
        """Copies of every row as this transaction sees them."""
        with self.db.lock:
            merged = dict(self.db.table(table).rows)
        merged.update(self.rows.get(table, {}))
        for key in self.deletes.get(table, ()):
            merged.pop(key, None)
        return copy.deepcopy(list(merged.values()))

    def put(
        self,
        table: str,
        key: Hashable,
        row: Any,
        *,
        insert: bool = False,
        expect_version: int | None = None,
    ) -> None:
        """Stage a write; ``insert`` makes an existing key a conflict.

        With ``expect_version``, the commit fails if the committed row's
        ``version`` has moved on since it was read (compare-and-set).
        """
        if expect_version is not None:
            self.expected_versions.setdefault((table, key), expect_version)
        if insert:
            if self.get(table, key) is not None:
                raise AlreadyExists(f"{table} {key} already exists")
            self.inserts.setdefault(table, set()).add(key)
        self.deletes.get(table, set()).discard(key)
        stored = copy.deepcopy(row)
        if isinstance(stored, RecordsEvents):
            stored.pull_events()  # NOTE: events leave through the outbox, never with the row
        self.rows.setdefault(table, {})[key] = stored

    def delete(self, table: str, key: Hashable) -> None:
        """Stage a delete."""
        self.rows.get(table, {}).pop(key, None)
        self.deletes.setdefault(table, set()).add(key)

    # -- events ----------------------------------------------------------------

    def stream(self, stream_id: str) -> list[StoredEvent]:
        """Committed and staged events of one stream."""
        with self.db.lock:
            stored = list(self.db.streams.get(stream_id, []))
        for staged_id, _, events in self.appends:
            if staged_id == stream_id:
                stored.extend(events)
        return stored

    # -- commit ----------------------------------------------------------------

    def commit(self) -> None:
        """Apply every staged write atomically, or raise and apply none."""
        db = self.db
        with db.lock:
            self._check_conflicts()
            for stream_id, _, events in self.appends:
                for stored in events:
                    positioned = StoredEvent(position=len(db.events) + 1, event=stored.event)
                    db.events.append(positioned)
                    db.streams.setdefault(stream_id, []).append(positioned)
            for table, rows in self.rows.items():
                db.table(table).rows.update(copy.deepcopy(rows))
            for table, keys in self.deletes.items():
                for key in keys:
                    db.table(table).rows.pop(key, None)
            for message in self.outbox:
                db.outbox[message.message_id] = message
            db.dispatched |= self.dispatched
            for message_id in self.purged:
                db.outbox.pop(message_id, None)
                db.dispatched.discard(message_id)
            db.inbox |= self.inbox
            db.audit_drafts.extend(self.audit)
            for write in self.with_commit:
                write()
        self.reset()

    def _check_conflicts(self) -> None:
        db = self.db
        first_expected: dict[str, int] = {}
        for stream_id, expected, _ in self.appends:
            first_expected.setdefault(stream_id, expected)
        for stream_id, expected in first_expected.items():
            current = len(db.streams.get(stream_id, []))
            if current != expected:
                raise ConcurrencyConflict(
                    f"stream {stream_id} is at version {current}, expected {expected}"
                )
        for table, keys in self.inserts.items():
            if any(key in db.table(table).rows for key in keys):
                raise AlreadyExists(f"a {table} row with this key already exists")
        for table, rows in self.rows.items():
            committed = db.table(table)
            for index, key_of in committed.unique.items():
                taken = {key_of(row): k for k, row in committed.rows.items()}
                for key, row in rows.items():
                    owner = taken.get(key_of(row))
                    if owner is not None and owner != key:
                        raise AlreadyExists(f"{table} {index} is already taken")
        if set(self.inbox) & db.inbox:
            raise ConcurrencyConflict("message was consumed by another transaction")
        for (table, key), expected in self.expected_versions.items():
            stored = db.table(table).rows.get(key)
            if (ABSENT if stored is None else stored["version"]) != expected:
                raise ConcurrencyConflict(f"{table} {key} was changed by another transaction")

    def reset(self) -> None:
        """Forget every staged write."""
        self.rows.clear()
        self.inserts.clear()
        self.deletes.clear()
        self.appends.clear()
        self.outbox.clear()
        self.dispatched.clear()
        self.purged.clear()
        self.inbox.clear()
        self.audit.clear()
        self.changes.clear()
        self.expected_versions.clear()
        self.with_commit.clear()
