"""Consuming a message once: the inbox note a consumer commits with its effect."""

from __future__ import annotations

from datetime import datetime

from cbp.ports.storage.unit_of_work import UnitOfWork


def already_consumed(
    uow: UnitOfWork, consumer: str, message_id: str | None, *, at: datetime
) -> bool:
    """Whether this consumer committed this message before; if not, note it now.

    The note is part of the caller's unit of work, so it commits together
    with the effect, or not at all.
    """
    if message_id is None:
        return False
    return not uow.inbox.claim(consumer, message_id, at)
