"""The ``cbp`` command line: one function per sub-command, a container each run.

Each command imports the machinery it alone needs (the HTTP server, the
migrations, the file formats) when it runs, so that a worker or a relay
process does not carry the API server in memory.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy.engine import make_url

from cbp.adapters.sql.crypto import FieldCipher
from cbp.adapters.sql.setup import DatabaseNotReady
from cbp.bootstrap import Cbp, bootstrap
from cbp.domain.errors import DomainError, InvalidInput
from cbp.entrypoints.progress import ProgressBar
from cbp.services import commands as c
from cbp.services.auditing import (
    audit_checkpoint,
    chain_audit_log,
    check_checkpoint,
    verify_audit_log,
)
from cbp.services.directory import import_directory
from cbp.services.replay import rebuild_payment_views
from cbp.services.routing import SERVICES, broker_queues
from cbp.settings import ConfigurationError, Settings

Command = Callable[[argparse.Namespace], int]


@contextmanager
def opened(*, may_create: bool = False) -> Iterator[Cbp]:
    """A core on the configured adapters, closed afterwards.

    Only a command that sets a database up (``demo`` here; ``migrate`` and
    ``serve`` on their own) may create a SQLite file; the others, run where
    there is none, say where they looked instead of answering from an empty
    new one.
    """
    settings = Settings()
    if not may_create:
        _require_existing_database(settings.database_url)
    app = bootstrap(settings)
    try:
        yield app
    finally:
        app.close()


def _require_existing_database(database_url: str) -> None:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return
    path = Path(url.database)
    if not path.exists():
        raise ConfigurationError(
            f"no database at {path.resolve()}: run this where cbp keeps its data, set "
            "CBP_DATABASE_URL, or create one with `cbp migrate`"
        )


def _uses_sql(app: Cbp) -> bool:
    settings: Settings = app.container.settings()
    return settings.backend(settings.database_url) in {"sqlite", "postgresql"}


def _require_sql(app: Cbp) -> None:
    if not _uses_sql(app):
        raise SystemExit("this command needs a SQL database (set CBP_DATABASE_URL)")


def cmd_demo(_: argparse.Namespace) -> int:
    """Run a scripted payment's life on the configured adapters: four payments, four endings."""
    from cbp.demo import run_demo

    with opened(may_create=True) as app:
        run_demo(app)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the HTTP API with gunicorn, and on the in-process broker its workers too.

    Workers and threads come from CBP_HTTP_WORKERS and CBP_HTTP_THREADS;
    TLS with --certfile and --keyfile.
    """
    from cbp.entrypoints.serve import api_server, seed_first_run

    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    settings = Settings(**overrides)
    if bool(args.certfile) != bool(args.keyfile):
        raise SystemExit("give both --certfile and --keyfile for TLS")

    def first_run(app: Cbp) -> None:
        keys = seed_first_run(app)
        if keys is not None:
            operator_file = _write_private(_operator_key_path(settings), keys.operator)
            print("First run: a demo directory and the tenant 'Demo Bank' were created.")
            print(f"An operator key (directory, status, all dead letters) is in {operator_file}.")
            print("The tenant's API key has every tenant scope; it is shown only now:")
            print(keys.tenant, flush=True)

    in_memory = settings.backend(settings.database_url) == "memory"
    if in_memory and settings.http_workers != 1:
        raise ConfigurationError("an in-memory store lives in one process: set CBP_HTTP_WORKERS=1")
    if settings.http_workers > 1:
        settings.require_shared_processor_books("CBP_HTTP_WORKERS starts several API processes")
    if settings.seeds_demo and not in_memory:
        with opened(may_create=True) as app:
            first_run(app)
    seed_in_server = first_run if settings.seeds_demo and in_memory else None
    server = api_server(
        settings, certfile=args.certfile, keyfile=args.keyfile, on_start=seed_in_server
    )
    server.run()
    return 0


def _operator_key_path(settings: Settings) -> str:
    """Beside a SQLite database (``cbp.db.operator-key``), else in the working directory."""
    if settings.backend(settings.database_url) == "sqlite":
        return f"{make_url(settings.database_url).database or 'cbp.db'}.operator-key"
    return "cbp.operator-key"


def _write_private(path: str, secret: str) -> str:
    """Write ``secret`` to a new file only its owner may read; return the path."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secret + "\n")
    return path


def cmd_simulator_serve(args: argparse.Namespace) -> int:
    """Serve the processor and verifier simulator over HTTP, with fault injection."""
    from cbp.entrypoints.serve import simulator_server

    secret = os.environ.get("CBP_SIMULATOR_EVENTS_SECRET")
    if args.events_url and not secret:
        raise SystemExit("--events-url needs CBP_SIMULATOR_EVENTS_SECRET (the whsec_ secret)")
    simulator_server(
        host=args.host,
        port=args.port,
        threads=args.threads,
        ledger_path=args.ledger,
        settle_after_seconds=args.settle_after,
        events_url=args.events_url,
        events_secret=secret,
    ).run()
    return 0


def cmd_openapi(args: argparse.Namespace) -> int:
    """Write the OpenAPI document (the checked-in api.json is this output)."""
    from cbp.adapters.falcon.openapi import build_spec

    document = json.dumps(build_spec(), indent=1) + "\n"
    if args.output:
        Path(args.output).write_text(document, encoding="utf-8")
        print(f"wrote {args.output}")
    else:
        sys.stdout.write(document)
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    """Migrate the database up (or down) to a revision."""
    from cbp.adapters.sql import migrate
    from cbp.adapters.sql.engine import build_engine

    engine = build_engine(Settings().database_url)
    try:
        if args.downgrade:
            migrate.downgrade(engine, args.revision or "base")
        else:
            migrate.upgrade(engine, args.revision or "head")
        print(f"database at revision {migrate.current_revision(engine) or 'base'}")
    finally:
        engine.dispose()
    return 0


def cmd_replay(_: argparse.Namespace) -> int:
    """Rebuild every projection from the event store."""
    with opened() as app:
        count = rebuild_payment_views(app.deps, progress=ProgressBar("replay"))
    print(f"rebuilt the views of {count} payments")
    return 0


def cmd_keys_generate(_: argparse.Namespace) -> int:
    """Print a new encryption key."""
    print(FieldCipher.generate_key())
    return 0


def cmd_secrets_generate(_: argparse.Namespace) -> int:
    """Print the secret settings of a new deployment, ready to set on every process."""
    print(f"CBP_API_KEY_SECRET={secrets.token_urlsafe(48)}")
    print(f"CBP_ENCRYPTION_KEYS={FieldCipher.generate_key()}")
    print(f"CBP_AUDIT_KEY={secrets.token_urlsafe(48)}")
    return 0


def cmd_keys_rotate(_: argparse.Namespace) -> int:
    """Re-encrypt every stored number under the newest key."""
    from cbp.adapters.sql.maintenance import rotate_encryption_keys

    with opened() as app:
        _require_sql(app)
        rows = rotate_encryption_keys(
            app.container.engine(), app.container.cipher(), progress=ProgressBar("rotate")
        )
    print(f"re-encrypted {rows} rows under the newest key")
    return 0


def cmd_directory_import(args: argparse.Namespace) -> int:
    """Import billers from a CSV or JSON file."""
    from cbp.adapters.files.directory_files import read_directory

    path = Path(args.file)
    if not path.is_file():
        raise SystemExit(f"no such file: {path}")
    with opened() as app:
        total = sum(1 for _ in read_directory(path))
        bar = ProgressBar("import")
        added = import_directory(
            app.deps, read_directory(path), progress=lambda done: bar(done, total)
        )
    print(f"imported {added} billers")
    return 0


def cmd_directory_generate(args: argparse.Namespace) -> int:
    """Generate a synthetic directory into the database or a file."""
    from cbp.adapters.files.directory_files import write_directory
    from cbp.adapters.files.synthetic import generate_billers

    billers = generate_billers(args.count, seed=args.seed)
    if args.output:
        written = write_directory(Path(args.output), billers)
        print(f"wrote {written} billers to {args.output}")
        return 0
    with opened() as app:
        bar = ProgressBar("generate")
        added = import_directory(app.deps, billers, progress=lambda n: bar(n, args.count))
    print(f"added {added} billers")
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    """Set up a new database: its first tenant, that tenant's key, an operator key, a directory."""
    from cbp.adapters.files.directory_files import read_directory
    from cbp.entrypoints.serve import first_tenant

    directory = Path(args.directory) if args.directory else None
    if directory is not None and not directory.is_file():
        raise InvalidInput(f"no such file: {directory}")
    with opened() as app:
        keys = first_tenant(app, args.name, actor="cli", contact_email=args.contact_email)
        if keys is None:
            raise InvalidInput(
                "this database has tenants already: add one with cbp tenant create, "
                "and keys with cbp api-key create"
            )
        added = import_directory(app.deps, read_directory(directory)) if directory else 0
    print(f"tenant {keys.tenant_id} ({args.name})")
    print(f"directory: {added} billers imported")
    print("operator key (directory, status, every tenant's dead letters), shown once:")
    print(keys.operator)
    print("the tenant's key (every tenant scope), shown once:")
    print(keys.tenant)
    return 0


def cmd_reference(args: argparse.Namespace) -> int:
    """Print the configuration or command-line reference, or the API by example; or write it.

    With --write, the text goes between the file's markers for it.
    """
    from cbp.entrypoints.reference import (
        command_reference,
        configuration_reference,
        replace_generated,
    )

    if args.reference == "api":
        from cbp.entrypoints.api_examples import api_examples

        table = api_examples()
    elif args.reference == "configuration":
        table = configuration_reference()
    else:
        table = command_reference(build_parser())
    if not args.write:
        print(table, end="")
        return 0
    path = Path(args.write)
    try:
        path.write_text(replace_generated(path.read_text(), args.reference, table))
    except (OSError, ValueError) as error:
        raise InvalidInput(f"cannot write the reference into {path}: {error}") from None
    print(f"wrote the {args.reference} reference into {path}")
    return 0


def cmd_tenant_create(args: argparse.Namespace) -> int:
    """Create a tenant; its id is the last line of output."""
    with opened() as app:
        command = c.CreateTenant(name=args.name, contact_email=args.contact_email, actor="cli")
        print(app.handle(command))
    return 0


def cmd_tenant_list(_: argparse.Namespace) -> int:
    """Print every tenant: id, name, contact address."""
    with opened() as app:
        tenants = app.queries.tenants()
    for tenant in tenants:
        print(f"{tenant.id}\t{tenant.name}\t{tenant.contact_email or '-'}")
    print(f"{len(tenants)} tenants")
    return 0


def cmd_tenant_set_contact(args: argparse.Namespace) -> int:
    """Set the address a tenant is told at when its webhook endpoint is paused."""
    with opened() as app:
        app.handle(c.SetTenantContact(tenant_id=args.tenant, contact_email=args.email, actor="cli"))
    print(f"contact of {args.tenant}: {args.email or 'none'}")
    return 0


def cmd_tenant_set_limits(args: argparse.Namespace) -> int:
    """Set the daily and per-payment limits of each of a tenant's customers."""
    with opened() as app:
        app.handle(
            c.SetCustomerLimits(
                tenant_id=args.tenant,
                daily_limit=args.daily,
                payment_limit=args.per_payment,
                actor="cli",
            )
        )
    print(f"limits of {args.tenant}: daily {args.daily or 'none'}, ", end="")
    print(f"per payment {args.per_payment or 'none'}")
    return 0


def cmd_ach_cut_off(_: argparse.Namespace) -> int:
    """File every pending ACH entry now, whatever the cut-off times."""
    with opened() as app:
        names = app.handle(c.RunAchCutOff(now=True, actor="cli"))
    for name in names:
        print(name)
    print(f"{len(names)} file(s) handed off")
    return 0


def cmd_ach_read_returns(args: argparse.Namespace) -> int:
    """Apply an ODFI's return file: returns to payments, changes to funding accounts.

    Each entry is printed with what became of it, by its trace number; the
    last line counts them.
    """
    try:
        content = Path(args.file).read_text(encoding="ascii")
    except FileNotFoundError:
        raise InvalidInput(f"no such file: {args.file}") from None
    except (OSError, UnicodeDecodeError) as error:
        reason = "it is not ASCII" if isinstance(error, UnicodeDecodeError) else error.strerror
        raise InvalidInput(f"cannot read {args.file}: {reason}") from None
    with opened() as app:
        applied = app.handle(c.ReadAchReturns(content=content, name=args.file, actor="cli"))
    for trace_number, outcome in applied.outcomes:
        print(f"{trace_number} {outcome}")
    print(
        f"{applied.returned} returned, {applied.changed} changed, "
        f"{applied.already_applied} applied before, {applied.noted} noted, "
        f"{applied.unknown} not ours"
    )
    return 0


def cmd_ach_import_ledger(args: argparse.Namespace) -> int:
    """Move an earlier version's ledger file (its own SQLite file) into the database, once."""
    from cbp.adapters.sql.ach_ledger import import_ledger_file

    with opened() as app:
        _require_sql(app)
        try:
            moved = import_ledger_file(
                app.container.engine(), app.container.cipher(), Path(args.file)
            )
        except ValueError as error:
            raise InvalidInput(str(error)) from None
    print(
        f"moved {moved.entries} entries, {moved.files} files and {moved.cut_offs} cut-offs "
        f"from {args.file}"
    )
    return 0


def _hours(text: str) -> float:
    """A number of hours, zero or more, given on the command line."""
    try:
        hours = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of hours: {text!r}") from None
    if not 0 <= hours <= 24 * 365:
        raise argparse.ArgumentTypeError(f"must be from 0 to 8760 hours: {text!r}")
    return hours


def _amount(text: str) -> Decimal:
    """A positive amount given on the command line."""
    try:
        amount = Decimal(text)
    except ArithmeticError:
        raise argparse.ArgumentTypeError(f"not an amount: {text!r}") from None
    if not amount.is_finite() or amount <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive amount: {text!r}")
    return amount


def _print_endpoint(app: Cbp, tenant_id: str) -> None:
    endpoint = app.queries.webhook_endpoint(tenant_id)
    print(f"endpoint {endpoint.id} {endpoint.status.value} {endpoint.url}")
    if endpoint.failing_since:
        print(f"failing since {endpoint.failing_since.isoformat()}")


def cmd_webhook_register(args: argparse.Namespace) -> int:
    """Register a tenant's webhook endpoint; the signing secret is the last line, shown once."""
    with opened() as app:
        issued = app.handle(
            c.RegisterWebhookEndpoint(tenant_id=args.tenant, url=args.url, actor="cli")
        )
        _print_endpoint(app, args.tenant)
    print("signing secret (store it now; it is not shown again):")
    print(issued.secret)
    return 0


def cmd_webhook_show(args: argparse.Namespace) -> int:
    """Print the tenant's endpoint and its health."""
    with opened() as app:
        _print_endpoint(app, args.tenant)
    return 0


def cmd_webhook_change(args: argparse.Namespace) -> int:
    """Send a tenant's webhooks to another URL."""
    with opened() as app:
        app.handle(c.ChangeWebhookEndpoint(tenant_id=args.tenant, url=args.url, actor="cli"))
        _print_endpoint(app, args.tenant)
    return 0


def cmd_webhook_rotate(args: argparse.Namespace) -> int:
    """Rotate the signing secret; the new one is the last line, shown once."""
    with opened() as app:
        issued = app.handle(c.RotateWebhookSecret(tenant_id=args.tenant, actor="cli"))
    print("new signing secret (the old one also signs for the overlap):")
    print(issued.secret)
    return 0


def cmd_webhook_resume(args: argparse.Namespace) -> int:
    """Resume a paused endpoint and send it what it missed."""
    with opened() as app:
        replayed = app.handle(c.ResumeWebhookEndpoint(tenant_id=args.tenant, actor="cli"))
    print(f"resumed; {replayed} webhooks queued again")
    return 0


def cmd_webhook_replay(args: argparse.Namespace) -> int:
    """Send the webhooks made since a moment again."""
    try:
        since = datetime.fromisoformat(args.since)
    except ValueError:
        raise SystemExit("--since must be an ISO 8601 moment, e.g. 2026-11-20T00:00:00Z") from None
    if since.tzinfo is None:
        raise SystemExit("--since must carry a time zone (Z or an offset)")
    with opened() as app:
        replayed = app.handle(
            c.ReplayWebhooks(
                tenant_id=args.tenant, since=since, unsent_only=args.unsent_only, actor="cli"
            )
        )
    print(f"{replayed} webhooks queued again")
    return 0


def cmd_webhook_remove(args: argparse.Namespace) -> int:
    """Remove a tenant's webhook endpoint."""
    with opened() as app:
        app.handle(c.RemoveWebhookEndpoint(tenant_id=args.tenant, actor="cli"))
    print(f"removed the webhook endpoint of {args.tenant}")
    return 0


def cmd_api_key_create(args: argparse.Namespace) -> int:
    """Issue an API key; the key is the last line of output, shown once."""
    if bool(args.tenant) == args.operator:
        raise SystemExit("give --tenant ID for a tenant's key, or --operator for an operator key")
    with opened() as app:
        issued = app.handle(
            c.CreateApiKey(
                tenant_id=args.tenant,
                scopes=tuple(scope for group in args.scope for scope in group),
                name=args.name,
                actor="cli",
            )
        )
    print(f"key id {issued.key_id} (store the key below now; it is not shown again)")
    print(issued.token)
    return 0


def cmd_api_key_list(args: argparse.Namespace) -> int:
    """Print the keys: id, tenant, scopes, name, and whether revoked (never a secret)."""
    with opened() as app:
        keys = app.queries.api_keys(args.tenant)
    now = datetime.now(UTC)
    for key in keys:
        state = "active"
        if key.revoked_at is not None:
            retiring = key.is_active_at(now)
            state = f"{'retires' if retiring else 'revoked'} {key.revoked_at.isoformat()}"
        scopes = ",".join(sorted(s.value for s in key.scopes))
        print(f"{key.id}\t{key.tenant_id}\t{scopes}\t{key.name or '-'}\t{state}")
    print(f"{len(keys)} keys")
    return 0


def cmd_api_key_rotate(args: argparse.Namespace) -> int:
    """Issue a key with the same tenant, scopes and name; the old key works for the overlap.

    The new key is the last line of output, shown once.
    """
    with opened() as app:
        issued = app.handle(
            c.RotateApiKey(
                key_id=args.key_id, overlap_seconds=round(args.overlap_hours * 3600), actor="cli"
            )
        )
    print(f"{args.key_id} stops working in {args.overlap_hours:g} hours")
    print(f"key id {issued.key_id} (store the key below now; it is not shown again)")
    print(issued.token)
    return 0


def cmd_api_key_revoke(args: argparse.Namespace) -> int:
    """Revoke an API key by its id."""
    with opened() as app:
        app.handle(c.RevokeApiKey(key_id=args.key_id, actor="cli"))
    print(f"revoked {args.key_id}")
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """Consume the broker's queues until SIGTERM; with --service, one service's only.

    The services (payments, validation, notifications, exceptions, audit)
    then scale and restart on their own.
    """
    from cbp.entrypoints.workers import run_workers

    run_workers(Settings(), args.service)
    return 0


def cmd_relay(_: argparse.Namespace) -> int:
    """Relay the outbox, lease deliveries to the broker and run the periodic jobs until SIGTERM.

    The periodic jobs: the reconciler, the sweep of due payments, recurring
    occurrences, the expiry of micro-deposits, the purges.
    """
    from cbp.entrypoints.workers import run_relay

    run_relay(Settings())
    return 0


def _deployment_queues() -> tuple[str, str, list[str]]:
    """The broker's URL, cbp's Redis namespace on it, and this deployment's queue names."""
    settings = Settings()
    if settings.backend(settings.broker_url) == "memory":
        raise ConfigurationError(
            "the in-process broker keeps no queues: set CBP_BROKER_URL=amqp://... or redis://..."
        )
    names = [settings.queue_prefix + queue for queue in broker_queues()]
    return settings.broker_url, f"{settings.redis_prefix}dramatiq", names


def cmd_broker_queues(_: argparse.Namespace) -> int:
    """Print this deployment's queues that the broker holds, with the messages in each."""
    from cbp.adapters.dramatiq.queues import existing_queues

    queues = existing_queues(*_deployment_queues())
    for queue in queues:
        print(f"{queue.name}\t{queue.messages}")
    print(f"{len(queues)} queues, {sum(q.messages for q in queues)} messages")
    return 0


def cmd_broker_remove(_: argparse.Namespace) -> int:
    """Remove this deployment's queues from the broker (stop its workers first)."""
    from cbp.adapters.dramatiq.queues import remove_queues

    removed = remove_queues(*_deployment_queues())
    print(f"removed {len(removed)} queues holding {sum(q.messages for q in removed)} messages")
    return 0


def cmd_dead_letters_list(args: argparse.Namespace) -> int:
    """Print the dead deliveries, oldest first: id, subscriber, attempts, last error."""
    with opened() as app:
        dead = app.queries.dead_letters(limit=args.limit)
    for delivery in dead:
        message = delivery.message
        print(
            f"{delivery.id}\t{delivery.subscriber}\t{message.type}\t"
            f"attempts={delivery.attempts}\t{delivery.last_error or ''}"
        )
    print(f"{len(dead)} dead letters")
    return 0


def cmd_dead_letters_retry(args: argparse.Namespace) -> int:
    """Make dead deliveries due again with fresh attempts (all of them with --all)."""
    if bool(args.delivery_id) == args.all:
        raise SystemExit("name delivery ids, or give --all")
    with opened() as app:
        ids = args.delivery_id or [d.id for d in app.queries.dead_letters(limit=10_000)]
        for delivery_id in ids:
            app.handle(c.RetryDeadLetter(delivery_id=delivery_id, actor="cli"))
    print(f"retrying {len(ids)} dead letters")
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    """Check the audit log's keyed chain (and a checkpoint); exit 1 if it does not hold."""
    with opened() as app:
        checked, broken = verify_audit_log(app.deps)
        lost = check_checkpoint(app.deps, args.checkpoint) if args.checkpoint else None
    if broken is not None:
        print(f"audit log BROKEN at entry {broken} (after {checked} good entries)")
        return 1
    if lost is not None:
        print(f"audit log BROKEN: {lost}")
        return 1
    print(f"audit log intact: {checked} entries")
    return 0


def cmd_audit_show(args: argparse.Namespace) -> int:
    """Print a record's audit trail: each entry's sequence, time, actor, action and data."""
    with opened() as app:
        chain_audit_log(app.deps)  # NOTE: what was recorded a moment ago shows too
        entries = app.queries.audit_trail(args.subject_id)
    for entry in entries:
        data = json.dumps(entry.data, sort_keys=True, default=str)
        print(
            f"{entry.sequence}\t{entry.recorded_at.isoformat()}\t{entry.actor}\t"
            f"{entry.action}\t{data}"
        )
    print(f"{len(entries)} entries about {args.subject_id}")
    return 0


def cmd_audit_checkpoint(_: argparse.Namespace) -> int:
    """Print the chain's head (SEQUENCE:HASH) to keep outside the database."""
    with opened() as app:
        head = audit_checkpoint(app.deps)
    if head is None:
        raise SystemExit("the audit log is empty: nothing to checkpoint yet")
    print(head)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every ``cbp`` sub-command."""
    parser = argparse.ArgumentParser(
        prog="cbp",
        description="Consumer Bill Payment engine. Settings come from CBP_* variables.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(
        name: str,
        run: Command,
        help_text: str,
        into: argparse._SubParsersAction[argparse.ArgumentParser] | None = None,
    ) -> argparse.ArgumentParser:
        command = (into or sub).add_parser(name, help=help_text, description=help_text)
        command.set_defaults(run=run)
        return command

    add("demo", cmd_demo, "run a scripted payment's life on the configured adapters")
    serve = add("serve", cmd_serve, "serve the HTTP API (gunicorn)")
    serve.add_argument("--host", help="address to bind (default 127.0.0.1, or CBP_HOST)")
    serve.add_argument("--port", type=int, help="port (default 8000, or CBP_PORT)")
    serve.add_argument("--certfile", help="TLS certificate (PEM)")
    serve.add_argument("--keyfile", help="TLS private key (PEM)")
    simulator = sub.add_parser("simulator", help="the processor simulator").add_subparsers(
        dest="simulator", required=True
    )
    sim = add("serve", cmd_simulator_serve, "serve the simulated processor over HTTP", simulator)
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=int, default=8100)
    sim.add_argument("--threads", type=int, default=64, help="calls served at once")
    sim.add_argument("--ledger", help="the ledger file (SQLite); in memory without it")
    sim.add_argument("--settle-after", type=float, default=0.0, help="seconds to settlement")
    sim.add_argument(
        "--events-url",
        help="push signed outcome events here (cbp's /processor/events), with the secret "
        "in CBP_SIMULATOR_EVENTS_SECRET",
    )
    add("openapi", cmd_openapi, "print the OpenAPI document").add_argument(
        "--output", help="write it to this file (api.json) instead"
    )
    reference = add("reference", cmd_reference, "print a reference table of the docs")
    reference.add_argument("reference", choices=("configuration", "cli", "api"))
    reference.add_argument("--write", metavar="FILE", help="put it between the file's markers")
    init = add("init", cmd_init, "set up a new database: first tenant, its keys, a directory")
    init.add_argument("name", help="the first tenant's name")
    init.add_argument("--contact-email", help="where the tenant is told of paused webhooks")
    init.add_argument("--directory", help="billers to import, from a .csv or .json file")
    migrate_cmd = add("migrate", cmd_migrate, "migrate the database schema")
    migrate_cmd.add_argument(
        "--revision", help="target revision (default: head, or base with --downgrade)"
    )
    migrate_cmd.add_argument("--downgrade", action="store_true", help="migrate down instead of up")
    add("replay", cmd_replay, "rebuild projections from the event store")

    keys = sub.add_parser("keys", help="encryption keys").add_subparsers(dest="keys", required=True)
    add("generate", cmd_keys_generate, "print a new key for CBP_ENCRYPTION_KEYS", keys)
    add("rotate", cmd_keys_rotate, "re-encrypt stored numbers under the first key", keys)
    secret_settings = sub.add_parser("secrets", help="a deployment's secrets").add_subparsers(
        dest="secrets", required=True
    )
    add("generate", cmd_secrets_generate, "print new secret settings to set", secret_settings)

    directory = sub.add_parser("directory", help="the biller directory").add_subparsers(
        dest="directory", required=True
    )
    add(
        "import", cmd_directory_import, "import billers from a .csv or .json file", directory
    ).add_argument("file")
    generate = add("generate", cmd_directory_generate, "generate a synthetic directory", directory)
    generate.add_argument("count", type=int)
    generate.add_argument("--seed", type=int, default=1)
    generate.add_argument("--output", help="write a .csv or .json file instead of the database")

    broker = sub.add_parser("broker", help="the broker's queues").add_subparsers(
        dest="broker", required=True
    )
    add("queues", cmd_broker_queues, "list this deployment's queues and their messages", broker)
    add("remove", cmd_broker_remove, "remove this deployment's queues (workers stopped)", broker)
    ach = sub.add_parser("ach", help="ACH files (the nacha processor)").add_subparsers(
        dest="ach", required=True
    )
    add("cut-off", cmd_ach_cut_off, "file every pending entry now", ach)
    add("read-returns", cmd_ach_read_returns, "apply an ODFI's return file", ach).add_argument(
        "file"
    )
    add(
        "import-ledger", cmd_ach_import_ledger, "move an earlier version's ledger file in", ach
    ).add_argument("file")

    tenant = sub.add_parser("tenant", help="tenants").add_subparsers(dest="tenant", required=True)
    tenant_create = add("create", cmd_tenant_create, "create a tenant", tenant)
    tenant_create.add_argument("name")
    tenant_create.add_argument("--contact-email", help="told when its webhooks stop landing")
    add("list", cmd_tenant_list, "list every tenant", tenant)
    contact = add("set-contact", cmd_tenant_set_contact, "set a tenant's contact address", tenant)
    contact.add_argument("--tenant", required=True)
    contact.add_argument("--email", help="the address; leave out to clear it")
    limits = add("set-limits", cmd_tenant_set_limits, "set each customer's payment limits", tenant)
    limits.add_argument("--tenant", required=True)
    limits.add_argument(
        "--daily", type=_amount, help="most a customer may send on one day; leave out for none"
    )
    limits.add_argument(
        "--per-payment", type=_amount, help="most one payment may be; leave out for none"
    )

    webhook = sub.add_parser("webhook", help="a tenant's webhook endpoint").add_subparsers(
        dest="webhook", required=True
    )
    for name, run, text in (
        ("register", cmd_webhook_register, "register the endpoint (prints its secret once)"),
        ("change", cmd_webhook_change, "send to another URL"),
        ("show", cmd_webhook_show, "show the endpoint and its health"),
        ("rotate", cmd_webhook_rotate, "rotate the signing secret (prints the new one once)"),
        ("resume", cmd_webhook_resume, "resume a paused endpoint and send what it missed"),
        ("replay", cmd_webhook_replay, "send the webhooks made since a moment again"),
        ("remove", cmd_webhook_remove, "remove the endpoint"),
    ):
        action = add(name, run, text, webhook)
        action.add_argument("--tenant", required=True)
        if name in ("register", "change"):
            action.add_argument("--url", required=True)
        if name == "replay":
            action.add_argument("--since", required=True, help="ISO 8601, with a time zone")
            action.add_argument("--unsent-only", action="store_true", help="only undelivered")

    api_key = sub.add_parser("api-key", help="API keys").add_subparsers(
        dest="api_key", required=True
    )
    create = add("create", cmd_api_key_create, "issue an API key", api_key)
    create.add_argument("--tenant", help="the tenant the key acts for")
    create.add_argument(
        "--operator",
        action="store_true",
        help="a key bound to no tenant: directory:admin, operations:read, messages:admin",
    )
    create.add_argument(
        "--scope",
        action="append",
        nargs="+",
        required=True,
        help="one or more scopes (the flag may also be repeated)",
    )
    create.add_argument("--name", default="")
    add("revoke", cmd_api_key_revoke, "revoke an API key", api_key).add_argument("key_id")
    rotate = add("rotate", cmd_api_key_rotate, "issue a key's successor, retire it later", api_key)
    rotate.add_argument("key_id")
    rotate.add_argument(
        "--overlap-hours",
        type=_hours,
        default=24.0,
        help="how long the old key keeps working (default 24)",
    )
    add("list", cmd_api_key_list, "list API keys (never their secrets)", api_key).add_argument(
        "--tenant", help="only this tenant's"
    )

    audit = sub.add_parser("audit", help="the audit log").add_subparsers(
        dest="audit", required=True
    )
    add("verify", cmd_audit_verify, "verify the audit log's keyed hash chain", audit).add_argument(
        "--checkpoint", help="SEQUENCE:HASH from `cbp audit checkpoint`: also catch a cut tail"
    )
    add("checkpoint", cmd_audit_checkpoint, "print the chain's head, to keep elsewhere", audit)
    add(
        "show", cmd_audit_show, "print a record's audit trail (a payment, payee...)", audit
    ).add_argument("subject_id")

    add(
        "worker", cmd_worker, "consume the broker's queues (CBP_WORKER_PROCESSES, _THREADS)"
    ).add_argument(
        "--service",
        choices=sorted(SERVICES),
        help="only this internal service's queues (default: every service)",
    )
    add("relay", cmd_relay, "relay the outbox to the broker; run the reconciler and sweep")
    dead = sub.add_parser("dead-letters", help="deliveries that ran out of attempts")
    dead_sub = dead.add_subparsers(dest="dead_letters", required=True)
    add("list", cmd_dead_letters_list, "list dead deliveries", dead_sub).add_argument(
        "--limit", type=int, default=100
    )
    retry = add("retry", cmd_dead_letters_retry, "retry dead deliveries", dead_sub)
    retry.add_argument("delivery_id", nargs="*")
    retry.add_argument("--all", action="store_true", help="retry every dead delivery")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``cbp`` sub-command; the exit status is the return value."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    try:
        return int(args.run(args))
    except (DomainError, DatabaseNotReady, ConfigurationError) as error:
        print(f"cbp: {getattr(error, 'detail', error)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
