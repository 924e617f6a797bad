"""A service registry from a static list in the settings."""

from __future__ import annotations

from collections.abc import Mapping


class StaticServiceRegistry:
    """Endpoints configured up front, e.g. ``{"processor": ["http://..."]}``."""

    def __init__(self, endpoints: Mapping[str, list[str]]) -> None:
        self._endpoints = {name: list(urls) for name, urls in endpoints.items()}

    def endpoints(self, service: str) -> list[str]:
        """The configured base URLs of ``service`` (empty if none)."""
        return list(self._endpoints.get(service, []))
