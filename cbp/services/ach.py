"""ACH files: handing them to the bank at each cut-off, and reading its returns back."""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from cbp.domain import identifiers
from cbp.domain.errors import InvalidInput
from cbp.domain.funding import AccountType
from cbp.ports.ach_originator import AchChange, AchOriginator, AchReturn
from cbp.ports.contracts import AchFileHandedOff
from cbp.ports.processor import PaymentProcessor
from cbp.ports.storage.unit_of_work import UnitOfWork, UnitsOfWork
from cbp.ports.system import Clock, IdGenerator
from cbp.services.commands import ApplyProcessorEvent, ReadAchReturns, RunAchCutOff
from cbp.services.inbox import already_consumed
from cbp.services.notifications import notify_account_holder
from cbp.services.outbox import send
from cbp.services.processing import apply_processor_event

#: The template of the notice a customer gets when the bank corrects their account.
ACCOUNT_CORRECTED = "account_corrected"
#: The template of the notice a customer gets when the bank returns their micro-deposits.
MICRO_DEPOSITS_RETURNED = "micro_deposits_returned"


class EntryOutcome(enum.StrEnum):
    """What became of an entry of a return file."""

    RETURNED = "returned"
    CHANGED = "changed"
    APPLIED_BEFORE = "applied before"
    #: A change that corrects nothing kept of an account (a company name, an
    #: identification number): recorded, not applied.
    NOTED = "noted"
    NOT_OURS = "not ours"


@dataclass(frozen=True, kw_only=True)
class ReturnsApplied:
    """What reading a return file did to each entry, by the original entry's trace number."""

    outcomes: tuple[tuple[str, EntryOutcome], ...]

    def count(self, outcome: EntryOutcome) -> int:
        """How many entries had this outcome."""
        return sum(1 for _, had in self.outcomes if had is outcome)

    def summary(self) -> str:
        """How many entries had each outcome, in words: ``4 returned, 2 changed, ...``."""
        return ", ".join(f"{self.count(outcome)} {outcome}" for outcome in EntryOutcome)


def run_ach_cut_off(
    command: RunAchCutOff,
    *,
    uow: UnitOfWork,
    clock: Clock,
    ids: IdGenerator,
    processor: PaymentProcessor,
) -> list[str]:
    """File the pending entries if a cut-off has passed; announce each file on system.events.

    A file is announced until its announcement is committed, so a crash in
    between announces it again rather than never. Without the ``nacha``
    processor there is nothing to file: the periodic run does nothing, an
    operator's (``now``) is refused.
    """
    if not isinstance(processor, AchOriginator):
        if command.now:
            raise InvalidInput("ACH files are made by the nacha processor: set CBP_PROCESSOR=nacha")
        return []
    handed = processor.cut_off(clock.now(), now=command.now)
    if not handed:
        return []
    at = clock.now()
    for hand_off in handed:
        event = AchFileHandedOff(
            file_name=hand_off.name,
            entries=hand_off.entries,
            total_debit=f"{hand_off.total_debit_cents / 100:.2f}",
            total_credit=f"{hand_off.total_credit_cents / 100:.2f}",
            effective_date=hand_off.effective_date.isoformat(),
            at=hand_off.created_at.isoformat(),
        )
        send(uow, event, tenant_id=None, ids=ids, at=at)
    processor.mark_announced([h.name for h in handed])
    return [h.name for h in handed]


def read_ach_returns(
    command: ReadAchReturns,
    *,
    unit_of_work: UnitsOfWork,
    clock: Clock,
    ids: IdGenerator,
    processor: PaymentProcessor,
) -> ReturnsApplied:
    """Apply an ODFI's return file: each return to its payment, each change to its account.

    A return moves its payment to ``returned`` with the R code and opens an
    exception (whether the payment had settled yet or not). A notification
    of change corrects the funding account it was about, which is verified
    again (``AccountUpdated``), and tells the customer. Each entry is
    applied once, by its original trace number and code: the same file
    read twice has no second effect.
    """
    if not isinstance(processor, AchOriginator):
        raise InvalidInput(
            "ACH return files are read by the nacha processor: set CBP_PROCESSOR=nacha"
        )
    found = processor.read_returns(command.content)
    outcomes: list[tuple[str, EntryOutcome]] = []
    for ach_return in found.returns:
        if identifiers.has_prefix(ach_return.reference, identifiers.PAYMENT):
            returned = ApplyProcessorEvent(
                event_id=f"ach.{ach_return.trace_number}.{ach_return.code}",
                event_type="payment.returned",
                tenant_id=ach_return.tenant_id,
                payment_id=ach_return.reference,
                code=ach_return.code,
                reason=ach_return.reason,
                actor="ach-returns",
                traceparent=command.traceparent,
            )
            with unit_of_work() as uow:
                applied = apply_processor_event(returned, uow=uow, clock=clock, ids=ids)
                uow.commit()
        else:
            applied = _once(
                "ach_returns",
                f"ach.{ach_return.trace_number}.{ach_return.code}",
                functools.partial(_apply_micro_deposit_return, ach_return, ids=ids),
                unit_of_work=unit_of_work,
                clock=clock,
            )
        outcomes.append(
            (
                ach_return.trace_number,
                EntryOutcome.RETURNED if applied else EntryOutcome.APPLIED_BEFORE,
            )
        )
    for change in found.changes:
        applied = _once(
            "ach_changes",
            f"ach.{change.trace_number}.{change.code}",
            functools.partial(_apply_change, change, ids=ids),
            unit_of_work=unit_of_work,
            clock=clock,
        )
        outcomes.append(
            (change.trace_number, EntryOutcome.CHANGED if applied else EntryOutcome.APPLIED_BEFORE)
        )
    outcomes += [(trace, EntryOutcome.NOTED) for trace in found.noted]
    outcomes += [(trace, EntryOutcome.NOT_OURS) for trace in found.unmatched]
    return ReturnsApplied(outcomes=tuple(outcomes))


def _once(
    consumer: str,
    key: str,
    apply: Callable[[UnitOfWork, datetime], None],
    *,
    unit_of_work: UnitsOfWork,
    clock: Clock,
) -> bool:
    """Run ``apply`` in a transaction of its own unless ``consumer`` already did for ``key``."""
    with unit_of_work() as uow:
        now = clock.now()
        if already_consumed(uow, consumer, key, at=now):
            return False
        apply(uow, now)
        uow.commit()
    return True


def _apply_micro_deposit_return(
    ach_return: AchReturn, uow: UnitOfWork, now: datetime, *, ids: IdGenerator
) -> None:
    """Fail the verification whose micro-deposit came back, and tell the customer once."""
    account_id = ach_return.reference.split(".")[0]  # NOTE: a credit is "<account>.<n>"
    uow.funding_accounts.hold(ach_return.tenant_id, account_id)
    account = uow.funding_accounts.get(ach_return.tenant_id, account_id)
    if account.fail_returned_micro_deposits(ach_return.code, at=now):
        uow.funding_accounts.save(account)
        notify_account_holder(
            uow,
            account,
            template=MICRO_DEPOSITS_RETURNED,
            payload={
                "funding_account_id": account.id,
                "return_code": ach_return.code,
                "reason": ach_return.reason,
            },
            ids=ids,
            at=now,
        )


def _apply_change(change: AchChange, uow: UnitOfWork, now: datetime, *, ids: IdGenerator) -> None:
    """Correct the funding account a notification of change is about, and tell its customer."""
    if identifiers.has_prefix(change.reference, identifiers.PAYMENT):
        payment = uow.payments.get(change.tenant_id, change.reference)
        account_id = payment.funding_account_id
    else:
        account_id = change.reference.split(".")[0]  # NOTE: a micro-deposit's credit
    account = uow.funding_accounts.get(change.tenant_id, account_id)
    account.correct(
        routing_number=change.routing_number,
        account_number=change.account_number,
        account_type=AccountType(change.account_type) if change.account_type else None,
        holder_name=change.holder_name,
        at=now,
    )
    uow.funding_accounts.save(account)
    notify_account_holder(
        uow,
        account,
        template=ACCOUNT_CORRECTED,
        payload={"funding_account_id": account.id, "change_code": change.code},
        ids=ids,
        at=now,
    )
