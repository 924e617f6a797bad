"""Micro-deposits: two small credits the customer reads back to prove a bank account is theirs."""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime

from cbp.domain.money import Money

#: Wrong answers allowed before the account is locked.
MAX_ATTEMPTS = 3


class VerificationMethod(enum.StrEnum):
    """How a funding account is proven to be the customer's."""

    #: Asked of an account verifier at once (a bank-data provider, or the rules).
    INSTANT = "instant"
    #: Two small credits, whose amounts the customer confirms.
    MICRO_DEPOSITS = "micro_deposits"


class Confirmation(enum.StrEnum):
    """What a customer's answer to the micro-deposits did."""

    VERIFIED = "verified"
    MISMATCH = "mismatch"
    LOCKED = "locked"
    EXPIRED = "expired"


@dataclass(frozen=True, kw_only=True)
class MicroDeposits:
    """The two amounts credited, until when they may be confirmed, and the wrong tries so far."""

    amounts: tuple[Money, Money]
    expires_at: datetime
    attempts: int = 0

    @property
    def tries_left(self) -> int:
        """How many more answers are taken."""
        return max(MAX_ATTEMPTS - self.attempts, 0)

    def matches(self, answer: tuple[Money, ...]) -> bool:
        """Whether ``answer`` names the two amounts, in either order."""
        return sorted(m.amount for m in answer) == sorted(m.amount for m in self.amounts)

    def missed(self) -> MicroDeposits:
        """The challenge after one more wrong answer."""
        return replace(self, attempts=self.attempts + 1)
