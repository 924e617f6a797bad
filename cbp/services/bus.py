"""The command bus: one handler per command type, one way in for callers."""

from __future__ import annotations

import functools
import inspect
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, Protocol, TypeVar

from cbp.domain.errors import ConcurrencyConflict, DomainError
from cbp.ports.storage.events import Recorded
from cbp.ports.storage.unit_of_work import UnitOfWork
from cbp.ports.system import Clock
from cbp.services import (
    access,
    ach,
    auditing,
    autopay,
    bills,
    checks,
    customers,
    delivery,
    directory,
    exceptions,
    funding,
    holds,
    idempotency,
    limits,
    micro_deposits,
    notifications,
    outbox,
    payees,
    payments,
    processing,
    queueing,
    recurring,
    status_notices,
    webhooks,
)
from cbp.services import commands as c
from cbp.services.dependencies import Dependencies

Handler = Callable[..., Any]


class Publish(Protocol):
    """Publishes what a unit of work's aggregates recorded, caused by a command."""

    def __call__(
        self,
        uow: UnitOfWork,
        command: c.Command | None = None,
        *,
        first: Callable[[list[Recorded]], None] | None = None,
    ) -> None:
        """Put the events ``uow`` collected in its outbox, with the command's headers.

        ``first`` is given what was collected before anything is published
        (the command's audit entry goes before its events').
        """
        ...


T = TypeVar("T")

#: Each command's handler; it takes the command, then the ports it names.
HANDLERS: dict[type[c.Command], Handler] = {
    c.CreateTenant: access.create_tenant,
    c.SetTenantContact: access.set_tenant_contact,
    c.SetCustomerLimits: limits.set_customer_limits,
    c.CreateApiKey: access.create_api_key,
    c.RevokeApiKey: access.revoke_api_key,
    c.RotateApiKey: access.rotate_api_key,
    c.CreateCustomer: customers.create_customer,
    c.SetNotificationPreferences: customers.set_notification_preferences,
    c.NotifyPaymentStatus: status_notices.notify_payment_status,
    c.AddGlobalPayee: directory.add_global_payee,
    c.UpdateGlobalPayee: directory.update_global_payee,
    c.ForgetDirectorySearches: directory.forget_directory_searches,
    c.AddPayee: payees.add_payee,
    c.UpdatePayee: payees.update_payee,
    c.FollowBiller: payees.follow_biller,
    c.VerifyPayeeAccount: payees.verify_payee_account,
    c.AddFundingAccount: funding.add_funding_account,
    c.VerifyFundingAccount: funding.verify_funding_account,
    c.SendMicroDeposits: micro_deposits.send_micro_deposits,
    c.ConfirmMicroDeposits: micro_deposits.confirm_micro_deposits,
    c.ExpireMicroDeposits: micro_deposits.expire_micro_deposits,
    c.CreateOneTimePayment: payments.create_one_time_payment,
    c.ChangePayment: payments.change_payment,
    c.CreateRecurringPayment: recurring.create_recurring_payment,
    c.ChangeRecurringPayment: recurring.change_recurring_payment,
    c.ChangeNextOccurrence: recurring.change_next_occurrence,
    c.SkipNextOccurrence: recurring.skip_next_occurrence,
    c.MakeDueOccurrences: recurring.make_due_occurrences,
    c.CancelPayment: payments.cancel_payment,
    c.PresentBill: bills.present_bill,
    c.CorrectBill: bills.correct_bill,
    c.WithdrawBill: bills.withdraw_bill,
    c.SetAutopay: autopay.set_autopay,
    c.RemoveAutopay: autopay.remove_autopay,
    c.FollowBill: autopay.follow_bill,
    c.NotifyBillStatus: bills.notify_bill_status,
    c.ApplyPaymentToBill: bills.apply_payment_to_bill,
    c.MarkBillsPastDue: bills.mark_bills_past_due,
    c.PrintChecks: checks.print_checks,
    c.SweepChecks: checks.sweep_checks,
    c.StopCheck: checks.stop_check,
    c.VoidCheck: checks.void_check,
    c.ReadPaidItems: checks.read_paid_items,
    c.StartProcessingJob: queueing.start_processing_job,
    c.ProcessPayment: processing.process_payment,
    c.QueueDuePayments: queueing.queue_due_payments,
    c.ReconcilePayments: processing.reconcile_payments,
    c.SettleHeldPayments: holds.settle_held_payments,
    c.RecordPaymentReturn: processing.record_payment_return,
    c.RunAchCutOff: ach.run_ach_cut_off,
    c.ReadAchReturns: ach.read_ach_returns,
    c.ApplyProcessorEvent: processing.apply_processor_event,
    c.AnnounceBreakerChange: outbox.announce_breaker_change,
    c.RetryDeadLetter: delivery.retry_dead_letter,
    c.PurgeDeliveredMessages: delivery.purge_delivered_messages,
    c.PurgeExpiredIdempotencyKeys: idempotency.purge_expired_idempotency_keys,
    c.RecordPaymentActivity: auditing.record_payment_activity,
    c.RecordPayeeActivity: auditing.record_payee_activity,
    c.HandleException: exceptions.handle_exception,
    c.ResolveException: exceptions.resolve_exception,
    c.SendCustomerNotification: exceptions.send_customer_notification,
    c.DeliverNotification: notifications.deliver_notification,
    c.RegisterWebhookEndpoint: webhooks.register_webhook_endpoint,
    c.ChangeWebhookEndpoint: webhooks.change_webhook_endpoint,
    c.RotateWebhookSecret: webhooks.rotate_webhook_secret,
    c.RemoveWebhookEndpoint: webhooks.remove_webhook_endpoint,
    c.ResumeWebhookEndpoint: webhooks.resume_webhook_endpoint,
    c.ReplayWebhooks: webhooks.replay_webhooks,
}


def retry_on_conflict(action: Callable[[], T], *, attempts: int = 5) -> T:
    """Run ``action``, again after a short jittered pause if another writer won.

    Handlers reload what they change in every run, so a retry applies the
    change on top of the winner's instead of losing either.
    """
    for attempt in range(1, attempts + 1):
        try:
            return action()
        except ConcurrencyConflict:
            if attempt == attempts:
                raise
            time.sleep(random.uniform(0, 0.01 * 2**attempt))
    raise AssertionError("unreachable")


#: The name a handler gives the one unit of work the bus runs it in.
IN_ONE_TRANSACTION = "uow"
#: The name a handler of several transactions gives what opens them.
OWN_TRANSACTIONS = "unit_of_work"


@dataclass(frozen=True)
class Bound:
    """A handler with its ports and options bound, and how it takes its transactions."""

    run: Callable[..., Any]
    #: ``uow``, ``unit_of_work``, or None for a handler that stores nothing.
    transactions: str | None


def inject(handler: Handler, deps: Dependencies) -> Bound:
    """``handler`` with what it names as keyword-only parameters bound: ports, then options.

    A handler asks for a port (``clock``, ``verifier``...) or a tunable
    (``max_notification_attempts``...) by its name, and for its transactions as
    ``uow`` (the bus runs it in one) or ``unit_of_work`` (it opens several).
    A name that is none of these is refused here, when the bus is built,
    not when the first command arrives.
    """
    available = {
        port.name: getattr(deps, port.name)
        for port in fields(deps)
        if port.name not in ("options", OWN_TRANSACTIONS)
    }
    available |= {
        option.name: getattr(deps.options, option.name) for option in fields(deps.options)
    }
    named = [
        parameter.name
        for parameter in inspect.signature(handler).parameters.values()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
    ]
    transactions = [n for n in named if n in (IN_ONE_TRANSACTION, OWN_TRANSACTIONS)]
    unknown = sorted(set(named) - set(available) - set(transactions))
    if unknown:
        raise TypeError(f"{handler.__qualname__} asks for unknown ports: {', '.join(unknown)}")
    if len(transactions) > 1:
        raise TypeError(f"{handler.__qualname__} asks for both uow and unit_of_work")
    bound = functools.partial(
        handler, **{name: available[name] for name in named if name not in transactions}
    )
    return Bound(bound, transactions[0] if transactions else None)


class CommandBus:
    """Runs each command through its handler, in a unit of work, and publishes what it did.

    A handler that takes ``uow`` runs in the unit of work the caller hands
    in (a request's, a worker's delivery's), or in one the bus opens and
    commits. Either way the bus publishes the events its aggregates
    recorded, with headers from the command (its tenant, correlation and
    trace), and records the command in the audit log as its class says. A
    handler of several transactions (one that calls the outside world
    between them) is given units that do both as each commits.
    """

    def __init__(self, deps: Dependencies, publish: Publish) -> None:
        self._units = deps.unit_of_work
        self._publish = publish
        self._clock: Clock = deps.clock
        self._handlers = {kind: inject(handler, deps) for kind, handler in HANDLERS.items()}

    def handle(self, command: c.Command, *, uow: UnitOfWork | None = None) -> Any:
        """Run ``command`` (in ``uow``, if given); return at most an id.

        In a unit of work of its own the command is retried on a write
        conflict; in the caller's, the conflict is the caller's to retry.
        """
        try:
            bound = self._handlers[type(command)]
        except KeyError:
            raise TypeError(f"no handler for {type(command).__name__}") from None
        if bound.transactions == IN_ONE_TRANSACTION:
            if uow is not None:
                return self._run_in(uow, bound, command)
            return retry_on_conflict(lambda: self._run_in_its_own(bound, command))
        if bound.transactions == OWN_TRANSACTIONS:
            if uow is not None:
                raise TypeError(f"{type(command).__name__} runs transactions of its own")
            units = functools.partial(
                self._units, before_commit=functools.partial(self._conclude_commit, command=command)
            )
            return retry_on_conflict(lambda: bound.run(command, unit_of_work=units))
        return bound.run(command)

    def _run_in(self, uow: UnitOfWork, bound: Bound, command: c.Command) -> Any:
        try:
            result = bound.run(command, uow=uow)
        except DomainError as refusal:
            if refusal.keeps_work:
                self._conclude(uow, command)
            raise
        self._conclude(uow, command, returned=result)
        return result

    def _conclude(self, uow: UnitOfWork, command: c.Command, returned: object = None) -> None:
        """Record ``command`` in the audit log, then publish what it changed in ``uow``."""

        def audit(changed: list[Recorded]) -> None:
            auditing.record_command(
                uow, command, at=self._clock.now(), changed=changed, returned=returned
            )

        self._publish(uow, command, first=audit)

    def _conclude_commit(self, uow: UnitOfWork, command: c.Command) -> None:
        """Audit and publish one of a handler's several commits: each aggregate it changed."""

        def audit(changed: list[Recorded]) -> None:
            if changed:
                auditing.record_command(uow, command, at=self._clock.now(), changed=changed)

        self._publish(uow, command, first=audit)

    def _run_in_its_own(self, bound: Bound, command: c.Command) -> Any:
        with self._units() as uow:
            try:
                result = self._run_in(uow, bound, command)
            except DomainError as refusal:
                if refusal.keeps_work:
                    uow.commit()
                raise
            uow.commit()
        return result
