"""Setting a deployment up: schema, keys and secrets, the directory, a first tenant, references."""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from pathlib import Path

from cbp.adapters.sql.crypto import FieldCipher
from cbp.domain.errors import InvalidInput
from cbp.services.directory import import_directory
from cbp.services.replay import rebuild_payment_views
from cbp.settings import Settings

from ..progress import ProgressBar
from .base import (
    opened,
    require_sql,
)


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
        require_sql(app)
        rows = rotate_encryption_keys(
            app.container.gateways.engine(),
            app.container.gateways.cipher(),
            progress=ProgressBar("rotate"),
        )
    print(f"re-encrypted {rows} rows under the newest key")
    return 0


def cmd_directory_import(args: argparse.Namespace) -> int:
    """Import billers from a CSV or JSON file."""
    from cbp.adapters.directory_files.reader import read_directory

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


def cmd_bills_import(args: argparse.Namespace) -> int:
    """Present the bills of a CSV or JSON file for a tenant's customers."""
    from cbp.adapters.bill_files.reader import read_bills
    from cbp.services.bills import import_bills

    path = Path(args.file)
    if not path.is_file():
        raise SystemExit(f"no such file: {path}")
    total = sum(1 for _ in read_bills(path, args.tenant))
    with opened() as app:
        bar = ProgressBar("import")
        result = import_bills(
            app.handle, read_bills(path, args.tenant), progress=lambda done: bar(done, total)
        )
    for number, reason in result.refused:
        print(f"row {number}: {reason}", file=sys.stderr)
    print(
        f"presented {result.presented} bills; {result.already_presented} already presented, "
        f"{len(result.refused)} refused"
    )
    return 1 if result.refused else 0


def cmd_directory_generate(args: argparse.Namespace) -> int:
    """Generate a synthetic directory into the database or a file."""
    from cbp.adapters.directory_files.reader import write_directory
    from cbp.adapters.directory_files.synthetic import generate_billers

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
    from cbp.adapters.directory_files.reader import read_directory

    from ..serve import first_tenant

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
    from ..reference import (
        command_reference,
        configuration_reference,
        replace_generated,
    )

    if args.reference == "api":
        from ..api_examples import api_examples

        table = api_examples()
    elif args.reference == "configuration":
        table = configuration_reference()
    else:
        from . import build_parser

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
