"""Cassettes: the value encoding, the file format, redaction, modes and matching."""

from __future__ import annotations

import datetime
import json
import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings

from aioxmlrpc import (
    AsyncServerProxy,
    Binary,
    ConnectionRefused,
    DateTime,
    Fault,
    MultiCall,
    ProtocolError,
)
from aioxmlrpc.testing import (
    CASSETTE_VERSION,
    Cassette,
    CassetteError,
    CassetteFormatError,
    CassetteNotFound,
    FakeServer,
    Interaction,
    MemoryTransport,
    NoMatchingInteraction,
    RecordMode,
    Reply,
)
from aioxmlrpc.testing._values import canonical, from_json, to_json

from strategies import values

TOKEN = "token:s3cret-Value"  # noqa: S105 - a test secret
OTHER_TOKEN = "token:an0ther"  # noqa: S105 - the token of another run


# -- the value encoding -------------------------------------------------------------------


@settings(max_examples=40)
@given(values())
def test_every_value_round_trips_through_json_with_its_type(value: Any) -> None:
    data = json.loads(json.dumps(to_json(value), allow_nan=False))
    back = from_json(data)
    assert canonical(back) == canonical(value)


def test_the_tagged_types() -> None:
    aware = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    value = {
        "binary": Binary(b"\x00\x01"),
        "bytes": b"\xff",
        "datetime": DateTime("20240102T03:04:05"),
        "python": aware,
        "decimal": Decimal("1.50"),
        "nan": math.nan,
        "inf": -math.inf,
        "$dollar": 1,
        "int": 1,
        "float": 1.0,
        "tuple": (1, 2),
    }
    data = to_json(value)
    assert data["$struct"]["binary"] == {"$binary": "AAE="}
    assert data["$struct"]["float"] == 1.0
    assert json.dumps(data["$struct"]["float"]) == "1.0"
    back = from_json(json.loads(json.dumps(data)))
    assert isinstance(back, dict)
    assert back["binary"] == Binary(b"\x00\x01")
    assert back["bytes"] == b"\xff"
    assert isinstance(back["datetime"], DateTime)
    assert back["datetime"].value == "20240102T03:04:05"
    assert back["python"] == aware
    assert back["decimal"] == Decimal("1.50")
    assert str(back["decimal"]) == "1.50"
    assert math.isnan(back["nan"])  # type: ignore[arg-type]
    assert back["inf"] == -math.inf
    assert back["$dollar"] == 1
    assert back["tuple"] == [1, 2]
    assert canonical(True) != canonical(1)
    assert canonical(1) != canonical(1.0)


@pytest.mark.parametrize(
    "data",
    [
        {"$nope": "x"},
        {"$float": "1.5"},
        {"$binary": "!!"},
        {"$binary": 1},
        {"$struct": []},
        {"$a": 1, "b": 2},
        {"$decimal": "x"},
        object(),
    ],
)
def test_unknown_or_invalid_tags_are_refused(data: Any) -> None:
    with pytest.raises(CassetteFormatError):
        from_json(data)


def test_values_a_cassette_cannot_hold_are_named() -> None:
    with pytest.raises(TypeError, match="set"):
        to_json({1})


# -- recording and replaying --------------------------------------------------------------


async def _session(proxy: AsyncServerProxy, token: str = TOKEN) -> list[Any]:
    """The calls a test makes, and what came back (faults and HTTP errors included)."""
    seen: list[Any] = [await proxy.echo(token, [1, 2.5, True, None])]
    seen.append(await proxy.when())
    try:
        await proxy.refuse(token)
    except Fault as fault:
        seen.append(("fault", fault.faultCode, fault.faultString))
    try:
        await proxy.busy()
    except ProtocolError as error:
        seen.append(("http", error.errcode, error.errmsg))
    multicall = MultiCall(proxy)
    multicall.echo("a", 1)
    multicall.when()
    seen.append(list(await multicall()))
    return seen


def _script(server: FakeServer) -> None:
    server.script("echo", Reply(function=lambda *args: list(args)))
    server.script("when", DateTime("20240102T03:04:05"))
    server.script(
        "refuse", Reply(function=lambda token: (_ for _ in ()).throw(Fault(4, f"bad {token}")))
    )
    server.script("busy", Reply(status=503, reason="Busy"))


async def test_a_session_replays_offline_with_the_same_results(tmp_path: Path) -> None:
    path = tmp_path / "session.json"
    async with FakeServer() as server:
        _script(server)
        url = server.url.replace("http://", "http://alice:pa%24s@")
        with Cassette(path, mode="record", secrets=[TOKEN]) as cassette:
            assert cassette.recording
            async with AsyncServerProxy(url, allow_none=True) as proxy:
                recorded = await _session(proxy)
        assert len(server.calls) == 5
    text = path.read_text()
    assert "s3cret" not in text
    assert "pa$s" not in text
    assert "pa%24s" not in text
    document = json.loads(text)
    assert document["version"] == CASSETTE_VERSION == 1
    assert [item["method"] for item in document["interactions"]] == [
        "echo",
        "when",
        "refuse",
        "busy",
        "system.multicall",
    ]
    first = document["interactions"][0]
    assert first["params"] == ["***", [1, 2.5, True, None]]
    assert first["result"] == ["***", [1, 2.5, True, None]]
    assert first["url"].startswith("http://alice:***@127.0.0.1:")
    assert first["duration"] >= 0
    assert document["interactions"][1]["result"] == {"$datetime": "20240102T03:04:05"}
    assert document["interactions"][2]["fault"] == {"faultCode": 4, "faultString": "bad ***"}
    assert document["interactions"][3]["error"]["status"] == 503

    # the server is gone: replay, with another token (redacted the same way)
    with Cassette(path, mode="replay", secrets=[OTHER_TOKEN]) as cassette:
        assert not cassette.recording
        async with AsyncServerProxy(url, allow_none=True) as proxy:
            replayed = await _session(proxy, OTHER_TOKEN)
        assert cassette.unplayed == []
        cassette.assert_all_played()
    redacted = [["***", [1, 2.5, True, None]], recorded[1], ("fault", 4, "bad ***"), *recorded[3:]]
    assert replayed == redacted
    assert isinstance(replayed[1], DateTime)
    # without the token registered, its calls do not match the redacted ones
    with Cassette(path, mode="replay") as strict:
        async with AsyncServerProxy(url, allow_none=True) as proxy:
            with pytest.raises(NoMatchingInteraction, match="token:an0ther"):
                await _session(proxy, OTHER_TOKEN)
    assert len(strict.errors) == 1


async def test_replay_applies_the_proxys_parser_options(tmp_path: Path) -> None:
    path = tmp_path / "types.json"
    transport = MemoryTransport(
        {"blob": lambda: Binary(b"\x00"), "when": lambda: DateTime("20240102T03:04:05")}
    )
    cassette = Cassette(path, mode="record")
    async with AsyncServerProxy("http://h/RPC2", transport=cassette.transport(transport)) as proxy:
        assert await proxy.blob() == Binary(b"\x00")
        await proxy.when()
    cassette.save()
    cassette = Cassette(path, mode="replay")
    async with AsyncServerProxy(
        "http://h/RPC2", transport=cassette.transport(), use_builtin_types=True
    ) as proxy:
        assert await proxy.blob() == b"\x00"
        assert await proxy.when() == datetime.datetime(2024, 1, 2, 3, 4, 5)


def _cassette_file(path: Path, *interactions: Interaction) -> Path:
    path.write_text(json.dumps({"version": 1, "interactions": [i.to_json() for i in interactions]}))
    return path


async def test_a_missing_call_raises_naming_it_and_what_the_cassette_holds(tmp_path: Path) -> None:
    path = _cassette_file(
        tmp_path / "c.json", Interaction("a", (1,), result=1), Interaction("b", (), result=2)
    )
    cassette = Cassette(path, mode="replay")
    async with cassette.proxy("http://h/RPC2") as proxy:
        with pytest.raises(NoMatchingInteraction) as info:
            await proxy.a(2)
        error = info.value
        assert error.method == "a"
        assert error.params == (2,)
        assert "a(2)" in str(error)
        assert "the next interaction, #0, is a(1) -> 1" in str(error)
        assert "b() -> 2" in str(error)
        assert not isinstance(error, Fault)
        assert isinstance(error, LookupError)
        assert await proxy.a(1) == 1
        with pytest.raises(NoMatchingInteraction):
            await proxy.a(1)  # played once only
        assert await proxy.b() == 2
    assert len(cassette.errors) == 2
    assert cassette.play_count == 2


async def test_in_order_by_default_in_any_order_on_request(tmp_path: Path) -> None:
    path = _cassette_file(
        tmp_path / "c.json", Interaction("a", result=1), Interaction("b", result=2)
    )
    ordered = Cassette(path, mode="replay")
    async with ordered.proxy("http://h/RPC2") as proxy:
        with pytest.raises(NoMatchingInteraction, match="in order"):
            await proxy.b()
    loose = Cassette(path, mode="replay", ordered=False)
    async with loose.proxy("http://h/RPC2") as proxy:
        assert await proxy.b() == 2
        assert await proxy.a() == 1
    assert loose.unplayed == []


async def test_matching_on_the_url_or_on_the_method_only(tmp_path: Path) -> None:
    path = _cassette_file(
        tmp_path / "c.json", Interaction("a", (1,), result=1, url="http://one/RPC2")
    )
    by_url = Cassette(path, mode="replay", match_on=["method", "params", "url"])
    async with by_url.proxy("http://two/RPC2") as proxy:
        with pytest.raises(NoMatchingInteraction):
            await proxy.a(1)
    async with by_url.proxy("http://one/RPC2") as proxy:
        assert await proxy.a(1) == 1
    by_method = Cassette(path, mode="replay", match_on=["method"])
    async with by_method.proxy("http://h/RPC2") as proxy:
        assert await proxy.a("anything") == 1
    with pytest.raises(ValueError, match="match_on"):
        Cassette(path, mode="replay", match_on=["body"])


async def test_once_records_a_missing_file_then_replays_it(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "once.json"
    transport = MemoryTransport({"count": lambda: len(transport.calls)})
    first = Cassette(path)  # ONCE is the default
    assert first.mode is RecordMode.ONCE
    assert first.recording
    async with AsyncServerProxy("http://h/RPC2", transport=first.transport(transport)) as proxy:
        assert [await proxy.count(), await proxy.count()] == [1, 2]
    first.save()
    again = Cassette(path)
    assert not again.recording
    async with AsyncServerProxy("http://h/RPC2", transport=again.transport(transport)) as proxy:
        assert [await proxy.count(), await proxy.count()] == [1, 2]
    assert len(transport.calls) == 2  # the second session never reached the server
    again.save()  # replay writes nothing
    assert len(json.loads(path.read_text())["interactions"]) == 2


async def test_record_mode_overwrites(tmp_path: Path) -> None:
    path = _cassette_file(tmp_path / "c.json", Interaction("old", result=1))
    cassette = Cassette(path, mode=RecordMode.RECORD)
    assert cassette.interactions == []
    async with AsyncServerProxy(
        "http://h/RPC2", transport=cassette.transport(MemoryTransport({"new": lambda: 2}))
    ) as proxy:
        assert await proxy.new() == 2
    cassette.save()
    assert [item["method"] for item in json.loads(path.read_text())["interactions"]] == ["new"]
    assert "recording" in repr(cassette)


async def test_realtime_replay_waits_the_recorded_duration(tmp_path: Path) -> None:
    import time

    path = _cassette_file(tmp_path / "c.json", Interaction("slow", result=1, duration=0.2))
    cassette = Cassette(path, mode="replay", realtime=True)
    async with cassette.proxy("http://h/RPC2") as proxy:
        started = time.monotonic()
        assert await proxy.slow() == 1
        assert time.monotonic() - started >= 0.2


async def test_failed_calls_are_not_recorded(tmp_path: Path) -> None:
    cassette = Cassette(tmp_path / "c.json", mode="record")
    async with cassette.proxy("http://127.0.0.1:9/RPC2", timeout=2) as proxy:
        with pytest.raises(ConnectionRefused):
            await proxy.anything()
    assert cassette.interactions == []


def test_replay_of_a_missing_file_says_how_to_record_it(tmp_path: Path) -> None:
    with pytest.raises(CassetteNotFound, match="xmlrpc-record-mode=once") as info:
        Cassette(tmp_path / "none.json", mode="replay")
    assert isinstance(info.value, FileNotFoundError)
    assert isinstance(info.value, CassetteError)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not JSON"),
        ("[]", "no version"),
        ('{"version": 2, "interactions": []}', "newer than this aioxmlrpc reads"),
        ('{"version": "1", "interactions": []}', "invalid version"),
        ('{"version": 1}', "not an array"),
        ('{"version": 1, "interactions": [1]}', "an object"),
        ('{"version": 1, "interactions": [{"method": "a"}]}', "one of result"),
        ('{"version": 1, "interactions": [{"method": "a", "result": 1, "fault": {}}]}', "one of"),
        ('{"version": 1, "interactions": [{"method": 1, "result": 1}]}', "method string"),
        ('{"version": 1, "interactions": [{"method": "a", "fault": {"x": 1}}]}', "faultCode"),
        ('{"version": 1, "interactions": [{"method": "a", "error": {"type": "X"}}]}', "error"),
        (
            '{"version": 1, "interactions": [{"method": "a", "error": {"type": "ProtocolError"}}]}',
            "invalid error",
        ),
        (
            '{"version": 1, "interactions": [{"method": "a", "result": 1, "duration": -1}]}',
            "duration",
        ),
        (
            '{"version": 1, "interactions": [{"method": "a", "result": 1, "duration": "1"}]}',
            "duration",
        ),
        ('{"version": 1, "interactions": [{"method": "a", "result": 1, "url": 3}]}', "url"),
        ('{"version": 1, "interactions": [{"method": "a", "result": {"$what": 1}}]}', "tag"),
    ],
)
def test_files_that_are_not_cassettes_are_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(CassetteFormatError, match=message):
        Cassette(path, mode="replay")


def test_unknown_keys_are_ignored_for_additive_changes(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(
        json.dumps(
            {
                "version": 1,
                "future": True,
                "interactions": [{"method": "a", "params": [], "result": 1, "comment": "hi"}],
            }
        )
    )
    (interaction,) = Cassette(path, mode="replay").interactions
    assert interaction == Interaction("a", (), 1)
    assert interaction.describe() == "a() -> 1"


def test_unplayed_interactions_are_named(tmp_path: Path) -> None:
    path = _cassette_file(
        tmp_path / "c.json", Interaction("a", result=1), Interaction("b", fault=Fault(3, "x"))
    )
    cassette = Cassette(path, mode="replay")
    with pytest.raises(
        AssertionError, match=r"2 interactions .*\n  a\(\) -> 1\n  b\(\) -> Fault 3"
    ):
        cassette.assert_all_played()
    assert "replaying 2 interactions" in repr(cassette)


async def test_values_the_writer_cannot_write_replay_as_recorded(tmp_path: Path) -> None:
    plus_two = datetime.timezone(datetime.timedelta(hours=2))
    aware = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=plus_two)
    path = _cassette_file(
        tmp_path / "c.json",
        Interaction("aware", result={"at": aware}),
        Interaction("big", result=[2**70, Decimal("1.50")]),
        Interaction("odd_fault", fault=Fault("not an int", "text")),  # type: ignore[arg-type]
    )
    cassette = Cassette(path, mode="replay")
    async with cassette.proxy("http://h/RPC2", use_datetime=True) as proxy:
        replayed = await proxy.aware()
        assert replayed == {"at": aware}
        assert replayed["at"].utcoffset() == datetime.timedelta(hours=2)
        assert await proxy.big() == [2**70, Decimal("1.50")]
        with pytest.raises(Fault) as info:
            await proxy.odd_fault()
        assert f"{info.value.faultCode}:{info.value.faultString}" == "not an int:text"
    plain = Cassette(path, mode="replay", ordered=False)
    async with plain.proxy("http://h/RPC2") as proxy:
        value = await proxy.aware()
    assert isinstance(value["at"], DateTime)
    assert value["at"].value == "20240102T03:04:05+02:00"


async def test_each_retry_attempt_is_an_interaction_and_replays(tmp_path: Path) -> None:
    from aioxmlrpc import RetryPolicy

    policy = RetryPolicy(idempotent=["status"], attempts=3, backoff=0.01)
    path = tmp_path / "retry.json"
    async with FakeServer() as server:
        server.script("status", Reply(status=503, headers={"Retry-After": "0"}), "up")
        url = server.url
        with Cassette(path, mode="record") as cassette:
            async with AsyncServerProxy(url, retry=policy) as proxy:
                assert await proxy.status() == "up"
        assert len(server.calls) == 2
    assert [
        item.error.errcode if item.error else item.result for item in cassette.interactions
    ] == [
        503,
        "up",
    ]
    with Cassette(path, mode="replay") as replay:
        async with AsyncServerProxy(url, retry=policy) as proxy:
            assert await proxy.status() == "up"
    replay.assert_all_played()


async def test_a_session_that_raised_writes_no_cassette(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    transport = MemoryTransport({"a": lambda: 1})
    cassette = Cassette(path, mode="record")

    async def failing_session() -> None:
        with cassette:
            async with AsyncServerProxy(
                "http://h/RPC2", transport=cassette.transport(transport)
            ) as p:
                assert await p.a() == 1
            raise RuntimeError("the test failed")

    with pytest.raises(RuntimeError, match="the test failed"):
        await failing_session()
    assert len(cassette.interactions) == 1
    assert not path.exists()


async def test_concurrent_calls_are_kept_in_the_order_they_were_sent(tmp_path: Path) -> None:
    import asyncio

    path = tmp_path / "gather.json"
    async with FakeServer() as server:
        # the first call answers last: completion order is the reverse of sending order
        server.script("slow", Reply(function=lambda n: asyncio.sleep(0.05 * (3 - n), n)))
        with Cassette(path, mode="record") as cassette:
            async with server.proxy() as proxy:
                live = await asyncio.gather(*(proxy.slow(n) for n in range(3)))
        url = server.url
    assert [item.params for item in cassette.interactions] == [(0,), (1,), (2,)]
    with Cassette(path, mode="replay") as replay:
        async with AsyncServerProxy(url) as proxy:
            assert await asyncio.gather(*(proxy.slow(n) for n in range(3))) == live == [0, 1, 2]
    replay.assert_all_played()
