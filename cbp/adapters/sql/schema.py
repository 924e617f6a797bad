"""The relational schema of every storage port (SQLAlchemy Core).

Account and routing numbers are stored only encrypted (``*_enc`` columns).
JSON columns are JSONB on PostgreSQL. Directory search uses a folded
``search_text`` column: a pg_trgm GIN index on PostgreSQL, an FTS5 trigram
table on SQLite (both created by the migration, see ``NOT_COMPARED``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Json = JSON().with_variant(JSONB(), "postgresql")
Id = String(40)
Moment = DateTime(timezone=True)
#: A bigint that autoincrements on SQLite too (where only INTEGER PRIMARY KEY does).
Serial = BigInteger().with_variant(Integer(), "sqlite")

#: Objects autogenerate cannot compare, so it ignores them: those the migration creates by
#: hand for one dialect, and an index on an expression (which it cannot reflect).
NOT_COMPARED = frozenset(
    {"directory_fts", "ix_global_payees_search_trgm", "ix_global_payees_in_search_order"}
)


def keyed_to(*owners: str) -> list[Column[str]]:
    """A row's id, and the ids of the tenant (and customer) it belongs to."""
    return [Column("id", Id, primary_key=True), *(Column(o, Id, nullable=False) for o in owners)]


def versioned() -> list[Column[object]]:
    """The optimistic-lock version of a row that changes, and when it was made."""
    return [
        Column("version", Integer, nullable=False),
        Column("created_at", Moment, nullable=False),
    ]


def only_where(predicate: str) -> dict[str, Any]:
    """A partial index's condition, the same on PostgreSQL and SQLite."""
    condition = text(predicate)
    return {"postgresql_where": condition, "sqlite_where": condition}


def audited() -> list[Column[object]]:
    """What an audit entry records, drafted or chained: who did what to what, and when."""
    return [
        Column("tenant_id", Id),
        Column("actor", String(100), nullable=False),
        Column("action", String(100), nullable=False),
        Column("subject_id", String(100), nullable=False),
        Column("data", Json, nullable=False),
        Column("recorded_at", Moment, nullable=False),
    ]


tenants = Table(
    "tenants",
    metadata,
    Column("id", Id, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("policy", Json, nullable=False),
    Column("contact_email", String(320)),
    Column("created_at", Moment, nullable=False),
)

customers = Table(
    "customers",
    metadata,
    *keyed_to("tenant_id"),
    Column("external_id", String(200), nullable=False),
    Column("name", String(200), nullable=False),
    Column("email", String(320)),
    Column("phone", String(40)),
    Column("channels", Json, nullable=False),
    Column("notify_on", Json, nullable=False, server_default="[]"),
    Column("created_at", Moment, nullable=False),
    UniqueConstraint("tenant_id", "external_id"),
)

global_payees = Table(
    "global_payees",
    metadata,
    Column("id", Id, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("name_folded", String(200), nullable=False),
    Column("search_text", Text, nullable=False),
    Column("aliases", Json, nullable=False),
    Column("category", String(100), nullable=False),
    Column("address", Json, nullable=False),
    Column("status", String(20), nullable=False),
    Column("payment_method", String(20), nullable=False),
    Column("lead_days", Integer, nullable=False),
    Column("account_masks", Json, nullable=False),
    Column("popularity", Integer, nullable=False, server_default="0"),
    Column("version", Integer, nullable=False),
    Index(None, "name_folded", "id"),
)
# NOTE: search order within a tier (the better known first): a search for short text
# found anywhere in names reads this in order and stops at the page's end
Index(
    "ix_global_payees_in_search_order",
    -global_payees.c.popularity,
    global_payees.c.name_folded,
    global_payees.c.id,
)

#: Where each word of a biller's name and aliases starts, by its first one to three
#: characters, in search order (tier, then the better known first): a search for
#: text that starts a word reads its first page off one index range, stopping early.
directory_prefixes = Table(
    "directory_prefixes",
    metadata,
    Column("prefix", String(3), nullable=False),
    Column("tier", Integer, nullable=False),
    Column("weight", Integer, nullable=False),
    Column("name_folded", String(200), nullable=False),
    Column("global_payee_id", Id, nullable=False),
    Column("rest", Text, nullable=False),
    Index(
        "ix_directory_prefixes_in_order",
        "prefix",
        "tier",
        "weight",
        "name_folded",
        "global_payee_id",
        "rest",
    ),
    Index("ix_directory_prefixes_biller", "global_payee_id"),
)

#: Every character some biller's name or alias has held: a search for one or two
#: characters that no biller holds is answered without a scan (no trigram finds it).
directory_characters = Table(
    "directory_characters",
    metadata,
    Column("character", String(1), primary_key=True),
)

payees = Table(
    "payees",
    metadata,
    *keyed_to("tenant_id", "customer_id"),
    Column("global_payee_id", Id),
    Column("name", String(200), nullable=False),
    Column("address", Json),
    Column("account_number_enc", Text, nullable=False),
    Column("nickname", String(100)),
    Column("lead_days", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("verification_status", String(20), nullable=False),
    *versioned(),
    Index(None, "tenant_id", "customer_id", "id"),
    # NOTE: a biller's change reads the payees linked to it, across tenants
    Index(None, "global_payee_id", "id"),
)

funding_accounts = Table(
    "funding_accounts",
    metadata,
    *keyed_to("tenant_id", "customer_id"),
    Column("routing_number_enc", Text, nullable=False),
    Column("account_number_enc", Text, nullable=False),
    Column("account_type", String(20), nullable=False),
    Column("holder_name", String(200), nullable=False),
    Column("verification_status", String(20), nullable=False),
    Column("verification_method", String(20), nullable=False, server_default="instant"),
    Column("micro_deposits_enc", Text),
    *versioned(),
    # NOTE: the expiry job reads the few awaiting micro-deposits among many verified
    Index(None, "verification_method", "verification_status", "id"),
)

events = Table(
    "events",
    metadata,
    Column("position", Serial, Identity(), primary_key=True),
    Column("stream_id", Id, nullable=False),
    Column("version", Integer, nullable=False),
    Column("event_id", Id, nullable=False, unique=True),
    Column("type", String(100), nullable=False),
    Column("data", Json, nullable=False),
    Column("headers", Json, nullable=False),
    Column("occurred_at", Moment, nullable=False),
    UniqueConstraint("stream_id", "version"),
    implicit_returning=False,  # NOTE: positions are read in order, never back from the insert
)

payment_views = Table(
    "payment_views",
    metadata,
    *keyed_to("tenant_id", "customer_id"),
    Column("status", String(20), nullable=False),
    Column("send_on", Date, nullable=False),
    Column("version", Integer, nullable=False),
    Column("payee_id", Id, nullable=False),
    Column("funding_account_id", Id, nullable=False),
    Column("amount", String(40), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("requested_send_on", Date),
    Column("deliver_by", Date, nullable=False),
    Column("due_on", Date),
    Column("bill_id", Id),
    Column("memo", Text),
    Column("failure_code", Text),
    Column("processor_reference", Text),
    Column("created_at", Moment, nullable=False),
    Column("updated_at", Moment, nullable=False),
    Index(None, "tenant_id", "id"),
    Index(None, "tenant_id", "customer_id", "id"),
    Index(None, "status", "send_on"),
)

schedule_views = Table(
    "schedule_views",
    metadata,
    *keyed_to("tenant_id", "customer_id"),
    Column("status", String(20), nullable=False),
    Column("next_send_on", Date),
    Column("state", Json, nullable=False),
    Index(None, "tenant_id", "customer_id", "id"),
    Index(None, "next_send_on"),
)

bill_views = Table(
    "bill_views",
    metadata,
    *keyed_to("tenant_id", "customer_id"),
    Column("payee_id", Id, nullable=False),
    Column("status", String(20), nullable=False),
    Column("due_on", Date, nullable=False),
    Column("reference", String(64), nullable=False),
    Column("state", Json, nullable=False),
    Index(None, "tenant_id", "customer_id", "id"),
    Index(None, "tenant_id", "payee_id", "reference", unique=True),
    Index(None, "status", "due_on"),
)

autopay_rules = Table(
    "autopay_rules",
    metadata,
    Column("tenant_id", Id, primary_key=True),
    Column("payee_id", Id, primary_key=True),
    Column("customer_id", Id, nullable=False),
    Column("funding_account_id", Id, nullable=False),
    Column("basis", String(20), nullable=False),
    Column("currency", String(3)),
    Column("fixed_amount", String(40)),
    Column("cap", String(40)),
    Column("days_before_due", Integer, nullable=False),
    Column("created_at", Moment, nullable=False),
    Column("updated_at", Moment, nullable=False),
)

checks = Table(
    "checks",
    metadata,
    Column("reference", Id, primary_key=True),
    Column("tenant_id", Id, nullable=False),
    Column("check_number", BigInteger, nullable=False),
    Column("amount", String(40), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("payee_name", Text, nullable=False),
    Column("mail_to", Json, nullable=False),
    Column("memo", Text, nullable=False),
    Column("status", String(20), nullable=False),
    Column("issued_at", Moment, nullable=False),
    Column("print_file", Text),
    Column("printed_on", Date),
    Column("mailed_on", Date),
    Column("cashed_on", Date),
    Column("closed_at", Moment),
    Column("void_reported", Boolean, nullable=False, server_default=false()),
    UniqueConstraint("tenant_id", "check_number"),
    Index(None, "status", "tenant_id", "check_number"),
)

check_numbers = Table(
    "check_numbers",
    metadata,
    Column("tenant_id", Id, primary_key=True),
    Column("last_number", BigInteger, nullable=False),
)

check_files = Table(
    "check_files",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("tenant_id", Id, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("created_at", Moment, nullable=False),
    Column("content", Text, nullable=False),
    Column("checks", Integer, nullable=False),
    Column("written", Boolean, nullable=False, server_default=false()),
)

payment_exceptions = Table(
    "payment_exceptions",
    metadata,
    *keyed_to("tenant_id"),
    Column("payment_id", Id, nullable=False),
    Column("customer_id", Id, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("reason_code", String(60), nullable=False),
    Column("status", String(20), nullable=False),
    Column("resolution", Text),
    Column("created_at", Moment, nullable=False),
    Column("resolved_at", Moment),
    Index(None, "tenant_id", "status", "id"),
    Index(None, "tenant_id", "payment_id", "id"),
    Index(None, "tenant_id", "customer_id", "id"),
)

notifications = Table(
    "notifications",
    metadata,
    *keyed_to("tenant_id"),
    Column("customer_id", Id),
    Column("exception_id", Id),
    Column("channel", String(20), nullable=False),
    Column("recipient", String(2000)),
    Column("template", String(100), nullable=False),
    Column("payload", Json, nullable=False),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text),
    Column("created_at", Moment, nullable=False),
    Column("sent_at", Moment),
    Index(None, "tenant_id", "channel", "created_at"),
    Index(None, "exception_id"),
)

process_jobs = Table(
    "process_jobs",
    metadata,
    *keyed_to("tenant_id"),
    Column("payment_ids", Json, nullable=False),
    Column("due_on", Date),
    Column("send_now", Boolean, nullable=False, server_default=false()),
    Column("created_at", Moment, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Id, primary_key=True),
    Column("tenant_id", Id),
    Column("secret_hash", String(64), nullable=False),
    Column("scopes", Json, nullable=False),
    Column("name", String(200), nullable=False),
    Column("created_at", Moment, nullable=False),
    Column("revoked_at", Moment),
)

webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", Id, primary_key=True),
    Column("tenant_id", Id, nullable=False, unique=True),
    Column("url", String(2000), nullable=False),
    Column("secrets_enc", Text, nullable=False),
    Column("status", String(20), nullable=False),
    Column("failing_since", Moment),
    Column("paused_at", Moment),
    Column("created_at", Moment, nullable=False),
)

idempotency_records = Table(
    "idempotency_records",
    metadata,
    Column("tenant_id", Id, primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("state", String(20), nullable=False),
    Column("response_status", Integer),
    Column("response_body", LargeBinary),
    Column("created_at", Moment, nullable=False),
    Column("expires_at", Moment, nullable=False, index=True),
)

audit_drafts = Table(
    "audit_drafts",
    metadata,
    Column("id", Serial, Identity(), primary_key=True),
    *audited(),
    implicit_returning=False,
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("sequence", Serial, primary_key=True, autoincrement=False),
    *audited(),
    Column("previous_hash", String(64), nullable=False),
    Column("entry_hash", String(64), nullable=False),
    Index(None, "subject_id", "sequence"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("position", Serial, Identity(), primary_key=True),
    Column("message_id", Id, nullable=False, unique=True),
    Column("kind", String(10), nullable=False),
    Column("destination", String(100), nullable=False),
    Column("type", String(100), nullable=False),
    Column("payload", Json, nullable=False),
    Column("ordering_key", String(100)),
    Column("headers", Json, nullable=False),
    Column("created_at", Moment, nullable=False),
    Column("dispatched_at", Moment),
    # NOTE: the relay reads what waits in position order; relayed rows are not in it
    Index("ix_outbox_unrelayed", "position", **only_where("dispatched_at IS NULL")),
    implicit_returning=False,
)

inbox = Table(
    "inbox",
    metadata,
    Column("consumer", String(100), primary_key=True),
    Column("message_id", Id, primary_key=True),
    Column("handled_at", Moment, nullable=False),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("seq", Serial, Identity(), primary_key=True),
    Column("id", String(200), nullable=False, unique=True),
    Column("message_id", Id, nullable=False),
    Column("subscriber", String(100), nullable=False),
    Column("ordering_key", String(100)),
    Column("status", String(10), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("available_at", Moment, nullable=False),
    Column("leased_until", Moment),
    Column("last_error", Text),
    Column("created_at", Moment, nullable=False),
    Index(None, "status", "available_at"),
    Index(None, "subscriber", "ordering_key", "seq"),
    Index(None, "message_id"),
    # NOTE: whether an earlier delivery of the same key still waits reads pending rows
    # only, however many done ones a busy key (one customer's notices) has behind it
    Index(
        "ix_deliveries_pending_in_order",
        "subscriber",
        "ordering_key",
        "seq",
        **only_where("status = 'pending'"),
    ),
)

# -- the nacha processor's books -------------------------------------------

#: Each debit or credit taken for a NACHA file, keyed by its payment's reference.
ach_entries = Table(
    "ach_entries",
    metadata,
    Column("reference", String(64), primary_key=True),
    Column("tenant_id", Id, nullable=False),
    Column("transaction_code", Integer, nullable=False),
    Column("routing_number", String(9), nullable=False),
    Column("account_number_enc", Text, nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("name", String(100), nullable=False),
    Column("taken_at", Moment, nullable=False),
    Column("file_name", String(100)),
    Column("trace_number", String(15), unique=True),
    Column("effective_date", Date),
    Column("return_code", String(3)),
    Index(None, "file_name", "taken_at"),
)

#: Each NACHA file as made, recorded before it is written out (its content encrypted).
ach_files = Table(
    "ach_files",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("created_at", Moment, nullable=False),
    Column("content_enc", Text, nullable=False),
    Column("entries", Integer, nullable=False),
    Column("total_debit_cents", BigInteger, nullable=False),
    Column("total_credit_cents", BigInteger, nullable=False),
    Column("effective_date", Date, nullable=False),
    Column("announced", Boolean, nullable=False, server_default=false()),
)

#: The cut-offs filed, so that each is filed once.
ach_cut_offs = Table(
    "ach_cut_offs",
    metadata,
    Column("at", String(40), primary_key=True),
)
