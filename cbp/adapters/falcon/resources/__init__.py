"""The REST resources: validate, build a command, call the use case, shape.

No business rule lives here, and no domain error is caught here: the error
handlers turn them into problems, and the idempotency middleware keeps the
answer for a replay.
"""

from cbp.adapters.falcon.resources.bills import Autopay, Bills
from cbp.adapters.falcon.resources.notices import DeadLetters, Exceptions, WebhookEndpoints
from cbp.adapters.falcon.resources.parties import Customers, Directory, FundingAccounts, Payees
from cbp.adapters.falcon.resources.payments import Payments, ProcessorEvents, RecurringPayments

__all__ = [
    "Autopay",
    "Bills",
    "Customers",
    "DeadLetters",
    "Directory",
    "Exceptions",
    "FundingAccounts",
    "Payees",
    "Payments",
    "ProcessorEvents",
    "RecurringPayments",
    "WebhookEndpoints",
]
