"""Service discovery: a static list of base URLs, or DNS SRV records cached for their TTL.

A dependency's setting is either ``http://a:8100,http://b:8100`` or
``srv://_processor._tcp.bank.example`` (``srv+https://...`` for TLS). SRV
targets are ordered by priority, then weight; their addresses are looked up
on the same name server, so a private zone (Consul, Kubernetes) works
without touching the host's resolver. A failed lookup keeps serving the last
answer rather than leaving the dependency with no instance, and is not tried
again for ``RETRY_FAILED_LOOKUP_SECONDS``, so that calls made while the name
server is away do not each wait for its time-out.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

import dns.exception
import dns.resolver

logger = logging.getLogger("cbp.discovery")

#: How long the last answer is served, unasked, after a lookup failed.
RETRY_FAILED_LOOKUP_SECONDS = 5.0


class ServiceDiscovery:
    """Base URLs of each named service, from settings or DNS SRV."""

    def __init__(
        self,
        locations: Mapping[str, str | None],
        *,
        nameserver: str | None = None,
        min_ttl_seconds: float = 1.0,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.locations = {name: url for name, url in locations.items() if url}
        self.min_ttl = min_ttl_seconds
        self.now = now
        self._resolver = dns.resolver.Resolver(configure=nameserver is None)
        if nameserver:
            host, _, port = nameserver.partition(":")
            self._resolver.nameservers = [host]
            self._resolver.port = int(port or 53)
        self._resolver.lifetime = 2.0
        self._cache: dict[str, tuple[float, list[str]]] = {}
        self._lock = threading.Lock()

    def endpoints(self, service: str) -> list[str]:
        """The base URLs of ``service``, best first (empty if it has none)."""
        location = self.locations.get(service)
        if location is None:
            return []
        parts = urlsplit(location)
        if not parts.scheme.startswith("srv"):
            return [url.strip().rstrip("/") for url in location.split(",") if url.strip()]
        scheme = parts.scheme.partition("+")[2] or "http"
        return self._srv(parts.netloc + parts.path, scheme)

    def _srv(self, name: str, scheme: str) -> list[str]:
        with self._lock:
            cached = self._cache.get(name)
        if cached and cached[0] > self.now():
            return cached[1]
        try:
            answer = self._resolver.resolve(name, "SRV")
        except dns.exception.DNSException as error:
            logger.warning(
                "SRV lookup failed", extra={"srv_name": name, "error": type(error).__name__}
            )
            if not cached:
                return []
            with self._lock:
                self._cache[name] = (self.now() + RETRY_FAILED_LOOKUP_SECONDS, cached[1])
            return cached[1]
        records = sorted(answer, key=lambda r: (r.priority, -r.weight, str(r.target)))
        urls = [f"{scheme}://{self._address(str(r.target), scheme)}:{r.port}" for r in records]
        ttl = max(self.min_ttl, float(answer.rrset.ttl if answer.rrset else 0))
        with self._lock:
            self._cache[name] = (self.now() + ttl, urls)
        return urls

    def _address(self, target: str, scheme: str) -> str:
        if scheme == "https":
            return target.rstrip(".")  # NOTE: TLS checks the name, so keep it
        try:
            return str(self._resolver.resolve(target, "A")[0])
        except dns.exception.DNSException:
            return target.rstrip(".")
