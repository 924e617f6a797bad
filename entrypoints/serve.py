"""``cbp serve``: gunicorn in front of the WSGI app, and the first-run demo."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.errors import AppImportError

from cbp.adapters.clock_and_ids.clock import SystemClock
from cbp.adapters.directory_files.synthetic import generate_billers
from cbp.adapters.rules.verifier import RulesAccountVerifier
from cbp.adapters.simulator.processor import SimulatedPaymentProcessor
from cbp.adapters.simulator.server import create_simulator_app
from cbp.bootstrap import Cbp
from cbp.demo import BILLERS
from cbp.domain.access import OPERATOR_SCOPES, TENANT_SCOPES
from cbp.services import commands as c
from cbp.services.directory import import_directory
from cbp.settings import ConfigurationError, Settings

from .http_server import BufferedWsgi, worker_class
from .wsgi import create_with_core

DEMO_DIRECTORY_SIZE = 2000


class Gunicorn(BaseApplication):  # type: ignore[misc]
    """gunicorn configured from code rather than its command line."""

    def __init__(self, options: dict[str, Any], load: Callable[[], Any]) -> None:
        self.options = options
        self._load = load
        super().__init__()

    def load_config(self) -> None:
        """Hand our options to gunicorn, with its control socket off.

        gunicorn 25.1 and later bind a control socket at one path per user
        (``~/.gunicorn/gunicorn.ctl``), so a second server on the host would
        take it from the first; cbp is managed by signals instead.
        """
        if "control_socket_disable" in self.cfg.settings:
            self.cfg.set("control_socket_disable", True)
        for name, value in self.options.items():
            self.cfg.set(name, value)

    def load(self) -> Any:
        """The WSGI app, built in each worker."""
        return self._load()


def api_server(
    settings: Settings,
    *,
    certfile: str | None,
    keyfile: str | None,
    on_start: Callable[[Cbp], object] | None = None,
) -> Gunicorn:
    """The API: gunicorn's processes, each an event loop in front of the app's threads.

    Requests are read whole by the event loop before a thread runs them (see
    ``http_server``), so slow clients never hold a thread. ``on_start`` runs
    with each serving process's core once it is built (an in-memory store's
    first run is seeded there, in the process that serves it).
    """
    options: dict[str, Any] = {
        "bind": f"{settings.host}:{settings.port}",
        "workers": settings.http_workers,
        "worker_class": worker_class(header_timeout=settings.http_header_timeout_seconds),
        "keepalive": math.ceil(settings.http_keepalive_seconds),
        "accesslog": None,  # NOTE: the app logs each request as JSON, with its trace
        "graceful_timeout": 20,
    }
    if certfile and keyfile:
        options.update(certfile=certfile, keyfile=keyfile)

    def load() -> Any:
        try:
            app, core = create_with_core(settings)
        except ConfigurationError as error:
            raise AppImportError(str(error)) from None  # NOTE: gunicorn prints it, no traceback
        if on_start is not None:
            on_start(core)
        return BufferedWsgi(
            app,
            threads=settings.http_threads,
            max_body_bytes=settings.max_body_bytes,
            body_timeout=settings.http_body_timeout_seconds,
            on_shutdown=core.close,  # NOTE: before the worker exits (SIGTERM ends it at once)
        )

    return Gunicorn(options, load)


def simulator_server(
    *,
    host: str,
    port: int,
    threads: int,
    ledger_path: str | None,
    settle_after_seconds: float,
    events_url: str | None = None,
    events_secret: str | None = None,
) -> Gunicorn:
    """The processor and verifier simulator on gunicorn: one process, so one fault plan."""

    def load() -> Any:
        processor = SimulatedPaymentProcessor(
            SystemClock(), settle_after_seconds=settle_after_seconds, ledger_path=ledger_path
        )
        return create_simulator_app(
            processor, RulesAccountVerifier(), events_url=events_url, events_secret=events_secret
        )

    options = {
        "bind": f"{host}:{port}",
        "workers": 1,
        "threads": threads,
        "worker_class": "gthread",
        "accesslog": None,
        "timeout": 300,
        "graceful_timeout": 5,
    }
    return Gunicorn(options, load)


@dataclass(frozen=True)
class FirstRunKeys:
    """The keys a fresh install starts with, shown once."""

    tenant: str = field(repr=False)
    operator: str = field(repr=False)
    tenant_id: str = ""


def first_tenant(
    app: Cbp, name: str, *, actor: str, contact_email: str | None = None
) -> FirstRunKeys | None:
    """On a database with no tenant: the first one, its key, and an operator key.

    The tenant's key holds every tenant scope; the operator's, the directory,
    every tenant's dead letters and the status page. Returns both, to be
    shown once, or None if the database has a tenant already.
    """
    with app.deps.unit_of_work() as uow:
        if uow.tenants.any_exist():
            return None
    tenant_id = app.handle(c.CreateTenant(name=name, contact_email=contact_email, actor=actor))
    tenant_key = app.handle(
        c.CreateApiKey(
            tenant_id=tenant_id, scopes=tuple(sorted(TENANT_SCOPES)), name="first", actor=actor
        )
    )
    operator_key = app.handle(
        c.CreateApiKey(
            tenant_id=None, scopes=tuple(sorted(OPERATOR_SCOPES)), name="operator", actor=actor
        )
    )
    return FirstRunKeys(tenant=tenant_key.token, operator=operator_key.token, tenant_id=tenant_id)


def seed_first_run(app: Cbp) -> FirstRunKeys | None:
    """On a fresh embedded install: a demo directory, and the tenant Demo Bank with its keys."""
    with app.deps.unit_of_work() as uow:
        if uow.tenants.any_exist():
            return None
    demo = [
        c.AddGlobalPayee(
            name=name,
            category=category,
            aliases=aliases,
            account_masks=masks,
            lead_days=lead_days,
            popularity=popularity,
            actor="first-run",
            address=c.Address(
                line1="1 Market St", city="San Francisco", state="CA", postal_code="94105"
            ),
        )
        for name, category, aliases, masks, lead_days, popularity in BILLERS
    ]
    import_directory(app.deps, [*demo, *generate_billers(DEMO_DIRECTORY_SIZE, seed=1)])
    return first_tenant(app, "Demo Bank", actor="first-run")
