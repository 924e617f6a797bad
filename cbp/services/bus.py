"""The command bus: one handler per command type, one way in for callers."""

from __future__ import annotations

import functools
import inspect
import random
import time
from collections.abc import Callable
from dataclasses import fields
from typing import Any, TypeVar

from cbp.domain.errors import ConcurrencyConflict
from cbp.services import (
    access,
    ach,
    auditing,
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
    pipeline,
    recurring,
    status_notices,
    webhooks,
)
from cbp.services import commands as c
from cbp.services.dependencies import Dependencies

Handler = Callable[..., Any]
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
    c.AddPayee: payees.add_payee,
    c.UpdatePayee: payees.update_payee,
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
    c.StartProcessingJob: pipeline.start_processing_job,
    c.ProcessPayment: pipeline.process_payment,
    c.QueueDuePayments: pipeline.queue_due_payments,
    c.ReconcilePayments: pipeline.reconcile_payments,
    c.SettleHeldPayments: holds.settle_held_payments,
    c.RecordPaymentReturn: pipeline.record_payment_return,
    c.RunAchCutOff: ach.run_ach_cut_off,
    c.ReadAchReturns: ach.read_ach_returns,
    c.ApplyProcessorEvent: pipeline.apply_processor_event,
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


def inject(handler: Handler, deps: Dependencies) -> Callable[[c.Command], Any]:
    """``handler`` with the ports it names as keyword-only parameters bound.

    A name that is not a port is refused here, when the bus is built, not
    when the first command arrives.
    """
    ports = {port.name for port in fields(deps)}
    named = [
        parameter.name
        for parameter in inspect.signature(handler).parameters.values()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
    ]
    unknown = sorted(set(named) - ports)
    if unknown:
        raise TypeError(f"{handler.__qualname__} asks for unknown ports: {', '.join(unknown)}")
    return functools.partial(handler, **{name: getattr(deps, name) for name in named})


class CommandBus:
    """Runs a command through its handler, which gets the ports it asks for by name."""

    def __init__(self, deps: Dependencies) -> None:
        self.deps = deps
        self._handlers = {kind: inject(handler, deps) for kind, handler in HANDLERS.items()}

    def handle(self, command: c.Command) -> Any:
        """Run ``command``, retried on write conflicts; return at most an id."""
        try:
            handler = self._handlers[type(command)]
        except KeyError:
            raise TypeError(f"no handler for {type(command).__name__}") from None
        with c.handling(command):
            return retry_on_conflict(lambda: handler(command))
