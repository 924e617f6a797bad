"""The configuration and command references cannot drift: every setting and command has a line."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

from cbp.entrypoints.cli import build_parser
from cbp.settings import Settings

DOCS = Path(__file__).resolve().parents[2] / "docs"


def commands(parser: argparse.ArgumentParser, words: tuple[str, ...] = ()) -> Iterator[str]:
    """Every runnable ``cbp`` command, sub-commands included, as typed."""
    subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subparsers and words:
        yield " ".join(words)
    for action in subparsers:
        for name, sub in action.choices.items():
            yield from commands(sub, (*words, name))


def test_every_setting_has_a_line_in_the_configuration_reference() -> None:
    reference = (DOCS / "configuration.md").read_text()
    names = [f"CBP_{name.upper()}" for name in Settings.model_fields]
    assert len(names) > 50
    assert [name for name in names if f"`{name}`" not in reference] == []


def test_every_command_has_a_line_in_the_command_reference() -> None:
    reference = (DOCS / "cli.md").read_text()
    typed = sorted(set(commands(build_parser())))
    assert len(typed) > 20
    missing = [
        command
        for command in typed
        if f"`cbp {command}" not in reference and not _in_alternation(command, reference)
    ]
    assert missing == []


def _in_alternation(command: str, reference: str) -> bool:
    """``cbp webhook change|show|rotate`` documents each of the three."""
    *group, last = command.split()
    for line in reference.splitlines():
        start = line.find(f"`cbp {' '.join(group)} ")
        if start < 0:
            continue
        words = line[start:].split("`")[1].split()
        if len(words) > len(group) + 1 and last in words[len(group) + 1].split("\\|"):
            return True
    return False
