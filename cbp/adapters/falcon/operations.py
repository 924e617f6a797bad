"""Endpoints for operators: health, metrics, the API's own docs, trace conformance."""

from __future__ import annotations

import json
import logging
import os
import time
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

import falcon
import psutil
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from pydantic import BaseModel, Field, HttpUrl, TypeAdapter, ValidationError
from swagger_ui_bundle import swagger_ui_path

from cbp.adapters.falcon import responses as out
from cbp.adapters.falcon.http import parse_json, raw_body
from cbp.adapters.falcon.metrics import CONTENT_TYPE, ApiMetrics
from cbp.adapters.falcon.openapi import API_VERSION, build_spec
from cbp.adapters.falcon.telemetry import outgoing_context
from cbp.ports.resilience import BreakerStore

HEALTH_JSON = "application/health+json"
logger = logging.getLogger("cbp.api")
tracer = trace.get_tracer("cbp.api")

#: A named readiness probe: returns if the component answers, raises if not.
Probe = Callable[[], object]


def _send_health(resp: falcon.Response, body: out.HealthOut) -> None:
    resp.status = falcon.HTTP_200 if body.status == "pass" else falcon.HTTP_503
    resp.content_type = HEALTH_JSON
    resp.cache_control = ["no-store"]
    resp.data = body.model_dump_json(by_alias=True, exclude_none=True).encode()


class Health:
    """Liveness, readiness (503 naming what fails) and the detailed status."""

    def __init__(self, probes: Mapping[str, Probe], breakers: BreakerStore | None = None) -> None:
        self.probes = probes
        self.breakers = breakers
        self.started = time.monotonic()
        self.process = psutil.Process(os.getpid())

    def _checks(self) -> dict[str, list[out.HealthCheckOut]]:
        checks = {}
        for name, probe in self.probes.items():
            began = time.perf_counter()
            status: Literal["pass", "fail"] = "pass"
            output = None
            try:
                probe()
            except Exception as error:  # NOTE: any failure means not ready; the class names it
                status, output = "fail", type(error).__name__
            elapsed_ms = round((time.perf_counter() - began) * 1000, 3)
            checks[name] = [
                out.HealthCheckOut(
                    status=status, output=output, observed_value=elapsed_ms, observed_unit="ms"
                )
            ]
        return checks

    @staticmethod
    def _verdict(checks: dict[str, list[out.HealthCheckOut]]) -> dict[str, Any]:
        failing = [name for name, (check,) in checks.items() if check.status == "fail"]
        if not failing:
            return {"status": "pass", "checks": checks}
        return {"status": "fail", "checks": checks, "output": f"not ready: {', '.join(failing)}"}

    def on_get_live(self, req: falcon.Request, resp: falcon.Response) -> None:
        """The process answers."""
        _send_health(resp, out.HealthOut(status="pass"))

    def on_get_ready(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Every component this process needs answers."""
        _send_health(resp, out.HealthOut(**self._verdict(self._checks())))

    def on_get_status(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Readiness plus this process's resource use (behind a key)."""
        with self.process.oneshot():
            resources = out.ResourcesOut(
                pid=self.process.pid,
                uptime_seconds=round(time.monotonic() - self.started, 3),
                rss_bytes=self.process.memory_info().rss,
                cpu_percent=self.process.cpu_percent(interval=None),
                threads=self.process.num_threads(),
                open_files=self.process.num_fds(),
                system_memory_percent=psutil.virtual_memory().percent,
                load_average_1m=os.getloadavg()[0],
            )
        breakers = []
        if self.breakers is not None:
            for name in self.breakers.names():
                state = self.breakers.load(name)
                breakers.append(
                    out.BreakerOut(name=name, state=state.state.value, failures=state.failures)
                )
        body = out.StatusOut(
            **self._verdict(self._checks()),
            version=API_VERSION,
            resources=resources,
            breakers=breakers,
        )
        _send_health(resp, body)


class Metrics:
    """Prometheus exposition of this process's registry."""

    def __init__(self, metrics: ApiMetrics) -> None:
        self.metrics = metrics

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """The current values."""
        resp.content_type = CONTENT_TYPE
        resp.cache_control = ["no-store"]
        resp.data = self.metrics.render()


DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cbp API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/docs-init.js"></script>
</body></html>
"""
DOCS_INIT = b"SwaggerUIBundle({url: '/openapi.json', dom_id: '#ui'});\n"
_ASSET_TYPES = {".css": "text/css", ".js": "application/javascript", ".png": "image/png"}


class Docs:
    """The OpenAPI document and a browsable page, its assets served locally."""

    def __init__(self) -> None:
        self.spec = json.dumps(build_spec(), indent=1).encode()

    def on_get_spec(self, req: falcon.Request, resp: falcon.Response) -> None:
        """The OpenAPI 3.1 document (the checked-in api.json)."""
        resp.content_type = "application/json"
        resp.data = self.spec

    def on_get_page(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Swagger UI over /openapi.json."""
        resp.content_type = "text/html; charset=utf-8"
        resp.text = DOCS_PAGE

    def on_get_asset(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        """A file of the Swagger UI bundle installed with cbp (no CDN)."""
        if name == "docs-init.js":
            resp.content_type, resp.data = "application/javascript", DOCS_INIT
            return
        path = Path(swagger_ui_path) / name
        suffix = path.suffix
        if "/" in name or name.startswith(".") or suffix not in _ASSET_TYPES or not path.is_file():
            raise falcon.HTTPNotFound(title="Not found", description=f"no asset {name}")
        resp.content_type = _ASSET_TYPES[suffix]
        resp.cache_control = ["public", "max-age=86400"]
        resp.data = path.read_bytes()


class TraceContextCall(BaseModel):
    """One step the W3C Trace Context harness asks for."""

    url: HttpUrl
    arguments: Any = Field(default_factory=list)


_CALLS = TypeAdapter(list[TraceContextCall])


class TraceContextTest:
    """``POST /_test/trace-context``: the W3C Trace Context test service.

    For each ``{url, arguments}`` received, in order, POSTs ``arguments`` to
    ``url`` in a new client span of the request's trace. It makes outbound
    calls to any URL it is given, so it is registered only when a setting
    turns it on, and never in production.
    """

    def __init__(self, *, max_body_bytes: int, timeout_seconds: float = 5.0) -> None:
        self.max_body_bytes = max_body_bytes
        self.timeout_seconds = timeout_seconds

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Make the calls, then answer 200."""
        try:
            calls = _CALLS.validate_python(parse_json(raw_body(req, self.max_body_bytes)))
        except ValidationError as error:
            raise falcon.HTTPBadRequest(
                title="Not a list of {url, arguments}", description=str(error.errors()[0]["msg"])
            ) from None
        for call in calls:
            with tracer.start_as_current_span("trace-context call", kind=SpanKind.CLIENT):
                self._post(str(call.url), call.arguments)
        resp.status = falcon.HTTP_200
        resp.media = {"calls": len(calls)}

    def _post(self, url: str, arguments: Any) -> None:
        request = urllib.request.Request(
            url,
            data=json.dumps(arguments).encode(),
            method="POST",
            headers={"Content-Type": "application/json", **outgoing_context()},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_seconds) as reply:
                reply.read()
        except OSError as error:  # NOTE: the harness judges the headers, not the reply
            logger.warning("trace-context call failed", extra={"error": type(error).__name__})
