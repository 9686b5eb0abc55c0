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
    assert "\nbash .ci/test\n" in run
    assert "-m aioxmlrpc demo" in run
    assert "aioxmlrpc demo > /dev/null" in run  # from the installed wheel too
    assert "python -m build" in run
    test = (ROOT / ".ci" / "test").read_text()
    assert "set -euo pipefail" in test
    assert "--cov-fail-under=90" in test
    assert "|| true" not in run + test  # never swallow an exit status


def test_ci_tests_the_lowest_aiohttp_the_package_claims_and_every_python() -> None:
    run = (ROOT / ".ci" / "run").read_text()
    lowest = re.search(r'LOWEST_AIOHTTP="([0-9.]+)"', run)
    assert lowest is not None
    pyproject = (ROOT / "pyproject.toml").read_text()  # tomllib is 3.11+: read it plainly
    dependencies = pyproject.split("dependencies = [", 1)[1].split("]", 1)[0]
    assert f'"aiohttp>={lowest.group(1)}"' in dependencies
    for name in ("yarl", "multidict", "defusedxml"):  # imported at run time: declared
        assert f'"{name}>=' in dependencies, name
    assert 'other 3.10 "==$LOWEST_AIOHTTP"' in run
    assert "other 3.13 " in run
    assert "Programming Language :: Python :: 3.10" in pyproject
    assert "Programming Language :: Python :: 3.13" in pyproject


def test_the_readme_says_what_the_test_command_installs() -> None:
    readme = (ROOT / "README.md").read_text()
    for needed in ("aria2", "librpc-xml-perl", "sudo", "without root"):
        assert needed in readme, needed
