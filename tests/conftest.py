"""Shared test configuration: hypothesis profiles and service discovery."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("default", max_examples=100, deadline=None)
settings.register_profile(
    "ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("ci" if os.environ.get("CI") else "default")


def services_required() -> bool:
    """Whether a missing server fails the test instead of skipping it (CI)."""
    return os.environ.get("CBP_REQUIRE_SERVICES") == "1"


def require_service(name: str, url: str) -> str:
    """Return ``url`` if its server answers; otherwise skip, or fail in CI."""
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 0), 2):
            return url
    except OSError as error:
        message = f"{name} is not reachable at {parts.hostname}:{parts.port} ({error})"
        if services_required():
            pytest.fail(f"{message}; CBP_REQUIRE_SERVICES=1 requires it")
        pytest.skip(message)
