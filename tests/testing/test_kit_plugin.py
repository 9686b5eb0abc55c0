"""The pytest plugin, run the way users run it: pytester, a conftest enabling the plugin."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from aioxmlrpc.testing import FakeServer

pytest_plugins = ["pytester"]

CONFTEST = 'pytest_plugins = ["aioxmlrpc.testing.pytest_plugin"]\n'
INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"

CASSETTE_TEST = """
import asyncio, os
import pytest
from aioxmlrpc import AsyncServerProxy

URL = os.environ["FAKE_URL"]

async def answers(*methods):
    async with AsyncServerProxy(URL, timeout=5) as proxy:
        return [await getattr(proxy, name)() for name in methods]

@pytest.mark.xmlrpc_cassette("cassettes/answer.json")
def test_answer():
    assert asyncio.run(answers("answer", "answer")) == [42, 43]
"""


@pytest.fixture
def enabled(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST)
    pytester.makeini(INI)
    return pytester


def test_the_memory_and_fake_server_fixtures(enabled: pytest.Pytester) -> None:
    enabled.makepyfile(
        """
        import asyncio, xmlrpc.client
        from aioxmlrpc.testing import Reply

        def test_memory(xmlrpc_memory):
            xmlrpc_memory.dispatcher.register_function(lambda a, b: a + b, "add")
            async def main():
                async with xmlrpc_memory.proxy() as proxy:
                    return await proxy.add(2, 3)
            assert asyncio.run(main()) == 5
            assert xmlrpc_memory.calls == [("add", (2, 3))]

        def test_fake_server_for_sync_code(fake_xmlrpc_server):
            fake_xmlrpc_server.script("ping", True, Reply(status=503))
            with xmlrpc.client.ServerProxy(fake_xmlrpc_server.url) as proxy:
                assert proxy.ping() is True
                try:
                    proxy.ping()
                except xmlrpc.client.ProtocolError as error:
                    assert error.errcode == 503
                else:
                    raise AssertionError("no 503")
        """
    )
    result = enabled.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_async_tests_use_the_fixtures_under_pytest_asyncio(enabled: pytest.Pytester) -> None:
    enabled.makeini(INI + "asyncio_mode = strict\n")
    enabled.makepyfile(
        """
        import pytest

        @pytest.mark.asyncio
        async def test_fake_server(fake_xmlrpc_server):
            fake_xmlrpc_server.script("x", [1, {"a": None}])
            async with fake_xmlrpc_server.proxy() as proxy:
                assert await proxy.x() == [1, {"a": None}]
        """
    )
    result = enabled.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_a_cassette_is_recorded_once_then_replayed_offline(
    enabled: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    enabled.makepyfile(test_answer=CASSETTE_TEST)
    cassette = enabled.path / "cassettes" / "answer.json"
    with FakeServer() as server:
        server.script("answer", 42, 43)
        monkeypatch.setenv("FAKE_URL", server.url)
        # replay is the default: a missing cassette fails, saying how to record it
        result = enabled.runpytest("-p", "no:cacheprovider")
        result.assert_outcomes(errors=1)
        result.stdout.fnmatch_lines(["*--xmlrpc-record-mode=once*"])
        assert server.calls == []
        result = enabled.runpytest("-p", "no:cacheprovider", "--xmlrpc-record-mode=once")
        result.assert_outcomes(passed=1)
        assert len(server.calls) == 2
    document = json.loads(cassette.read_text())
    assert document["version"] == 1
    assert [item["result"] for item in document["interactions"]] == [42, 43]
    # the server is gone: replay works
    result = enabled.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    # and a new call is not in the cassette
    test_file = enabled.path / "test_answer.py"
    test_file.write_text(CASSETTE_TEST.replace('"answer", "answer"', '"answer", "other"'))
    result = enabled.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*NoMatchingInteraction*has no interaction for other()*"])


def test_a_swallowed_mismatch_still_fails_the_test(enabled: pytest.Pytester) -> None:
    enabled.makepyfile(
        test_swallow="""
        import asyncio, json, pathlib
        import pytest
        from aioxmlrpc import AsyncServerProxy

        pathlib.Path("empty.json").write_text(json.dumps({"version": 1, "interactions": []}))

        async def careless():
            async with AsyncServerProxy("http://127.0.0.1:9/RPC2") as proxy:
                try:
                    await proxy.anything(1)
                except Exception:
                    return None

        @pytest.mark.xmlrpc_cassette("empty.json")
        def test_swallowed():
            asyncio.run(careless())
        """
    )
    result = enabled.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*1 XML-RPC calls were not in the cassette*", "*anything(1)*"])


def test_default_paths_marker_options_and_failed_recordings(
    enabled: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    enabled.makepyfile(
        test_paths="""
        import asyncio, os
        import pytest
        from aioxmlrpc import AsyncServerProxy

        async def call(name, *args):
            async with AsyncServerProxy(os.environ["FAKE_URL"], timeout=5) as proxy:
                return await getattr(proxy, name)(*args)

        @pytest.mark.parametrize("n", [1, 2])
        def test_param(xmlrpc_cassette, n):
            assert xmlrpc_cassette.recording
            assert asyncio.run(call("echo", n)) == n

        @pytest.mark.xmlrpc_cassette(mode="record", secrets=["tok"], ordered=False)
        def test_marker_options(xmlrpc_cassette):
            assert xmlrpc_cassette.mode.value == "record"
            assert not xmlrpc_cassette.ordered
            assert asyncio.run(call("echo", "tok")) == "tok"

        @pytest.mark.xmlrpc_cassette(mode="once")
        def test_fails_while_recording():
            assert asyncio.run(call("echo", 1)) == 2
        """
    )
    with FakeServer() as server:
        server.script("echo", _echo_reply())
        monkeypatch.setenv("FAKE_URL", server.url)
        result = enabled.runpytest("-p", "no:cacheprovider", "--xmlrpc-record-mode=once")
    result.assert_outcomes(passed=2, failed=2)  # the marker's "record" lost to the option
    folder = enabled.path / "cassettes" / "test_paths"
    assert sorted(path.name for path in folder.iterdir()) == [
        "test_param_1.json",
        "test_param_2.json",
    ]
    with FakeServer() as server:
        server.script("echo", _echo_reply())
        monkeypatch.setenv("FAKE_URL", server.url)
        result = enabled.runpytest("-p", "no:cacheprovider", "-k", "marker_options")
    result.assert_outcomes(passed=1)
    recorded = (folder / "test_marker_options.json").read_text()
    assert '"***"' in recorded
    assert "tok" not in recorded


def _echo_reply() -> object:
    from aioxmlrpc.testing import Reply

    return Reply(function=lambda value: value)


def test_the_marker_is_registered_and_the_option_documented(enabled: pytest.Pytester) -> None:
    result = enabled.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.xmlrpc_cassette(path=None*"])
    result = enabled.runpytest("--help")
    result.stdout.fnmatch_lines(["*--xmlrpc-record-mode*"])
    enabled.makeini(INI + "xmlrpc_record_mode = sometimes\n")
    enabled.makepyfile("def test_x(xmlrpc_cassette):\n    pass\n")
    result = enabled.runpytest("-p", "no:cacheprovider")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*must be one of*"])


def test_the_plugin_is_cheap_to_load_and_not_automatic() -> None:
    code = (
        "import sys, aioxmlrpc.testing.pytest_plugin, aioxmlrpc.testing as t;"
        "print(sorted(m for m in ('aiohttp', 'aioxmlrpc._http', 'aioxmlrpc._proxy',"
        " 'aioxmlrpc.server') if m in sys.modules));"
        "import aioxmlrpc; print('aioxmlrpc.testing' in aioxmlrpc.__dict__)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.split("\n")[:2] == ["[]", "False"]
    # no pytest11 entry point: enabled by name only
    from importlib.metadata import entry_points

    assert [ep for ep in entry_points(group="pytest11") if ep.value.startswith("aioxmlrpc")] == []


def test_the_marker_on_an_async_test_with_a_proxy_fixture(
    enabled: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    enabled.makeini(INI + "asyncio_mode = auto\n")
    enabled.makepyfile(
        test_async="""
        import os
        import pytest
        from aioxmlrpc import AsyncServerProxy

        @pytest.fixture
        async def proxy():
            async with AsyncServerProxy(os.environ["FAKE_URL"], timeout=5) as proxy:
                yield proxy

        @pytest.mark.xmlrpc_cassette
        async def test_async(proxy):
            assert await proxy.state() == {"statename": "RUNNING"}
        """
    )
    with FakeServer() as server:
        server.script("state", {"statename": "RUNNING"})
        monkeypatch.setenv("FAKE_URL", server.url)
        result = enabled.runpytest("-p", "no:cacheprovider", "--xmlrpc-record-mode=once")
        result.assert_outcomes(passed=1)
        assert len(server.calls) == 1
    assert (enabled.path / "cassettes" / "test_async" / "test_async.json").exists()
    result = enabled.runpytest("-p", "no:cacheprovider")  # no server: replayed
    result.assert_outcomes(passed=1)
