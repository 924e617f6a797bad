"""The command bus: one handler per command type, one way in for callers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cbp.services import (
    access,
    customers,
    directory,
    exceptions,
    funding,
    notifications,
    payees,
    payments,
    pipeline,
)
from cbp.services import commands as c
from cbp.services.dependencies import Dependencies

Handler = Callable[[Any, Dependencies], Any]

HANDLERS: dict[type[c.Command], Handler] = {
    c.CreateTenant: access.create_tenant,
    c.CreateApiKey: access.create_api_key,
    c.RevokeApiKey: access.revoke_api_key,
    c.CreateCustomer: customers.create_customer,
    c.AddGlobalPayee: directory.add_global_payee,
    c.UpdateGlobalPayee: directory.update_global_payee,
    c.AddPayee: payees.add_payee,
    c.UpdatePayee: payees.update_payee,
    c.VerifyPayeeAccount: payees.verify_payee_account,
    c.AddFundingAccount: funding.add_funding_account,
    c.CreateOneTimePayment: payments.create_one_time_payment,
    c.CancelPayment: payments.cancel_payment,
    c.StartProcessingJob: pipeline.start_processing_job,
    c.ProcessPayment: pipeline.process_payment,
    c.QueueDuePayments: pipeline.queue_due_payments,
    c.ReconcilePayments: pipeline.reconcile_payments,
    c.RecordPaymentReturn: pipeline.record_payment_return,
    c.HandleException: exceptions.handle_exception,
    c.ResolveException: exceptions.resolve_exception,
    c.SendCustomerNotification: exceptions.send_customer_notification,
    c.DeliverNotification: notifications.deliver_notification,
}


class CommandBus:
    """Runs a command through its handler with the shared dependencies."""

    def __init__(self, deps: Dependencies) -> None:
        self.deps = deps

    def handle(self, command: c.Command) -> Any:
        """Run ``command``; return what its handler returns (at most an id)."""
        try:
            handler = HANDLERS[type(command)]
        except KeyError:
            raise TypeError(f"no handler for {type(command).__name__}") from None
        return handler(command, self.deps)
