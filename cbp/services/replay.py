"""Rebuilding projections from the event store."""

from __future__ import annotations

from collections.abc import Callable

from cbp.domain.bill import Bill
from cbp.domain.bill_events import BillPresented
from cbp.domain.events import DomainEvent
from cbp.domain.payment import Payment, PaymentCreated
from cbp.domain.recurring import RecurringSchedule
from cbp.domain.schedule_events import ScheduleCreated
from cbp.services.dependencies import Dependencies

#: Called with (events read so far, events in all) as a replay advances.
Progress = Callable[[int, int], None]


def rebuild_payment_views(
    deps: Dependencies, *, batch: int = 5000, progress: Progress | None = None
) -> int:
    """Replay every payment stream and rewrite the payment views; return how many.

    Recurring payments' and bills' views are written again from their streams too.

    Streams are gathered in position order, then each payment is replayed
    and its view written, all in one unit of work: readers see the old views
    or the new ones, never a half-built set.
    """
    streams: dict[str, list[DomainEvent]] = {}
    schedules: dict[str, list[DomainEvent]] = {}
    bills: dict[str, list[DomainEvent]] = {}
    with deps.unit_of_work() as uow:
        total = uow.events.last_position()
        read = 0
        position = 0
        while stored := uow.events.read_all(after_position=position, limit=batch):
            for item in stored:
                event = item.event
                if isinstance(event, PaymentCreated) or event.stream_id in streams:
                    streams.setdefault(event.stream_id, []).append(event)
                elif isinstance(event, ScheduleCreated) or event.stream_id in schedules:
                    schedules.setdefault(event.stream_id, []).append(event)
                elif isinstance(event, BillPresented) or event.stream_id in bills:
                    bills.setdefault(event.stream_id, []).append(event)
            position = stored[-1].position
            read += len(stored)
            if progress:
                progress(read, total)
        uow.payments.rebuild_views(
            Payment.replay(stream_id, events) for stream_id, events in streams.items()
        )
        for stream_id, events in schedules.items():
            uow.schedules.rebuild_view(
                RecurringSchedule.replay(stream_id, events), deps.calendar.is_business_day
            )
        uow.bills.rebuild_views(
            Bill.replay(stream_id, events) for stream_id, events in bills.items()
        )
        uow.commit()
    return len(streams)
