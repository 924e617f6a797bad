"""The command bus: one handler per command type, one way in for callers."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from cbp.domain.errors import ConcurrencyConflict
from cbp.services import (
    access,
    auditing,
    customers,
    delivery,
    directory,
    exceptions,
    funding,
    notifications,
    outbox,
    payees,
    payments,
    pipeline,
    webhooks,
)
from cbp.services import commands as c
from cbp.services.dependencies import Dependencies

Handler = Callable[[Any, Dependencies], Any]
T = TypeVar("T")

HANDLERS: dict[type[c.Command], Handler] = {
    c.CreateTenant: access.create_tenant,
    c.SetTenantContact: access.set_tenant_contact,
    c.CreateApiKey: access.create_api_key,
    c.RevokeApiKey: access.revoke_api_key,
    c.CreateCustomer: customers.create_customer,
    c.AddGlobalPayee: directory.add_global_payee,
    c.UpdateGlobalPayee: directory.update_global_payee,
    c.AddPayee: payees.add_payee,
    c.UpdatePayee: payees.update_payee,
    c.VerifyPayeeAccount: payees.verify_payee_account,
    c.AddFundingAccount: funding.add_funding_account,
    c.VerifyFundingAccount: funding.verify_funding_account,
    c.CreateOneTimePayment: payments.create_one_time_payment,
    c.CancelPayment: payments.cancel_payment,
    c.StartProcessingJob: pipeline.start_processing_job,
    c.ProcessPayment: pipeline.process_payment,
    c.QueueDuePayments: pipeline.queue_due_payments,
    c.ReconcilePayments: pipeline.reconcile_payments,
    c.RecordPaymentReturn: pipeline.record_payment_return,
    c.ApplyProcessorEvent: pipeline.apply_processor_event,
    c.AnnounceBreakerChange: outbox.announce_breaker_change,
    c.RetryDeadLetter: delivery.retry_dead_letter,
    c.PurgeDeliveredMessages: delivery.purge_delivered_messages,
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


class CommandBus:
    """Runs a command through its handler with the shared dependencies."""

    def __init__(self, deps: Dependencies) -> None:
        self.deps = deps

    def handle(self, command: c.Command) -> Any:
        """Run ``command``, retried on write conflicts; return at most an id."""
        try:
            handler = HANDLERS[type(command)]
        except KeyError:
            raise TypeError(f"no handler for {type(command).__name__}") from None
        with c.handling(command):
            return retry_on_conflict(lambda: handler(command, self.deps))
