"""Turning what happened into outbox messages, and consuming messages once."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from cbp.domain import identifiers
from cbp.domain.events import DomainEvent
from cbp.domain.payment import PaymentSnapshot
from cbp.ports import messages as m
from cbp.ports.contracts import BreakerStateChanged, Contract, PayeeEvent, PaymentStatusChanged
from cbp.ports.storage.unit_of_work import UnitOfWork, UnitOfWorkFactory
from cbp.ports.system import Clock, IdGenerator
from cbp.services.commands import AnnounceBreakerChange, Command, current_command


def headers_for(command: Command, tenant_id: str | None) -> m.Headers:
    """Message headers carrying the command's tenant, correlation and trace."""
    return m.Headers(
        tenant_id=tenant_id,
        correlation_id=command.correlation_id,
        traceparent=command.traceparent,
    )


def send(
    uow: UnitOfWork,
    contract: Contract,
    headers: m.Headers,
    *,
    ids: IdGenerator,
    at: datetime,
    ordering_key: str | None = None,
    causation_id: str | None = None,
) -> None:
    """Put a task or event in the outbox, to be sent when the unit of work commits.

    Messages sharing an ``ordering_key`` reach each subscriber in the order
    they were sent; ``causation_id`` names the event that caused this one.
    """
    if causation_id is not None:
        headers = replace(headers, causation_id=causation_id)
    uow.outbox.add(
        m.Message(
            message_id=ids.new(identifiers.MESSAGE),
            kind=contract.message_kind(),
            destination=contract.DESTINATION,
            type=contract.TYPE,
            payload=contract.encode(),
            created_at=at,
            ordering_key=ordering_key,
            headers=headers,
        )
    )


@dataclass(frozen=True)
class EventPublisher:
    """The one place recorded events leave: into the outbox, just before a commit.

    Every unit of work a handler opens hands it what its aggregates recorded
    (a payment's events, a payee's, a funding account's, a biller's); the
    headers come from the command being handled.
    """

    ids: IdGenerator
    clock: Clock

    def __call__(self, uow: UnitOfWork) -> None:
        """Publish what ``uow`` collected since its last commit."""
        command = current_command()
        for recorded in uow.collect_new_events():
            if recorded.payment is not None:
                self._payment_changed(uow, command, recorded.payment, recorded.events)
            else:
                self._payee_events(uow, command, recorded.events)

    def _payment_changed(
        self,
        uow: UnitOfWork,
        command: Command | None,
        payment: PaymentSnapshot,
        events: list[DomainEvent],
    ) -> None:
        """One payment.status.changed per event, with the payment's state after them."""
        headers = _headers(command, payment.tenant_id)
        for event in events:
            changed = PaymentStatusChanged(
                payment_id=payment.id,
                tenant_id=payment.tenant_id,
                customer_id=payment.customer_id,
                event_type=event.type,
                event_id=event.event_id,
                status=payment.status.value,
                version=event.version,
                failure_code=payment.failure_code,
            )
            send(
                uow,
                changed,
                headers,
                ids=self.ids,
                at=self.clock.now(),
                ordering_key=payment.id,
                causation_id=event.event_id,
            )

    def _payee_events(
        self, uow: UnitOfWork, command: Command | None, events: list[DomainEvent]
    ) -> None:
        """Payee, funding account and biller events on payee.events, as recorded."""
        for event in events:
            headers = _headers(command, getattr(event, "tenant_id", None))
            send(
                uow,
                PayeeEvent.of(event),
                headers,
                ids=self.ids,
                at=self.clock.now(),
                ordering_key=event.stream_id,
                causation_id=event.event_id,
            )


def _headers(command: Command | None, tenant_id: str | None) -> m.Headers:
    return m.Headers(tenant_id=tenant_id) if command is None else headers_for(command, tenant_id)


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


def announce_breaker_change(
    command: AnnounceBreakerChange,
    *,
    unit_of_work: UnitOfWorkFactory,
    ids: IdGenerator,
    clock: Clock,
) -> None:
    """Publish a breaker's change of state on system.events, for operators' subscribers."""
    now = clock.now()
    with unit_of_work() as uow:
        changed = BreakerStateChanged(
            breaker=command.breaker,
            from_state=command.old_state,
            to_state=command.new_state,
            at=now.isoformat(),
        )
        send(uow, changed, headers_for(command, None), ids=ids, at=now)
        uow.commit()
