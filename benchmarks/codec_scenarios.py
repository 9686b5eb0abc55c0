"""Codec scenarios that need fresh processes: first sight (cold), and after a flood.

Used by ``bench_codec.py`` (``--cold``, ``--flood``); each measurement runs in a child
Python of its own, so that no cache of the codec has seen anything before it starts.

- **Cold**: the first parse (and the first dumps) of a payload in a fresh process, ours
  and the standard library's, each in its own process; the median over several.
- **Flood**: in one process, parse ordinary replies until warm, then 10,000 valid replies
  of random shapes, namespace prefixes and attributes, plus a few large ones with long
  prefixes; then measure the memory still held (tracemalloc, after a collection), the
  ordinary replies again (their first parse after the flood, and warm), and a reply of a
  new shape, first seen after the flood, against its first parse in a process that never
  saw a flood.
"""

from __future__ import annotations

import json
import random
import re
import statistics
import string
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
FLOOD_DOCUMENTS = 10_000
COLD_PAYLOADS = ("1KB", "250KB", "tree-1MB", "4MB")

_CHILD_COLD = """
import sys, time, xmlrpc.client
sys.path.insert(0, {here!r})
import bench_codec
from aioxmlrpc import codec
[payload] = bench_codec.build_payloads({{{name!r}}})
value, body = payload.value, payload.body
run = {{
    ("parse", "ours"): lambda: codec.parse_response(body),
    ("parse", "stdlib"): lambda: xmlrpc.client.loads(body),
    ("dumps", "ours"): lambda: codec.dumps((value,), methodresponse=True),
    ("dumps", "stdlib"): lambda: xmlrpc.client.dumps((value,), methodresponse=True),
}}[({operation!r}, {implementation!r})]
start = time.process_time()
run()
print(time.process_time() - start)
"""


def _child(code: str, timeout: float = 600) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout
    )
    if done.returncode:
        raise SystemExit(f"a measuring child failed:\n{done.stderr}")
    return done.stdout.strip()


def cold(name: str, operation: str, repeats: int = 5) -> dict[str, Any]:
    """First-sight CPU seconds of ``operation`` on payload ``name``: medians, and their ratio."""
    medians = {}
    for implementation in ("stdlib", "ours"):
        code = _CHILD_COLD.format(
            here=str(HERE), name=name, operation=operation, implementation=implementation
        )
        medians[implementation] = statistics.median(float(_child(code)) for _ in range(repeats))
    return {
        "payload": name,
        "operation": operation,
        "stdlib": medians["stdlib"],
        "ours": medians["ours"],
        "ratio": medians["ours"] / medians["stdlib"],
    }


# -- the flood ---------------------------------------------------------------------------

_PREFIXES = ["ns", "ex", "x", "ёж", "日本", "a:b", "_q"]


def _word(rng: random.Random, size: int) -> str:
    return "".join(rng.choices(string.ascii_letters, k=size))


def _tree(rng: random.Random, depth: int) -> Any:
    roll = rng.random()
    if depth <= 0 or roll < 0.35:
        return rng.choice([rng.randint(-99, 99), _word(rng, 5), 1.5, True])
    if roll < 0.7:
        return [_tree(rng, depth - 1) for _ in range(rng.randint(0, 4))]
    return {_word(rng, 4): _tree(rng, depth - 1) for _ in range(rng.randint(0, 4))}


_TAG = re.compile(r"<(/?)([A-Za-z][\w.]*)")


def flood_document(rng: random.Random, prefix_size: int = 8, value: Any = None) -> bytes:
    """A valid reply: a random tree, every element prefixed, some with attributes."""
    import xmlrpc.client

    if value is None:
        value = _tree(rng, rng.randint(1, 9))
    text = xmlrpc.client.dumps((value,), methodresponse=True)
    prefix = rng.choice(_PREFIXES) + _word(rng, prefix_size)
    attribute = f' {_word(rng, 3)}="{_word(rng, rng.randint(0, 20))}"'
    text = _TAG.sub(
        lambda m: (
            f"<{m[1]}{prefix}:{m[2]}"
            + (attribute if not m[1] and rng.random() < 0.2 and m[2] != "methodResponse" else "")
        ),
        text,
    )
    return text.encode("utf-8")


_CHILD_FLOOD = """
import gc, json, random, sys, time, tracemalloc, xmlrpc.client
sys.path.insert(0, {here!r})
import bench_codec, codec_scenarios
from aioxmlrpc import codec

rng = random.Random(2026)
ordinary = {{p.name: p.body for p in bench_codec.build_payloads({{"1KB", "250KB", "tree-1MB"}})}}
new_shape = codec_scenarios.flood_document(random.Random(7), value=bench_codec.build_tree(
    random.Random(8), 256 * 1024))

def best(body, n=5):
    times = []
    for _ in range(n):
        start = time.process_time()
        codec.parse_response(body)
        times.append(time.process_time() - start)
    return min(times)

def run_flood(parse=codec.parse_response):
    for _ in range({documents}):
        parse(codec_scenarios.flood_document(rng))
    for i in range(3):  # a few large ones, with long prefixes
        big = bench_codec.build_tree(random.Random(i), 2 << 20)
        parse(codec_scenarios.flood_document(rng, prefix_size=200, value=big))

result = {{}}
if {mode!r} == "memory":
    for body in ordinary.values():
        best(body)
    gc.collect()
    tracemalloc.start()
    baseline = tracemalloc.get_traced_memory()[0]
    run_flood()
    gc.collect()
    result["retained_mib"] = (tracemalloc.get_traced_memory()[0] - baseline) / (1 << 20)
    result["caches"] = {{k: v.size for k, v in codec.cache_stats().items()}}
    print(json.dumps(result))
    sys.exit()
if {mode!r} in ("flood", "control"):
    before = {{name: best(body) for name, body in ordinary.items()}}
    # The control makes the same documents, and so the same work between the timings,
    # but does not parse them.
    run_flood() if {mode!r} == "flood" else run_flood(parse=len)
    gc.collect()
    first = {{}}
    for name, body in ordinary.items():
        start = time.process_time()
        codec.parse_response(body)
        first[name] = time.process_time() - start
    after = {{name: best(body) for name, body in ordinary.items()}}
    result.update(before=before, first_after=first, after=after)
start = time.process_time()
codec.parse_response(new_shape)
result["new_shape_first"] = time.process_time() - start
print(json.dumps(result))
"""


def flood(documents: int = FLOOD_DOCUMENTS, repeats: int = 3) -> dict[str, Any]:
    """Run the flood scenario; return its figures (medians over ``repeats`` processes).

    Memory is measured in a process of its own: tracing allocations slows everything
    after it, so the timings come from processes that do not trace.
    """

    def child(mode: str, documents: int) -> Any:
        code = _CHILD_FLOOD.format(here=str(HERE), mode=mode, documents=documents)
        return json.loads(_child(code, timeout=1800))

    memory = child("memory", documents)
    flooded: list[Any] = []
    control: list[Any] = []
    for _ in range(repeats):  # interleaved, so that a change in the machine's load hits both
        flooded.append(child("flood", documents))
        control.append(child("control", documents))
    names = flooded[0]["before"]

    def median(runs: list[Any], *keys: str) -> float:
        values: list[float] = []
        for run in runs:
            for key in keys:
                run = run[key]
            values.append(run)
        return statistics.median(values)

    return {
        "documents": documents,
        "retained_mib": memory["retained_mib"],
        "caches": memory["caches"],
        "seen_before": {
            name: {
                phase: {
                    "flood": median(flooded, phase, name),
                    "control": median(control, phase, name),
                    "ratio": median(flooded, phase, name) / median(control, phase, name),
                }
                for phase in ("first_after", "after")
            }
            for name in names
        },
        "new_shape": {
            "flood": median(flooded, "new_shape_first"),
            "control": median(control, "new_shape_first"),
            "ratio": median(flooded, "new_shape_first") / median(control, "new_shape_first"),
        },
    }
