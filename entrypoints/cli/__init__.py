"""The ``cbp`` command line: one function per sub-command, a container each run.

Each command imports the machinery it alone needs (the HTTP server, the
migrations, the file formats) when it runs, so that a worker or a relay
process does not carry the API server in memory.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from cbp.adapters.sql.setup import DatabaseNotReady
from cbp.domain.errors import DomainError
from cbp.services.routing import SERVICES
from cbp.settings import ConfigurationError

from .access import (
    cmd_api_key_create,
    cmd_api_key_list,
    cmd_api_key_revoke,
    cmd_api_key_rotate,
    cmd_tenant_create,
    cmd_tenant_list,
    cmd_tenant_set_contact,
    cmd_tenant_set_limits,
    cmd_webhook_change,
    cmd_webhook_register,
    cmd_webhook_remove,
    cmd_webhook_replay,
    cmd_webhook_resume,
    cmd_webhook_rotate,
    cmd_webhook_show,
)
from .base import Command, amount, hours
from .operations import (
    cmd_ach_cut_off,
    cmd_ach_import_ledger,
    cmd_ach_read_returns,
    cmd_audit_checkpoint,
    cmd_audit_show,
    cmd_audit_verify,
    cmd_checks_print,
    cmd_checks_read_paid,
    cmd_checks_void,
    cmd_dead_letters_list,
    cmd_dead_letters_retry,
)
from .processes import (
    cmd_broker_queues,
    cmd_broker_remove,
    cmd_demo,
    cmd_relay,
    cmd_serve,
    cmd_simulator_serve,
    cmd_worker,
)
from .setup import (
    cmd_bills_import,
    cmd_directory_generate,
    cmd_directory_import,
    cmd_init,
    cmd_keys_generate,
    cmd_keys_rotate,
    cmd_migrate,
    cmd_openapi,
    cmd_reference,
    cmd_replay,
    cmd_secrets_generate,
)


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

    bills = sub.add_parser("bills", help="bills presented for customers").add_subparsers(
        dest="bills", required=True
    )
    bills_import = add(
        "import", cmd_bills_import, "present the bills of a .csv or .json file", bills
    )
    bills_import.add_argument("file")
    bills_import.add_argument("--tenant", required=True, help="the tenant whose customers owe them")

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

    checks = sub.add_parser("checks", help="checks cbp prints (CBP_CHECKS=printed)")
    checks_commands = checks.add_subparsers(dest="checks", required=True)
    add("print", cmd_checks_print, "print the checks issued since the last run", checks_commands)
    paid = add(
        "read-paid",
        cmd_checks_read_paid,
        "mark cashed the checks a paid-items file lists",
        checks_commands,
    )
    paid.add_argument("file")
    paid.add_argument("--tenant", required=True, help="the tenant whose account paid them")
    void = add("void", cmd_checks_void, "void a check not yet mailed", checks_commands)
    void.add_argument("number", type=int)
    void.add_argument("--tenant", required=True)

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
        "--daily", type=amount, help="most a customer may send on one day; leave out for none"
    )
    limits.add_argument(
        "--per-payment", type=amount, help="most one payment may be; leave out for none"
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
        type=hours,
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
    except ValidationError as error:  # NOTE: a setting from the environment was refused
        for problem in error.errors():
            name = "CBP_" + "_".join(str(part) for part in problem["loc"]).upper()
            print(f"cbp: {name}: {problem['msg'].removeprefix('Value error, ')}", file=sys.stderr)
        return 2
    except OSError as error:  # NOTE: a file a setting names cannot be made or read
        if error.filename is None:
            raise
        print(f"cbp: {error.filename}: {error.strerror or error}", file=sys.stderr)
        return 2
