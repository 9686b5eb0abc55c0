"""Secrets never shown: the URL's password, its basic-auth token, and registered secrets.

Verbose output and debug logs are checked in request and reply heads and bodies, against
servers that echo what they were sent.
"""

from __future__ import annotations

import base64
import logging

import pytest

from aioxmlrpc import AsyncServerProxy, MultiCall
from aioxmlrpc._http._dump import BodyDump, Secrets, WireDump

PASSWORD = "pa55:w0rd&<x>"  # noqa: S105 - a colon, and characters XML escapes
QUOTED = "pa55%3Aw0rd%26%3Cx%3E"


def _host(raw_server: str) -> str:
    return raw_server.removeprefix("http://")


async def test_a_reply_that_echoes_the_authorization_header_hides_it(
    raw_server: str, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="aioxmlrpc")
    url = f"http://carol:{QUOTED}@{_host(raw_server)}/RPC2"
    token = base64.b64encode(f"carol:{PASSWORD}".encode()).decode()
    async with AsyncServerProxy(url, verbose=True) as proxy:
        headers = await proxy.headers()  # the server answers with the headers it got
    assert headers["Authorization"] == f"Basic {token}"  # the call itself is untouched
    out = capsys.readouterr().out
    assert "<name>Authorization</name>" in out  # the reply body is shown...
    assert "Basic ***" in out  # ...with the token hidden
    for shown in (out, caplog.text):
        assert token not in shown
        assert PASSWORD not in shown
        assert QUOTED not in shown
        assert "w0rd" not in shown


async def test_registered_secrets_are_hidden_in_both_bodies(
    raw_server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "token:s3cr&t<"  # noqa: S105
    async with AsyncServerProxy(
        f"{raw_server}/multicall", verbose=True, secrets=[secret, "api-key-42"]
    ) as proxy:
        assert await proxy.echo([secret, "api-key-42", "visible"]) == [
            secret,
            "api-key-42",
            "visible",
        ]
        multicall = MultiCall(proxy)
        multicall.echo(secret)
        assert await multicall(return_exceptions=True) == [secret]
    out = capsys.readouterr().out
    assert "s3cr" not in out
    assert "api-key-42" not in out
    assert "<string>***</string>" in out
    assert "visible" in out
    assert out.count("send: b") == 4
    assert out.count("body: b") == 2


async def test_a_secret_split_across_streamed_pieces_is_hidden(
    raw_server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # A reply over 64 KiB is shown piece by piece as it arrives.
    secret = "S3CRET-" + "k" * 40
    values = ["x" * offset + secret for offset in range(0, 200_000, 9_973)]
    async with AsyncServerProxy(f"{raw_server}/RPC2", verbose=True, secrets=[secret]) as proxy:
        assert await proxy.echo(values) == values
    out = capsys.readouterr().out
    assert "S3CRET" not in out
    assert out.count("***") >= len(values) * 2  # in the request and in the reply


def test_a_body_fed_a_byte_at_a_time_never_shows_a_secret() -> None:
    shown: list[str] = []

    class Collect(WireDump):
        def line(self, text: str) -> None:
            shown.append(text)

    dump = Collect(Secrets(["hunter2"]), verbose=False, output=None)
    body = BodyDump(dump)
    for byte in b"<string>hunter2</string><string>hunter2":
        body.feed(bytes([byte]))
    body.close()
    text = "".join(shown)
    assert "hunter" not in text
    assert "unter2" not in text


def test_secrets_cover_escaped_and_encoded_forms() -> None:
    secrets = Secrets.of_url("http://u:p%40ss@host/RPC2", ["a&b"])
    for form in (b"p@ss", b"p%40ss", base64.b64encode(b"u:p@ss"), b"a&amp;b", b"a&b"):
        assert secrets.hide(b"[" + form + b"]") == b"[***]", form
    assert Secrets([]).hide(b"nothing") == b"nothing"


async def test_nothing_is_prepared_without_verbose_or_debug(raw_server: str) -> None:
    async with AsyncServerProxy(f"{raw_server}/RPC2", secrets=["s"]) as proxy:
        assert await proxy.ping() is True
        transport = proxy("transport")
        (target,) = transport._targets.values()
        assert target._secrets is None  # no pattern built, nothing searched


def test_secrets_with_another_transport_are_refused() -> None:
    from aioxmlrpc import HTTPTransport

    with pytest.raises(TypeError, match="pass HTTP options to the transport"):
        AsyncServerProxy("http://127.0.0.1:1/RPC2", transport=HTTPTransport(), secrets=["x"])
