"""The dependency rule, checked from the source itself (import-linter checks it too)."""

import ast
import sys
from pathlib import Path

CBP = Path(__file__).parents[1] / "cbp"


def modules_in(package: Path) -> list[Path]:
    """The package's Python files; none found means the test is looking in the wrong place."""
    modules = sorted(package.rglob("*.py"))
    assert len(modules) > 10, f"too few modules under {package}: has it moved?"
    return modules


def imported_top_level_modules(package: Path) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in modules_in(package):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(CBP)))
    return found


def test_the_domain_imports_only_the_standard_library() -> None:
    allowed = set(sys.stdlib_module_names) | {"cbp", "__future__"}
    outside = {
        m: files
        for m, files in imported_top_level_modules(CBP / "domain").items()
        if m not in allowed
    }
    assert outside == {}


def test_the_domain_never_reaches_outward_into_the_hexagon() -> None:
    for path in modules_in(CBP / "domain"):
        source = path.read_text()
        for layer in (
            "cbp.ports",
            "cbp.services",
            "cbp.adapters",
            "cbp.container",
            "cbp.entrypoints",
        ):
            assert layer not in source, f"{path.name} mentions {layer}"


def test_nothing_happens_at_import_time_in_the_core() -> None:
    """Importing every module opens no socket and reads no CBP_ setting."""
    code = (
        "import os, socket, pkgutil, importlib, cbp\n"
        "class NoSocket(socket.socket):\n"
        "    def __init__(self, *args, **kwargs):\n"
        "        raise AssertionError('a socket was opened at import time')\n"
        "socket.socket = NoSocket\n"
        "os.environ = {k: v for k, v in os.environ.items() if not k.startswith('CBP_')}\n"
        "import cbp.entrypoints\n"
        "for path, prefix in ((cbp.__path__, 'cbp.'),\n"
        "                     (cbp.entrypoints.__path__, 'cbp.entrypoints.')):\n"
        "    for m in pkgutil.walk_packages(path, prefix):\n"
        "        importlib.import_module(m.name)\n"
    )
    import subprocess

    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
