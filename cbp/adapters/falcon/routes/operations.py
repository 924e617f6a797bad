"""The routes of health, metrics and the API's own documents."""

from __future__ import annotations

from cbp.adapters.falcon import responses as out
from cbp.adapters.falcon.routes.route import Route
from cbp.domain.access import Scope

OPERATIONS: tuple[Route, ...] = (
    Route(
        method="GET",
        path="/health/live",
        resource="health",
        suffix="live",
        scope=None,
        public=True,
        summary="Liveness",
        tag="health",
        response=out.HealthOut,
        content_type="application/health+json",
    ),
    Route(
        method="GET",
        path="/health/ready",
        resource="health",
        suffix="ready",
        scope=None,
        public=True,
        summary="Readiness of the database, broker and cache (503 naming what fails)",
        tag="health",
        response=out.HealthOut,
        content_type="application/health+json",
    ),
    Route(
        method="GET",
        path="/health/status",
        resource="health",
        suffix="status",
        scope=Scope.OPERATIONS_READ,
        summary="Each component's status and this process's resource use (an operator key)",
        tag="health",
        response=out.StatusOut,
        content_type="application/health+json",
    ),
    Route(
        method="GET",
        path="/metrics",
        resource="metrics",
        suffix=None,
        scope=None,
        public=True,
        summary="Prometheus metrics of this process and of the message backlog",
        tag="health",
        response=None,
        content_type="text/plain",
    ),
    Route(
        method="GET",
        path="/openapi.json",
        resource="docs",
        suffix="spec",
        scope=None,
        public=True,
        summary="This document",
        tag="docs",
        response=None,
    ),
    Route(
        method="GET",
        path="/docs",
        resource="docs",
        suffix="page",
        scope=None,
        public=True,
        summary="A browsable page of this document",
        tag="docs",
        response=None,
        content_type="text/html",
    ),
)
