"""AsyncServerProxy against Perl's RPC::XML::Server (Debian's librpc-xml-perl, 1.75).

``perl_server.pl`` (next to this file) serves methods that return explicitly typed
values. The fixtures start it with ``perl perl_server.pl <port> [encoding]`` on a free
port of 127.0.0.1 (no shell, its temporary files in a pytest directory), wait until a
plain stdlib request answers ``system.identity``, and stop it by its PID at the end,
checking that it is gone. A Perl or RPC::XML that is missing, or a server that does not
come up, fails the fixture with its output (it is never skipped).

What RPC::XML does, as these tests pin it:

- its replies declare ``encoding="us-ascii"`` by default but carry UTF-8 bytes: non-ASCII
  text is then not well-formed XML, and is refused (as the stdlib refuses it). One
  fixture keeps that default; the other declares UTF-8, as the server should;
- it serves one connection at a time, for as long as the client keeps it alive (up to
  its 10 s idle timeout): concurrent calls on several kept-alive connections wait for
  each other, so these tests send ``Connection: close`` (or use one connection);
- it decodes arguments to plain Perl values and re-encodes what it returns by guessing
  (``smart_encode``): ``echo("123")`` comes back as the int 123, ``echo(True)`` as 1;
- doubles are written with ``%.20f``: 1e-300 comes back as 0.0;
- its ``system.multicall`` returns bare values (no one-element lists: read them with
  ``MultiCall(proxy, bare_results=True)``), and a failing call turns the whole reply into
  a ``<fault>`` inside a ``<value>`` (read as that call's Fault);
- fault codes: 100 bad XML, 200 unknown method (and a multicall entry that is not a
  struct), 201 bad signature, 310 recursive multicall; ours (4, 404) as returned;
- replies over 1 MiB go out with both Content-Length and chunked Transfer-Encoding,
  which aiohttp's parser refuses; we read them as the stdlib does, chunked winning.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import xmlrpc.client
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.parsers.expat import ExpatError

import pytest

import aioxmlrpc
from aioxmlrpc import AsyncServerProxy, Binary, DateTime, Fault, MultiCall

from peers import exact, stop

SCRIPT = Path(__file__).with_name("perl_server.pl")
CALL_TIMEOUT = 10.0  # seconds for any one call of a test
START_TIMEOUT = 20.0  # seconds for the server to answer system.identity
STOP_TIMEOUT = 10.0
POLL = 0.05
RAW_TIMEOUT = 2.0  # seconds for one stdlib request
RAW_MAX_BYTES = 1 << 20

# What perl_server.pl returns: keep the two in step.
TEXT = "h\u00e9llo \u2603 & <tag> \"q\" 'a' \U0001f600"
WHEN = datetime.datetime(2024, 2, 29, 12, 34, 56)
BLOB = b"\x00\x01binary\xfe\xff"
TYPED: dict[str, Any] = {
    "int": 42,
    "negative": -(2**31),
    "i4": 2**31 - 1,
    "i8": 2**40,
    "i8_min": -(2**63),
    "double": 3.25,
    "tiny": 0.1,
    "string": TEXT,
    "empty": "",
    "true": True,
    "false": False,
    "nil": None,
    "datetime": WHEN,
    "base64": BLOB,
    "array": [1, "two", 3.5],
    "struct": {"a": 1, "b&<>": "x"},
}
NESTED = [
    {"index": n, "items": [n * 2**32 + i for i in range(n + 1)], "flags": [bool(n % 2), []]}
    for n in range(3)
]


# -- helpers (stdlib only: they check the server independently of aioxmlrpc) ----------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _raw_post(url: str, body: bytes, max_bytes: int = RAW_MAX_BYTES) -> bytes:
    """POST ``body`` once with http.client (its own connection, closed after)."""
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=RAW_TIMEOUT)
    try:
        conn.request("POST", "/RPC2", body, {"Content-Type": "text/xml", "Connection": "close"})
        response = conn.getresponse()
        data = response.read(max_bytes)
        status = response.status
    finally:
        conn.close()
    if status != 200:
        raise ConnectionError(f"HTTP status {status}")
    return data


def _raw_call(url: str, method: str, params: tuple[Any, ...] = ()) -> Any:
    """Call ``method`` once with the stdlib's codec."""
    data = _raw_post(url, xmlrpc.client.dumps(params, method, allow_none=True).encode())
    # The Perl server is trusted here: our own child process on 127.0.0.1.
    result, _ = xmlrpc.client.loads(data)
    return result[0]


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for a reaper counts as ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def _output(path: Path) -> str:
    text = path.read_text(errors="replace") if path.exists() else "(missing)"
    return f"--- {path.name} ---\n{text}"


@contextlib.contextmanager
def _perl_server(directory: Path, encoding: str | None) -> Iterator[str]:
    perl = shutil.which("perl")
    if perl is None:
        pytest.fail("perl is not installed (Debian: perl)", pytrace=False)
    check = subprocess.run(
        [perl, "-MRPC::XML::Server", "-e", "print $RPC::XML::Server::VERSION"],
        capture_output=True,
        text=True,
        timeout=STOP_TIMEOUT,
        check=False,
    )
    if check.returncode != 0:
        pytest.fail(
            "Perl's RPC::XML::Server is not installed: install the Debian package "
            f"'librpc-xml-perl' (.ci/test does)\n{check.stderr}",
            pytrace=False,
        )
    port = _free_port()
    url = f"http://127.0.0.1:{port}/RPC2"
    command = [perl, str(SCRIPT), str(port), *([encoding] if encoding else [])]
    out_path = directory / "perl.out"
    # RPC::XML spools large replies to File::Spec->tmpdir: keep them in our directory.
    env = {**os.environ, "TMPDIR": str(directory)}
    with out_path.open("wb") as out:
        proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=directory,
            env=env,
        )
    try:
        error: BaseException | None = RuntimeError("the server did not answer")
        deadline = time.monotonic() + START_TIMEOUT
        for _ in range(int(START_TIMEOUT / POLL) + 1):
            if proc.poll() is not None:
                error = RuntimeError(f"perl exited with status {proc.returncode}")
                break
            if f"READY {port}" in out_path.read_text(errors="replace"):
                try:
                    identity = _raw_call(url, "system.identity")
                    if str(identity).startswith("RPC::XML::Server/"):
                        error = None
                        break
                    error = RuntimeError(f"unexpected identity {identity!r}")
                except (OSError, ValueError, xmlrpc.client.Error, ExpatError) as exc:
                    error = exc
            if time.monotonic() > deadline:
                break
            time.sleep(POLL)
        if error is not None:
            stop(proc, "perl", STOP_TIMEOUT)
            pytest.fail(
                f"the Perl server did not start (waited at most {START_TIMEOUT:g} s): "
                f"{error!r}\n{_output(out_path)}",
                pytrace=False,
            )
        yield url
    finally:
        problems = stop(proc, "perl", STOP_TIMEOUT)
    assert proc.returncode == -signal.SIGTERM, _output(out_path)
    assert not problems, f"{problems}\n{_output(out_path)}"
    assert not _alive(proc.pid)


@pytest.fixture(scope="module")
def perl_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """RPC::XML's defaults: replies declare us-ascii (and carry UTF-8). Yields the URL."""
    with _perl_server(tmp_path_factory.mktemp("perl"), None) as url:
        yield url


@pytest.fixture(scope="module")
def perl_utf8(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The same server with ``$RPC::XML::ENCODING = "utf-8"``. Yields the URL."""
    with _perl_server(tmp_path_factory.mktemp("perl_utf8"), "utf-8") as url:
        yield url


def _proxy(url: str, *, keep_alive: bool = False, **options: Any) -> AsyncServerProxy:
    # The server serves one connection until the client closes it (or 10 s of silence):
    # a proxy left open would hold it, and another connection would wait. Without
    # keep_alive, each call asks the server to close its connection when it is done.
    headers = {} if keep_alive else {"Connection": "close"}
    headers.update(options.pop("headers", {}))
    options.setdefault("timeout", CALL_TIMEOUT)
    return AsyncServerProxy(url, headers=headers, **options)


# -- values the server types explicitly -----------------------------------------------------


async def test_every_type_with_builtin_types(perl_utf8: str) -> None:
    async with _proxy(perl_utf8, use_builtin_types=True) as proxy:
        values = await proxy.types.all()
    assert exact(values) == exact(TYPED)
    assert values["i8"] > 2**32
    assert values["i8_min"] == aioxmlrpc.MININT * 2**32


async def test_every_type_with_the_stdlib_defaults(perl_utf8: str) -> None:
    async with _proxy(perl_utf8) as proxy:
        values = await proxy.types.all()
    expected = {
        **TYPED,
        "datetime": DateTime("20240229T12:34:56"),
        "base64": Binary(BLOB),
    }
    assert exact(values) == exact(expected)


async def test_use_datetime_alone(perl_utf8: str) -> None:
    async with _proxy(perl_utf8, use_datetime=True) as proxy:
        values = await proxy.types.all()
    assert exact(values["datetime"]) == exact(WHEN)
    assert exact(values["base64"]) == exact(Binary(BLOB))  # base64 stays Binary


async def test_each_type_alone(perl_utf8: str) -> None:
    # A value at the top of the reply is read by another path than one in a struct.
    async with _proxy(perl_utf8, use_builtin_types=True) as proxy:
        for name, expected in TYPED.items():
            value = await proxy.types.get(name)
            assert exact(value) == exact(expected), name


async def test_i8_beyond_32_bits(perl_utf8: str) -> None:
    async with _proxy(perl_utf8) as proxy:
        value = await proxy.types.i8()
    assert type(value) is int
    assert value == 2**40
    assert value > aioxmlrpc.MAXINT


async def test_nil_with_and_without_allow_none(perl_utf8: str) -> None:
    # allow_none governs what we send; <nil/> is read either way, as the stdlib reads it.
    for allow_none in (False, True):
        async with _proxy(perl_utf8, allow_none=allow_none) as proxy:
            assert await proxy.types.nil() is None
            assert (await proxy.types.all())["nil"] is None
    async with _proxy(perl_utf8) as proxy:
        with pytest.raises(TypeError, match="cannot marshal None"):
            await proxy.echo(None)


async def test_nested_arrays_and_structs(perl_utf8: str) -> None:
    async with _proxy(perl_utf8) as proxy:
        value = await proxy.types.nested()
    assert exact(value) == exact(NESTED)


async def test_an_int_beyond_32_bits_in_int(perl_utf8: str) -> None:
    # RPC::XML::int does not check its range: the sum is sent as <int>4294967294</int>,
    # which we (like the stdlib) read as the integer it is.
    async with _proxy(perl_utf8) as proxy:
        assert await proxy.sum(2**31 - 1, 2**31 - 1) == 2**32 - 2
        assert await proxy.sum(1, 2, 3) == 6
        assert await proxy.sum() == 0


async def test_a_large_reply(perl_utf8: str) -> None:
    # 900 kB, under RPC::XML's 1 MiB threshold for spooling a reply through a file.
    async with _proxy(perl_utf8) as proxy:
        text = await proxy.text.repeat("a\u00e9", 300_000)
    assert text == "a\u00e9" * 300_000


async def test_a_spooled_reply_has_both_lengths(perl_utf8: str) -> None:
    # Over 1 MiB, RPC::XML spools the reply through a file and hands HTTP::Daemon a
    # callback, which an HTTP/1.1 reply sends chunked: with "Transfer-Encoding: chunked"
    # and RPC::XML's "Content-Length" both. RFC 9112 forbids sending that (6.2) and says
    # the chunking wins (6.3), as the stdlib's http.client reads it; so do we, and the
    # connection that sent it is closed after the reply.
    async with _proxy(perl_utf8, keep_alive=True, pool_size=1) as proxy:
        text = await proxy.text.repeat("a\u00e9", 750_000)
        assert text == "a\u00e9" * 750_000
        assert await proxy.sum(1, 2) == 3  # the server serves on, on a new connection
        assert await proxy.text.repeat("a\u00e9", 2_500_000) == "a\u00e9" * 2_500_000  # 5 MB
    body = xmlrpc.client.dumps(("a\u00e9", 750_000), "text.repeat").encode()
    data = await asyncio.to_thread(_raw_post, perl_utf8, body, 4 * RAW_MAX_BYTES)
    (text,), _ = xmlrpc.client.loads(data)
    assert text == "a\u00e9" * 750_000


async def test_the_spooled_reply_head_has_both_lengths_indeed(perl_utf8: str) -> None:
    # What the test above relies on, seen with the stdlib: both headers in one head.
    port = int(perl_utf8.rsplit(":", 1)[1].split("/")[0])
    body = xmlrpc.client.dumps(("ab", 600_000), "text.repeat").encode()

    def head() -> str:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=RAW_TIMEOUT)
        try:
            conn.request("POST", "/RPC2", body, {"Content-Type": "text/xml", "Connection": "close"})
            response = conn.getresponse()
            response.read()
            return str(response.headers)
        finally:
            conn.close()

    text = (await asyncio.to_thread(head)).lower()
    assert "transfer-encoding: chunked" in text
    assert "content-length:" in text


async def test_a_deflated_reply(perl_utf8: str, capsys: pytest.CaptureFixture[str]) -> None:
    # RPC::XML compresses replies over 4 KiB, but only with deflate (the zlib format), and
    # only for a client that asks for it: ours asks for gzip unless told otherwise.
    async with _proxy(perl_utf8, headers={"Accept-Encoding": "deflate"}, verbose=True) as proxy:
        text = await proxy.text.repeat("ab", 5000)
    assert text == "ab" * 5000
    out = capsys.readouterr().out
    assert "header: Content-Encoding: deflate" in out
    async with _proxy(perl_utf8, verbose=True) as proxy:
        assert await proxy.text.repeat("ab", 5000) == "ab" * 5000
    assert "Content-Encoding" not in capsys.readouterr().out


async def test_a_gzipped_request_is_refused(perl_utf8: str) -> None:
    # The server only inflates requests sent with "Content-Encoding: deflate": a gzipped
    # body is read as XML, and answered with an HTTP 500 (a typed ProtocolError here).
    async with _proxy(perl_utf8, gzip_threshold=1000) as proxy:
        with pytest.raises(aioxmlrpc.ProtocolError) as info:
            await proxy.echo("x" * 2000)
        assert info.value.errcode == 500


# -- what echo sends back -----------------------------------------------------------------


ECHO: list[tuple[Any, str, Any]] = [
    # (sent, the wire type RPC::XML read, what smart_encode sends back)
    (42, "int", 42),
    (-(2**31), "int", -(2**31)),
    (2**40, "i8", 2**40),
    (-(2**63), "i8", -(2**63)),
    (2**63 - 1, "i8", 2**63 - 1),
    (1.5, "double", 1.5),
    (0.1, "double", 0.1),
    (-0.0, "double", -0.0),
    (1e30, "double", 1e30),
    (1e-7, "double", 1e-7),
    (1e-300, "double", 0.0),  # written with %.20f
    (1e300, "double", "1e+300"),  # beyond smart_encode's doubles (1e37): a string
    ("", "string", ""),
    ("abc", "string", "abc"),
    (TEXT, "string", TEXT),
    ("x\ry\n", "string", "x\ny\n"),  # CR sent as is (as by the stdlib): read as LF
    ("123", "string", 123),
    ("007", "string", 7),
    ("-12", "string", -12),
    ("1.5", "string", 1.5),
    ("1e5", "string", 100000.0),
    ("20240229T12:34:56", "string", WHEN),
    ("2024-02-29T12:34:56", "string", WHEN),
    ("yes", "string", "yes"),
    (True, "boolean", 1),
    (False, "boolean", 0),
    (None, "nil", None),
    (WHEN, "dateTime.iso8601", WHEN),
    (b"abc", "base64", "abc"),
    (Binary(b"12"), "base64", 12),
    (b"", "base64", ""),
    (b"\xe9t\xe9", "base64", "\xe9t\xe9"),  # bytes come back as Latin-1 text
    ([1, "a", None], "array", [1, "a", None]),
    ([], "array", []),
    ({}, "struct", {}),
    ({"k": 1, "n": None}, "struct", {"k": 1, "n": None}),
    (
        {"\u043a\u043b\u044e\u0447": TEXT, "a&<>": 1},
        "struct",
        {"\u043a\u043b\u044e\u0447": TEXT, "a&<>": 1},
    ),
    ([True, "12", [b"x"]], "array", [1, 12, ["x"]]),  # guessed again at every depth
    ({"a": [{"b": [2**40]}]}, "struct", {"a": [{"b": [2**40]}]}),
]


async def test_echo_of_every_type(perl_utf8: str) -> None:
    async with _proxy(perl_utf8, allow_none=True, allow_i8=True, use_builtin_types=True) as proxy:
        for sent, wire_type, expected in ECHO:
            assert await proxy.args.types(sent) == [wire_type], sent
            assert exact(await proxy.echo(sent)) == exact(expected), sent


async def test_argument_types_on_the_wire(perl_utf8: str) -> None:
    async with _proxy(perl_utf8, allow_none=True, allow_i8=True) as proxy:
        types = await proxy.args.types(
            1, 2**40, 1.5, "s", True, None, WHEN, DateTime(WHEN), b"x", Binary(b"x"), [1], {"a": 1}
        )
    assert types == [
        "int",
        "i8",
        "double",
        "string",
        "boolean",
        "nil",
        "dateTime.iso8601",
        "dateTime.iso8601",
        "base64",
        "base64",
        "array",
        "struct",
    ]


async def test_a_big_int_needs_allow_i8(perl_utf8: str) -> None:
    async with _proxy(perl_utf8) as proxy:
        with pytest.raises(OverflowError):
            await proxy.echo(2**40)  # refused before anything is sent
        assert await proxy.echo(2**31 - 1) == 2**31 - 1


async def test_echo_of_a_nul_byte_is_refused(perl_utf8: str) -> None:
    # base64 is decoded to bytes and sent back as a string: a NUL cannot be in XML.
    async with _proxy(perl_utf8) as proxy:
        with pytest.raises(aioxmlrpc.MalformedXML) as info:
            await proxy.echo(Binary(b"\x00ab"))
        assert isinstance(info.value, ExpatError)
        assert await proxy.echo("still serving") == "still serving"


async def test_infinity_is_refused_by_the_server(perl_utf8: str) -> None:
    # Like the stdlib, we write float("inf") as "inf", which XML-RPC has no room for.
    async with _proxy(perl_utf8) as proxy:
        with pytest.raises(Fault) as info:
            await proxy.echo(float("inf"))
    assert info.value.faultCode == 100
    assert info.value.faultString.startswith("XML parse error: Bad floating-point data")


# -- faults and introspection ---------------------------------------------------------------


async def test_a_fault_with_code_and_string(perl_utf8: str) -> None:
    async with _proxy(perl_utf8) as proxy:
        with pytest.raises(aioxmlrpc.Fault) as info:
            await proxy.fail(1, 2)
        assert isinstance(info.value, xmlrpc.client.Fault)
        assert type(info.value.faultCode) is int
        assert (info.value.faultCode, info.value.faultString) == (4, "Too many parameters: 2")
        with pytest.raises(Fault) as info:
            await proxy.types.get("nope")
        assert (info.value.faultCode, info.value.faultString) == (404, "no type named 'nope'")
        assert await proxy.sum(1, 1) == 2  # the proxy stays usable


async def test_server_faults(perl_utf8: str) -> None:
    async with _proxy(perl_utf8) as proxy:
        with pytest.raises(Fault) as info:
            await proxy.no.such.method()
        assert info.value.faultCode == 200
        assert info.value.faultString == (
            "Method lookup error: No method 'Unknown method: no.such.method' on server"
        )
        with pytest.raises(Fault) as info:
            await proxy.system.multicall("not an array")
        assert info.value.faultCode == 201
        assert info.value.faultString.startswith("Method signature error:")
        with pytest.raises(Fault) as info:
            await proxy.system.multicall(["not a struct"])
        assert (info.value.faultCode, info.value.faultString) == (
            200,
            "system.multicall: One of the array elements passed in was not a struct",
        )
        with pytest.raises(Fault) as info:
            await proxy.system.multicall([{"methodName": "system.multicall", "params": [[]]}])
        assert info.value.faultCode == 310
        assert "Recursive calling of system.multicall not allowed" in info.value.faultString


async def test_introspection(perl_utf8: str) -> None:
    async with _proxy(perl_utf8) as proxy:
        methods = await proxy.system.listMethods()
        identity = await proxy.system.identity()
        signature = await proxy.system.methodSignature("system.multicall")
        function_signature = await proxy.system.methodSignature("sum")
        help_text = await proxy.system.methodHelp("system.multicall")
    assert {"echo", "fail", "sum", "types.all", "types.nested"} <= set(methods)
    assert {"system.multicall", "system.listMethods", "system.methodSignature"} <= set(methods)
    assert re.fullmatch(r"RPC::XML::Server/\d+\.\d+", identity), identity
    assert signature == [["array", "array"]]
    assert function_signature == [["scalar"]]  # functions are not signature-checked
    assert "procedure calls" in help_text


async def test_status_dates_carry_a_z(perl_utf8: str) -> None:
    # system.status writes "20240229T12:34:56Z": with use_datetime we return an aware UTC
    # datetime, where the stdlib's use_datetime raises ValueError on the "Z".
    async with _proxy(perl_utf8, use_datetime=True) as proxy:
        status = await proxy.system.status()
    assert status["date"].tzinfo == datetime.timezone.utc
    assert status["date"].timestamp() == status["date_int"]
    assert status["host"] == "127.0.0.1"
    async with _proxy(perl_utf8) as proxy:
        plain = await proxy.system.status()
    assert re.fullmatch(r"\d{8}T\d\d:\d\d:\d\dZ", plain["date"].value)
    body = xmlrpc.client.dumps((), "system.status").encode()
    data = await asyncio.to_thread(_raw_post, perl_utf8, body)
    with pytest.raises(ValueError, match="unconverted data remains: Z"):
        xmlrpc.client.loads(data, use_datetime=True)


# -- multicall ----------------------------------------------------------------------------------


async def test_multicall_reads_bare_results(perl_utf8: str) -> None:
    async with _proxy(perl_utf8, allow_none=True) as proxy:
        multicall = MultiCall(proxy, bare_results=True)
        multicall.sum(1, 2)
        multicall.echo("12")  # re-encoded by the server on the way in: the int 12
        multicall.types.nil()
        multicall.types.i8()
        multicall.types.nested()
        results = await multicall()
        assert len(results) == 5
        assert list(results) == [3, 12, None, 2**40, NESTED]
        assert await multicall(return_exceptions=True) == [3, 12, None, 2**40, NESTED]
        raw = await proxy.system.multicall(
            [{"methodName": "sum", "params": [1, 2]}, {"methodName": "types.nil"}]
        )
    assert raw == [3, None]  # no one-element lists


async def test_a_failing_call_in_a_multicall_is_its_fault(perl_utf8: str) -> None:
    # RPC::XML's system.multicall stops at the first failing call and returns its
    # response object, which goes out as a struct {"value": <fault>...</fault>}, a <fault>
    # inside a <value>. The stdlib reads that struct (and its MultiCall then fails with a
    # KeyError); we read it the same way and raise the failing call's Fault.
    async with _proxy(perl_utf8) as proxy:
        multicall = MultiCall(proxy)
        multicall.sum(1, 2)
        multicall.fail()
        multicall.sum(3, 4)
        sends = (
            multicall(),
            multicall(return_exceptions=True),
            multicall(fallback=True),  # not a "no such method" answer: no fallback
        )
        for send in sends:
            with pytest.raises(Fault) as info:
                await send
            assert (info.value.faultCode, info.value.faultString) == (4, "Too many parameters: 0")
        assert await proxy.sum(5, 6) == 11
    calls = [{"methodName": "sum", "params": [1, 2]}, {"methodName": "fail"}]
    body = xmlrpc.client.dumps((calls,), "system.multicall").encode()
    data = await asyncio.to_thread(_raw_post, perl_utf8, body)
    assert b"<value><fault><value><struct>" in data
    (lenient,), _ = xmlrpc.client.loads(data)
    assert lenient == {"value": {"faultCode": 4, "faultString": "Too many parameters: 0"}}


async def test_multicall_of_fault_shaped_values(perl_utf8: str) -> None:
    # The only per-call Fault this server's multicall can carry is a result shaped like a
    # fault struct; it is read as a fault, as the stdlib reads it, and iteration stops there.
    shaped = {"faultCode": 7, "faultString": "shaped like a fault"}
    async with _proxy(perl_utf8) as proxy:
        multicall = MultiCall(proxy, bare_results=True)
        multicall.sum(1, 2)
        multicall.echo(shaped)
        multicall.sum(3, 4)
        results = await multicall()
        iterator = iter(results)
        assert next(iterator) == 3
        with pytest.raises(Fault) as info:
            next(iterator)
        assert (info.value.faultCode, info.value.faultString) == (7, "shaped like a fault")
        first, fault, last = await multicall(return_exceptions=True)
    assert (first, last) == (3, 7)
    assert isinstance(fault, Fault)
    assert fault.faultCode == 7


async def test_bare_one_element_lists_stay_lists(perl_utf8: str) -> None:
    # Nothing is guessed from shapes: with bare_results, a result that happens to be a
    # one-element list is that list; without it, the standard reading applies to every
    # item, and this server's bare 1 is the stdlib's ValueError when reached.
    async with _proxy(perl_utf8) as proxy:
        multicall = MultiCall(proxy, bare_results=True)
        multicall.echo([5])
        multicall.echo([6])
        multicall.sum(1)
        assert await multicall(return_exceptions=True) == [[5], [6], 1]
        standard = MultiCall(proxy)
        standard.echo([5])
        standard.sum(1)
        results = await standard()
        assert results[0] == 5
        with pytest.raises(ValueError, match="unexpected type in multicall result"):
            results[1]


# -- connections and concurrency -------------------------------------------------------------


async def test_many_concurrent_calls(perl_utf8: str) -> None:
    # One connection per call, each closed after its reply: the server takes them in turn
    # from its listen queue (128 deep, set in perl_server.pl).
    async with _proxy(perl_utf8) as proxy:
        results = await asyncio.gather(*(proxy.sum(index, index) for index in range(100)))
    assert results == [2 * index for index in range(100)]


async def test_concurrent_calls_over_one_kept_alive_connection(perl_utf8: str) -> None:
    # With keep-alive, one connection (pool_size=1) carries every call in turn. (With
    # more connections, each would wait until the server gave up the previous one.) Each
    # call after the first takes ~40 ms: HTTP::Daemon writes a reply in six small pieces,
    # and Nagle's algorithm holds the last ones back until the client's delayed ACK.
    async with _proxy(perl_utf8, keep_alive=True, pool_size=1) as proxy:
        results = await asyncio.gather(*(proxy.echo(f"call {index}") for index in range(20)))
    assert results == [f"call {index}" for index in range(20)]


async def test_fifty_concurrent_calls_with_keep_alive_need_one_connection(perl_utf8: str) -> None:
    # The server serves one connection until it goes idle for 10 s: with the default pool,
    # the first call's kept-alive connection holds it while 49 others wait on their own
    # connections. They time out, and the message names the option that fixes it.
    async with _proxy(perl_utf8, keep_alive=True, timeout=2) as proxy:
        outcomes = await asyncio.gather(
            *(proxy.sum(index, 1) for index in range(50)), return_exceptions=True
        )
    timeouts = [item for item in outcomes if isinstance(item, aioxmlrpc.TransportTimeout)]
    assert timeouts, outcomes
    assert all(isinstance(item, (int, aioxmlrpc.TransportTimeout)) for item in outcomes)
    assert "pass pool_size=1" in str(timeouts[0])
    assert "one connection at a time" in str(timeouts[0])
    # That option: 50 concurrent calls on one kept-alive connection, all answered.
    async with _proxy(perl_utf8, keep_alive=True, pool_size=1) as proxy:
        results = await asyncio.gather(*(proxy.sum(index, 1) for index in range(50)))
    assert results == [index + 1 for index in range(50)]


# -- the raw XML --------------------------------------------------------------------------------


async def test_the_raw_xml_declares_utf8_when_told(
    perl_utf8: str, capsys: pytest.CaptureFixture[str]
) -> None:
    async with _proxy(perl_utf8, verbose=True) as proxy:
        text = await proxy.types.get("string")
    assert text == TEXT
    out = capsys.readouterr().out
    assert 'body: b\'<?xml version="1.0" encoding="utf-8"?><methodResponse><params>' in out
    # UTF-8 bytes; "&<>" escaped, and the quotes too, which XML allows in text
    assert (
        "<string>h\\xc3\\xa9llo \\xe2\\x98\\x83 &amp; &lt;tag&gt; &quot;q&quot; &apos;a&apos;"
        in out
    )
    assert re.search(r"header: Server: libwww-perl-daemon/\d", out)
    assert re.search(r"header: RPC-Server: RPC::XML::Server/\d", out)


async def test_the_default_declaration_is_us_ascii(
    perl_server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    async with _proxy(perl_server, verbose=True, use_builtin_types=True) as proxy:
        assert await proxy.types.get("int") == 42
        assert exact(await proxy.types.nested()) == exact(NESTED)
        assert await proxy.echo("plain ASCII & <markup>") == "plain ASCII & <markup>"
    out = capsys.readouterr().out
    assert 'body: b\'<?xml version="1.0" encoding="us-ascii"?><methodResponse>' in out


async def test_non_ascii_text_under_a_us_ascii_declaration_is_refused(perl_server: str) -> None:
    # The reply says us-ascii and sends UTF-8: not well-formed, as the stdlib also says.
    async with _proxy(perl_server) as proxy:
        with pytest.raises(aioxmlrpc.MalformedXML) as info:
            await proxy.types.get("string")
        assert isinstance(info.value, ExpatError)
        assert isinstance(info.value, aioxmlrpc.ResponseError)
        assert await proxy.types.get("empty") == ""  # and the proxy stays usable
    body = xmlrpc.client.dumps(("string",), "types.get").encode()
    data = await asyncio.to_thread(_raw_post, perl_server, body)
    assert data.startswith(b'<?xml version="1.0" encoding="us-ascii"?>')
    assert TEXT.replace("&", "&amp;").replace("<", "&lt;").encode()[:8] in data
    with pytest.raises(ExpatError, match="not well-formed"):
        xmlrpc.client.loads(data)


async def test_an_encoding_error_says_where(perl_server: str) -> None:
    async with _proxy(perl_server) as proxy:
        with pytest.raises(aioxmlrpc.MalformedXML) as info:
            await proxy.types.get("string")
    body = xmlrpc.client.dumps(("string",), "types.get").encode()
    data = await asyncio.to_thread(_raw_post, perl_server, body)
    with pytest.raises(ExpatError) as stdlib:
        xmlrpc.client.loads(data)
    assert (info.value.lineno, info.value.offset) == (stdlib.value.lineno, stdlib.value.offset)
    assert "ordinal" not in str(info.value)
