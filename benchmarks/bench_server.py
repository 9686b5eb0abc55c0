"""Server throughput: aioxmlrpc.server against aiohttp + xmlrpc.client, and SimpleXMLRPCServer.

Each server runs in its own process on 127.0.0.1; the load comes from another process
(a lean asyncio protocol sending pre-encoded requests on keep-alive connections, so that
the client costs less than the servers it loads). For each server, payload and concurrency
it prints requests/s and the server's CPU time per call (user + system, from
``/proc/<pid>/stat``), then the ratios of both, aioxmlrpc over aiohttp+stdlib::

    python benchmarks/bench_server.py            # 3 rounds of 1 s per cell, ~5 minutes
    python benchmarks/bench_server.py --quick    # 1 round of 0.3 s: a smoke run

Servers:

- ``aioxmlrpc``: :func:`aioxmlrpc.server.serve` with an ``XMLRPCDispatcher``;
- ``aiohttp+stdlib``: an ``aiohttp.web`` application whose handler reads the body and
  answers with ``xmlrpc.client.loads``/``dumps`` (what home-grown async servers do);
- ``SimpleXMLRPCServer``: the standard library's, threaded (it closes the connection
  after each reply, so its client reconnects for every call);
- ``raw-aiohttp``: the ``aiohttp.web.Server`` that ``serve()`` runs, whose handler reads
  the body and answers a reply made in advance: the HTTP floor, what any server on
  aiohttp pays per call before it parses, calls or writes anything. The CPU above it is
  the XML-RPC work, and its ratio says how the two aiohttp servers' own work compares.

Payloads: ``ping`` (no arguments, ``True`` back), ``struct`` (a struct of about 1 KB
echoed back), ``multicall`` (``system.multicall`` of 100 pings). Concurrency: 1, 10 and
100 connections, each sending its next request when the previous reply is in.

The load process polls its sockets without ever sleeping (on a machine with two CPUs or
more). A load process that sleeps between replies must be woken by each one, and on
loopback that wake-up runs inside the server's ``send()``: on a virtual machine it is an
inter-processor interrupt, measured at 12 µs of the server's system time per reply.
A server talking to clients on other machines never pays it, and it added about the
same µs to every server slower than its client. ``--sleeping-load`` measures that way.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import xmlrpc.client
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SERVERS = ("aioxmlrpc", "aiohttp+stdlib", "SimpleXMLRPCServer", "raw-aiohttp")
PAYLOADS = ("ping", "struct", "multicall")
CONCURRENCY = (1, 10, 100)
START_TIMEOUT = 20.0


def struct_1k() -> dict[str, object]:
    """A struct of about 1 KB once marshalled: names, numbers, strings, a nested list."""
    return {
        "id": 4711,
        "name": "living room thermostat",
        "address": "NEQ0123456:1",
        "temperature": 21.5,
        "humidity": 48,
        "battery": 2.9,
        "active": True,
        "firmware": "1.4.8",
        "tags": ["heating", "ground floor", "eco"],
        "schedule": {"monday": "06:00-22:00", "tuesday": "06:00-22:00", "sunday": "08:00-23:00"},
    }


def request_body(payload: str) -> bytes:
    if payload == "ping":
        return xmlrpc.client.dumps((), "ping").encode()
    if payload == "struct":
        return xmlrpc.client.dumps((struct_1k(),), "echo").encode()
    calls = [{"methodName": "ping", "params": []} for _ in range(100)]
    return xmlrpc.client.dumps((calls,), "system.multicall").encode()


def expected(payload: str) -> object:
    if payload == "ping":
        return True
    if payload == "struct":
        return struct_1k()
    return [[True]] * 100


# -- the servers (each run as `bench_server.py --serve NAME PORT`) --------------------------


def ping() -> bool:
    return True


def echo(value: Any) -> Any:
    return value


def serve_aioxmlrpc(sock: socket.socket) -> None:
    from aioxmlrpc.server import XMLRPCDispatcher, serve

    dispatcher = XMLRPCDispatcher(allow_none=True)
    dispatcher.register_multicall_functions()
    dispatcher.register_function(ping)
    dispatcher.register_function(echo)

    async def main() -> None:
        async with serve(dispatcher, sock=sock, paths=["/RPC2"]) as server:
            await server.serve_forever()

    asyncio.run(main())


def serve_aiohttp_stdlib(sock: socket.socket) -> None:
    from aiohttp import web

    functions: dict[str, Callable[..., Any]] = {"ping": ping, "echo": echo}

    def multicall(calls: list[dict[str, Any]]) -> list[Any]:
        results: list[Any] = []
        for call in calls:
            try:
                function = functions[str(call["methodName"])]
                results.append([function(*call["params"])])
            except Exception as exc:
                results.append({"faultCode": 1, "faultString": f"{type(exc)}:{exc}"})
        return results

    async def handler(request: web.Request) -> web.Response:
        loaded, method = xmlrpc.client.loads(await request.read())
        params: tuple[Any, ...] = loaded
        try:
            if method == "system.multicall":
                result: Any = multicall(*params)
            else:
                result = functions[str(method)](*params)
            body = xmlrpc.client.dumps((result,), methodresponse=True, allow_none=True)
        except Exception as exc:
            body = xmlrpc.client.dumps(xmlrpc.client.Fault(1, f"{type(exc)}:{exc}"))
        return web.Response(body=body.encode(), content_type="text/xml")

    app = web.Application(client_max_size=64 << 20)
    app.router.add_post("/RPC2", handler)
    web.run_app(app, sock=sock, access_log=None, print=None, handle_signals=True)


def serve_stdlib(sock: socket.socket) -> None:
    import socketserver
    from xmlrpc.server import SimpleXMLRPCRequestHandler, SimpleXMLRPCServer

    class Handler(SimpleXMLRPCRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    class Server(socketserver.ThreadingMixIn, SimpleXMLRPCServer):
        daemon_threads = True
        request_queue_size = 1024

    server = Server(
        ("127.0.0.1", 0), Handler, logRequests=False, allow_none=True, bind_and_activate=False
    )
    server.socket.close()
    server.socket = sock
    server.register_multicall_functions()
    server.register_function(ping)
    server.register_function(echo)
    server.serve_forever()


def serve_raw_aiohttp(sock: socket.socket) -> None:
    from aiohttp import web

    # The reply to each payload's request, made in advance; anything else is a fault.
    replies = {
        request_body(payload): xmlrpc.client.dumps(
            (expected(payload),),  # type: ignore[arg-type]  # plain values
            methodresponse=True,
            allow_none=True,
        ).encode()
        for payload in PAYLOADS
    }
    fault = xmlrpc.client.dumps(xmlrpc.client.Fault(1, "unexpected request")).encode()

    async def handler(request: web.BaseRequest) -> web.Response:
        body = replies.get(await request.read(), fault)
        return web.Response(body=body, content_type="text/xml")

    async def main() -> None:
        # As serve() sets it up: the low-level server, no application or router.
        server = web.Server(
            handler, handler_cancellation=True, access_log=None, auto_decompress=False
        )
        runner = web.ServerRunner(server)
        await runner.setup()
        try:
            await web.SockSite(runner, sock).start()
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()

    asyncio.run(main())


def run_server(name: str, port: int) -> None:
    sock = socket.create_server(("127.0.0.1", port), backlog=1024)
    server = {
        "aioxmlrpc": serve_aioxmlrpc,
        "aiohttp+stdlib": serve_aiohttp_stdlib,
        "SimpleXMLRPCServer": serve_stdlib,
        "raw-aiohttp": serve_raw_aiohttp,
    }[name]
    with contextlib.suppress(KeyboardInterrupt):
        server(sock)


# -- the load (`bench_server.py --load PORT PAYLOAD CONCURRENCY SECONDS polls|sleeps`) ----


class _Connection(asyncio.Protocol):
    """One keep-alive connection sending ``request`` again as soon as each reply is in.

    A protocol rather than streams: the client must cost less than the servers it loads.
    A reply that closes the connection (HTTP/1.0, ``Connection: close``) ends it; the
    driver opens a new one.
    """

    def __init__(self, request: bytes, deadline: float, counts: list[int]) -> None:
        self.request = request
        self.deadline = deadline
        self.counts = counts
        self.buffer = b""
        self.needed = -1  # bytes of the whole reply, once its head is in
        self.closes = False
        self.done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data
        if self.needed < 0:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                self.buffer = buffer
                return
            head = buffer[:end].lower()
            start = head.find(b"content-length:")
            length = int(head[start + 15 : head.find(b"\r\n", start) % (end + 1)])
            self.needed = end + 4 + length
            self.closes = head.startswith(b"http/1.0") or b"connection: close" in head
        if len(buffer) < self.needed:
            self.buffer = buffer
            return
        if not self.counts[1]:
            self.counts[1] = 1
            xmlrpc.client.loads(buffer[buffer.find(b"\r\n\r\n") + 4 : self.needed])
        self.counts[0] += 1
        self.buffer, self.needed = b"", -1
        assert self.transport is not None
        if self.closes or time.perf_counter() >= self.deadline:
            self.transport.close()
            if not self.done.done():
                self.done.set_result(not self.closes)
            return
        self.transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(False)


async def one_connection(port: int, request: bytes, deadline: float, counts: list[int]) -> None:
    loop = asyncio.get_running_loop()
    while time.perf_counter() < deadline:
        _, protocol = await loop.create_connection(
            lambda: _Connection(request, deadline, counts), "127.0.0.1", port
        )
        if await protocol.done:
            return


async def busy_poll(deadline: float) -> None:
    """Keep the event loop polling (a select with no timeout) until ``deadline``."""
    while time.perf_counter() < deadline:  # noqa: ASYNC110 - the point is to never wait
        await asyncio.sleep(0)


async def load(
    port: int, payload: str, concurrency: int, seconds: float, sleeps: bool
) -> tuple[int, float]:
    body = request_body(payload)
    request = (
        b"POST /RPC2 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    )
    counts = [0, 0]
    start = time.perf_counter()
    deadline = start + seconds
    # With one CPU the poller would take it from the server: sleep there.
    poll = not sleeps and len(os.sched_getaffinity(0)) > 1
    await asyncio.gather(
        *(one_connection(port, request, deadline, counts) for _ in range(concurrency)),
        *([busy_poll(deadline)] if poll else []),
    )
    return counts[0], time.perf_counter() - start


def run_load(port: int, payload: str, concurrency: int, seconds: float, sleeps: bool) -> None:
    # Check the answer once, with the stdlib, before counting.
    proxy_body = request_body(payload)
    reply = _post(port, proxy_body)
    (value,), _ = xmlrpc.client.loads(reply)
    if value != expected(payload):
        raise SystemExit(f"wrong answer for {payload}: {value!r:.200}")
    done, elapsed = asyncio.run(load(port, payload, concurrency, seconds, sleeps))
    print(done, elapsed, flush=True)


def _post(port: int, body: bytes) -> bytes:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("POST", "/RPC2", body, {"Content-Type": "text/xml"})
        return connection.getresponse().read()
    finally:
        connection.close()


# -- the driver --------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> tuple[float, float]:
    """User and system CPU time of a process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / ticks, int(fields[12]) / ticks


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_server(name: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve", name, str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        try:
            _post(port, request_body("ping"))
            return process, port
        except OSError:
            time.sleep(0.05)
    process.kill()
    process.wait(timeout=10)
    raise SystemExit(f"{name} did not start")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


class Cell:
    """One server's best figures for one payload and concurrency, over the rounds."""

    def __init__(self) -> None:
        self.rate = 0.0  # requests/s, the best round's
        self.cpu = float("inf")  # CPU seconds per call, the lowest round's ...
        self.user = self.system = 0.0  # ... and that round's user and system parts

    def add(self, rate: float, user: float, system: float) -> None:
        self.rate = max(self.rate, rate)
        if user + system < self.cpu:
            self.cpu, self.user, self.system = user + system, user, system


def measure(
    pid: int, port: int, payload: str, concurrency: int, seconds: float, sleeps: bool
) -> tuple[float, float, float]:
    """Requests/s, and the server's user and system CPU seconds per call."""
    user_before, system_before = cpu_seconds(pid)
    mode = "sleeps" if sleeps else "polls"
    done = subprocess.run(
        [
            sys.executable,
            __file__,
            "--load",
            str(port),
            payload,
            str(concurrency),
            str(seconds),
            mode,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=seconds * 4 + 60,
        check=True,
    )
    user_after, system_after = cpu_seconds(pid)
    requests, elapsed = done.stdout.split()
    count = max(int(requests), 1)
    return (
        count / float(elapsed),
        (user_after - user_before) / count,
        (system_after - system_before) / count,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="one 0.3 s round (a smoke run)")
    parser.add_argument("--seconds", type=float, default=1.0, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="measurements per cell (best kept)")
    parser.add_argument("--serve", nargs=2, metavar=("NAME", "PORT"), help=argparse.SUPPRESS)
    parser.add_argument("--load", nargs=5, help=argparse.SUPPRESS)
    parser.add_argument(
        "--sleeping-load",
        action="store_true",
        help="a load process that sleeps between replies (each reply then wakes it)",
    )
    parser.add_argument("--servers", nargs="*", default=list(SERVERS), choices=SERVERS)
    parser.add_argument("--payloads", nargs="*", default=list(PAYLOADS), choices=PAYLOADS)
    args = parser.parse_args()
    if args.serve:
        run_server(args.serve[0], int(args.serve[1]))
        return
    if args.load:
        port, payload, concurrency, seconds, mode = args.load
        run_load(int(port), payload, int(concurrency), float(seconds), mode == "sleeps")
        return
    seconds = 0.3 if args.quick else args.seconds
    rounds = 1 if args.quick else args.rounds
    from bench_client import environment  # the driver only: the servers stay lean

    for key, value in environment().items():
        print(f"{key}: {value}")
    load = "sleeps between replies" if args.sleeping_load else "polls without sleeping"
    print(f"{rounds} round(s) of {seconds:g} s per cell, best kept; the load {load}\n", flush=True)
    results: dict[tuple[str, str, int], Cell] = {}
    # All servers run at once (an idle one costs nothing) and each cell measures them in
    # turn, round after round: a machine whose load changes over time then weighs on all
    # of them alike. The best round of each is kept.
    servers: dict[str, tuple[subprocess.Popen[bytes], int]] = {}
    try:
        for name in args.servers:
            servers[name] = start_server(name)
        for payload in args.payloads:
            for concurrency in CONCURRENCY:
                for _ in range(rounds):
                    for name, (process, port) in servers.items():
                        figures = measure(
                            process.pid, port, payload, concurrency, seconds, args.sleeping_load
                        )
                        results.setdefault((name, payload, concurrency), Cell()).add(*figures)
                for name in servers:
                    cell = results[name, payload, concurrency]
                    print(
                        f"{name:<20} {payload:<10} c={concurrency:<4} {cell.rate:9.0f} req/s "
                        f"{cell.cpu * 1e6:7.1f} µs CPU/call ({cell.user * 1e6:.1f} user "
                        f"+ {cell.system * 1e6:.1f} system)",
                        flush=True,
                    )
    finally:
        for process, _ in servers.values():
            stop_server(process)
    report(results, args.servers, args.payloads)


def report(
    results: dict[tuple[str, str, int], Cell], names: list[str], payloads: list[str]
) -> None:
    """Print the table (Markdown) and the ratios."""
    print()
    print(
        "| payload | concurrency | " + " | ".join(f"{n} req/s (µs CPU/call)" for n in names) + " |"
    )
    print("| --- | --- | " + " | ".join("---" for _ in names) + " |")
    for payload in payloads:
        for concurrency in CONCURRENCY:
            cells = [results[name, payload, concurrency] for name in names]
            shown = " | ".join(f"{c.rate:,.0f} ({c.cpu * 1e6:,.0f})" for c in cells)
            print(f"| {payload} | {concurrency} | {shown} |")
    if "aioxmlrpc" not in names or "aiohttp+stdlib" not in names:
        return

    def ratios(figure: Callable[[str, str, int], float], payload: str) -> str:
        return ", ".join(f"c={c}: {figure('aioxmlrpc', payload, c):.2f}x" for c in CONCURRENCY)

    def rate(name: str, payload: str, c: int) -> float:
        return results[name, payload, c].rate / results["aiohttp+stdlib", payload, c].rate

    def calls_per_cpu(name: str, payload: str, c: int) -> float:
        return results["aiohttp+stdlib", payload, c].cpu / results[name, payload, c].cpu

    def work(name: str, payload: str, c: int) -> float:
        floor = results["raw-aiohttp", payload, c].cpu
        theirs = results["aiohttp+stdlib", payload, c].cpu - floor
        return theirs / max(results[name, payload, c].cpu - floor, 1e-9)

    print()
    for payload in payloads:
        print(f"aioxmlrpc / aiohttp+stdlib, {payload}:")
        print(f"  requests/s                 {ratios(rate, payload)}")
        print(f"  calls per CPU second       {ratios(calls_per_cpu, payload)}")
        if "raw-aiohttp" in names:
            print(f"  CPU above raw aiohttp, inverse  {ratios(work, payload)}")


if __name__ == "__main__":
    main()
