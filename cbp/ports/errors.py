"""Failures of dependencies, as adapters report them to the core."""

from __future__ import annotations


class DependencyError(Exception):
    """An external dependency failed; the core decides whether to retry."""

    code = "dependency_error"

    def __init__(self, dependency: str, detail: str) -> None:
        super().__init__(f"{dependency}: {detail}")
        self.dependency = dependency
        self.detail = detail


class DependencyUnavailable(DependencyError):
    """The dependency refused or could not be reached: nothing happened there."""

    code = "dependency_unavailable"


class DependencyTimeout(DependencyError):
    """The dependency did not answer in time: the outcome is unknown."""

    code = "dependency_timeout"


class DeliveryRejected(DependencyError):
    """A notification provider refused the message (a bad address, say)."""

    code = "delivery_rejected"
