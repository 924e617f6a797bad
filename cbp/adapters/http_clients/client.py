"""What every outbound HTTP client shares: timeouts, authentication, trace headers, errors.

Failures are told apart by what they say of the outcome. Nothing reached
the other side (refused, DNS, connect timeout, 5xx, 429): the port's
``DependencyUnavailable``. The request may have arrived but no answer
came (read timeout, a reset mid-answer): ``DependencyTimeout``, the outcome
unknown. A 4xx is an answer, and the caller decides what it means.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from opentelemetry import propagate

from cbp.ports.errors import DependencyTimeout, DependencyUnavailable


@dataclass(frozen=True, kw_only=True)
class HttpClientSettings:
    """How to reach one dependency: timeouts, a bearer token or mutual TLS."""

    connect_timeout: float = 2.0
    read_timeout: float = 10.0
    token: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    ca_file: str | None = None
    max_connections: int = 100


def build_client(settings: HttpClientSettings) -> httpx.Client:
    """A pooled client with the dependency's timeouts and credentials."""
    cert = None
    if settings.client_cert:
        cert = (settings.client_cert, settings.client_key) if settings.client_key else None
    headers = {"User-Agent": "cbp"}
    if settings.token:
        headers["Authorization"] = f"Bearer {settings.token}"
    return httpx.Client(
        timeout=httpx.Timeout(
            settings.read_timeout, connect=settings.connect_timeout, pool=settings.connect_timeout
        ),
        headers=headers,
        verify=settings.ca_file or True,
        cert=cert or settings.client_cert,
        limits=httpx.Limits(max_connections=settings.max_connections),
        follow_redirects=False,
    )


def client_for_lifetime(settings: HttpClientSettings) -> Iterator[httpx.Client]:
    """``build_client``, closed when done."""
    client = build_client(settings)
    yield client
    client.close()


def trace_headers(traceparent: str | None = None, baggage: str | None = None) -> dict[str, str]:
    """W3C trace context of the current span, else the one the message carried."""
    headers: dict[str, str] = {}
    propagate.inject(headers)
    if "traceparent" not in headers and traceparent:
        headers["traceparent"] = traceparent
    if "baggage" not in headers and baggage:
        headers["baggage"] = baggage
    return headers


def send(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    dependency: str,
    json: Any = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """One request; transport failures and 5xx as the port's errors, other answers returned."""
    try:
        response = client.request(method, url, json=json, headers=headers)
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
        raise DependencyUnavailable(dependency, f"{type(error).__name__} at {url}") from None
    except httpx.TimeoutException as error:
        raise DependencyTimeout(dependency, f"{type(error).__name__} at {url}") from None
    except httpx.TransportError as error:
        raise DependencyTimeout(dependency, f"{type(error).__name__} at {url}") from None
    if response.status_code >= 500 or response.status_code == 429:
        raise DependencyUnavailable(dependency, f"HTTP {response.status_code} at {url}")
    return response
