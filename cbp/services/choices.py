"""Reading a command's strings as the domain's enumerations, with one clear refusal."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import TypeVar

from cbp.domain.errors import InvalidInput

E = TypeVar("E", bound=enum.Enum)


def one_of(kind: type[E], value: str, field: str) -> E:
    """``value`` as a member of ``kind``, or InvalidInput naming ``field`` and what it may be."""
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(str(member.value) for member in kind)
        raise InvalidInput(f"{field} must be one of: {allowed}") from None


def all_of(kind: type[E], values: Iterable[str], field: str) -> tuple[E, ...]:
    """Each of ``values`` as a member of ``kind``, or InvalidInput at the first that is not."""
    return tuple(one_of(kind, value, field) for value in values)
