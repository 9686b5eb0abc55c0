"""Codec cost in CPU instructions, ours against ``xmlrpc.client``: deterministic ratios.

Timings on a shared or virtualised machine swing by tens of percent from one moment to
the next; instruction counts do not. For each payload and operation this runs a child
Python under ``valgrind --tool=cachegrind`` twice, doing the operation N and 2N times
after a warm-up, and reports ``(I(2N) - I(N)) / N``: the instructions one operation
costs, with interpreter start-up and imports cancelled out. Same payloads as
``bench_codec.py``. Needs valgrind; run from the project root::

    python benchmarks/count_instructions.py            # about 2 minutes
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PAYLOADS = ("ping", "1KB", "250KB", "4MB")
REPEATS = {"ping": 200, "1KB": 40, "250KB": 2, "4MB": 1}

CHILD = """
import sys, xmlrpc.client
sys.path.insert(0, {here!r})
import bench_codec
from aioxmlrpc import codec
payload = next(p for p in bench_codec.build_payloads() if p.name == {name!r})
value, body = payload.value, payload.body
operations = {{
    ("parse", "ours"): lambda: codec.parse_response(body),
    ("parse", "stdlib"): lambda: xmlrpc.client.loads(body),
    ("dumps", "ours"): lambda: codec.dumps((value,), methodresponse=True),
    ("dumps", "stdlib"): lambda: xmlrpc.client.dumps((value,), methodresponse=True),
}}
run = operations[({operation!r}, {implementation!r})]
for _ in range(3):
    run()
for _ in range({count}):
    run()
"""


def instructions(name: str, operation: str, implementation: str, count: int) -> int:
    code = CHILD.format(
        here=str(HERE), name=name, operation=operation, implementation=implementation, count=count
    )
    done = subprocess.run(
        [
            "valgrind",
            "--tool=cachegrind",
            "--cache-sim=no",
            "--cachegrind-out-file=/dev/null",
            sys.executable,
            "-c",
            code,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=900,
    )
    match = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
    if match is None:
        raise SystemExit(f"no instruction count in valgrind's output:\n{done.stderr}")
    return int(match.group(1).replace(",", ""))


def per_operation(name: str, operation: str, implementation: str) -> float:
    n = REPEATS[name]
    once = instructions(name, operation, implementation, n)
    twice = instructions(name, operation, implementation, 2 * n)
    return (twice - once) / n


def main() -> int:
    print("Instructions per operation (valgrind cachegrind), ours / stdlib")
    print(f"{'payload':<8} {'operation':<6} {'stdlib':>14} {'ours':>14} {'ratio':>6}")
    for name in PAYLOADS:
        for operation in ("parse", "dumps"):
            theirs = per_operation(name, operation, "stdlib")
            ours = per_operation(name, operation, "ours")
            print(f"{name:<8} {operation:<6} {theirs:>14,.0f} {ours:>14,.0f} {ours / theirs:>6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
