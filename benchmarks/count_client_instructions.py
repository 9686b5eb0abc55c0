"""Client cost in CPU instructions per call, ours against raw aiohttp: deterministic ratios.

``bench_client.py`` times the client, and on a shared machine its rounds differ by tens
of percent; instruction counts do not. This runs the client in a child Python under
``valgrind --tool=cachegrind`` (the server, ``_fast_server.py``, runs outside it), making
N and then 2N calls after a warm-up, and reports ``(I(2N) - I(N)) / N``: the
instructions one call costs the client, start-up and imports cancelled out. Clients:

- ours: ``AsyncServerProxy`` awaiting ``ping()`` or ``echo(PAYLOAD)``;
- raw: one ``aiohttp.ClientSession`` posting the prebuilt request and reading the reply;
- codec: our encoding of the request and parsing of the reply alone, no I/O (what ours
  adds to raw, at the least), and the same work done by ``xmlrpc.client``;
- with ``--hooks``: ours with a hook that does nothing attached, for the cost of the
  hook events (with no hook attached, a call only tests an empty tuple).

Needs valgrind; run from the project root::

    python benchmarks/count_client_instructions.py          # about 5 minutes
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from count_instructions import valgrind_instructions

HERE = Path(__file__).resolve().parent
CALLS = {"ping": 300, "echo": 200}
CONCURRENCY = (1, 10, 100)

CHILD = """
import asyncio, sys, xmlrpc.client
sys.path.insert(0, {here!r})
import _fast_server, aiohttp
from aioxmlrpc import AsyncServerProxy, codec

URL, WORKLOAD, CLIENT, CALLS, CONCURRENCY = {url!r}, {workload!r}, {client!r}, {calls}, {c}
ARGS = () if WORKLOAD == "ping" else (_fast_server.PAYLOAD,)
REQUEST = _fast_server.request_body(WORKLOAD, ARGS)
REPLY = _fast_server.response_body(True if WORKLOAD == "ping" else _fast_server.PAYLOAD)

async def run_calls(call, count):
    async def worker(n):
        for _ in range(n):
            await call()
    share, extra = divmod(count, CONCURRENCY)
    await asyncio.gather(*(worker(share + (i < extra)) for i in range(CONCURRENCY)))

async def main():
    if CLIENT == "codec":
        async def call():
            codec.encode_request(WORKLOAD, ARGS)
            codec.ResponseParser().close(REPLY)
        await run_calls(call, 20)
        await run_calls(call, CALLS)
    elif CLIENT == "stdlib-codec":
        async def call():
            xmlrpc.client.dumps(ARGS, WORKLOAD).encode()
            xmlrpc.client.loads(REPLY)
        await run_calls(call, 20)
        await run_calls(call, CALLS)
    elif CLIENT in ("ours", "ours-hooked"):
        hooks = []
        if CLIENT == "ours-hooked":  # a hook that does nothing: the events' own cost
            from aioxmlrpc.hooks import Hook
            hooks = [Hook()]
        async with AsyncServerProxy(URL, pool_size=min(CONCURRENCY, 100), hooks=hooks) as proxy:
            method = getattr(proxy, WORKLOAD)
            async def call():
                await method(*ARGS)
            await run_calls(call, 20 + CONCURRENCY)
            await run_calls(call, CALLS)
    else:
        connector = aiohttp.TCPConnector(limit=min(CONCURRENCY, 100))
        headers = {{"Content-Type": "text/xml"}}
        async with aiohttp.ClientSession(connector=connector) as session:
            async def call():
                async with session.post(URL, data=REQUEST, headers=headers) as response:
                    assert await response.read() == REPLY
            await run_calls(call, 20 + CONCURRENCY)
            await run_calls(call, CALLS)

asyncio.run(main())
"""


def instructions(url: str, workload: str, client: str, calls: int, concurrency: int) -> int:
    return valgrind_instructions(
        CHILD.format(
            here=str(HERE), url=url, workload=workload, client=client, calls=calls, c=concurrency
        )
    )


def per_call(url: str, workload: str, client: str, concurrency: int) -> float:
    n = CALLS[workload]
    once = instructions(url, workload, client, n, concurrency)
    twice = instructions(url, workload, client, 2 * n, concurrency)
    return (twice - once) / n


def start_server() -> tuple[subprocess.Popen[str], str]:
    server = subprocess.Popen(
        [sys.executable, str(HERE / "_fast_server.py"), "--max-seconds", "3600"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    line = server.stdout.readline().split()
    if len(line) != 2 or line[0] != "PORT":
        server.kill()
        server.wait(timeout=10)
        raise SystemExit(f"the benchmark server did not start: {line!r}")
    return server, f"http://127.0.0.1:{line[1]}/RPC2"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--concurrency",
        default=",".join(map(str, CONCURRENCY)),
        help="comma-separated calls in flight (default %(default)s)",
    )
    parser.add_argument("--workloads", default=",".join(CALLS), help="comma-separated")
    parser.add_argument(
        "--hooks", action="store_true", help="also ours with a do-nothing hook attached"
    )
    args = parser.parse_args(argv)
    levels = [int(c) for c in args.concurrency.split(",")]
    workloads = args.workloads.split(",")
    server, url = start_server()
    try:
        print("Client instructions per call (valgrind cachegrind), ours / raw aiohttp")
        print(
            f"{'call':<5} {'c':>5} {'raw':>10} {'ours':>10} {'ours/raw':>9} "
            f"{'our codec':>10} {'stdlib codec':>13}"
        )
        for workload in workloads:
            codec = per_call(url, workload, "codec", 1)
            stdlib_codec = per_call(url, workload, "stdlib-codec", 1)
            for concurrency in levels:
                raw = per_call(url, workload, "raw", concurrency)
                ours = per_call(url, workload, "ours", concurrency)
                print(
                    f"{workload:<5} {concurrency:>5} {raw:>10,.0f} {ours:>10,.0f} "
                    f"{ours / raw:>9.2f} {codec:>10,.0f} {stdlib_codec:>13,.0f}",
                    flush=True,
                )
                if args.hooks:
                    hooked = per_call(url, workload, "ours-hooked", concurrency)
                    print(
                        f"      with a do-nothing hook: {hooked:,.0f} "
                        f"({(hooked - ours) / ours:+.1%} over ours)",
                        flush=True,
                    )
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.terminate()
        server.wait(timeout=10)
        assert server.stdout is not None
        server.stdout.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
