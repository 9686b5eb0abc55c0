"""The command line's --profile, --token and methods against real aria2, rTorrent and PHP."""

from __future__ import annotations

import json

import pytest
from test_aria2 import Aria2, aria2
from test_php_epi import php
from test_rtorrent import RTorrent, rtorrent_unix

from aioxmlrpc._cli import main

__all__ = ["aria2", "php", "rtorrent_unix"]  # fixtures, imported for this module's tests


def test_call_with_the_aria2_profile_and_the_token_in_the_url(
    aria2: Aria2, capsys: pytest.CaptureFixture[str]
) -> None:
    url = aria2.url.replace("http://", f"http://token:{aria2.secret}@")
    assert main(["call", "--profile", "aria2", url, "aria2.getVersion"]) == 0
    captured = capsys.readouterr()
    assert "XML-RPC" in json.loads(captured.out)["enabledFeatures"]
    assert (
        main(["call", "--profile", "aria2", "--token", aria2.secret, aria2.url, "aria2.tellActive"])
        == 0
    )
    assert json.loads(capsys.readouterr().out) == []
    assert main(["call", "--verbose", "--profile", "aria2", url, "aria2.getVersion"]) == 0
    assert aria2.secret not in capsys.readouterr().out


def test_a_wrong_token_exits_1(aria2: Aria2, capsys: pytest.CaptureFixture[str]) -> None:
    url = aria2.url.replace("http://", "http://token:wrong@")
    assert main(["call", "--profile", "aria2", url, "aria2.getVersion"]) == 1
    assert capsys.readouterr().err == "Fault 1: Unauthorized\n"


def test_methods_over_scgi_shows_every_method(
    rtorrent_unix: RTorrent, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["methods", "--profile", "rtorrent", rtorrent_unix.url]) == 0
    lines = capsys.readouterr().out.splitlines()
    names = [line for line in lines if not line.startswith(" ")]
    assert "system.client_version" in names
    assert len(names) > 500
    # rTorrent answers "undef" and a stock sentence: no signature is shown, the help is
    assert "    No help is available for this method." in lines


def test_methods_without_descriptions_or_system_multicall(
    php: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["methods", php]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    # the system methods are described; ours are registered without descriptions
    assert "system.multiCall  array (array)" in lines
    assert "    executes multiple methods in sequence and returns the results" in lines
    assert {"echo", "add", "fail"} <= set(lines)
    assert main(["methods", "--profile", "php-xmlrpc-epi", php]) == 0
    assert capsys.readouterr().out == out


def test_an_unknown_profile_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["call", "--profile", "aria", "http://127.0.0.1:1/", "x"])
    assert info.value.code == 2
    assert "invalid choice: 'aria'" in capsys.readouterr().err


def test_profiles_lists_them_all(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profiles"]) == 0
    out = capsys.readouterr().out
    for name in ("aria2", "koji", "odoo", "perl-rpc-xml", "php-xmlrpc-epi", "rtorrent"):
        assert f"\n{name} " in f"\n{out}"
