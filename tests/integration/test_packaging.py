"""The distribution: entrypoints/ is installed as cbp.entrypoints, and only so."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WHERE_IS = "import cbp.entrypoints.cli as m; print(m.__file__)"
TOP_LEVEL = (
    "import importlib.util as u; s = u.find_spec('entrypoints'); "
    "print('none' if s is None else s.origin)"
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (built,) = out.glob("cbp-*.whl")
    return built


def run(args: list[str], cwd: Path, pythonpath: Path | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_wheel_holds_the_entry_points_under_cbp_and_no_top_level_entrypoints(
    wheel: Path,
) -> None:
    names = zipfile.ZipFile(wheel).namelist()

    assert "cbp/entrypoints/cli/__init__.py" in names
    assert "cbp/entrypoints/wsgi.py" in names
    assert [n for n in names if n.startswith("entrypoints/")] == []


def test_the_cbp_command_runs_from_an_installed_wheel(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"]
    subprocess.run(
        [*pip, "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )

    where = run([sys.executable, "-c", WHERE_IS], cwd=tmp_path, pythonpath=target)
    usage = run([sys.executable, str(target / "bin" / "cbp"), "--help"], tmp_path, target)
    top_level = run([sys.executable, "-c", TOP_LEVEL], cwd=tmp_path, pythonpath=target)

    assert Path(where.strip()).is_relative_to(target)
    assert "usage: cbp" in usage
    assert top_level.strip() == "none" or not Path(top_level.strip()).is_relative_to(target)


def test_the_editable_install_maps_cbp_entrypoints_to_the_top_level_folder(
    tmp_path: Path,
) -> None:
    where = run([sys.executable, "-c", WHERE_IS], cwd=tmp_path)
    top_level = run([sys.executable, "-c", TOP_LEVEL], cwd=tmp_path)
    usage = run([str(Path(sys.executable).with_name("cbp")), "--help"], cwd=tmp_path)

    assert Path(where.strip()) == ROOT / "entrypoints" / "cli" / "__init__.py"
    assert top_level.strip() == "none" or not Path(top_level.strip()).is_relative_to(ROOT)
    assert "usage: cbp" in usage
