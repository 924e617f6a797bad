"""The configuration and command references are written from the code, and cannot drift."""

from __future__ import annotations

from pathlib import Path

import pytest

from cbp.entrypoints.api_examples import api_examples
from cbp.entrypoints.cli import build_parser
from cbp.entrypoints.reference import (
    command_reference,
    configuration_reference,
    replace_generated,
)
from cbp.settings import Settings

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.parametrize(
    ("page", "name", "generate"),
    [
        ("configuration.md", "configuration", configuration_reference),
        ("cli.md", "cli", lambda: command_reference(build_parser())),
        ("api-examples.md", "api", api_examples),
    ],
)
def test_each_reference_page_holds_the_table_the_code_writes(
    page: str, name: str, generate: object
) -> None:
    text = (DOCS / page).read_text()
    table = generate()  # type: ignore[operator]
    assert replace_generated(text, name, table) == text, (
        f"docs/{page} is stale: run `cbp reference {name} --write docs/{page}`"
    )


def test_every_setting_says_what_it_is_for() -> None:
    table = configuration_reference()
    assert len(Settings.model_fields) > 50
    for name, field in Settings.model_fields.items():
        assert field.description, f"CBP_{name.upper()} has no docstring in cbp/settings.py"
        assert f"| `CBP_{name.upper()}` |" in table


def test_every_command_says_what_it_does_with_its_arguments() -> None:
    table = command_reference(build_parser())
    rows = table.splitlines()[2:]
    assert len(rows) > 30
    assert all(not row.endswith("|  |") for row in rows), "a command has no description"
    assert "| `cbp api-key rotate KEY_ID [--overlap-hours OVERLAP_HOURS]` |" in table
    assert "| `cbp dead-letters retry DELIVERY_ID... [--all]` |" in table


def test_a_file_without_markers_is_refused() -> None:
    with pytest.raises(ValueError, match="no generated cli reference markers"):
        replace_generated("# nothing here\n", "cli", "| table |\n")
