"""Files a bank or a spreadsheet hands the command line are read as they come."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from cbp.domain.errors import InvalidInput
from cbp.entrypoints.cli.operations import read_file


def test_a_byte_order_mark_is_not_part_of_the_text(tmp_path: Path) -> None:
    path = tmp_path / "returns.ach"
    path.write_bytes(codecs.BOM_UTF8 + b"101 011000015")
    assert read_file(str(path), "ascii") == "101 011000015"


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"101 \xe9", "it is not ASCII"), (None, "no such file")],
)
def test_a_file_that_cannot_be_read_says_why(
    tmp_path: Path, content: bytes | None, message: str
) -> None:
    path = tmp_path / "returns.ach"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InvalidInput, match=message):
        read_file(str(path), "ascii")
