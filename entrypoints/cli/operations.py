"""Day-to-day operations: ACH files, dead letters and the audit log."""

from __future__ import annotations

import argparse
import codecs
import json
import sys
from pathlib import Path

from cbp.domain.errors import InvalidInput
from cbp.services import commands as c
from cbp.services.auditing import (
    audit_checkpoint,
    chain_audit_log,
    check_checkpoint,
    verify_audit_log,
)

from .base import (
    opened,
    require_sql,
)


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
    content = read_file(args.file, "ascii")
    with opened() as app:
        applied = app.handle(c.ReadAchReturns(content=content, name=args.file, actor="cli"))
    for trace_number, outcome in applied.outcomes:
        print(f"{trace_number} {outcome}")
    print(applied.summary())
    return 0


def read_file(name: str, encoding: str) -> str:
    """A bank's file's text, less the byte-order mark some tools write.

    InvalidInput says why it cannot be read.
    """
    try:
        return Path(name).read_bytes().removeprefix(codecs.BOM_UTF8).decode(encoding)
    except FileNotFoundError:
        raise InvalidInput(f"no such file: {name}") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"cannot read {name}: it is not {encoding.upper()}") from None
    except OSError as error:
        raise InvalidInput(f"cannot read {name}: {error.strerror}") from None


def cmd_checks_print(_: argparse.Namespace) -> int:
    """Print the checks issued since the last run: a print and a Positive Pay file per tenant."""
    with opened() as app:
        run = app.handle(c.PrintChecks(actor="cli"))
    if run is None:
        raise InvalidInput("checks are not printed here: set CBP_CHECKS=printed")
    for made in run.files:
        print(f"{made.name}\t{made.kind}\t{made.checks} checks")
    print(f"printed {run.printed} checks; voided {run.voided} whose payment was called back")
    return 0


def cmd_checks_read_paid(args: argparse.Namespace) -> int:
    """Mark cashed the checks a bank's paid-items file lists; name the items it refused."""
    from cbp.adapters.checks.files import read_paid_items

    items = tuple(read_paid_items(read_file(args.file, "utf-8")))
    with opened() as app:
        read = app.handle(c.ReadPaidItems(tenant_id=args.tenant, items=items, actor="cli"))
    for number in read.unknown:
        print(f"check {number}: not issued by this tenant", file=sys.stderr)
    for number, reason in read.refused:
        print(f"check {number}: {reason}", file=sys.stderr)
    print(
        f"cashed {read.cashed} checks; {read.already_cashed} already cashed, "
        f"{len(read.unknown) + len(read.refused)} not applied"
    )
    return 1 if read.unknown or read.refused else 0


def cmd_checks_void(args: argparse.Namespace) -> int:
    """Void a check not yet mailed (a spoiled print); its payment fails."""
    with opened() as app:
        app.handle(c.VoidCheck(tenant_id=args.tenant, check_number=args.number, actor="cli"))
    print(f"voided check {args.number}")
    return 0


def cmd_ach_import_ledger(args: argparse.Namespace) -> int:
    """Move an earlier version's ledger file (its own SQLite file) into the database, once."""
    from cbp.adapters.sql.ach_ledger import import_ledger_file

    with opened() as app:
        require_sql(app)
        try:
            moved = import_ledger_file(
                app.container.gateways.engine(), app.container.gateways.cipher(), Path(args.file)
            )
        except ValueError as error:
            raise InvalidInput(str(error)) from None
    print(
        f"moved {moved.entries} entries, {moved.files} files and {moved.cut_offs} cut-offs "
        f"from {args.file}"
    )
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
