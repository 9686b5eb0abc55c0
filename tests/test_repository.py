"""The repository keeps its promises to a newcomer: README's commands are what CI runs."""

from __future__ import annotations

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _shell_blocks(text: str) -> list[str]:
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", text, re.S)]


def test_the_readme_gives_exactly_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    commands = _shell_blocks(section)
    assert commands == [
        "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/python -m aioxmlrpc demo",
        "bash .ci/test",
    ]


def test_ci_runs_the_readmes_test_command_and_the_demo() -> None:
    run = (ROOT / ".ci" / "run").read_text()
    assert "set -euo pipefail" in run
    assert run.rstrip().endswith("bash .ci/test")
    assert "-m aioxmlrpc demo" in run
    test = (ROOT / ".ci" / "test").read_text()
    assert "set -euo pipefail" in test
    assert "--cov-fail-under=90" in test
    assert "|| true" not in run + test  # never swallow an exit status
