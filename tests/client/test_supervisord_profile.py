"""The ``supervisord`` profile and ``http+unix://`` URLs against a real supervisord (PyPI).

The fixture is test_supervisord.py's ``supervisord_unix``, started once more for this
module: supervisord on a unix socket, with two programs.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from test_supervisord import STATE_RUNNING, supervisord_unix

from aioxmlrpc import AsyncServerProxy, Fault, MultiCall

__all__ = ["supervisord_unix"]  # the fixture, imported for this module's tests

CALL_TIMEOUT = 10.0


def _url(sock: str) -> str:
    return f"http+unix://{quote(sock, safe='')}/RPC2"


async def test_http_unix_url_reaches_supervisord(supervisord_unix: str) -> None:
    async with AsyncServerProxy(_url(supervisord_unix), timeout=CALL_TIMEOUT) as proxy:
        assert await proxy.supervisor.getState() == STATE_RUNNING
        assert str(proxy).startswith("<AsyncServerProxy for http+unix://%2F")


async def test_the_profile_reads_bare_multicall_results(supervisord_unix: str) -> None:
    url = _url(supervisord_unix)
    async with AsyncServerProxy(url, profile="supervisord", timeout=CALL_TIMEOUT) as proxy:
        pid = await proxy.supervisor.getPID()
        multicall = MultiCall(proxy)  # no bare_results=True: the profile says it
        multicall.supervisor.getState()
        multicall.supervisor.getPID()
        multicall.supervisor.startProcess("no-such-program")
        state, got_pid, fault = await multicall(return_exceptions=True)
        assert state == STATE_RUNNING
        assert got_pid == pid
        assert isinstance(fault, Fault)
        assert fault.faultCode == 10
        # an explicit bare_results wins over the profile
        standard = MultiCall(proxy, bare_results=False)
        standard.supervisor.getPID()
        with pytest.raises(ValueError, match="unexpected type in multicall result"):
            list(await standard())


async def test_the_standard_proxy_does_not_guess(supervisord_unix: str) -> None:
    async with AsyncServerProxy(_url(supervisord_unix), timeout=CALL_TIMEOUT) as proxy:
        multicall = MultiCall(proxy)
        multicall.supervisor.getPID()
        with pytest.raises(ValueError, match="unexpected type in multicall result"):
            list(await multicall())
