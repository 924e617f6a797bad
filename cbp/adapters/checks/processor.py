"""The ``check`` processor: payments to payees without an electronic path, paid by check.

A submission that names a mailing address is issued a check, numbered from
its tenant's own range, in the register (tables of the deployment's
database, in the transaction that records the submission where it can be).
Each print run writes, per tenant, the print file for the bank's check
vendor and the matching Positive Pay issue file into the outbound directory
(mode 0700, each file 0600: they name payees and amounts); a file is
recorded before it is written, and one recorded but missing (a crash
between) is written again, the same bytes under the same name. The vendor
mails a run's checks the business day after it.

Any other submission goes to the electronic processor beside it
(``ByPaymentMethod``): the deployment keeps its HTTP or nacha processor for
billers paid electronically.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime
from itertools import groupby
from pathlib import Path
from zoneinfo import ZoneInfo

from cbp.adapters.checks import files
from cbp.domain.check import Check, CheckStatus
from cbp.domain.payment import PaymentStatus
from cbp.ports.check_printer import PrintRun
from cbp.ports.processor import (
    Credit,
    PaymentProcessor,
    ProcessorResult,
    ProcessorStatus,
    Submission,
    TransactionalProcessor,
)
from cbp.ports.storage.checks import CheckFile
from cbp.ports.storage.unit_of_work import UnitOfWork, UnitsOfWork
from cbp.ports.system import Clock

#: What each status of a check tells the payment that it pays.
_OUTCOME = {
    CheckStatus.ISSUED: (ProcessorStatus.ACCEPTED, None),
    CheckStatus.PRINTED: (ProcessorStatus.ACCEPTED, None),
    CheckStatus.MAILED: (ProcessorStatus.SETTLED, None),
    CheckStatus.CASHED: (ProcessorStatus.SETTLED, None),
    CheckStatus.VOIDED: (ProcessorStatus.FAILED, "check_voided"),
    CheckStatus.EXPIRED: (ProcessorStatus.RETURNED, "check_expired"),
}


class CheckProcessor:
    """Checks issued from the register, printed in runs, their outcomes read back from it."""

    def __init__(
        self,
        clock: Clock,
        unit_of_work: UnitsOfWork,
        *,
        first_number: int,
        outbound_dir: str,
        timezone: str = "America/New_York",
    ) -> None:
        self.clock = clock
        self.unit_of_work = unit_of_work
        self.first_number = first_number
        self.outbound = Path(outbound_dir)
        self.outbound.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.timezone = ZoneInfo(timezone)

    # -- the processor port --------------------------------------------------

    def submit_within(self, uow: UnitOfWork, submission: Submission) -> ProcessorResult:
        """Issue the payment's check in ``uow``; a repeat of its reference issues none."""
        if uow.checks.get(submission.reference) is None:
            if submission.mail_to is None:
                raise ValueError("a check submission needs a mailing address")
            number = uow.checks.next_number(submission.tenant_id, self.first_number)
            uow.checks.add(
                Check(
                    reference=submission.reference,
                    tenant_id=submission.tenant_id,
                    number=number,
                    amount=submission.amount,
                    payee_name=submission.payee_name,
                    mail_to=submission.mail_to,
                    memo=submission.reference,
                    issued_at=self.clock.now(),
                )
            )
        return ProcessorResult(reference=submission.reference, status=ProcessorStatus.ACCEPTED)

    def submit(self, submission: Submission) -> ProcessorResult:
        """Issue the payment's check in a transaction of its own."""
        with self.unit_of_work() as uow:
            result = self.submit_within(uow, submission)
            uow.commit()
        return result

    def outcome(self, reference: str) -> ProcessorResult:
        """Accepted until mailed, settled from then, or failed or returned (UNKNOWN: no check)."""
        with self.unit_of_work(read_only=True) as uow:
            check = uow.checks.get(reference)
        if check is None:
            return ProcessorResult(reference=reference, status=ProcessorStatus.UNKNOWN)
        if check.status is CheckStatus.STOPPED:
            status = ProcessorStatus.RETURNED if check.was_mailed else ProcessorStatus.FAILED
            return ProcessorResult(reference=reference, status=status, failure_code="check_stopped")
        status, code = _OUTCOME[check.status]
        return ProcessorResult(reference=reference, status=status, failure_code=code)

    # -- print runs ----------------------------------------------------------------

    def print_run(self, *, limit: int = 5000) -> PrintRun:
        """Print every issued check: a print file and a Positive Pay file per tenant.

        A check whose payment was cancelled or failed before it was printed
        is voided instead; checks stopped, voided or expired since the last
        run are listed as voids in the Positive Pay file. Files recorded but
        not yet written (a crash after the record) are written first.
        """
        self._write_recorded()
        at = self.clock.now()
        stamp = at.astimezone(self.timezone)
        made: list[CheckFile] = []
        printed = voided = 0
        with self.unit_of_work() as uow:
            issued = _by_tenant(uow.checks.to_print(limit=limit))
            owed = _by_tenant(uow.checks.to_report_void())
            for tenant_id in sorted(issued.keys() | owed.keys()):
                to_print = []
                for check in issued.get(tenant_id, []):
                    if self._payment_goes(uow, check):
                        to_print.append(check)
                    else:
                        check.void(at=at)
                        uow.checks.save(check)
                        voided += 1
                refused = owed.get(tenant_id, [])
                if not to_print and not refused:
                    continue
                suffix = f"{tenant_id}-{stamp:%Y%m%d-%H%M%S}.csv"
                name = f"checks-{suffix}"
                for check in to_print:
                    check.printed(name, on=stamp.date())
                uow.checks.mark_printed(to_print)
                for check in refused:
                    check.void_reported = True
                    uow.checks.save(check)
                if to_print:
                    content = files.print_file(to_print, stamp.date())
                    made.append(self._file(name, tenant_id, "print", content, len(to_print), at))
                made.append(
                    self._file(
                        f"positive-pay-{suffix}",
                        tenant_id,
                        "positive_pay",
                        files.positive_pay_file(to_print, refused, stamp.date()),
                        len(to_print) + len(refused),
                        at,
                    )
                )
                printed += len(to_print)
            for record in made:
                uow.checks.add_file(record)
            uow.commit()
        self._write_recorded()
        return PrintRun(files=tuple(made), printed=printed, voided=voided)

    def file(self, name: str) -> str:
        """A written file's content, as the outbound directory holds it."""
        return (self.outbound / name).read_text(encoding="utf-8")

    # -- internals -------------------------------------------------------------

    @staticmethod
    def _payment_goes(uow: UnitOfWork, check: Check) -> bool:
        """Whether the check's payment is still on its way (not cancelled or failed since)."""
        payment = uow.payments.view(check.tenant_id, check.reference)
        return payment.status in (PaymentStatus.PROCESSING, PaymentStatus.COMPLETED)

    @staticmethod
    def _file(
        name: str, tenant_id: str, kind: str, content: str, checks: int, at: datetime
    ) -> CheckFile:
        return CheckFile(
            name=name, tenant_id=tenant_id, kind=kind, created_at=at, content=content, checks=checks
        )

    def _write_recorded(self) -> None:
        """Write every recorded file missing from the outbound directory, atomically."""
        with self.unit_of_work() as uow:
            for record in uow.checks.unwritten_files():
                path = self.outbound / record.name
                if not path.exists():
                    partial = path.with_suffix(".partial")
                    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                    with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as out:
                        out.write(record.content)
                        out.flush()
                        os.fsync(out.fileno())
                    os.replace(partial, path)
                uow.checks.mark_written(record.name)
            uow.commit()


class ByPaymentMethod:
    """Checks to the check processor, everything else to the electronic processor."""

    def __init__(self, electronic: PaymentProcessor, checks: CheckProcessor) -> None:
        self.electronic = electronic
        self.checks = checks

    def submit(self, submission: Submission) -> ProcessorResult:
        """Issue a check for a submission with a mailing address; submit the others."""
        if submission.mail_to is not None:
            return self.checks.submit(submission)
        return self.electronic.submit(submission)

    def outcome(self, reference: str) -> ProcessorResult:
        """The check's outcome if one was issued for the reference, else the processor's."""
        found = self.checks.outcome(reference)
        if found.status is not ProcessorStatus.UNKNOWN:
            return found
        return self.electronic.outcome(reference)

    def send_credit(self, credit: Credit) -> None:
        """Micro-deposits go through the electronic processor."""
        self.electronic.send_credit(credit)

    def print_run(self, *, limit: int = 5000) -> PrintRun:
        """Print the issued checks (see ``CheckProcessor.print_run``)."""
        return self.checks.print_run(limit=limit)


class TransactionalByPaymentMethod(ByPaymentMethod):
    """``ByPaymentMethod`` beside a processor whose books are the payments' own database."""

    def __init__(self, electronic: PaymentProcessor, checks: CheckProcessor) -> None:
        super().__init__(electronic, checks)
        if not isinstance(electronic, TransactionalProcessor):
            raise TypeError("the electronic processor does not take submissions in a transaction")
        self.electronic_within: TransactionalProcessor = electronic

    def submit_within(self, uow: UnitOfWork, submission: Submission) -> ProcessorResult:
        """Issue the check, or take the electronic submission, in ``uow``."""
        if submission.mail_to is not None:
            return self.checks.submit_within(uow, submission)
        return self.electronic_within.submit_within(uow, submission)


def by_payment_method(electronic: PaymentProcessor, checks: CheckProcessor) -> ByPaymentMethod:
    """The router for ``electronic``: transactional when its books are the payments' database."""
    if isinstance(electronic, TransactionalProcessor):
        return TransactionalByPaymentMethod(electronic, checks)
    return ByPaymentMethod(electronic, checks)


def _by_tenant(checks: Sequence[Check]) -> dict[str, list[Check]]:
    ordered = sorted(checks, key=lambda c: (c.tenant_id, c.number))
    return {tenant: list(group) for tenant, group in groupby(ordered, key=lambda c: c.tenant_id)}
