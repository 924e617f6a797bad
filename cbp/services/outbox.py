"""Turning what happened into outbox messages, and consuming messages once."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from cbp.domain import identifiers
from cbp.domain.events import DomainEvent
from cbp.domain.payment import Payment
from cbp.ports import messages as m
from cbp.ports.contracts import BreakerStateChanged, Contract, PayeeEvent, PaymentStatusChanged
from cbp.ports.storage import UnitOfWork
from cbp.services.commands import AnnounceBreakerChange, Command
from cbp.services.dependencies import Dependencies


def headers_for(command: Command, tenant_id: str | None) -> m.Headers:
    """Message headers carrying the command's tenant, correlation and trace."""
    return m.Headers(
        tenant_id=tenant_id,
        correlation_id=command.correlation_id,
        traceparent=command.traceparent,
    )


def send(
    uow: UnitOfWork,
    deps: Dependencies,
    contract: Contract,
    headers: m.Headers,
    *,
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
            message_id=deps.ids.new(identifiers.MESSAGE),
            kind=contract.message_kind(),
            destination=contract.DESTINATION,
            type=contract.TYPE,
            payload=contract.encode(),
            created_at=deps.clock.now(),
            ordering_key=ordering_key,
            headers=headers,
        )
    )


def publish_payment_changes(
    uow: UnitOfWork,
    deps: Dependencies,
    payment: Payment,
    events: Iterable[DomainEvent],
    headers: m.Headers,
) -> None:
    """Publish a payment.status.changed event for each new payment event."""
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
        send(uow, deps, changed, headers, ordering_key=payment.id, causation_id=event.event_id)


def publish_payee_events(
    uow: UnitOfWork, deps: Dependencies, events: Iterable[DomainEvent], headers: m.Headers
) -> None:
    """Publish payee and directory events on ``payee.events``."""
    for event in events:
        send(
            uow,
            deps,
            PayeeEvent.of(event),
            headers,
            ordering_key=event.stream_id,
            causation_id=event.event_id,
        )


def already_consumed(
    uow: UnitOfWork, deps: Dependencies, consumer: str, message_id: str | None
) -> bool:
    """Whether this consumer committed this message before; if not, note it now.

    The note is part of the caller's unit of work, so it commits together
    with the effect, or not at all.
    """
    if message_id is None:
        return False
    return not uow.inbox.claim(consumer, message_id, deps.clock.now())


def announce_breaker_change(command: AnnounceBreakerChange, deps: Dependencies) -> None:
    """Publish a breaker's change of state on system.events, for operators' subscribers."""
    with deps.uow() as uow:
        changed = BreakerStateChanged(
            breaker=command.breaker,
            from_state=command.old_state,
            to_state=command.new_state,
            at=deps.clock.now().isoformat(),
        )
        send(uow, deps, changed, headers_for(command, None))
        uow.commit()
