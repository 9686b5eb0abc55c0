"""The package works installed from a wheel: the demo tour runs the examples the wheel carries.

The wheel is built from this checkout (``pip wheel``), unpacked into a temporary directory
and put first on ``PYTHONPATH``; the demo then runs from a directory that holds no
``examples/``, and must import the unpacked package and load the examples from it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(path.name for path in (ROOT / "examples").glob("*.py"))


def test_the_wheel_carries_the_examples_and_the_demo_runs_from_it(tmp_path: Path) -> None:
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("aioxmlrpc-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        assert {f"aioxmlrpc/_examples/{name}" for name in EXAMPLES} <= names
        assert "aioxmlrpc/server/__init__.py" in names
        archive.extractall(tmp_path / "site")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = dict(os.environ, PYTHONPATH=str(tmp_path / "site"))
    script = (
        "import asyncio, sys, aioxmlrpc._demo._tour as tour; "
        "print(tour.examples_dir()); "
        "sys.argv = ['aioxmlrpc', 'demo']; "
        "from aioxmlrpc._cli import main; sys.exit(main())"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=elsewhere,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    first, *rest = done.stdout.splitlines()
    assert Path(first) == tmp_path / "site" / "aioxmlrpc" / "_examples"
    out = "\n".join(rest)
    assert "== 13. A fault inside a MultiCall ==" in out
    assert "ERROR: not well-formed (invalid token): line 6, column 55" in out
