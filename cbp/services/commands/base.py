"""The base of every command, and the postal address several take."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from cbp.domain.directory import Address

__all__ = ["Address", "Audited", "Command"]


@dataclass(frozen=True)
class Audited:
    """How the command bus records a command in the audit log once it has run.

    The entry's subject is the command's field named ``subject``; left None,
    it is the id the handler returned, or else each aggregate the command
    changed, one entry apiece. Its data is the command's ``fields``, its
    ``masked`` account numbers as their last four characters, and the types
    of the events the command caused: never a whole account number, a
    micro-deposit amount or a secret, so a field holding one is not listed.
    """

    subject: str | None = None
    fields: tuple[str, ...] = ()
    masked: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Command:
    """Base of every command.

    ``audit`` says how the bus records the command in the audit log; a
    command that leaves it None (the system's own work, whose events the
    activity consumers record) is not recorded for itself.
    """

    audit: ClassVar[Audited | None] = None

    actor: str = "system"
    correlation_id: str | None = None
    traceparent: str | None = None
