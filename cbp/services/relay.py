"""The outbox relay: moves committed messages to the broker."""

from __future__ import annotations

from cbp.ports.messages import EventBus, MessageKind, TaskQueue
from cbp.services.dependencies import Dependencies


def relay_outbox(
    deps: Dependencies, *, tasks: TaskQueue, events: EventBus, batch: int = 100
) -> int:
    """Send up to ``batch`` pending outbox messages; return how many were sent.

    A message is marked dispatched only after the broker took it, so a crash
    in between sends it again: consumers de-duplicate by message id.
    """
    with deps.uow() as uow:
        pending = uow.outbox.pending(batch)
    sent: list[str] = []
    for message in pending:
        if message.kind is MessageKind.TASK:
            tasks.enqueue(message)
        else:
            events.publish(message)
        sent.append(message.message_id)
    if sent:
        with deps.uow() as uow:
            uow.outbox.mark_dispatched(sent, deps.clock.now())
            uow.commit()
    return len(sent)
