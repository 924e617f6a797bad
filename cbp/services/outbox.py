"""Turning what happened into outbox messages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cbp.domain import identifiers
from cbp.domain.events import DomainEvent
from cbp.domain.payment import PaymentSnapshot
from cbp.ports import messages as m
from cbp.ports.contracts import (
    BillChanged,
    BreakerStateChanged,
    Contract,
    PayeeEvent,
    PaymentStatusChanged,
)
from cbp.ports.storage.events import Recorded
from cbp.ports.storage.unit_of_work import UnitOfWork
from cbp.ports.system import Clock, IdGenerator
from cbp.services import auditing
from cbp.services.commands import AnnounceBreakerChange, Command


def send(
    uow: UnitOfWork,
    contract: Contract,
    *,
    tenant_id: str | None,
    ids: IdGenerator,
    at: datetime,
    ordering_key: str | None = None,
    causation_id: str | None = None,
) -> None:
    """Put a task or event for ``tenant_id`` in the outbox, sent when the unit of work commits.

    Messages sharing an ``ordering_key`` reach each subscriber in the order
    they were sent; ``causation_id`` names the event that caused this one.
    The correlation and trace of the command that sent it are added by the
    command bus once the handler has returned. A payment, exception or
    payee event is recorded in the audit log with it.
    """
    uow.outbox.add(
        m.Message(
            message_id=ids.new(identifiers.MESSAGE),
            kind=contract.message_kind(),
            destination=contract.DESTINATION,
            type=contract.TYPE,
            payload=contract.encode(),
            created_at=at,
            ordering_key=ordering_key,
            headers=m.Headers(tenant_id=tenant_id, causation_id=causation_id),
        )
    )
    auditing.record_published(uow, contract, at=at)


@dataclass(frozen=True)
class EventPublisher:
    """The one place recorded events leave: into the outbox of their unit of work.

    The command bus hands it what a handler's aggregates recorded (a
    payment's events, a bill's, a payee's, a funding account's, a biller's) with the
    command, whose tenant, correlation and trace the messages carry. Units
    of work opened outside the bus run it just before they commit, with no
    command.
    """

    ids: IdGenerator
    clock: Clock

    def __call__(
        self,
        uow: UnitOfWork,
        command: Command | None = None,
        *,
        first: Callable[[list[Recorded]], None] | None = None,
    ) -> None:
        """Publish what ``uow`` collected since it last published, caused by ``command``.

        ``first`` sees what was collected before it is published: the bus
        records the command in the audit log there, ahead of its events.
        """
        collected = uow.collect_new_events()
        if first is not None:
            first(collected)
        for recorded in collected:
            if recorded.payment is not None:
                self._payment_changed(uow, recorded.payment, recorded.events)
            elif recorded.bill is not None:
                self._bill_changed(uow, recorded.bill, recorded.events)
            else:
                self._payee_events(uow, recorded.events)
        if command is not None:
            uow.events.stamp_cause(command.correlation_id, command.traceparent)
            uow.outbox.stamp_cause(command.correlation_id, command.traceparent)

    def _payment_changed(
        self, uow: UnitOfWork, payment: PaymentSnapshot, events: list[DomainEvent]
    ) -> None:
        """One payment.status.changed for the events saved together, with the state after them."""
        if not events:
            return
        newest = events[-1]
        changed = PaymentStatusChanged(
            payment_id=payment.id,
            tenant_id=payment.tenant_id,
            customer_id=payment.customer_id,
            event_type=newest.type,
            event_id=newest.event_id,
            status=payment.status.value,
            version=newest.version,
            failure_code=payment.failure_code,
            bill_id=payment.bill_id,
            event_types=tuple(event.type for event in events),
        )
        send(
            uow,
            changed,
            tenant_id=payment.tenant_id,
            ids=self.ids,
            at=self.clock.now(),
            ordering_key=payment.id,
            causation_id=newest.event_id,
        )

    def _bill_changed(
        self, uow: UnitOfWork, bill: dict[str, Any], events: list[DomainEvent]
    ) -> None:
        """One bill.changed per event, with the bill's status after them."""
        for event in events:
            changed = BillChanged(
                bill_id=bill["id"],
                tenant_id=bill["tenant_id"],
                customer_id=bill["customer_id"],
                payee_id=bill["payee_id"],
                event_type=event.type,
                event_id=event.event_id,
                status=bill["status"],
                version=event.version,
            )
            send(
                uow,
                changed,
                tenant_id=bill["tenant_id"],
                ids=self.ids,
                at=self.clock.now(),
                ordering_key=bill["id"],
                causation_id=event.event_id,
            )

    def _payee_events(self, uow: UnitOfWork, events: list[DomainEvent]) -> None:
        """Payee, funding account and biller events on payee.events, as recorded."""
        for event in events:
            send(
                uow,
                PayeeEvent.of(event),
                tenant_id=getattr(event, "tenant_id", None),
                ids=self.ids,
                at=self.clock.now(),
                ordering_key=event.stream_id,
                causation_id=event.event_id,
            )


def announce_breaker_change(
    command: AnnounceBreakerChange,
    *,
    uow: UnitOfWork,
    ids: IdGenerator,
    clock: Clock,
) -> None:
    """Publish a breaker's change of state on system.events, for operators' subscribers."""
    now = clock.now()
    changed = BreakerStateChanged(
        breaker=command.breaker,
        from_state=command.old_state,
        to_state=command.new_state,
        at=now.isoformat(),
    )
    send(uow, changed, tenant_id=None, ids=ids, at=now)
