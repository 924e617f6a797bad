"""Which use case each message triggers: the consumer side of messaging.

A task has one consumer; an event goes to every subscriber whose filter
names its type. Messaging adapters call ``MessageRouter.consume`` and
know nothing of the use cases behind it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

from cbp.domain.customer import StatusAlert
from cbp.ports import contracts as ct
from cbp.ports import messages as m
from cbp.ports.storage.unit_of_work import UnitOfWork
from cbp.services import auditing, autopay, bills
from cbp.services import commands as c
from cbp.services.bus import CommandBus
from cbp.services.notifications import DeliveryOutcome
from cbp.services.payments import PAYMENT_PROCESSOR
from cbp.services.status_notices import ALERT_OF_EVENT

logger = logging.getLogger("cbp.system")


class RetryLater(Exception):
    """The message could not be handled yet; deliver it again after a back-off."""


@dataclass(frozen=True)
class Subscription:
    """A named consumer of some message contracts on one queue or topic.

    ``handle`` gets the message's contract decoded, with the message itself
    for its id and headers. A ``local`` subscriber touches nothing but the
    database (and the cache), so its delivery is consumed in one transaction.
    """

    name: str
    contracts: tuple[type[ct.Contract], ...]
    handle: Callable[[Any, m.Message, CommandBus, UnitOfWork | None], None]
    local: bool = False
    #: Of a batch of messages it matches, the ids of those it acts on (all when None):
    #: a subscriber that acts on few says which, so the others cost no delivery.
    selects: Callable[[UnitOfWork, list[m.Message]], set[str]] | None = None
    #: A retired subscriber takes no new delivery: it only drains those made before.
    retired: bool = False

    def __post_init__(self) -> None:
        if len({contract.DESTINATION for contract in self.contracts}) != 1:
            raise ValueError(f"{self.name} must consume from exactly one queue or topic")

    @property
    def destination(self) -> str:
        """The queue or topic every one of its contracts travels on."""
        return self.contracts[0].DESTINATION

    @cached_property
    def types(self) -> frozenset[str]:
        """The message types it takes (asked for every message routed, so kept)."""
        return frozenset(contract.TYPE for contract in self.contracts)

    @property
    def kind(self) -> m.MessageKind:
        """Tasks go to a queue; anything else is an event on a topic."""
        return self.contracts[0].message_kind()

    def matches(self, message: m.Message) -> bool:
        """Whether this subscriber wants ``message``."""
        return message.destination == self.destination and message.type in self.types


def caused_by(message: m.Message, *, actor: str) -> dict[str, Any]:
    """What a command handled for ``message`` carries on, the one place it is copied.

    Its id (the consumer's inbox key), the correlation and the trace, so the
    messages the command causes in turn are joined to the first cause.
    """
    return {
        "message_id": message.message_id,
        "correlation_id": message.headers.correlation_id,
        "traceparent": message.headers.traceparent,
        "actor": actor,
    }


def _process_payment(
    task: ct.ProcessPaymentTask, message: m.Message, bus: CommandBus, uow: UnitOfWork | None
) -> None:
    bus.handle(
        c.ProcessPayment(
            tenant_id=task.tenant_id,
            payment_id=task.payment_id,
            job_id=task.job_id,
            **caused_by(message, actor="worker"),
        ),
        uow=uow,
    )


def _handle_exception(
    task: ct.HandleExceptionTask, message: m.Message, bus: CommandBus, uow: UnitOfWork | None
) -> None:
    bus.handle(
        c.HandleException(
            tenant_id=task.tenant_id,
            exception_id=task.exception_id,
            **caused_by(message, actor="worker"),
        ),
        uow=uow,
    )


def _deliver_notification(
    task: ct.DeliverNotificationTask, message: m.Message, bus: CommandBus, uow: UnitOfWork | None
) -> None:
    outcome = bus.handle(
        c.DeliverNotification(
            notification_id=task.notification_id,
            **caused_by(message, actor="worker"),
        ),
        uow=uow,
    )
    if outcome is DeliveryOutcome.RETRY:
        raise RetryLater(f"notification {task.notification_id} not delivered yet")


def _notify_payment_status(
    event: ct.PaymentStatusChanged, message: m.Message, bus: CommandBus, uow: UnitOfWork | None
) -> None:
    bus.handle(
        c.NotifyPaymentStatus(
            tenant_id=event.tenant_id,
            customer_id=event.customer_id,
            payment_id=event.payment_id,
            changes=tuple(event.changes()),
            failure_code=event.failure_code,
            **caused_by(message, actor="status-notifier"),
        ),
        uow=uow,
    )


def _opted_into(
    contract: type[ct.PaymentStatusChanged] | type[ct.BillChanged],
    alert_of_event: dict[str, StatusAlert],
) -> Callable[[UnitOfWork, list[m.Message]], set[str]]:
    """Selects the changes whose customer asked to be told of them: one read per batch."""

    def select(uow: UnitOfWork, messages: list[m.Message]) -> set[str]:
        alerts: dict[str, tuple[str, set[StatusAlert]]] = {}
        for msg in messages:
            change = ct.decode(msg)
            if isinstance(change, contract):
                told = {alert_of_event[t] for t, _ in change.changes() if t in alert_of_event}
                if told:
                    alerts[msg.message_id] = (change.customer_id, told)
        chosen = uow.customers.notify_on_of({customer for customer, _ in alerts.values()})
        return {
            message_id
            for message_id, (customer, told) in alerts.items()
            if told & set(chosen.get(customer, ()))
        }

    return select


def _verify_account(
    event: ct.AccountUpdated, message: m.Message, bus: CommandBus, uow: UnitOfWork | None
) -> None:
    common = {"tenant_id": event.tenant_id, **caused_by(message, actor="validation-service")}
    if event.account_kind == "payee":
        bus.handle(c.VerifyPayeeAccount(payee_id=event.subject_id, **common), uow=uow)
    elif event.account_kind == "funding_account":
        bus.handle(c.VerifyFundingAccount(account_id=event.subject_id, **common), uow=uow)


def _settle_held_payments(
    event: ct.AccountVerified, message: m.Message, bus: CommandBus, uow: UnitOfWork | None
) -> None:
    if event.account_kind == "payee":
        bus.handle(
            c.SettleHeldPayments(
                tenant_id=event.tenant_id,
                payee_id=event.subject_id,
                **caused_by(message, actor="held-payments"),
            ),
            uow=uow,
        )


def _send_micro_deposits(
    event: ct.MicroDepositsRequested, message: m.Message, bus: CommandBus, uow: UnitOfWork | None
) -> None:
    bus.handle(
        c.SendMicroDeposits(
            tenant_id=event.tenant_id,
            account_id=event.subject_id,
            **caused_by(message, actor="micro-deposits"),
        ),
        uow=uow,
    )


def _follow_biller(
    event: ct.BillerChanged, message: m.Message, bus: CommandBus, uow: UnitOfWork | None
) -> None:
    bus.handle(
        c.FollowBiller(global_payee_id=event.subject_id, **caused_by(message, actor="payees")),
        uow=uow,
    )


def _invalidate_directory(
    event: ct.PayeeStatusChanged, message: m.Message, bus: CommandBus, uow: UnitOfWork | None
) -> None:
    if event.payee_kind == "global_payee":
        bus.handle(
            c.ForgetDirectorySearches(**caused_by(message, actor="directory-cache")), uow=uow
        )


def _record_left_over_activity(
    event: ct.Contract, message: m.Message, bus: CommandBus, uow: UnitOfWork | None
) -> None:
    """Record an event relayed to the audit log before events were recorded as published."""
    for activity in auditing.published_activities(event):
        bus.handle(replace(activity, **caused_by(message, actor=auditing.PUBLISHED_BY)), uow=uow)


def _follow_bill(
    event: ct.BillChanged, message: m.Message, bus: CommandBus, uow: UnitOfWork | None
) -> None:
    bus.handle(
        c.FollowBill(
            tenant_id=event.tenant_id,
            bill_id=event.bill_id,
            event_type=event.event_type,
            **caused_by(message, actor="autopay"),
        ),
        uow=uow,
    )


def _autopay_acts_on(uow: UnitOfWork, messages: list[m.Message]) -> set[str]:
    """The bill changes autopay acts on: a bill presented, corrected or withdrawn."""
    changes = [(msg.message_id, ct.decode(msg)) for msg in messages]
    return {
        message_id
        for message_id, change in changes
        if isinstance(change, ct.BillChanged) and change.event_type in autopay.AUTOPAY_EVENTS
    }


def _notify_bill_status(
    event: ct.BillChanged, message: m.Message, bus: CommandBus, uow: UnitOfWork | None
) -> None:
    bus.handle(
        c.NotifyBillStatus(
            tenant_id=event.tenant_id,
            customer_id=event.customer_id,
            bill_id=event.bill_id,
            event_type=event.event_type,
            **caused_by(message, actor="bill-notifier"),
        ),
        uow=uow,
    )


def _apply_payment_to_bill(
    event: ct.PaymentStatusChanged, message: m.Message, bus: CommandBus, uow: UnitOfWork | None
) -> None:
    bus.handle(
        c.ApplyPaymentToBill(
            tenant_id=event.tenant_id,
            payment_id=event.payment_id,
            event_types=tuple(_bill_payment_events(event)),
            **caused_by(message, actor="bill-payments"),
        ),
        uow=uow,
    )


def _bill_payment_events(change: ct.PaymentStatusChanged) -> list[str]:
    """The events of a change that the bill its payment pays follows, oldest first."""
    if change.bill_id is None:
        return []
    return [t for t, _ in change.changes() if t in bills.BILL_PAYMENT_EVENTS]


def _moves_a_bill_payment(uow: UnitOfWork, messages: list[m.Message]) -> set[str]:
    """The changes of a payment made for a bill that its bill follows."""
    selected = set()
    for msg in messages:
        change = ct.decode(msg)
        if isinstance(change, ct.PaymentStatusChanged) and _bill_payment_events(change):
            selected.add(msg.message_id)
    return selected


def _log_system_event(
    event: ct.Contract, message: m.Message, bus: CommandBus, uow: UnitOfWork | None
) -> None:
    logger.warning("system event %s", event.TYPE, extra={"event": event.TYPE, **event.encode()})


SUBSCRIPTIONS: tuple[Subscription, ...] = (
    Subscription(PAYMENT_PROCESSOR, (ct.ProcessPaymentTask,), _process_payment),
    Subscription("exception-handler", (ct.HandleExceptionTask,), _handle_exception, local=True),
    Subscription("notification-sender", (ct.DeliverNotificationTask,), _deliver_notification),
    Subscription(
        "status-notifier",
        (ct.PaymentStatusChanged,),
        _notify_payment_status,
        local=True,
        selects=_opted_into(ct.PaymentStatusChanged, ALERT_OF_EVENT),
    ),
    # NOTE: retired, as is payee-audit-log: events are recorded in the audit log as they are
    # published; both only drain the deliveries relayed to them before that was so.
    Subscription(
        "audit-log",
        (ct.PaymentStatusChanged, ct.ExceptionCreated),
        _record_left_over_activity,
        local=True,
        retired=True,
    ),
    Subscription("validation-service", (ct.AccountUpdated,), _verify_account),
    Subscription("held-payments", (ct.AccountVerified,), _settle_held_payments, local=True),
    Subscription("micro-deposits", (ct.MicroDepositsRequested,), _send_micro_deposits),
    Subscription("directory-cache", (ct.PayeeStatusChanged,), _invalidate_directory, local=True),
    Subscription("biller-payees", (ct.BillerChanged,), _follow_biller),
    Subscription(
        "payee-audit-log",
        (
            ct.AccountUpdated,
            ct.AccountVerified,
            ct.MicroDepositsRequested,
            ct.PayeeStatusChanged,
            ct.BillerChanged,
        ),
        _record_left_over_activity,
        local=True,
        retired=True,
    ),
    Subscription("autopay", (ct.BillChanged,), _follow_bill, local=True, selects=_autopay_acts_on),
    Subscription(
        "bill-notifier",
        (ct.BillChanged,),
        _notify_bill_status,
        local=True,
        selects=_opted_into(ct.BillChanged, bills.ALERT_OF_BILL_EVENT),
    ),
    Subscription(
        "bill-payments",
        (ct.PaymentStatusChanged,),
        _apply_payment_to_bill,
        local=True,
        selects=_moves_a_bill_payment,
    ),
    Subscription(
        "operations-log",
        (
            ct.BreakerStateChanged,
            ct.WebhookEndpointPaused,
            ct.DeliveryDeadLettered,
            ct.AchFileHandedOff,
        ),
        _log_system_event,
        local=True,
    ),
)


#: The internal services, each a set of subscribers that can run, scale and
#: restart on its own (``cbp worker --service NAME``).
SERVICES: dict[str, frozenset[str]] = {
    "payments": frozenset({PAYMENT_PROCESSOR, "held-payments"}),
    "exceptions": frozenset({"exception-handler"}),
    "notifications": frozenset({"notification-sender", "status-notifier", "bill-notifier"}),
    "bills": frozenset({"autopay", "bill-payments"}),
    "validation": frozenset(
        {"validation-service", "directory-cache", "biller-payees", "micro-deposits"}
    ),
    "audit": frozenset({"audit-log", "payee-audit-log", "operations-log"}),
}


def of_service(service: str | None) -> tuple[Subscription, ...]:
    """The subscriptions one service runs (all of them for None)."""
    if service is None:
        return SUBSCRIPTIONS
    if service not in SERVICES:
        raise ValueError(f"no service {service!r}: one of {', '.join(sorted(SERVICES))}")
    return tuple(s for s in SUBSCRIPTIONS if s.name in SERVICES[service])


def broker_queues(subscriptions: tuple[Subscription, ...] = SUBSCRIPTIONS) -> list[str]:
    """The broker queues of these subscriptions: one per task queue and topic subscriber."""
    return sorted({m.queue_name(s.destination, s.name, s.kind) for s in subscriptions})


class MessageRouter:
    """Hands each message to the subscribers that want it."""

    def __init__(self, bus: CommandBus, subscriptions: tuple[Subscription, ...] = SUBSCRIPTIONS):
        self.bus = bus
        self.subscriptions = subscriptions

    def subscribers(self, message: m.Message) -> list[Subscription]:
        """Every subscription whose destination and type filter match."""
        return [s for s in self.subscriptions if s.matches(message)]

    def route(self, uow: UnitOfWork, messages: list[m.Message]) -> dict[str, list[str]]:
        """For a batch the relay fans out: each message's subscribers, one delivery each.

        A subscriber that selects is asked once for the whole batch.
        """
        routes: dict[str, list[str]] = {msg.message_id: [] for msg in messages}
        for subscription in self.subscriptions:
            if subscription.retired:
                continue
            matching = [msg for msg in messages if subscription.matches(msg)]
            if not matching:
                continue
            chosen = (
                {msg.message_id for msg in matching}
                if subscription.selects is None
                else subscription.selects(uow, matching)
            )
            for msg in matching:
                if msg.message_id in chosen:
                    routes[msg.message_id].append(subscription.name)
        return routes

    def queues(self) -> list[str]:
        """Every broker queue a worker consumes: one per task queue and topic subscriber."""
        return broker_queues(self.subscriptions)

    def is_local(self, subscriber: str) -> bool:
        """Whether the subscriber touches only the database: one transaction a delivery."""
        return any(s.name == subscriber and s.local for s in self.subscriptions)

    def consume(self, message: m.Message, subscriber: str, uow: UnitOfWork | None = None) -> None:
        """Run the named subscriber on ``message``, in ``uow`` when the caller gives one."""
        for subscription in self.subscribers(message):
            if subscription.name == subscriber:
                subscription.handle(ct.decode(message), message, self.bus, uow)
                return
        raise LookupError(
            f"no subscriber {subscriber!r} for {message.type} on {message.destination}"
        )
