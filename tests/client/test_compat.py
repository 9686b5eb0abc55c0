"""``aioxmlrpc.client``: code written for the httpx-based aioxmlrpc 0.x runs unchanged."""

from __future__ import annotations

import ssl

import aiohttp
import pytest

from aioxmlrpc import AsyncServerProxy
from aioxmlrpc._demo import ExampleServer
from aioxmlrpc.client import Fault, ProtocolError, ServerProxy


async def test_the_old_import_path_and_signature_work(example_server: ExampleServer) -> None:
    proxy = ServerProxy(example_server.url, None, False, True, True, False)
    assert isinstance(proxy, AsyncServerProxy)
    assert await proxy.ping() is True
    assert (await proxy.show_type(None))[2] is None  # allow_none, the 4th positional
    with pytest.raises(Fault):
        await proxy.raises_exception("old style")
    await proxy.aclose()


async def test_auth_tuples_and_headers(raw_server: str) -> None:
    async with ServerProxy(f"{raw_server}/RPC2", auth=("bob", "pw"), headers={"X-A": "1"}) as p:
        headers = await p.headers()
    assert headers["Authorization"] == "Basic Ym9iOnB3"  # bob:pw
    assert headers["X-A"] == "1"


async def test_an_aiohttp_session_is_accepted_and_httpx_clients_are_not(raw_server: str) -> None:
    async with aiohttp.ClientSession() as session:
        proxy = ServerProxy(f"{raw_server}/RPC2", session=session)
        assert await proxy.ping() is True
        await proxy.aclose()
        assert not session.closed

    class AsyncClient:  # what an httpx client looks like to us
        pass

    with pytest.raises(TypeError, match=r"aiohttp\.ClientSession"):
        ServerProxy(f"{raw_server}/RPC2", session=AsyncClient())


@pytest.mark.parametrize("context", [True, False, None])
def test_httpx_style_verify_values(context: bool | None) -> None:
    ServerProxy("https://127.0.0.1:9/RPC2", context=context)


def test_a_ca_path_builds_a_context(tmp_path: object) -> None:
    with pytest.raises((FileNotFoundError, ssl.SSLError)):
        ServerProxy("https://127.0.0.1:9/RPC2", context="/nonexistent/ca.pem")


def test_protocol_error_is_the_stdlib_class() -> None:
    import xmlrpc.client

    assert ProtocolError is xmlrpc.client.ProtocolError
