"""Cassettes of format version 1, as committed by users, keep replaying to the same values.

``cassettes/format_v1.json`` is a hand-checked file with every value tag and outcome of
version 1. A release that cannot replay it breaks the version policy (every release
reads every earlier version): change the reader, never this file.
"""

from __future__ import annotations

import datetime
import math
from decimal import Decimal
from pathlib import Path

import pytest

from aioxmlrpc import Binary, DateTime, Fault, MultiCall, ProtocolError
from aioxmlrpc.testing import Cassette

FORMAT_V1 = Path(__file__).parent / "cassettes" / "format_v1.json"
URL = "http://alice:pw@127.0.0.1:9/RPC2"  # nothing listens there


async def test_a_version_1_file_replays_every_type_and_outcome() -> None:
    cassette = Cassette(FORMAT_V1, mode="replay", secrets=["secret"])
    async with cassette.proxy(URL, allow_none=True) as proxy:
        params = (1, 1.0, True, None, "text", [1, [2, [3]]], Binary(b"\x00\x01\xff"))
        result = await proxy.types.all(*params, DateTime("20240102T03:04:05"))
        assert result["int"] == 2**63 - 1
        assert result["double"] == 2.5
        assert math.isnan(result["nan"])
        assert result["inf"] == -math.inf
        assert result["nil"] is None
        assert result["bool"] is False
        assert result["string"] == "é ü <&>"
        assert result["binary"] == Binary(b"\x00\x01\xff")
        assert result["bytes"] == Binary(b"\xff")  # this proxy reads base64 as Binary
        assert result["datetime"] == DateTime("20240102T03:04:05")
        assert result["aware"].value == "20240102T03:04:05+02:00"
        assert result["nested"] == [{"a": [{"b": []}]}]
        assert result["dollar"] == {"$key": "kept"}

        assert await proxy.types.decimal() == {"big": 2**70, "decimal": Decimal("1.50")}

        with pytest.raises(Fault) as info:
            await proxy.supervisor.stopProcess("db", True)
        assert (info.value.faultCode, info.value.faultString) == (10, "BAD_NAME: db")

        multicall = MultiCall(proxy)
        multicall.ping()
        multicall.nope(1)
        ping, nope = await multicall(return_exceptions=True)
        assert ping is True
        assert isinstance(nope, Fault)
        assert nope.faultCode == -32601

        with pytest.raises(ProtocolError) as error:
            await proxy.supervisor.getState("secret")
        assert error.value.errcode == 401
        assert error.value.url == "http://alice:***@127.0.0.1:9/RPC2"
        assert error.value.headers["WWW-Authenticate"] == 'Basic realm="default"'
    cassette.assert_all_played()


async def test_the_same_file_under_use_builtin_types() -> None:
    cassette = Cassette(FORMAT_V1, mode="replay", ordered=False)
    async with cassette.proxy(URL, allow_none=True, use_builtin_types=True) as proxy:
        params = (1, 1.0, True, None, "text", [1, [2, [3]]], b"\x00\x01\xff")
        when = datetime.datetime(2024, 1, 2, 3, 4, 5)
        result = await proxy.types.all(*params, when)
    assert result["bytes"] == b"\xff"
    assert result["binary"] == b"\x00\x01\xff"
    assert result["datetime"] == when
    assert result["aware"].utcoffset() == datetime.timedelta(hours=2)
