"""The WSGI application for gunicorn: ``cbp.entrypoints.wsgi:create()``."""

from __future__ import annotations

import atexit

import falcon

from cbp.adapters.falcon.app import create_app
from cbp.adapters.falcon.http import ApiOptions
from cbp.bootstrap import bootstrap
from cbp.settings import Settings


def create(settings: Settings | None = None) -> falcon.App[falcon.Request, falcon.Response]:
    """Build the core from settings and serve it over HTTP (one per worker)."""
    settings = settings or Settings()
    core = bootstrap(settings)
    if settings.backend(settings.broker_url) == "memory":
        core.start_pump(settings.pump_interval_seconds)
    atexit.register(core.close)
    return create_app(
        bus=core.bus,
        queries=core.queries,
        deps=core.deps,
        options=ApiOptions(
            max_body_bytes=settings.max_body_bytes,
            rate_limit=settings.rate_limit,
            rate_window_seconds=settings.rate_window_seconds,
        ),
    )
