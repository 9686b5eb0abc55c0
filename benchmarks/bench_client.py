"""Benchmark the client end to end: CPU time per call and calls/s, against two baselines.

Three clients call the same local server in one run, interleaved round by round:

* ``ours``: ``aioxmlrpc.AsyncServerProxy(url, pool_size=P)``, ``await proxy.ping()`` and
  ``await proxy.echo(payload)``;
* ``raw``: one ``aiohttp.ClientSession`` (``TCPConnector(limit=P)``) POSTing prebuilt
  request bytes (to a ``yarl.URL`` parsed once, as ours does) and reading the reply: no
  marshalling and no parsing, the floor;
* ``threads``: ``xmlrpc.client.ServerProxy``, one per thread of a
  ``ThreadPoolExecutor(max_workers=C)``, calling the same methods.

C is the concurrency (calls in flight: C coroutines or C threads, each looping over its
share of the calls; the threads start together on a barrier) and P = min(C, 100). The
server (``_fast_server.py``) is ONE separate process answering ``ping`` and ``echo`` with
prebuilt replies, so ``time.process_time()`` here (user + system, all threads) counts the
client alone; but it shares the machine with the client, and calls/s is bounded by both.
CPU µs per call is the best (lowest) of the rounds and calls/s the best (highest), each
after a warm-up that also opens every connection. Every request body is checked by the
server byte for byte, and each client's first answer is checked before it is timed.

On a shared or virtualised machine a single run varies by 10-20 %: compare clients within
a run (they are interleaved), use more ``--rounds``, and see the ``runs`` in ``--json``.
POSIX only (the server watches its stdin; ``resource`` is used). From the project root::

    python benchmarks/bench_client.py              # 3 rounds per measurement
    python benchmarks/bench_client.py --quick      # 1 round, fewer calls: a smoke run
    python benchmarks/bench_client.py --json out.json --check   # exit 1 on a miss
    python benchmarks/bench_client.py --skip-slow --concurrency 1,10 --rounds 5 --pin
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import datetime
import gc
import http.client
import json
import os
import platform
import resource
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
import xmlrpc.client
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

import _fast_server
import aiohttp
from yarl import URL

import aioxmlrpc

Row: TypeAlias = dict[str, Any]

HOST = "127.0.0.1"
SERVER_SCRIPT = Path(__file__).resolve().with_name("_fast_server.py")
CLIENTS = ("ours", "raw", "threads")
CONCURRENCY = (1, 10, 100, 1000)
MAX_POOL = 100
WARMUP_CALLS = 200
# Calls per measured run, by concurrency: ~1-2 s of wall time here (full), and at least
# a few calls per worker so that ramp-up and tail do not dominate at C=1000.
CALLS_FULL = {1: 2000, 10: 5000, 100: 5000, 1000: 10000}
CALLS_QUICK = {1: 500, 10: 1500, 100: 1500, 1000: 3000}
# A run predicted (from its warm-up) to take longer than this gets fewer calls.
RUN_BUDGET_S = 20.0
RUN_BUDGET_QUICK_S = 6.0
RUN_TIMEOUT_S = 120.0  # a run that takes this long is an error, and is stopped
SOCKET_TIMEOUT_S = 30.0  # each stdlib call, and the barrier its threads start on
START_TIMEOUT_S = 15.0  # for the server to print its port and accept
SERVER_LIFETIME_S = 3600  # the server exits on its own after this, whatever happens
TARGET_CPU = {"ping": 1.15, "echo": 1.30}  # ours CPU/call <= this x raw aiohttp's


@dataclass(frozen=True)
class Workload:
    name: str
    method: str
    params: tuple[Any, ...]
    expected: Any  # the value a call returns
    request: bytes  # the marshalled methodCall, the same from every client
    reply: bytes  # the methodResponse body the server sends


def workloads() -> list[Workload]:
    payload = _fast_server.PAYLOAD
    return [
        Workload(
            "ping",
            "ping",
            (),
            True,
            _fast_server.request_body("ping", ()),
            _fast_server.response_body(True),
        ),
        Workload(
            "echo",
            "echo",
            (payload,),
            payload,
            _fast_server.request_body("echo", (payload,)),
            _fast_server.response_body(payload),
        ),
    ]


def check_requests(loads: Sequence[Workload]) -> None:
    """All three clients must send the bytes the server expects (it checks every one)."""
    for w in loads:
        ours = aioxmlrpc.codec.encode_request(w.method, w.params)
        stdlib = xmlrpc.client.dumps(w.params, w.method, encoding="utf-8").encode("utf-8")
        if not ours == stdlib == w.request:
            sys.exit(f"MISMATCH: the {w.name} request bodies differ between clients")


def shares(calls: int, workers: int) -> list[int]:
    """Split ``calls`` among ``workers`` as evenly as possible."""
    base, extra = divmod(calls, workers)
    return [base + (i < extra) for i in range(workers)]


# -- the server process ------------------------------------------------------------------


class ServerProcess:
    """``_fast_server.py`` in its own process: started, waited for, stopped by PID."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(SERVER_SCRIPT), "--max-seconds", str(SERVER_LIFETIME_S)],
            stdin=subprocess.PIPE,  # closed by us (or our death): the server then exits
            stdout=subprocess.PIPE,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        self.port = self._read_port(deadline)
        while True:  # bounded by the deadline
            try:
                with socket.create_connection((HOST, self.port), timeout=1.0):
                    return
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("the benchmark server does not accept") from None
                time.sleep(0.05)

    def _read_port(self, deadline: float) -> int:
        if self.proc is None or self.proc.stdout is None:
            raise RuntimeError("the benchmark server is not running")
        fd = self.proc.stdout.fileno()
        data = b""
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while b"\n" not in data and len(data) < 256:  # bounded: size and deadline
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise RuntimeError("the benchmark server did not start")
                if sel.select(timeout=min(left, 0.5)):
                    chunk = os.read(fd, 256)
                    if not chunk:
                        raise RuntimeError("the benchmark server exited at start")
                    data += chunk
        line = data.split(b"\n", 1)[0].decode("ascii", "replace")
        if not line.startswith("PORT "):
            raise RuntimeError(f"unexpected first line from the server: {line!r}")
        return int(line.split()[1])

    def cpu_seconds(self) -> float | None:
        """The server's CPU time so far (Linux /proc), to show whether it was saturated."""
        if self.proc is None:
            return None
        try:
            with open(f"/proc/{self.proc.pid}/stat", encoding="ascii") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return None

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        try:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=5)
        finally:
            for pipe in (proc.stdin, proc.stdout):
                if pipe is not None:
                    pipe.close()


# -- the clients -------------------------------------------------------------------------


class Client:
    """One contestant at one concurrency: check, warm up, run ``calls`` calls, close."""

    name = ""

    def check(self, w: Workload) -> None:
        raise NotImplementedError

    def run(self, w: Workload, calls: int) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


async def _drive(call: Callable[[], Awaitable[object]], counts: Sequence[int]) -> None:
    async def worker(n: int) -> None:
        for _ in range(n):
            await call()

    await asyncio.gather(*(worker(n) for n in counts))


class _AsyncClient(Client):
    def __init__(self, loop: asyncio.AbstractEventLoop, concurrency: int) -> None:
        self.loop = loop
        self.concurrency = concurrency

    def call(self, w: Workload) -> Callable[[], Awaitable[object]]:
        raise NotImplementedError

    def run(self, w: Workload, calls: int) -> None:
        work = self.loop.create_task(_drive(self.call(w), shares(calls, self.concurrency)))
        try:
            self.loop.run_until_complete(asyncio.wait_for(work, timeout=RUN_TIMEOUT_S))
        except BaseException:
            # Interrupted or failed: cancel the workers now rather than leave them running.
            work.cancel()
            with contextlib.suppress(BaseException):  # the first error is the one raised
                self.loop.run_until_complete(work)
            raise


class OursClient(_AsyncClient):
    name = "ours"

    def __init__(self, loop: asyncio.AbstractEventLoop, url: str, concurrency: int) -> None:
        super().__init__(loop, concurrency)
        self.proxy = aioxmlrpc.AsyncServerProxy(url, pool_size=min(concurrency, MAX_POOL))

    def call(self, w: Workload) -> Callable[[], Awaitable[object]]:
        proxy = self.proxy
        if w.method == "ping":

            async def ping() -> None:
                await proxy.ping()

            return ping
        (payload,) = w.params

        async def echo() -> None:
            await proxy.echo(payload)

        return echo

    def check(self, w: Workload) -> None:
        result = self.loop.run_until_complete(getattr(self.proxy, w.method)(*w.params))
        if result != w.expected:
            raise RuntimeError(f"ours: wrong result for {w.name}: {result!r}")

    def close(self) -> None:
        self.loop.run_until_complete(self.proxy.aclose())


class RawClient(_AsyncClient):
    name = "raw"

    def __init__(self, loop: asyncio.AbstractEventLoop, url: str, concurrency: int) -> None:
        super().__init__(loop, concurrency)
        self.url = URL(url)  # parsed once, as ours does
        self.headers = {"Content-Type": "text/xml"}

        async def open_session() -> aiohttp.ClientSession:
            connector = aiohttp.TCPConnector(limit=min(concurrency, MAX_POOL))
            return aiohttp.ClientSession(connector=connector)

        self.session = loop.run_until_complete(open_session())

    def call(self, w: Workload) -> Callable[[], Awaitable[object]]:
        session, url, body, headers = self.session, self.url, w.request, self.headers

        async def post() -> None:
            async with session.post(url, data=body, headers=headers) as r:
                await r.read()

        return post

    def check(self, w: Workload) -> None:
        async def post() -> tuple[int, bytes]:
            async with self.session.post(self.url, data=w.request, headers=self.headers) as r:
                return r.status, await r.read()

        status, body = self.loop.run_until_complete(post())
        if status != 200 or body != w.reply:
            raise RuntimeError(f"raw: wrong reply for {w.name}: {status} {body[:200]!r}")

    def close(self) -> None:
        self.loop.run_until_complete(self.session.close())


class _TimeoutTransport(xmlrpc.client.Transport):
    """The stdlib transport with a socket timeout, so that no call can hang forever."""

    def make_connection(self, host: tuple[str, dict[str, str]] | str) -> http.client.HTTPConnection:
        connection = super().make_connection(host)
        connection.timeout = SOCKET_TIMEOUT_S
        return connection


class ThreadsClient(Client):
    name = "threads"

    def __init__(self, url: str, concurrency: int) -> None:
        self.url = url
        self.concurrency = concurrency
        self.executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=concurrency, thread_name_prefix="bench-xmlrpc"
        )
        self.local = threading.local()
        self.lock = threading.Lock()
        self.proxies: list[xmlrpc.client.ServerProxy] = []
        self.stop = threading.Event()

    def _proxy(self) -> xmlrpc.client.ServerProxy:
        proxy: xmlrpc.client.ServerProxy | None = getattr(self.local, "proxy", None)
        if proxy is None:
            proxy = xmlrpc.client.ServerProxy(self.url, transport=_TimeoutTransport())
            self.local.proxy = proxy
            with self.lock:
                self.proxies.append(proxy)
        return proxy

    @staticmethod
    def call(w: Workload) -> Callable[[xmlrpc.client.ServerProxy], object]:
        if w.method == "ping":
            return lambda proxy: proxy.ping()
        (payload,) = w.params
        return lambda proxy: proxy.echo(payload)

    def _worker(
        self,
        call: Callable[[xmlrpc.client.ServerProxy], object],
        n: int,
        barrier: threading.Barrier,
    ) -> None:
        proxy = self._proxy()
        barrier.wait(timeout=SOCKET_TIMEOUT_S)  # all C threads in flight at once
        stop = self.stop
        for _ in range(n):
            if stop.is_set():
                return
            call(proxy)

    def run(self, w: Workload, calls: int) -> None:
        counts = shares(calls, self.concurrency)
        barrier = threading.Barrier(len(counts))
        call = self.call(w)
        futures: list[concurrent.futures.Future[None]] = []
        try:
            for n in counts:
                futures.append(self.executor.submit(self._worker, call, n, barrier))
            _, pending = concurrent.futures.wait(futures, timeout=RUN_TIMEOUT_S)
            if pending:
                raise RuntimeError(f"threads: the {w.name} run exceeded {RUN_TIMEOUT_S:g} s")
        except BaseException:
            # Timed out or interrupted: every worker stops after its current call.
            self.stop.set()
            barrier.abort()
            concurrent.futures.wait(futures, timeout=SOCKET_TIMEOUT_S + 5)
            raise
        for f in futures:
            f.result()  # re-raise a worker's error

    def check(self, w: Workload) -> None:
        result = self.executor.submit(lambda: getattr(self._proxy(), w.method)(*w.params))
        value = result.result(timeout=SOCKET_TIMEOUT_S + 5)
        if value != w.expected:
            raise RuntimeError(f"threads: wrong result for {w.name}: {value!r}")

    def close(self) -> None:
        self.stop.set()
        self.executor.shutdown(wait=True)
        with self.lock:
            for proxy in self.proxies:
                proxy("close")()
            self.proxies.clear()


# -- measuring ---------------------------------------------------------------------------


@dataclass
class Best:
    calls: int = 0
    cpu_us: float = float("inf")  # lowest over the rounds
    rate: float = 0.0  # highest calls/s over the rounds
    server_busy: float | None = None  # server CPU / wall in the fastest round
    runs: list[Row] = field(default_factory=list)


@dataclass
class Bench:
    server: ServerProcess
    quick: bool
    rounds: int
    notes: list[str] = field(default_factory=list)

    def timed(self, client: Client, w: Workload, calls: int) -> Row:
        gc.collect()
        server_before = self.server.cpu_seconds()
        usage0 = resource.getrusage(resource.RUSAGE_SELF)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        client.run(w, calls)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        usage1 = resource.getrusage(resource.RUSAGE_SELF)
        server_after = self.server.cpu_seconds()
        busy = None
        if server_before is not None and server_after is not None and wall > 0:
            busy = (server_after - server_before) / wall
        return {
            "calls": calls,
            "cpu_s": cpu,
            "user_s": usage1.ru_utime - usage0.ru_utime,
            "sys_s": usage1.ru_stime - usage0.ru_stime,
            "wall_s": wall,
            "server_busy": busy,
        }

    def plan_calls(self, client: Client, w: Workload, concurrency: int) -> int:
        """Warm up (every worker makes a call) and return how many calls to measure."""
        client.check(w)
        warm = self.timed(client, w, max(WARMUP_CALLS, concurrency))
        calls = (CALLS_QUICK if self.quick else CALLS_FULL).get(concurrency, 5000)
        calls = max(calls, concurrency)
        budget = RUN_BUDGET_QUICK_S if self.quick else RUN_BUDGET_S
        predicted = warm["wall_s"] / warm["calls"] * calls
        if predicted > budget:
            reduced = max(concurrency, int(calls * budget / predicted))
            self.notes.append(
                f"{client.name} {w.name} c={concurrency}: {reduced} calls instead of {calls}"
                f" (its warm-up predicted {predicted:.0f} s, over the {budget:g} s budget)"
            )
            calls = reduced
        return calls

    def measure(self, clients: Sequence[Client], w: Workload, concurrency: int) -> dict[str, Best]:
        best = {c.name: Best(calls=self.plan_calls(c, w, concurrency)) for c in clients}
        for r in range(self.rounds):
            order = list(clients[r % len(clients) :]) + list(clients[: r % len(clients)])
            for client in order:
                b = best[client.name]
                run = self.timed(client, w, b.calls)
                b.runs.append(run)
                b.cpu_us = min(b.cpu_us, run["cpu_s"] / run["calls"] * 1e6)
                rate = run["calls"] / run["wall_s"]
                if rate > b.rate:
                    b.rate, b.server_busy = rate, run["server_busy"]
        return best


def run_concurrency(
    bench: Bench,
    loop: asyncio.AbstractEventLoop,
    url: str,
    concurrency: int,
    loads: Sequence[Workload],
    with_threads: bool,
) -> dict[str, dict[str, Best]]:
    clients: list[Client] = []
    try:
        clients.append(OursClient(loop, url, concurrency))
        clients.append(RawClient(loop, url, concurrency))
        if with_threads:
            clients.append(ThreadsClient(url, concurrency))
        results = {}
        for w in loads:
            results[w.name] = bench.measure(clients, w, concurrency)
            line = "  ".join(
                f"{name} {b.cpu_us:7.1f} µs {b.rate:8.0f}/s" for name, b in results[w.name].items()
            )
            print(f"  c={concurrency:<5} {w.name:<5} {line}", file=sys.stderr, flush=True)
        return results
    finally:
        for client in reversed(clients):
            try:
                client.close()
            except BaseException as exc:  # close the others all the same
                print(f"error closing {client.name}: {exc!r}", file=sys.stderr)


# -- reporting ---------------------------------------------------------------------------


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or not b or a == float("inf") or b == float("inf"):
        return None
    return a / b


def fmt(value: float | None, spec: str, width: int) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:>{width}{spec}}"


def table_rows(results: dict[int, dict[str, dict[str, Best]]], workload: str) -> list[Row]:
    rows = []
    for concurrency, by_load in results.items():
        best = by_load[workload]
        row: Row = {"concurrency": concurrency}
        for name in CLIENTS:
            b = best.get(name)
            row[name] = (
                None
                if b is None
                else {
                    "calls": b.calls,
                    "cpu_us_per_call": b.cpu_us,
                    "calls_per_s": b.rate,
                    "server_busy": b.server_busy,
                    "runs": b.runs,
                }
            )
        ours, raw, thr = (row[name] for name in CLIENTS)
        row["ours_raw_cpu"] = ratio(ours["cpu_us_per_call"], raw["cpu_us_per_call"])
        row["ours_threads_cpu"] = ratio(
            ours["cpu_us_per_call"], thr["cpu_us_per_call"] if thr else None
        )
        row["ours_threads_rate"] = ratio(ours["calls_per_s"], thr["calls_per_s"] if thr else None)
        rows.append(row)
    return rows


def print_table(w: Workload, rows: Sequence[Row]) -> None:
    print(
        f"\n== {w.name}: request {len(w.request)} B, reply body {len(w.reply)} B"
        " (CPU µs per call, best round; calls/s, best round) =="
    )
    head = (
        f"{'c':>5} {'pool':>4} | {'ours µs':>8} {'ours/s':>7} | {'raw µs':>8} {'raw/s':>7} |"
        f" {'thr µs':>8} {'thr/s':>7} | {'ours/raw':>8} | {'ours/thr':>8} {'ours/thr':>8} |"
        f" {'server busy':>12}"
    )
    blank = f"{'':>16} |"
    sub = f"{'':>5} {'':>4} | {blank} {blank} {blank} {'CPU':>8} |"
    sub += f" {'CPU':>8} {'calls/s':>8} | {'o/r/t %':>12}"
    print(head)
    print(sub)
    print("-" * len(head))
    for row in rows:
        c = row["concurrency"]
        line = f"{c:>5} {min(c, MAX_POOL):>4} |"
        busy = []
        for name in CLIENTS:
            r = row[name]
            if r is None:
                line += f" {'skipped':>16} |"
                busy.append("-")
                continue
            line += f" {r['cpu_us_per_call']:>8.1f} {r['calls_per_s']:>7.0f} |"
            sb = r["server_busy"]
            busy.append("?" if sb is None else f"{sb * 100:.0f}")
        line += f" {fmt(row['ours_raw_cpu'], '.2f', 8)} |"
        line += f" {fmt(row['ours_threads_cpu'], '.2f', 8)}"
        line += f" {fmt(row['ours_threads_rate'], '.2f', 8)} |"
        line += f" {'/'.join(busy):>12}"
        print(line)
    spreads = []
    for name in CLIENTS:
        values = [x for row in rows if row[name] and (x := spread(row[name])) is not None]
        if values:
            spreads.append(f"{name} {max(values) * 100:.0f} %")
    if spreads:
        print(f"CPU/call spread between rounds (max/min - 1, worst c): {', '.join(spreads)}")
    sys.stdout.flush()


def spread(result: Row) -> float | None:
    """How much a client's CPU per call varied between rounds: noise, not a result."""
    per_call: list[float] = [run["cpu_s"] / run["calls"] for run in result["runs"]]
    if len(per_call) < 2 or min(per_call) <= 0:
        return None
    return max(per_call) / min(per_call) - 1


def evaluate_targets(tables: dict[str, list[Row]], skipped_threads: bool) -> list[Row]:
    targets: list[Row] = []
    for load, limit in TARGET_CPU.items():
        worst = max(tables[load], key=lambda r: r["ours_raw_cpu"])
        value = worst["ours_raw_cpu"]
        targets.append(
            {
                "target": f"{load}: ours CPU/call <= {limit:.2f} x raw aiohttp, every c",
                "value": value,
                "where": f"worst at c={worst['concurrency']}",
                "met": value <= limit,
            }
        )
    for load in TARGET_CPU:
        rows = [
            r for r in tables[load] if r["concurrency"] >= 10 and r["ours_threads_rate"] is not None
        ]
        if not rows:
            continue
        worst = min(rows, key=lambda r: r["ours_threads_rate"])
        value = worst["ours_threads_rate"]
        where = f"worst at c={worst['concurrency']}"
        if skipped_threads:
            where += "; threads c=1000 skipped"
        targets.append(
            {
                "target": f"{load}: ours calls/s > xmlrpc.client threads, c >= 10",
                "value": value,
                "where": where,
                "met": value > 1.0,
            }
        )
    print("\n== targets ==")
    for t in targets:
        mark = "met   " if t["met"] else "MISSED"
        print(f"{mark}  {t['target']:<54} (got {t['value']:.2f}, {t['where']})")
    return targets


def environment() -> Row:
    from aiohttp import http_parser

    c_parser = http_parser.HttpResponseParser.__module__ == "aiohttp._http_parser"
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    try:
        load = "/".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "?"
    return {
        "python": f"{platform.python_version()} ({platform.python_implementation()})",
        "aiohttp": f"{aiohttp.__version__} ({'C' if c_parser else 'pure-Python'} HTTP parser)",
        "aioxmlrpc": aioxmlrpc.__version__,
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "loadavg_at_start": load,
        "date": now,
    }


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def pin(server: ServerProcess) -> None:
    """This process (and the threads it starts later) on one CPU, the server on another."""
    if not hasattr(os, "sched_setaffinity") or server.proc is None:
        raise SystemExit("--pin needs Linux (os.sched_setaffinity)")
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        raise SystemExit("--pin needs two CPUs")
    os.sched_setaffinity(server.proc.pid, {cpus[-1]})
    os.sched_setaffinity(0, {cpus[0]})


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--quick", action="store_true", help="1 round and fewer calls")
    ap.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    ap.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    ap.add_argument("--skip-slow", action="store_true", help="skip xmlrpc.client threads at c=1000")
    ap.add_argument("--rounds", type=int, help="rounds per measurement (default 3, quick 1)")
    ap.add_argument(
        "--pin",
        action="store_true",
        help="pin this process to the first CPU and the server to the last (Linux)",
    )
    ap.add_argument(
        "--concurrency",
        default=",".join(map(str, CONCURRENCY)),
        help="comma-separated concurrencies (default %(default)s)",
    )
    args = ap.parse_args(argv)
    levels = [int(x) for x in args.concurrency.split(",") if x.strip()]
    if not levels or min(levels) < 1 or max(levels) > 1000:
        ap.error("concurrencies must be between 1 and 1000")
    rounds = args.rounds or (1 if args.quick else 3)
    if not 1 <= rounds <= 20:
        ap.error("--rounds must be between 1 and 20")

    env = environment()
    print(f"Python {env['python']}, aiohttp {env['aiohttp']}, aioxmlrpc {env['aioxmlrpc']}")
    print(f"{env['platform']}, {env['cpus']} CPUs, load average {env['loadavg_at_start']}")
    print(f"{env['date']}; {rounds} round(s) per measurement, best kept", end="")
    print("; client pinned to one CPU, server to another" if args.pin else "")
    print(
        "Client and server share this machine: the server is ONE separate process (asyncio,\n"
        "prebuilt replies), so CPU µs/call is the client's alone, but calls/s is bounded by\n"
        "both (the 'server busy' column: server CPU / wall, % of one core, per client)."
    )
    loads = workloads()
    check_requests(loads)

    # SIGTERM unwinds like Ctrl-C, so that the finally blocks stop the server and threads.
    signal.signal(signal.SIGTERM, _interrupt)
    server = ServerProcess()
    loop = asyncio.new_event_loop()
    results: dict[int, dict[str, dict[str, Best]]] = {}
    skipped_threads = False
    bench = Bench(server=server, quick=args.quick, rounds=rounds)
    try:
        server.start()
        if args.pin:
            pin(server)
        url = f"http://{HOST}:{server.port}/RPC2"
        for concurrency in levels:
            with_threads = not (args.skip_slow and concurrency >= 1000)
            skipped_threads = skipped_threads or not with_threads
            results[concurrency] = run_concurrency(
                bench, loop, url, concurrency, loads, with_threads
            )
    finally:
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
        finally:
            server.stop()

    tables = {w.name: table_rows(results, w.name) for w in loads}
    for w in loads:
        print_table(w, tables[w.name])
    if bench.notes:
        print("\nnotes:")
        for note in bench.notes:
            print(f"  {note}")
    targets = evaluate_targets(tables, skipped_threads)
    if args.json:
        report = {
            "environment": env,
            "rounds": rounds,
            "quick": args.quick,
            "pinned": args.pin,
            "workloads": {
                w.name: {"request_bytes": len(w.request), "reply_bytes": len(w.reply)}
                for w in loads
            },
            "results": tables,
            "notes": bench.notes,
            "targets": targets,
        }
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=2)
    missed = not all(t["met"] for t in targets)
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
