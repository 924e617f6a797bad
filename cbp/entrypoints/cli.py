"""The ``cbp`` command line."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from cbp.bootstrap import bootstrap
from cbp.demo import run_demo


def _demo(_: argparse.Namespace) -> int:
    app = bootstrap()
    try:
        run_demo(app)
    finally:
        app.close()
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every ``cbp`` sub-command."""
    parser = argparse.ArgumentParser(prog="cbp", description="Consumer Bill Payment engine")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="run a scripted payment's life on the embedded adapters"
    )
    demo.set_defaults(run=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``cbp`` sub-command; the exit status is the return value."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
