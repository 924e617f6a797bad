"""Domain errors: one typed exception per rule, each with a stable code.

The code is part of the public contract: the HTTP adapter maps it to a
problem type once, and clients branch on it. Messages never carry account
numbers, keys or secrets.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every rule the core refuses to break."""

    code = "domain_error"
    #: Whether what the command did before the refusal is kept: a refusal that
    #: is itself a fact to record (a wrong answer spends one of three tries).
    keeps_work = False

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidInput(DomainError):
    """A value is malformed: the caller must change the request."""

    code = "invalid_input"


class InvalidMoney(InvalidInput):
    """An amount is negative, not a number, or finer than the currency allows."""

    code = "invalid_money"


class UnsupportedCurrency(InvalidInput):
    """The currency is not one this engine settles."""

    code = "unsupported_currency"


class CurrencyMismatch(InvalidInput):
    """Two amounts in different currencies were combined."""

    code = "currency_mismatch"


class InvalidRoutingNumber(InvalidInput):
    """An ABA routing number fails its format or checksum."""

    code = "invalid_routing_number"


class InvalidAccountNumber(InvalidInput):
    """An account number matches none of the biller's accepted masks."""

    code = "invalid_account_number"


class NotFound(DomainError):
    """A record does not exist for this tenant."""

    code = "not_found"

    def __init__(self, kind: str, record_id: str) -> None:
        super().__init__(f"{kind} {record_id} was not found")
        self.kind = kind
        self.record_id = record_id


class AlreadyExists(DomainError):
    """A record with the same natural key exists already."""

    code = "already_exists"


class IllegalTransition(DomainError):
    """A state machine was asked for a move its current state forbids."""

    code = "illegal_transition"

    def __init__(self, kind: str, current: str, action: str) -> None:
        super().__init__(f"cannot {action} a {kind} that is {current}")
        self.current = current
        self.action = action


class MicroDepositsNotConfirmed(DomainError):
    """The customer's micro-deposit amounts were wrong, or came too late."""

    code = "micro_deposits_not_confirmed"
    keeps_work = True


class TooLateToChange(DomainError):
    """A payment was to change after it was due or queued to be sent: what goes out is fixed."""

    code = "illegal_transition"


class ConcurrencyConflict(DomainError):
    """Another writer appended to the stream first; reload and retry."""

    code = "concurrency_conflict"


class PolicyViolation(DomainError):
    """A tenant's payment policy forbids the request."""

    code = "policy_violation"


class ArrivesAfterDueDate(PolicyViolation):
    """Sent on its send-on date, the payment would reach the payee after the bill is due."""

    code = "arrives_after_due_date"


class AmountOutOfRange(PolicyViolation):
    """The amount is below the minimum or above the tenant's limit."""

    code = "amount_out_of_range"


class LimitExceeded(PolicyViolation):
    """The payment would take the customer past a limit the tenant set."""

    code = "limit_exceeded"


class SendDateNotAllowed(PolicyViolation):
    """The send-on date is in the past, past the cut-off, or too far ahead."""

    code = "send_date_not_allowed"


class PayeeNotPayable(DomainError):
    """The payee or its biller is not active, or its account is unverified."""

    code = "payee_not_payable"


class FundingAccountNotUsable(DomainError):
    """The funding account is not verified or belongs to someone else."""

    code = "funding_account_not_usable"


class IdempotencyKeyReused(DomainError):
    """The idempotency key was already used with a different request."""

    code = "idempotency_key_reused"


class IdempotencyKeyInFlight(DomainError):
    """The first request with this idempotency key has not finished yet."""

    code = "idempotency_key_in_flight"


class Unauthenticated(DomainError):
    """No valid, unrevoked API key was presented."""

    code = "unauthenticated"


class Forbidden(DomainError):
    """The API key lacks the scope the operation needs."""

    code = "forbidden"
