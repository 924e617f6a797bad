"""The API's page cursors: only those it made itself come back in."""

from __future__ import annotations

import pytest

from cbp.adapters.falcon.cursors import CursorSeal
from cbp.domain.errors import InvalidInput
from cbp.ports.pagination import decode_cursor, encode_cursor

SEAL = CursorSeal(b"k" * 32)


def test_a_sealed_cursor_opens_to_the_storage_cursor_inside() -> None:
    inner = encode_cursor(["2026-12-07", "pmt_01", 7, "Zoë Ñandú"])
    sealed = SEAL.seal(inner)
    assert sealed is not None and sealed.startswith("v1.")
    assert SEAL.open(sealed) == inner
    assert decode_cursor(inner) == ["2026-12-07", "pmt_01", 7, "Zoë Ñandú"]
    assert SEAL.seal(None) is None and SEAL.open(None) is None and SEAL.open("") is None


@pytest.mark.parametrize(
    "change",
    [
        lambda c: c.replace("v1.", "v2.", 1),
        lambda c: c[:-1] + ("A" if c[-1] != "A" else "B"),
        lambda c: c.split(".")[1],
        lambda c: "v1." + encode_cursor([1]) + "." + c.split(".")[2],
        lambda c: CursorSeal(b"o" * 32).seal(c.split(".")[1]),
        lambda c: c + "x" * 3000,
    ],
)
def test_a_changed_forged_or_foreign_cursor_is_refused(change) -> None:  # type: ignore[no-untyped-def]
    sealed = SEAL.seal(encode_cursor(["2026-12-07", "pmt_01"]))
    with pytest.raises(InvalidInput, match="cursor is not valid"):
        SEAL.open(change(sealed))


@pytest.mark.parametrize(
    "position", [[True], [1.5], [{"a": 1}], [[1]], [None], ["a\x00b"], [2**63], ["\udc80"]]
)
def test_a_cursor_holds_only_text_and_whole_numbers(position: list[object]) -> None:
    import base64
    import json

    raw = json.dumps(position).encode()
    cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    with pytest.raises(InvalidInput, match="cursor is not valid"):
        decode_cursor(cursor)
