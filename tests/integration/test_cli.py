"""The `cbp` command on the embedded default (SQLite), run as a user would."""

import dataclasses
import json
import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from cbp.adapters.sql.crypto import FieldCipher
from cbp.adapters.sql.migrate import MIGRATIONS
from cbp.domain.audit import AuditEntry
from tests.conftest import require_service
from tests.databases import POSTGRES_ADMIN_URL

HEAD = ScriptDirectory(str(MIGRATIONS)).get_current_head()


def cbp(
    cwd: Path, *args: str, env: dict[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CBP_")} | (env or {})
    result = subprocess.run(
        [sys.executable, "-m", "cbp.entrypoints.cli", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def fresh(tmp_path: Path) -> Path:
    """A folder with no database yet."""
    return tmp_path


@pytest.fixture
def home(fresh: Path) -> Path:
    """A folder with a migrated embedded database."""
    cbp(fresh, "migrate")
    return fresh


def test_the_first_run_creates_migrates_and_secures_the_embedded_database(fresh: Path) -> None:
    home = fresh
    result = cbp(home, "demo")
    statuses = [
        line.split()[3] for line in result.stdout.splitlines() if line.startswith("payment ")
    ]
    assert statuses == ["completed", "failed", "returned", "completed"]
    payee = next(line.split()[1] for line in result.stdout.splitlines() if line.startswith("payee"))
    trail = cbp(home, "audit", "show", payee).stdout.splitlines()
    assert "\tsystem\tAddPayee\t" in trail[0] and "****3456" in trail[0]
    assert trail[-1] == f"{len(trail) - 1} entries about {payee}"
    assert cbp(home, "audit", "show", "pmt_none").stdout == "0 entries about pmt_none\n"
    assert (home / "cbp.db").is_file()
    assert oct((home / "cbp.db").stat().st_mode & 0o777) == "0o600"
    secrets = home / "cbp.db.secrets.json"
    assert oct(secrets.stat().st_mode & 0o777) == "0o600"
    assert cbp(home, "migrate").stdout.strip() == f"database at revision {HEAD}"


def test_a_database_made_by_migrate_is_readable_by_its_owner_only(fresh: Path) -> None:
    assert cbp(fresh, "migrate").stdout.strip() == f"database at revision {HEAD}"
    assert oct((fresh / "cbp.db").stat().st_mode & 0o777) == "0o600"


def test_a_command_where_there_is_no_database_says_where_it_looked(fresh: Path) -> None:
    listed = cbp(fresh, "api-key", "list", check=False)
    assert listed.returncode == 2 and listed.stdout == ""
    assert listed.stderr == (
        f"cbp: no database at {fresh.resolve() / 'cbp.db'}: run this where cbp keeps its "
        "data, set CBP_DATABASE_URL, or create one with `cbp migrate`\n"
    )
    assert not (fresh / "cbp.db").exists()


def test_tenant_and_api_key_commands_print_the_value_alone_on_the_last_line(home: Path) -> None:
    tenant_id = cbp(home, "tenant", "create", "Acme Bank").stdout.splitlines()[-1]
    assert tenant_id.startswith("ten_")
    created = cbp(
        home,
        "api-key",
        "create",
        "--tenant",
        tenant_id,
        "--scope",
        "payments:read",
        "--scope",
        "payees:write",
    ).stdout.splitlines()
    key_id, token = created[-1].split(".")[0], created[-1]
    assert key_id.startswith("key_") and len(token) > 40
    assert cbp(home, "api-key", "revoke", key_id).stdout.strip() == f"revoked {key_id}"
    refused = cbp(home, "api-key", "create", "--tenant", tenant_id, "--scope", "nope", check=False)
    assert refused.returncode == 2 and "unknown scopes: nope" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_a_directory_round_trips_through_files_and_is_searchable(home: Path) -> None:
    cbp(home, "directory", "generate", "300", "--seed", "9", "--output", "billers.json")
    cbp(home, "directory", "generate", "300", "--seed", "9", "--output", "billers.csv")
    records = json.loads((home / "billers.json").read_text())
    assert len(records) == 300 and {"name", "address", "account_masks"} <= set(records[0])
    assert "imported 300 billers" in cbp(home, "directory", "import", "billers.json").stdout
    imported = cbp(home, "directory", "import", "billers.csv")
    assert "imported 300 billers" in imported.stdout
    assert "import: 300/300 (100%)" in imported.stderr
    with sqlite3.connect(home / "cbp.db") as db:
        assert db.execute("SELECT count(*) FROM global_payees").fetchone() == (600,)
        names = {row[0] for row in db.execute("SELECT name FROM global_payees")}
    assert {r["name"] for r in records} <= names


def test_a_malformed_directory_file_names_the_bad_row(home: Path) -> None:
    (home / "bad.csv").write_text(
        "name,category,line1,city,state,postal_code,lead_days\nA,u,1 St,X,CA,1,99\n"
    )
    result = cbp(home, "directory", "import", "bad.csv", check=False)
    assert result.returncode == 2
    assert "row 1: lead days must be between 0 and 30" in result.stderr


def test_replay_rebuilds_the_views_and_keys_rotate(home: Path) -> None:
    cbp(home, "demo")
    with sqlite3.connect(home / "cbp.db") as db:
        before = db.execute("SELECT * FROM payment_views ORDER BY id").fetchall()
        db.execute("DELETE FROM payment_views")
    replay = cbp(home, "replay")
    assert "rebuilt the views of 4 payments" in replay.stdout
    with sqlite3.connect(home / "cbp.db") as db:
        assert db.execute("SELECT * FROM payment_views ORDER BY id").fetchall() == before
    secrets = json.loads((home / "cbp.db.secrets.json").read_text())
    new_key = FieldCipher.generate_key()
    env = {
        "CBP_API_KEY_SECRET": secrets["api_key_secret"],
        "CBP_ENCRYPTION_KEYS": f"{new_key},{secrets['encryption_keys'][0]}",
    }
    assert "re-encrypted 2 rows" in cbp(home, "keys", "rotate", env=env).stdout
    with sqlite3.connect(home / "cbp.db") as db:
        token = db.execute("SELECT account_number_enc FROM payees").fetchone()[0]
    assert FieldCipher([new_key]).decrypt(token) == "4417123456"


def test_audit_verify_passes_then_finds_a_tampered_entry(home: Path) -> None:
    cbp(home, "demo")
    assert "audit log intact" in cbp(home, "audit", "verify").stdout
    with sqlite3.connect(home / "cbp.db") as db:
        db.execute("UPDATE audit_log SET actor = 'mallory' WHERE sequence = 5")
    result = cbp(home, "audit", "verify", check=False)
    assert result.returncode == 1
    assert "BROKEN at entry 5" in result.stdout


def rechain_without_the_key(database: Path) -> None:
    """What an attacker with the database but not the key can do: recompute every hash."""
    from cbp.adapters.sql import codecs
    from cbp.adapters.sql import schema as tables

    engine = create_engine(f"sqlite:///{database}")
    log = tables.audit_log
    with engine.begin() as conn:
        previous = None
        for row in conn.execute(log.select().order_by(log.c.sequence)).all():
            entry = codecs.audit_from_row(row)
            forged = AuditEntry.following(
                previous, dataclasses.replace(entry, actor="mallory"), b"a guess"
            )
            conn.execute(
                log.update()
                .where(log.c.sequence == forged.sequence)
                .values(
                    actor=forged.actor,
                    previous_hash=forged.previous_hash,
                    entry_hash=forged.entry_hash,
                )
            )
            previous = forged
    engine.dispose()


def test_a_rewritten_chain_and_a_cut_tail_are_caught(home: Path) -> None:
    cbp(home, "demo")
    checkpoint = cbp(home, "audit", "checkpoint").stdout.strip()
    sequence = int(checkpoint.split(":")[0])
    assert sequence > 5
    assert "intact" in cbp(home, "audit", "verify", "--checkpoint", checkpoint).stdout
    with sqlite3.connect(home / "cbp.db") as db:
        db.execute("DELETE FROM audit_log WHERE sequence > ?", (sequence - 2,))
    cut = cbp(home, "audit", "verify", check=False)
    assert cut.returncode == 0  # NOTE: a cut chain is a valid chain: only the checkpoint knows
    cut = cbp(home, "audit", "verify", "--checkpoint", checkpoint, check=False)
    assert cut.returncode == 1 and "tail was cut off" in cut.stdout
    rechain_without_the_key(home / "cbp.db")
    forged = cbp(home, "audit", "verify", check=False)
    assert forged.returncode == 1 and "BROKEN at entry 1" in forged.stdout


@pytest.mark.services
def test_on_postgresql_the_command_needs_secrets_and_an_explicit_migration(fresh: Path) -> None:
    home = fresh
    require_service("PostgreSQL", POSTGRES_ADMIN_URL.replace("postgresql+psycopg", "postgresql"))
    name = f"cbp_cli_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        no_secrets = cbp(
            home, "tenant", "create", "Acme", env={"CBP_DATABASE_URL": url}, check=False
        )
        assert no_secrets.returncode == 2
        assert "CBP_API_KEY_SECRET and CBP_ENCRYPTION_KEYS must be set" in no_secrets.stderr
        env = {
            "CBP_DATABASE_URL": url,
            "CBP_API_KEY_SECRET": "s3cret",
            "CBP_ENCRYPTION_KEYS": FieldCipher.generate_key(),
        }
        unmigrated = cbp(home, "tenant", "create", "Acme", env=env, check=False)
        assert unmigrated.returncode == 2 and "run `cbp migrate` first" in unmigrated.stderr
        assert cbp(home, "migrate", env=env).stdout.strip() == f"database at revision {HEAD}"
        result = cbp(home, "demo", env=env)
        job = "job           completed: 2 completed, 1 returned, 1 failed, 0 pending"
        assert job in result.stdout
        assert "audit log intact" in cbp(home, "audit", "verify", env=env).stdout
        assert not (home / "cbp.db").exists()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_secrets_generate_prints_settings_a_deployment_starts_with(fresh: Path) -> None:
    lines = [cbp(fresh, "secrets", "generate").stdout.splitlines() for _ in range(2)]
    settings = [dict(line.split("=", 1) for line in run) for run in lines]
    assert [sorted(s) for s in settings] == [
        ["CBP_API_KEY_SECRET", "CBP_AUDIT_KEY", "CBP_ENCRYPTION_KEYS"]
    ] * 2
    assert settings[0] != settings[1]  # NOTE: new every time
    assert all(len(value) >= 43 for value in settings[0].values())
    FieldCipher([settings[0]["CBP_ENCRYPTION_KEYS"]]).encrypt("000123456789")
    memory = {"CBP_DATABASE_URL": "memory://", **settings[0]}
    assert cbp(fresh, "tenant", "create", "Bank A", env=memory).stdout.strip()


def test_workers_and_the_relay_need_a_real_broker(home: Path) -> None:
    shared = {"CBP_PROCESSOR_LEDGER_PATH": str(home / "processor.sqlite3")}
    for command in ("worker", "relay"):
        result = cbp(home, command, env=shared, check=False)
        assert result.returncode == 2
        assert "CBP_BROKER_URL" in result.stderr and "Traceback" not in result.stderr


def test_several_processes_need_the_simulated_processors_books_shared(home: Path) -> None:
    for command in (("worker",), ("relay",), ("serve",)):
        result = cbp(home, *command, env={"CBP_HTTP_WORKERS": "2"}, check=False)
        assert result.returncode == 2, result.stderr
        assert "CBP_PROCESSOR_LEDGER_PATH" in result.stderr.splitlines()[-1]
        assert "Traceback" not in result.stderr
    notifications = cbp(home, "worker", "--service", "notifications", check=False)
    assert "CBP_BROKER_URL" in notifications.stderr  # NOTE: it sends no payment


def test_a_setting_refused_is_named_before_any_process_starts(home: Path) -> None:
    refusals = {
        "CBP_CACHE_URL": ("bogus://x", "must start with one of memory://, redis://"),
        "CBP_REDIS_PREFIX": (":", "must name a namespace"),
        "CBP_HTTP_WORKERS": ("0", "greater than or equal to 1"),
    }
    for name, (value, why) in refusals.items():
        result = cbp(home, "serve", "--port", "1", env={name: value}, check=False)
        assert result.returncode == 2, result.stderr
        assert f"cbp: {name}: " in result.stderr and why in result.stderr
        assert "Traceback" not in result.stderr
    postgres = {"CBP_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/none"}
    result = cbp(home, "serve", "--port", "1", env=postgres, check=False)
    assert result.returncode == 2 and "CBP_API_KEY_SECRET" in result.stderr
    assert "Traceback" not in result.stderr and "gunicorn" not in result.stderr


def test_a_database_where_no_file_can_be_made_is_named_without_a_traceback(home: Path) -> None:
    blocker = home / "a-file"
    blocker.write_text("")
    unreachable = {"CBP_DATABASE_URL": f"sqlite:///{blocker}/cbp.db"}
    for command in (("serve", "--port", "1"), ("migrate",)):
        result = cbp(home, *command, env=unreachable, check=False)
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith(f"cbp: {blocker}: "), result.stderr
        assert "Traceback" not in result.stderr


def test_dead_letters_are_listed_and_a_retry_names_what_to_retry(home: Path) -> None:
    cbp(home, "demo")
    assert cbp(home, "dead-letters", "list").stdout.strip().endswith("0 dead letters")
    refused = cbp(home, "dead-letters", "retry", check=False)
    assert refused.returncode != 0 and "--all" in refused.stderr
    assert "retrying 0 dead letters" in cbp(home, "dead-letters", "retry", "--all").stdout
    missing = cbp(home, "dead-letters", "retry", "msg_missing.audit-log", check=False)
    assert missing.returncode == 2 and "not found" in missing.stderr


def test_the_demo_runs_beside_a_served_database_and_again(home: Path) -> None:
    cbp(home, "directory", "generate", "300", "--seed", "7")  # NOTE: a directory of its own
    for _ in range(2):
        result = cbp(home, "demo")
        assert "payment " in result.stdout
    with sqlite3.connect(home / "cbp.db") as db:
        (demo_billers,) = db.execute(
            "SELECT count(*) FROM global_payees WHERE name = 'cbp Demo Power & Light'"
        ).fetchone()
        names = [row[0] for row in db.execute("SELECT name FROM tenants")]
    assert demo_billers == 1
    assert names == ["Demo tour", "Demo tour"]


def test_several_scopes_follow_one_flag_and_keys_are_listed_without_secrets(home: Path) -> None:
    tenant_id = cbp(home, "tenant", "create", "Acme Bank").stdout.splitlines()[-1]
    token = cbp(
        home,
        "api-key",
        "create",
        "--tenant",
        tenant_id,
        "--scope",
        "payments:read",
        "payments:write",
    ).stdout.splitlines()[-1]
    listed = cbp(home, "api-key", "list", "--tenant", tenant_id).stdout
    assert token.split(".")[0] in listed and "payments:read,payments:write" in listed
    assert token.split(".")[1] not in listed
    assert listed.splitlines()[-1] == "1 keys"
    rotated = cbp(home, "api-key", "rotate", token.split(".")[0], "--overlap-hours", "2").stdout
    successor = rotated.splitlines()[-1]
    assert successor.split(".")[0] != token.split(".")[0]
    listed = cbp(home, "api-key", "list", "--tenant", tenant_id).stdout
    assert "\tretires " in listed and listed.splitlines()[-1] == "2 keys"
    refused = cbp(home, "api-key", "rotate", "key_x", "--overlap-hours", "-1", check=False)
    assert refused.returncode == 2 and "must be from 0 to 8760 hours" in refused.stderr
    tenants = cbp(home, "tenant", "list").stdout
    assert tenant_id in tenants and "Acme Bank" in tenants


def test_a_return_file_that_is_missing_or_broken_is_one_line_and_exit_2(home: Path) -> None:
    env = {
        "CBP_PROCESSOR": "nacha",
        "CBP_NACHA_OUTBOUND_DIR": str(home / "outbound"),
    }
    missing = cbp(home, "ach", "read-returns", "nowhere.ach", env=env, check=False)
    assert (missing.returncode, missing.stderr) == (2, "cbp: no such file: nowhere.ach\n")
    (home / "broken.ach").write_text("1" + "0" * 93 + "\n" + "5" * 50 + "\n")
    broken = cbp(home, "ach", "read-returns", "broken.ach", env=env, check=False)
    assert broken.returncode == 2 and "Traceback" not in broken.stderr, broken.stderr
    assert broken.stderr.startswith("cbp: the return file is not valid: record ")
    assert len(broken.stderr.splitlines()) == 1
    no_ledger = cbp(home, "ach", "import-ledger", "cbp-ach.db", env=env, check=False)
    assert (no_ledger.returncode, no_ledger.stderr) == (2, "cbp: no such file: cbp-ach.db\n")


def test_init_sets_up_a_new_database_once(home: Path) -> None:
    cbp(home, "directory", "generate", "25", "--output", "billers.csv")
    lines = cbp(
        home, "init", "Acme Bank", "--directory", "billers.csv", "--contact-email", "ops@acme.test"
    ).stdout.splitlines()
    tenant_id = lines[0].split()[1]
    assert lines[0] == f"{lines[0].split()[0]} {tenant_id} (Acme Bank)"
    assert lines[1] == "directory: 25 billers imported"
    operator, tenant_key = lines[3], lines[5]
    listed = cbp(home, "api-key", "list").stdout
    assert operator.split(".")[0] in listed and tenant_key.split(".")[0] in listed
    assert f"{tenant_id}\tAcme Bank\tops@acme.test" in cbp(home, "tenant", "list").stdout
    again = cbp(home, "init", "Other Bank", check=False)
    assert again.returncode == 2 and "has tenants already" in again.stderr
    missing = cbp(home, "init", "Other Bank", "--directory", "nowhere.csv", check=False)
    assert (missing.returncode, missing.stderr) == (2, "cbp: no such file: nowhere.csv\n")


def test_a_bill_file_s_refused_rows_are_named_and_the_rest_go_on(home: Path) -> None:
    tenant = cbp(home, "tenant", "create", "Bill Bank").stdout.split()[-1]
    (home / "bills.csv").write_text(
        "customer_id,payee_id,amount_due,minimum_due,statement_balance,due_on,statement_on,"
        "reference\n"
        "cus_nobody,pye_nothing,10.00,5.00,10.00,2027-01-15,2026-12-20,A-1\n"
        "cus_nobody,pye_nothing,10.00,5.00,10.00,15/01/2027,2026-12-20,A-2\n"
        "cus_nobody,,10.00,5.00,10.00,2027-01-15,2026-12-20,A-3\n"
    )
    result = cbp(home, "bills", "import", "bills.csv", "--tenant", tenant, check=False)
    assert result.returncode == 1
    refused = [line for line in result.stderr.splitlines() if line.startswith("row ")]
    assert refused == [
        "row 1: customer cus_nobody was not found",
        "row 2: due_on must be a date, YYYY-MM-DD",
        "row 3: missing payee_id",
    ]
    assert "presented 0 bills; 0 already presented, 3 refused" in result.stdout
