"""The long-running commands: the API, workers, relay and simulator; the broker's queues."""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
from collections.abc import Callable

from sqlalchemy.engine import make_url

from cbp.bootstrap import Cbp
from cbp.container.secrets import resolve_secrets
from cbp.services.routing import broker_queues
from cbp.settings import ConfigurationError, Settings

from .base import (
    opened,
)


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
    from ..serve import api_server, seed_first_run

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
    resolve_secrets(settings)  # NOTE: a missing secret stops here, before any process starts
    if settings.seeds_demo and not in_memory:

        def seed() -> None:
            with opened(may_create=True) as app:
                first_run(app)

        in_a_child(seed)
    seed_in_server = first_run if settings.seeds_demo and in_memory else None
    server = api_server(
        settings, certfile=args.certfile, keyfile=args.keyfile, on_start=seed_in_server
    )
    server.run()
    return 0


def in_a_child(work: Callable[[], None]) -> None:
    """Run ``work`` in a forked process and wait for it; its error is raised here.

    The gunicorn master forks the API's workers next: seeding a demo
    directory in the master itself would leave its heap in the master for
    good, and in every worker forked from it (about 20 MiB each).
    """
    context = multiprocessing.get_context("fork")
    errors: multiprocessing.SimpleQueue[BaseException] = context.SimpleQueue()

    def run() -> None:
        try:
            work()
        except BaseException as error:  # NOTE: handed to the parent, which raises it
            errors.put(error)

    child = context.Process(target=run, name="cbp-first-run")
    sys.stdout.flush()  # NOTE: or the child would print again what the parent had not yet
    sys.stderr.flush()
    child.start()
    child.join()
    if not errors.empty():
        raise errors.get()
    if child.exitcode != 0:
        raise SystemExit(f"the first run's seeding stopped (exit code {child.exitcode})")


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
    from ..serve import simulator_server

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


def cmd_worker(args: argparse.Namespace) -> int:
    """Consume the broker's queues until SIGTERM; with --service, one service's only.

    The services (payments, validation, bills, notifications, exceptions, audit)
    then scale and restart on their own.
    """
    from ..workers import run_workers

    run_workers(Settings(), args.service)
    return 0


def cmd_relay(_: argparse.Namespace) -> int:
    """Relay the outbox, lease deliveries to the broker and run the periodic jobs until SIGTERM.

    The periodic jobs: the reconciler, the sweep of due payments, recurring
    occurrences, the expiry of micro-deposits, the purges.
    """
    from ..workers import run_relay

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
