"""Bank identifiers: ABA routing numbers, biller account masks, masking."""

from __future__ import annotations

import re
from dataclasses import dataclass

from cbp.domain.errors import InvalidAccountNumber, InvalidInput, InvalidRoutingNumber

_ABA_WEIGHTS = (3, 7, 1, 3, 7, 1, 3, 7, 1)
#: First two digits an ABA number may start with (Federal Reserve routing symbols).
_ABA_PREFIXES = frozenset([*range(0, 13), *range(21, 33), *range(61, 73), 80])
_SEPARATORS = re.compile(r"[\s-]")
_MASK_SYNTAX = re.compile(r"^[0-9A-Z9X]+$")


def aba_check_digit(first_eight: str) -> int:
    """The ninth digit that makes ``first_eight`` a valid ABA number."""
    total = sum(int(d) * w for d, w in zip(first_eight, _ABA_WEIGHTS[:8], strict=True))
    return (10 - total % 10) % 10


def is_valid_routing_number(number: str) -> bool:
    """Whether ``number`` is nine digits with a valid prefix and checksum."""
    if len(number) != 9 or not number.isascii() or not number.isdigit():
        return False
    if int(number[:2]) not in _ABA_PREFIXES or number == "000000000":
        return False  # NOTE: all zeros passes the checksum but is no bank
    return sum(int(d) * w for d, w in zip(number, _ABA_WEIGHTS, strict=True)) % 10 == 0


def check_routing_number(number: str) -> str:
    """Return ``number`` if it is a valid ABA routing number, else raise."""
    if not is_valid_routing_number(number):
        raise InvalidRoutingNumber("routing number fails the ABA format or checksum")
    return number


def normalize_account_number(number: str) -> str:
    """Drop the spaces and hyphens people type; upper-case letters."""
    cleaned = _SEPARATORS.sub("", number).upper()
    if not cleaned or not cleaned.isascii() or not cleaned.isalnum() or len(cleaned) > 34:
        raise InvalidAccountNumber("account number must be 1 to 34 letters or digits")
    return cleaned


@dataclass(frozen=True, slots=True)
class AccountMask:
    """A biller's pattern for the account numbers it accepts.

    ``9`` stands for a digit, ``A`` for a letter, ``X`` for a letter or a
    digit; any other letter or digit must appear as written. A mask matches
    numbers of exactly its own length.
    """

    pattern: str

    def __post_init__(self) -> None:
        if not _MASK_SYNTAX.match(self.pattern) or len(self.pattern) > 34:
            raise InvalidInput(f"account mask {self.pattern!r} is not valid")

    def matches(self, account_number: str) -> bool:
        """Whether the (normalized) account number fits this mask."""
        if len(account_number) != len(self.pattern):
            return False
        return all(
            _fits(symbol, char) for symbol, char in zip(self.pattern, account_number, strict=True)
        )


def _fits(symbol: str, char: str) -> bool:
    if symbol == "9":
        return char.isdigit()
    if symbol == "A":
        return char.isalpha()
    if symbol == "X":
        return char.isalnum()
    return symbol == char


def check_account_against_masks(account_number: str, masks: tuple[AccountMask, ...]) -> str:
    """Normalize ``account_number`` and require it to fit one mask, if any are given."""
    normalized = normalize_account_number(account_number)
    if masks and not any(mask.matches(normalized) for mask in masks):
        raise InvalidAccountNumber("account number does not match the biller's format")
    return normalized


def mask_account_number(account_number: str) -> str:
    """Show only the last four characters (fewer for short numbers).

    The hidden part is always four asterisks, so the output reveals neither
    the hidden characters nor the number's length.
    """
    visible = min(4, len(account_number) // 2)
    tail = account_number[-visible:] if visible else ""
    return f"****{tail}"
