"""Generated valid documents, every lexical variation: we return what xmlrpc.client returns.

Each document comes from ``xmlgen`` (well-formed, no DTD, a known meaning). The standard
library must accept it and mean what the generator meant (else the generator is wrong);
then ours, given the bytes whole, the bytes in random pieces, and the decoded text, must
return exactly the same. Any divergence fails: there is no "stricter is fine" here.

The CI run is seeded and short; a long run on demand::

    XMLGEN_DOCUMENTS=100000 XMLGEN_SEED=7 pytest tests/codec/test_differential.py -m slow
"""

from __future__ import annotations

import os
import random
import xmlrpc.client
from typing import Any

import pytest

from aioxmlrpc import Fault, codec
from aioxmlrpc.codec import RequestParser, ResponseParser

from xmlgen import document, normalise

CI_DOCUMENTS = 1500
SEED = int(os.environ.get("XMLGEN_SEED", "20261203"))


def stdlib(body: bytes | str, options: dict[str, bool]) -> Any:
    try:
        return normalise(xmlrpc.client.loads(body, **options))
    except xmlrpc.client.Fault as fault:
        return ("fault", fault.faultCode, fault.faultString)


def ours(body: bytes | str, options: dict[str, bool]) -> Any:
    try:
        return normalise(codec.loads(body, **options))
    except Fault as fault:
        return ("fault", fault.faultCode, fault.faultString)


def ours_in_pieces(body: bytes, options: dict[str, bool], meaning: Any, rng: random.Random) -> Any:
    """Feed the body to the incremental parser of its kind, cut at random places."""
    kind = meaning[0]
    if kind == "params":
        return None  # only loads() reads a bare <params>
    dates, builtins = options["use_datetime"], options["use_builtin_types"]
    pieces = []
    position = 0
    while position < len(body):
        step = rng.choice([1, 2, 3, 7, 64, 1000])
        pieces.append(body[position : position + step])
        position += step
    if kind == "call":
        request = RequestParser(use_datetime=dates, use_builtin_types=builtins)
        for piece in pieces:
            request.feed(piece)
        name, params = request.close()
        return normalise([list(params), name])
    response = ResponseParser(use_datetime=dates, use_builtin_types=builtins)
    for piece in pieces:
        response.feed(piece)
    try:
        return normalise([[response.close()], None])
    except Fault as fault:
        return ("fault", fault.faultCode, fault.faultString)


def expected_meaning(meaning: Any) -> Any:
    if meaning[0] == "fault":
        return ("fault", meaning[1], meaning[2])
    return normalise([list(meaning[1]), meaning[2]])


def check(body: bytes, options: dict[str, bool], meaning: Any, rng: random.Random) -> None:
    want = stdlib(body, options)
    if not options["use_datetime"] and not options["use_builtin_types"]:
        assert want == expected_meaning(meaning), f"generator bug: {body!r}"
    got = ours(body, options)
    assert got == want, f"loads(bytes) differs on {body!r}"
    pieces = ours_in_pieces(body, options, meaning, rng)
    if pieces is not None:
        assert pieces == want, f"fed in pieces, differs on {body!r}"
    # As text: pyexpat reads a str as UTF-8 whatever it declares; so do we.
    text = _decoded(body)
    if text is not None:
        assert ours(text, options) == stdlib(text, options), f"loads(str) differs on {text!r}"


def _decoded(body: bytes) -> str | None:
    if body.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None  # a UTF-16 document's declaration contradicts a UTF-8 reading
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def run(count: int, seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(count):
        body, options, meaning = document(rng)
        check(body, options, meaning, rng)


def test_generated_documents_parse_as_the_standard_library_parses_them() -> None:
    run(CI_DOCUMENTS, SEED)


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_a_long_run_of_generated_documents_finds_no_divergence() -> None:
    run(int(os.environ.get("XMLGEN_DOCUMENTS", "100000")), SEED + 1)


def test_the_generator_makes_every_variation() -> None:
    # A generator that stopped making a variation would make the tests above pass for
    # the wrong reason: check that a small run holds each of them.
    rng = random.Random(SEED)
    seen = b"".join(document(rng)[0] for _ in range(500))
    for variation in (
        b"<![CDATA[",
        b"]]]]><![CDATA[>",
        b"]]<!--",
        b"]]<?",
        b"<!--",
        b"<?",
        b"&#x",
        b"&#00",
        b"\r\n",
        b"xmlns",
        b'="',
        b"='",
        b"/>",
        b"\xc3\xabx:",  # "ëx:" in UTF-8
        b"<:",
        b"a:b:",
        b"<value><fault>",
        b"encoding=",
        b"standalone",
        b"\xef\xbb\xbf",
        b"\xff\xfe",
    ):
        assert variation in seen, variation
