"""Codec cost in CPU instructions, ours against ``xmlrpc.client``: deterministic ratios.

Timings on a shared or virtualised machine swing by tens of percent from one moment to
the next; instruction counts do not. For each payload and operation this runs a child
Python under ``valgrind --tool=cachegrind`` twice, doing the operation N and 2N times
after a warm-up, and reports ``(I(2N) - I(N)) / N``: the instructions one operation
costs, with interpreter start-up and imports cancelled out. Same payloads as
``bench_codec.py``. Needs valgrind; run from the project root::

    python benchmarks/count_instructions.py            # about 5 minutes
    python benchmarks/count_instructions.py --payloads 1KB --operations dumps
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
PAYLOADS = ("ping", "1KB", "250KB", "4MB")  # the default: those with targets
REPEATS = {
    "ping": 2000,
    "1KB": 400,
    "250KB": 4,
    "4MB": 2,
    "4MB-mixed": 2,
    "base64-1MiB": 4,
    "deep-100": 400,
    "escapes-utf8": 10,
    "mixed-100k": 2,
    "escaped-records": 4,
    "text-1KB-values": 10,
    "tree-1MB": 2,
    "nils-50k": 2,
    "empty-strings-50k": 2,
    "text-cyrillic": 4,
    "records-cjk": 2,
    "dates-20k": 2,
    "string-1MB": 4,
    "cdata-records": 4,
    "apache-ex": 2,
}

CHILD = """
import sys, xmlrpc.client
sys.path.insert(0, {here!r})
import bench_codec
from aioxmlrpc import codec
[payload] = bench_codec.build_payloads({{{name!r}}})
value, body = payload.value, payload.body
params = (value,)
operations = {{
    ("parse", "ours"): lambda: codec.parse_response(body),
    ("parse", "stdlib"): lambda: xmlrpc.client.loads(body),
    ("dumps", "ours"): lambda: codec.dumps(params, methodresponse=True, allow_none=True),
    ("dumps", "stdlib"): lambda: xmlrpc.client.dumps(params, methodresponse=True, allow_none=True),
}}
run = operations[({operation!r}, {implementation!r})]
for _ in range(3):
    run()
for _ in range({count}):
    run()
"""


def valgrind_instructions(code: str) -> int:
    """Instructions a child Python running ``code`` executes, counted by cachegrind."""
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
        # A fixed hash seed makes the set-up (building payloads, importing) cost the same
        # instructions in the N and 2N runs, so that it cancels out exactly.
        env={**os.environ, "PYTHONHASHSEED": "0"},
        timeout=900,
    )
    match = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
    if match is None:
        raise SystemExit(f"no instruction count in valgrind's output:\n{done.stderr}")
    return int(match.group(1).replace(",", ""))


def instructions(name: str, operation: str, implementation: str, count: int) -> int:
    return valgrind_instructions(
        CHILD.format(
            here=str(HERE),
            name=name,
            operation=operation,
            implementation=implementation,
            count=count,
        )
    )


def per_operation(name: str, operation: str, implementation: str) -> float:
    n = REPEATS[name]
    once = instructions(name, operation, implementation, n)
    twice = instructions(name, operation, implementation, 2 * n)
    return (twice - once) / n


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--payloads", default=",".join(PAYLOADS), help="comma-separated")
    parser.add_argument("--operations", default="parse,dumps", help="comma-separated")
    args = parser.parse_args(argv)
    names = args.payloads.split(",")
    operations = args.operations.split(",")
    for name in names:
        if name not in REPEATS:
            parser.error(f"unknown payload {name!r}; choose from {', '.join(REPEATS)}")
    for operation in operations:
        if operation not in ("parse", "dumps"):
            parser.error(f"unknown operation {operation!r}; choose parse or dumps")
    print("Instructions per operation (valgrind cachegrind), ours / stdlib")
    print(f"{'payload':<12} {'operation':<6} {'stdlib':>14} {'ours':>14} {'ratio':>6}")
    for name in names:
        for operation in operations:
            theirs = per_operation(name, operation, "stdlib")
            ours = per_operation(name, operation, "ours")
            ratio = ours / theirs
            print(f"{name:<12} {operation:<6} {theirs:>14,.0f} {ours:>14,.0f} {ratio:>6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
