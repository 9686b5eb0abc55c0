"""Load and soak: minutes of mixed calls at high concurrency, watching for leaks.

Starts the example server (``python -m aioxmlrpc serve-example``) in its own process on a
free loopback port, then runs workers that loop over a mix of calls on ONE proxy:
ping, a 1 KB struct, a 1 MB string, a 10-call MultiCall, a fault, a call with a tiny
timeout (expected to time out) and a call cancelled mid-flight. Every 30 seconds it
prints calls/s, latency percentiles, errors by type, and the client's open file
descriptors and RSS; at the end, a summary comparing the first and last samples.

Expected outcomes (the fault, the timeout, the cancellation) are counted apart from
unexpected errors; the run fails (exit 1) on any unexpected error or on growth of RSS or
descriptors beyond the tolerances below. Run from the project root::

    python benchmarks/soak.py                      # 10 minutes at concurrency 1000
    python benchmarks/soak.py --minutes 1 --concurrency 200
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import math
import os
import random
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field

import aioxmlrpc
from aioxmlrpc import AsyncServerProxy, Fault, MultiCall, TransportTimeout

SAMPLE_EVERY = 30.0
RSS_TOLERANCE_MB = 30.0  # growth allowed between the first and last sample
FD_TOLERANCE = 50

ONE_KB = {
    "id": 4242,
    "name": "soak",
    "tags": ["a", "b", "c"] * 5,
    "values": list(range(40)),
    "nested": {"x": 1.5, "y": "z" * 200},
}
ONE_MB = "m" * (1 << 20)


class Latencies:
    """A histogram of latencies in buckets 2 % wide: memory stays flat however long the run.

    Keeping every latency instead would grow the soak's own RSS by 8-32 bytes a call,
    which is what the run watches for.
    """

    STEP = math.log(1.02)

    def __init__(self) -> None:
        self.counts: collections.Counter[int] = collections.Counter()

    def add(self, seconds: float) -> None:
        self.counts[int(math.log(max(seconds, 1e-6)) / self.STEP)] += 1

    def update(self, other: Latencies) -> None:
        self.counts.update(other.counts)

    def __len__(self) -> int:
        return sum(self.counts.values())

    def percentile(self, fraction: float) -> float:
        """The latency below which ``fraction`` of the calls fall, in seconds (±1 %)."""
        total = len(self)
        seen = 0
        for bucket in sorted(self.counts):
            seen += self.counts[bucket]
            if seen >= fraction * total:
                return math.exp((bucket + 0.5) * self.STEP)
        return 0.0


@dataclass
class Stats:
    """Counters for one sampling period."""

    calls: int = 0
    latencies: collections.defaultdict[str, Latencies] = field(
        default_factory=lambda: collections.defaultdict(Latencies)
    )
    expected: collections.Counter[str] = field(default_factory=collections.Counter)
    unexpected: collections.Counter[str] = field(default_factory=collections.Counter)


def rss_mb() -> float:
    """The process's resident set size now, in MiB (Linux)."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / (1 << 20)


def open_fds() -> int:
    """File descriptors open in this process now (Linux)."""
    return len(os.listdir("/proc/self/fd"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [sys.executable, "-m", "aioxmlrpc", "serve-example", "--port", str(port)],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return server
        time.sleep(0.05)
    server.kill()
    raise SystemExit("the example server did not start")


async def one_call(proxy: AsyncServerProxy, quick: AsyncServerProxy, stats: Stats) -> None:
    kind = random.choices(
        ["ping", "1kb", "1mb", "multicall", "fault", "timeout", "cancel"],
        weights=[40, 30, 2, 10, 8, 5, 5],
    )[0]
    started = time.perf_counter()
    try:
        if kind == "ping":
            assert await proxy.ping() is True
        elif kind == "1kb":
            assert (await proxy.show_type(ONE_KB))[2] == ONE_KB
        elif kind == "1mb":
            assert len((await proxy.show_type(ONE_MB))[2]) == len(ONE_MB)
        elif kind == "multicall":
            batch = MultiCall(proxy)
            for i in range(10):
                batch.show_type(i)
            assert [r[2] for r in await batch()] == list(range(10))
        elif kind == "fault":
            try:
                await proxy.raises_exception("expected")
            except Fault:
                stats.expected["Fault"] += 1
            else:
                stats.unexpected["no Fault"] += 1
        elif kind == "timeout":
            try:
                await quick.show_type(ONE_MB)
            except TransportTimeout:
                stats.expected["TransportTimeout"] += 1
        else:
            task = asyncio.ensure_future(proxy.show_type(ONE_KB))
            await asyncio.sleep(random.random() / 100)
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                stats.expected["cancelled"] += 1
    except Exception as exc:  # the point of a soak: count anything unexpected
        name = type(exc).__name__
        if name not in stats.unexpected:
            print(f"unexpected {name}: {exc}", flush=True)
        stats.unexpected[name] += 1
    stats.calls += 1
    stats.latencies[kind].add(time.perf_counter() - started)


async def soak(url: str, minutes: float, concurrency: int) -> bool:
    deadline = time.monotonic() + minutes * 60
    samples: list[tuple[float, float, int]] = []
    totals = Stats()
    async with (
        AsyncServerProxy(url, timeout=60, pool_size=100) as proxy,
        AsyncServerProxy(url, timeout=0.001) as quick,
    ):
        stats = Stats()

        async def worker() -> None:
            while time.monotonic() < deadline:
                await one_call(proxy, quick, stats)

        workers = [asyncio.ensure_future(worker()) for _ in range(concurrency)]
        started = period_start = time.monotonic()
        print(f"start: rss {rss_mb():.1f} MiB, fds {open_fds()}", flush=True)
        samples.append((0.0, rss_mb(), open_fds()))
        while time.monotonic() < deadline:
            await asyncio.sleep(min(SAMPLE_EVERY, max(0.0, deadline - time.monotonic())))
            now = time.monotonic()
            report(stats, now - period_start, now - started)
            samples.append((now, rss_mb(), open_fds()))
            merge(totals, stats)
            stats.__init__()  # type: ignore[misc]
            period_start = now
        await asyncio.gather(*workers)
        merge(totals, stats)
    after = (rss_mb(), open_fds())
    print("\n== summary ==")
    report(totals, minutes * 60, minutes * 60, by_kind=True)
    ok = not totals.unexpected
    # Under load, compare the first and last samples (steady state against steady state);
    # after closing, the descriptors must be back where they started.
    running = samples[1:]
    if len(running) >= 2:
        rss_growth = running[-1][1] - running[0][1]
        fd_growth = running[-1][2] - running[0][2]
        print(
            f"under load: rss {running[0][1]:.1f} -> {running[-1][1]:.1f} MiB "
            f"({rss_growth:+.1f}), fds {running[0][2]} -> {running[-1][2]} ({fd_growth:+d})"
        )
        ok = ok and rss_growth <= RSS_TOLERANCE_MB and fd_growth <= FD_TOLERANCE
    print(
        f"before: rss {samples[0][1]:.1f} MiB, fds {samples[0][2]}; "
        f"after closing: rss {after[0]:.1f} MiB, fds {after[1]}"
    )
    ok = ok and after[1] <= samples[0][2] + 5
    print("result:", "PASS" if ok else "FAIL")
    return ok


def merge(into: Stats, stats: Stats) -> None:
    into.calls += stats.calls
    for kind, latencies in stats.latencies.items():
        into.latencies[kind].update(latencies)
    into.expected.update(stats.expected)
    into.unexpected.update(stats.unexpected)


def percentiles(latencies: Latencies) -> tuple[float, float]:
    """p50 and p99 of ``latencies``, in milliseconds."""
    return latencies.percentile(0.5) * 1e3, latencies.percentile(0.99) * 1e3


def report(stats: Stats, seconds: float, elapsed: float, by_kind: bool = False) -> None:
    everything = Latencies()
    for latencies in stats.latencies.values():
        everything.update(latencies)
    p50, p99 = percentiles(everything)
    print(
        f"[{elapsed / 60:5.1f} min] {stats.calls / max(seconds, 1e-9):8.0f} calls/s  "
        f"p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  rss {rss_mb():6.1f} MiB  fds {open_fds():4d}  "
        f"expected {dict(stats.expected)}  unexpected {dict(stats.unexpected)}",
        flush=True,
    )
    if by_kind:
        # The mix's calls differ by orders of magnitude: the 1 MB ones, queued behind a
        # threaded server's GIL, dominate the overall p99.
        for kind, latencies in sorted(stats.latencies.items()):
            p50, p99 = percentiles(latencies)
            print(f"  {kind:<9} {len(latencies):8d} calls  p50 {p50:8.1f} ms  p99 {p99:8.1f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=1000)
    args = parser.parse_args()
    print(
        f"aioxmlrpc {aioxmlrpc.__version__}, Python {sys.version.split()[0]}, "
        f"{args.minutes:g} min at concurrency {args.concurrency}"
    )
    port = free_port()
    server = start_server(port)
    try:
        ok = asyncio.run(soak(f"http://127.0.0.1:{port}/RPC2", args.minutes, args.concurrency))
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
