"""The ``aria2`` and ``perl-rpc-xml`` profiles against the real servers of this directory.

The fixtures are those of test_aria2.py (aria2c 1.36 with a random secret) and
test_perl_server.py (Perl's RPC::XML::Server 1.75), started once more for this module.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest
from test_aria2 import Aria2, aria2
from test_perl_server import _perl_server

from aioxmlrpc import AsyncServerProxy, Fault, MultiCall
from aioxmlrpc.profiles import ARIA2

__all__ = ["aria2"]  # the fixture, imported for this module's tests

CALL_TIMEOUT = 10.0


@pytest.fixture(scope="module")
def perl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with _perl_server(tmp_path_factory.mktemp("perl_profile"), "utf-8") as url:
        yield url


# -- aria2 -------------------------------------------------------------------------------------


def _token_url(server: Aria2) -> str:
    return server.url.replace("http://", f"http://token:{server.secret}@")


async def test_the_token_from_the_url_goes_first_in_every_call(aria2: Aria2) -> None:
    async with AsyncServerProxy(_token_url(aria2), profile="aria2", timeout=CALL_TIMEOUT) as proxy:
        info = await proxy.aria2.getVersion()
        assert re.fullmatch(r"1\.\d+\.\d+", info["version"])
        stat = await proxy.aria2.getGlobalStat()
        assert "numActive" in stat
        # system.* methods take no token (aria2's documentation): the profile sends none
        assert "aria2.addUri" in await proxy.system.listMethods()
        assert aria2.secret not in repr(proxy)


async def test_the_token_option(aria2: Aria2) -> None:
    async with AsyncServerProxy(
        aria2.url, profile=ARIA2, token=aria2.secret, timeout=CALL_TIMEOUT
    ) as proxy:
        assert "version" in await proxy.aria2.getVersion()
    async with AsyncServerProxy(aria2.url, profile="aria2", token="wrong") as proxy:  # noqa: S106
        with pytest.raises(Fault, match="Unauthorized"):
            await proxy.aria2.getVersion()


async def test_the_token_goes_into_every_multicall_item(aria2: Aria2) -> None:
    async with AsyncServerProxy(_token_url(aria2), profile="aria2", timeout=CALL_TIMEOUT) as proxy:
        multicall = MultiCall(proxy)
        multicall.aria2.getVersion()
        multicall.aria2.getGlobalStat()
        multicall.system.listMethods()
        version, stat, methods = await multicall()
        assert "version" in version
        assert "numWaiting" in stat
        assert "aria2.getVersion" in methods
        chunked = await multicall(chunk_size=1, return_exceptions=True)
        assert chunked[0] == version


async def test_the_token_is_never_shown(
    aria2: Aria2, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="aioxmlrpc")
    url = _token_url(aria2)
    async with AsyncServerProxy(url, profile="aria2", verbose=True, timeout=CALL_TIMEOUT) as proxy:
        await proxy.aria2.getVersion()
        multicall = MultiCall(proxy)
        multicall.aria2.getVersion()
        await multicall()
    out = capsys.readouterr().out
    assert "<string>***</string>" in out
    assert aria2.secret not in out
    assert aria2.secret not in caplog.text
    assert "Authorization" not in out  # the token is not basic auth


async def test_without_the_profile_the_url_password_is_basic_auth(aria2: Aria2) -> None:
    async with AsyncServerProxy(_token_url(aria2), timeout=CALL_TIMEOUT) as proxy:
        with pytest.raises(Fault, match="Unauthorized"):
            await proxy.aria2.getVersion()  # no token parameter: the standard proxy


# -- Perl's RPC::XML ---------------------------------------------------------------------------


async def test_perl_multicall_reads_bare_results_by_profile(perl: str) -> None:
    async with AsyncServerProxy(perl, profile="perl-rpc-xml", timeout=CALL_TIMEOUT) as proxy:
        multicall = MultiCall(proxy)
        multicall.echo([1, 2])
        multicall.types.i8()
        multicall.sum(1, 2, 3)
        assert list(await multicall()) == [[1, 2], 2**40, 6]
        # the profile's <i8>: the standard proxy refuses to send 2**40
        assert await proxy.echo(2**40) == 2**40
    async with AsyncServerProxy(perl, timeout=CALL_TIMEOUT) as generic:
        with pytest.raises(OverflowError):
            await generic.echo(2**40)
        multicall = MultiCall(generic)
        multicall.sum(1, 2, 3)
        with pytest.raises(ValueError, match="unexpected type in multicall result"):
            list(await multicall())  # a bare 6 is not the standard [6]


async def test_perl_whole_batch_fault_through_the_profile(perl: str) -> None:
    async with AsyncServerProxy(perl, profile="perl-rpc-xml", timeout=CALL_TIMEOUT) as proxy:
        multicall = MultiCall(proxy)
        multicall.echo(1)
        multicall.fail(1, 2)
        with pytest.raises(Fault) as info:
            await multicall()
        assert info.value.faultCode == 4
