"""The codec's process-wide caches: bounded in bytes, never grown by what the parser ignores.

A cache a server can fill is memory and speed an attacker controls. These tests flood the
parser with valid documents of random shapes, prefixes and attributes, and check what
stays behind. (How fast parsing is after a flood is measured by
``benchmarks/bench_codec.py --flood``, not here.)
"""

from __future__ import annotations

import contextlib
import gc
import random
import re
import tracemalloc
import xmlrpc.client
from typing import Any

import pytest

from aioxmlrpc import codec
from aioxmlrpc.codec import cache_stats, clear_caches
from aioxmlrpc.codec._cache import Cache

from xmlgen import document

MIB = 1 << 20


def response(value: Any, prefix: str = "", attributes: str = "") -> bytes:
    """A response whose every element has ``prefix`` and ``attributes``."""
    body = xmlrpc.client.dumps((value,), methodresponse=True)
    if prefix:
        body = body.replace("<", f"<{prefix}:").replace(f"<{prefix}:/", f"</{prefix}:")
        body = body.replace(f"<{prefix}:?xml", "<?xml")
    if attributes:
        body = body.replace("<methodResponse>", f"<methodResponse {attributes}>")
        for name in ("value", "struct", "member", "string"):
            tag = f"<{prefix}:{name}>" if prefix else f"<{name}>"
            body = body.replace(tag, tag[:-1] + f" {attributes}>")
    return body.encode()


RECORDS = [{"id": i, "name": f"n{i}", "tags": ["a", i]} for i in range(20)]


def test_namespace_prefixes_make_no_new_states_or_plans() -> None:
    assert codec.loads(response(RECORDS, "p0"))[0][0] == RECORDS
    before = cache_stats()
    for i in range(300):
        assert codec.loads(response(RECORDS, f"p{i}x{'y' * (i % 50)}"))[0][0] == RECORDS
    after = cache_stats()
    assert after["states"].entries == before["states"].entries
    assert after["plans"].entries == before["plans"].entries


def test_attributes_make_no_new_plans() -> None:
    assert codec.loads(response(RECORDS, attributes='a="0"'))[0][0] == RECORDS
    before = cache_stats()["plans"].entries
    for i in range(300):
        attributes = f'id="{i}" xmlns:x{i}="urn:{"z" * i}" data=\'>{i}<\''.replace("<", "&lt;")
        assert codec.loads(response(RECORDS, attributes=attributes))[0][0] == RECORDS
    assert cache_stats()["plans"].entries == before


@pytest.mark.timeout(180)  # tracing every allocation makes parsing a few times slower
def test_a_flood_of_valid_documents_leaves_the_caches_within_their_budgets() -> None:
    rng = random.Random(99)
    gc.collect()
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        for _ in range(1500):
            body, options, _ = document(rng, wild=0.6)
            with contextlib.suppress(xmlrpc.client.Fault):
                codec.loads(body, **options)
        # A few large ones, with long prefixes on every element.
        for i in range(2):
            big = [{"k" * 40 + str(j): [j, "v" * 30]} for j in range(2000 + i)]
            codec.loads(response(big, f"prefix{i}" + "q" * 200))
        gc.collect()
        retained = tracemalloc.get_traced_memory()[0] - baseline
    finally:
        tracemalloc.stop()
    for name, stats in cache_stats().items():
        assert stats.size <= stats.max_size, name
    # The grammar's states, whatever was read: finite (whether an element has a prefix is
    # part of a state, as its end tag must repeat it; which prefix is not).
    assert cache_stats()["states"].entries < 4096
    assert retained < 16 * MIB, f"{retained / MIB:.1f} MiB retained"


def test_a_cache_forgets_its_oldest_generation_to_stay_within_budget() -> None:
    cache: Cache[int, str] = Cache("test", 1000)
    table: dict[int, str] = {}
    for key in range(100):
        cache.add(table, key, str(key), 30)
        assert cache.stats().size <= 1000
    stats = cache.stats()
    assert stats.evicted > 0
    assert stats.added == 100
    assert 0 not in table  # the oldest went first
    assert 99 in table  # the newest stays
    assert cache.get(99) is None  # (in its own table, not the default one)
    assert len(table) == stats.entries
    cache.add(table, 500, "too big", 600)  # over half the budget: never kept
    assert 500 not in table


def test_entries_in_use_survive_a_flood_of_new_ones() -> None:
    used = set(range(5))
    cache: Cache[int, int] = Cache("test", 4000, keep=lambda value: value in used)
    table: dict[int, int] = {}
    for key in range(10):
        cache.add(table, key, key, 30)
    for key in range(1000, 3000):  # never used again: they push each other out
        cache.add(table, key, key, 30)
        assert cache.stats().size <= 4000
    assert all(key in table for key in used)
    assert not any(key in table for key in range(5, 10))
    assert cache.stats().evicted > 1900


def _one_off(rng: random.Random, depth: int = 60) -> tuple[Any, bytes]:
    """A value of arrays nested ``depth`` deep, in a reply of random whitespace.

    Its runs of tags hold random whitespace between every two tags, and no text cuts
    them short: each is a plan never seen before, and never seen again.
    """
    value: Any = rng.randint(0, 9)
    for _ in range(depth):
        value = [value]
    blanks = (b"><", b"> <", b">\n<", b">\t<", b">  <")
    return value, re.sub(b"><", lambda _: rng.choice(blanks), response(value))


def test_the_plans_of_replies_read_again_survive_a_flood_of_one_off_shapes() -> None:
    ordinary = response(RECORDS)
    for _ in range(2):  # two documents use its plans: they are in use
        codec.loads(ordinary)
    rng = random.Random(5)
    evicted = cache_stats()["plans"].evicted
    for _ in range(1500):
        value, body = _one_off(rng)
        assert codec.loads(body)[0][0] == value
    assert cache_stats()["plans"].evicted > evicted + 1000  # the flood did churn the cache
    added = cache_stats()["plans"].added
    assert codec.loads(ordinary)[0][0] == RECORDS
    assert cache_stats()["plans"].added == added  # nothing compiled again


def test_clear_caches_empties_them_and_parsing_refills_them() -> None:
    codec.loads(response(RECORDS))
    clear_caches()
    assert all(stats.entries == 0 for stats in cache_stats().values())
    assert codec.loads(response(RECORDS))[0][0] == RECORDS
    assert cache_stats()["plans"].entries > 0


def test_no_cache_holds_document_text() -> None:
    clear_caches()
    secret = "s3cr3t-value-in-a-string"  # noqa: S105 - a marker, not a password
    codec.loads(response({"k": secret, "n": [secret, 1]}, "pfx" + "w" * 30, 'a="attrval"'))
    codec.encode_request("method.name", (1,))
    gc.collect()
    held = [
        key
        for referrer in gc.get_objects()
        if isinstance(referrer, dict)
        for key in referrer
        if isinstance(key, str) and ("s3cr3t" in key or "attrval" in key or "pfxw" in key)
    ]
    assert held == []


@pytest.mark.parametrize("item", [None, "", [], {}], ids=["nil", "empty-string", "array", "struct"])
def test_a_long_stretch_of_tags_without_text_is_compiled_once(
    item: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Arrays of nils or empty strings are tags and nothing else, for as long as they go:
    # read as one run, each length was a plan of its own, compiled for every document.
    from aioxmlrpc.codec import _grammar, _parse

    compiled = 0
    compile_plan = _grammar.compile_plan

    def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal compiled
        compiled += 1
        return compile_plan(*args, **kwargs)

    monkeypatch.setattr(_parse, "compile_plan", counting)
    first = xmlrpc.client.dumps(([item] * 10,), methodresponse=True, allow_none=True)
    codec.loads(first.encode())
    for length in (50, 51, 97, 5000, 50_001):
        value = [item] * length
        body = xmlrpc.client.dumps((value,), methodresponse=True, allow_none=True).encode()
        compiled = 0
        for _ in range(2):
            assert codec.loads(body)[0][0] == value
        assert compiled <= 12, length  # the run's phases at most, once each


def _tree(rng: random.Random, depth: int) -> Any:
    """A random tree of arrays, structs and scalars."""
    k = rng.random()
    if depth <= 0 or k < 0.4:
        return rng.choice([rng.randint(-9, 9), "s", 1.5, True])
    if k < 0.7:
        return [_tree(rng, depth - 1) for _ in range(rng.randint(0, 4))]
    return {f"k{i}": _tree(rng, depth - 1) for i in range(rng.randint(0, 4))}


def test_the_variant_plans_of_replies_read_again_survive_a_flood_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A run that closes containers whose parents differ from where it was compiled runs
    # a variant of its plan: those must be marked in use as the others are.
    from aioxmlrpc.codec import _grammar, _parse

    compiled = variants = 0
    compile_plan = _grammar.compile_plan

    def counting(*args: Any) -> Any:
        nonlocal compiled, variants
        compiled += 1
        variants += len(args) > 4  # a variant's key
        return compile_plan(*args)

    monkeypatch.setattr(_parse, "compile_plan", counting)
    rng = random.Random(3)
    value = [_tree(rng, 6) for _ in range(60)]  # a reply of 45 KB
    ordinary = response(value)
    clear_caches()
    for _ in range(2):
        assert codec.loads(ordinary)[0][0] == value
    assert variants > 0  # the reply does run variants
    for _ in range(1500):
        flooded, body = _one_off(rng)
        assert codec.loads(body)[0][0] == flooded
    compiled = 0
    assert codec.loads(ordinary)[0][0] == value
    assert compiled == 0
