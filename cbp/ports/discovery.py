"""Where an outside service is found."""

from __future__ import annotations

from typing import Protocol


class ServiceRegistry(Protocol):
    """Finds the instances of a named external service."""

    def endpoints(self, service: str) -> list[str]:
        """Base URLs of the healthy instances, best first."""
        ...
