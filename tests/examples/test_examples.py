r"""Run every ``examples/*.py`` against the example server; check what it prints.

Each example is run as a subprocess (``python examples/<name>.py <url>``) against the
session's :class:`~aioxmlrpc._demo.ExampleServer`. It must exit with status 0,
print nothing on stderr (``ResourceWarning`` is switched on, so an unclosed session or
socket shows there), and print what the seed (``xmlrpc_client.md``) shows for the same
program, stored below in ``EXPECTED``.

The comparison is line by line, after the same normalisers are applied to the expected
and the actual text (``NORMALISERS``): they blank out only what differs between runs,
that is the client's clock (``datetime.datetime(...)`` reprs, ``datetime`` strs and
XML-RPC ``20160618T19:31:47`` stamps), ``at 0x...`` addresses and ``id()`` values. What
those values must satisfy is then checked on the raw output (``INVARIANTS``): the stamps
are recent and consistent with each other, the unpickled object is a new one.

The verbose example is compared record by record instead (:func:`check_verbose`): the
seed's text is Python 3.5's ``http.client`` debug output, wrapped to the page, and ours
comes from aiohttp. The request line, the request headers (by name; their order and the
Host, User-Agent and Content-Length values legitimately differ), both XML documents, the
status line, the response header names and the final ``Ping: True`` must match.

Where the expected text departs from the seed's, because the seed's text is damaged or
shows a Python older than 3.7, the stdlib's own ``xmlrpc.client`` running the seed's code
against the same server prints what is stored (checked on Python 3.11):

- ``xmlrpc_types``: the seed's first four rows have 13-wide labels and every continuation
  line 14 spaces; the seed's code (``'{:<12}: {}'`` and ``'{:12} {}'``) prints 12-wide
  labels, 13-space continuations, as its ``datetime`` to ``structure`` rows show.
- ``xmlrpc_types_nested``: the seed's ``After:`` block lost pprint's indentation and has a
  stray ``}],``; restored as pprint prints it (the ``Before:`` block's layout). The seed's
  code names ``array1``/``array2`` but its output, kept here, has a single ``'array':
  ('a', 'tuple')`` key (the original program repeated the ``'array'`` key).
- ``xmlrpc_types_object``: the seed shows Python 3.5's dict order (``{'b': ..., 'a': 1}``)
  and re-wrapped lines; dicts keep insertion order since 3.7, and pprint fits the first
  result on one line.
- ``xmlrpc_Binary_pickle``: the seed's ``As object:`` result lost its quoting (it reads
  ``[{"a": 1, ...}, ...]``); the first item is the ``str()`` of the dict, as in
  ``xmlrpc_types_object``.
"""

from __future__ import annotations

import ast
import datetime
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from aioxmlrpc._demo import ExampleServer

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"
EXAMPLES = sorted(EXAMPLES_DIR.glob("*.py"))
TIMEOUT = 60  # seconds per example

# -- the seed's output, per example --------------------------------------------------------

EXPECTED: dict[str, str] = {
    "xmlrpc_ServerProxy": r"""
Ping: True
""",
    # Python 3.5's http.client debug output (one record per line here, as printed).
    "xmlrpc_ServerProxy_verbose": r"""
send: b'POST /RPC2 HTTP/1.1\r\nHost: localhost:9000\r\nAccept-Encoding: gzip\r\nContent-Type: text/xml\r\nUser-Agent: Python-xmlrpc/3.5\r\nContent-Length: 98\r\n\r\n'
send: b'<?xml version="1.0"?>\n<methodCall>\n<methodName>ping</methodName>\n<params>\n</params>\n</methodCall>\n'
reply: 'HTTP/1.0 200 OK\r\n'
header: Server
header: Date
header: Content-type
header: Content-length
body: b'<?xml version="1.0"?>\n<methodResponse>\n<params>\n<param>\n<value><boolean>1</boolean></value>\n</param>\n</params>\n</methodResponse>\n'
Ping: True
""",  # noqa: E501
    "xmlrpc_ServerProxy_encoding": r"""
Ping: True
""",
    "xmlrpc_ServerProxy_allow_none": r"""
ERROR: cannot marshal None unless allow_none is enabled
Allowed: ['None', "<class 'NoneType'>", None]
""",
    "xmlrpc_types": r"""
boolean     : True
             <class 'bool'>
             True
integer     : 1
             <class 'int'>
             1
float       : 2.5
             <class 'float'>
             2.5
string      : some text
             <class 'str'>
             some text
datetime    : 20160618T19:31:47
             <class 'xmlrpc.client.DateTime'>
             20160618T19:31:47
array       : ['a', 'list']
             <class 'list'>
             ['a', 'list']
array       : ['a', 'tuple']
             <class 'list'>
             ['a', 'tuple']
structure   : {'a': 'dictionary'}
             <class 'dict'>
             {'a': 'dictionary'}
""",
    "xmlrpc_types_nested": r"""
Before:
[{'array': ('a', 'tuple'),
  'boolean': True,
  'datetime': datetime.datetime(2016, 6, 18, 19, 27, 30, 45333),
  'floating-point number': 2.5,
  'integer': 0,
  'string': 'some text',
  'structure': {'a': 'dictionary'}},
 {'array': ('a', 'tuple'),
  'boolean': True,
  'datetime': datetime.datetime(2016, 6, 18, 19, 27, 30, 45333),
  'floating-point number': 2.5,
  'integer': 1,
  'string': 'some text',
  'structure': {'a': 'dictionary'}},
 {'array': ('a', 'tuple'),
  'boolean': True,
  'datetime': datetime.datetime(2016, 6, 18, 19, 27, 30, 45333),
  'floating-point number': 2.5,
  'integer': 2,
  'string': 'some text',
  'structure': {'a': 'dictionary'}}]

After:
[{'array': ['a', 'tuple'],
  'boolean': True,
  'datetime': <DateTime '20160618T19:27:30' at 0x101ecfac8>,
  'floating-point number': 2.5,
  'integer': 0,
  'string': 'some text',
  'structure': {'a': 'dictionary'}},
 {'array': ['a', 'tuple'],
  'boolean': True,
  'datetime': <DateTime '20160618T19:27:30' at 0x101ecfcc0>,
  'floating-point number': 2.5,
  'integer': 1,
  'string': 'some text',
  'structure': {'a': 'dictionary'}},
 {'array': ['a', 'tuple'],
  'boolean': True,
  'datetime': <DateTime '20160618T19:27:30' at 0x101ecfe10>,
  'floating-point number': 2.5,
  'integer': 2,
  'string': 'some text',
  'structure': {'a': 'dictionary'}}]
""",
    "xmlrpc_ServerProxy_use_datetime": r"""
With: 2016-06-18 19:18:31 <class 'datetime.datetime'> datetime
Without: 20160618T19:18:31 <class 'xmlrpc.client.DateTime'> DateTime
""",
    "xmlrpc_types_object": r"""
o : MyObj(1, 'b goes here')
["{'a': 1, 'b': 'b goes here'}", "<class 'dict'>", {'a': 1, 'b': 'b goes here'}]

o2 : MyObj(2, MyObj(1, 'b goes here'))
["{'a': 2, 'b': {'a': 1, 'b': 'b goes here'}}",
 "<class 'dict'>",
 {'a': 2, 'b': {'a': 1, 'b': 'b goes here'}}]
""",
    "xmlrpc_Binary": r"""
Local string: b'This is a string with control characters\x00'
As binary: b'This is a string with control characters\x00'

ERROR: not well-formed (invalid token): line 6, column 55
""",
    "xmlrpc_Binary_pickle": r"""
Local: 4327262304
MyObj(1, 'b goes here')

As object:
["{'a': 1, 'b': 'b goes here'}", "<class 'dict'>", {'a': 1, 'b': 'b goes here'}]

From pickle: 4327262472
MyObj(1, 'b goes here')
""",
    "xmlrpc_exception": r"""
Fault code: 1
Message   : <class 'RuntimeError'>:A message
""",
    "xmlrpc_MultiCall": r"""
0 True
1 ['1', "<class 'int'>", 1]
2 ['string', "<class 'str'>", 'string']
""",
    "xmlrpc_MultiCall_exception": r"""
0 True
1 ['1', "<class 'int'>", 1]
ERROR: <Fault 1: "<class 'RuntimeError'>:Next to last call stops execution">
""",
}

# -- what legitimately varies between runs ---------------------------------------------------

ISO_STAMP = re.compile(r"\b(\d{8}T\d{2}:\d{2}:\d{2})\b")
DATETIME_STR = re.compile(r"\b(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})\b")
DATETIME_REPR = re.compile(r"datetime\.datetime\((\d{4}(?:, \d{1,6}){2,6})\)")

#: (pattern, replacement): applied in order, to the expected and the actual text alike.
NORMALISERS: list[tuple[re.Pattern[str], str]] = [
    # The client's clock as a datetime repr: datetime.datetime(2016, 6, 18, 19, 27, 30, 45333)
    (DATETIME_REPR, "datetime.datetime(<now>)"),
    # An XML-RPC dateTime.iso8601 value, DateTime's str and repr: 20160618T19:31:47
    (ISO_STAMP, "<iso8601>"),
    # A datetime's str (XML-RPC carries no microseconds): 2016-06-18 19:18:31
    (DATETIME_STR, "<datetime>"),
    # An object's address in a default repr: <DateTime '...' at 0x101ecfac8>
    (re.compile(r" at 0x[0-9a-fA-F]+>"), " at 0x<address>>"),
    # id() of an object: "Local: 4327262304", "From pickle: 4327262472"
    (re.compile(r"^(Local|From pickle): \d+$", re.MULTILINE), r"\1: <id>"),
]


def normalise(text: str) -> list[str]:
    """Return ``text``'s lines with what varies between runs blanked out."""
    for pattern, replacement in NORMALISERS:
        text = pattern.sub(replacement, text)
    return text.strip("\n").splitlines()


# -- what the varying values must still satisfy -----------------------------------------------

RECENT = datetime.timedelta(minutes=10)


def stamps(pattern: re.Pattern[str], fmt: str, text: str) -> list[datetime.datetime]:
    return [datetime.datetime.strptime(match, fmt) for match in pattern.findall(text)]


def assert_recent(*moments: datetime.datetime) -> None:
    now = datetime.datetime.now()
    for moment in moments:
        assert abs(now - moment) < RECENT, f"{moment} is not the current time ({now})"


def check_types(out: str) -> None:
    # The datetime row: its str and the value returned are the one value sent.
    sent = stamps(ISO_STAMP, "%Y%m%dT%H:%M:%S", out)
    assert len(sent) == 2
    assert sent[0] == sent[1]
    assert_recent(*sent)


def from_repr(args: str) -> datetime.datetime:
    """The datetime whose repr has these arguments: ``2016, 6, 18, 19, 27, 30, 45333``."""
    year, month, day, *rest = (int(part) for part in args.split(", "))
    hour, minute, second, microsecond = [*rest, 0, 0, 0, 0][:4]
    return datetime.datetime(year, month, day, hour, minute, second, microsecond)


def check_types_nested(out: str) -> None:
    # The same datetime three times before; after, that datetime without microseconds.
    before = {from_repr(match) for match in DATETIME_REPR.findall(out)}
    after = stamps(ISO_STAMP, "%Y%m%dT%H:%M:%S", out)
    assert len(before) == 1
    (moment,) = before
    assert after == [moment.replace(microsecond=0)] * 3
    assert_recent(moment)


def check_use_datetime(out: str) -> None:
    (with_,) = stamps(DATETIME_STR, "%Y-%m-%d %H:%M:%S", out)
    (without,) = stamps(ISO_STAMP, "%Y%m%dT%H:%M:%S", out)
    assert datetime.timedelta(0) <= without - with_ <= datetime.timedelta(seconds=5)
    assert_recent(with_, without)


def check_pickle(out: str) -> None:
    local, unpickled = re.findall(r"^(?:Local|From pickle): (\d+)$", out, re.MULTILINE)
    assert local != unpickled, "unpickling must give a new object"


INVARIANTS: dict[str, Callable[[str], None]] = {
    "xmlrpc_types": check_types,
    "xmlrpc_types_nested": check_types_nested,
    "xmlrpc_ServerProxy_use_datetime": check_use_datetime,
    "xmlrpc_Binary_pickle": check_pickle,
}

# -- the verbose example ---------------------------------------------------------------------

VERBOSE = "xmlrpc_ServerProxy_verbose"
USER_AGENT = re.compile(r"^(Python-xmlrpc/3\.\d+|aioxmlrpc/\d+\.\d+\S*)$")


def records(text: str, kind: str) -> list[str]:
    """The payloads of the ``kind: ...`` lines of verbose output."""
    prefix = f"{kind}: "
    return [line[len(prefix) :] for line in text.splitlines() if line.startswith(prefix)]


def xml_document(shown: str) -> bytes:
    """A ``send:``/``body:`` payload (a bytes repr), with the declaration's quotes unified."""
    data = ast.literal_eval(shown)
    assert isinstance(data, bytes), shown
    return data.replace(b'<?xml version="1.0"?>', b"<?xml version='1.0'?>")


def request_head(shown: str) -> tuple[str, dict[str, str]]:
    """The request line and headers (by lower-cased name) of a ``send:`` head payload."""
    head = ast.literal_eval(shown)
    assert isinstance(head, bytes), shown
    assert head.endswith(b"\r\n\r\n"), head
    request_line, *lines = head.decode("latin-1")[: -len("\r\n\r\n")].split("\r\n")
    fields = [line.split(": ", 1) for line in lines]
    headers = {name.lower(): value for name, value in fields}
    assert len(headers) == len(fields), f"repeated header in {head!r}"
    return request_line, headers


def check_verbose(out: str, expected: str, url: str) -> None:
    """Compare the verbose example with the seed's, record by record."""
    kinds = [line.split(":", 1)[0] for line in out.splitlines()]
    assert kinds == [line.split(":", 1)[0] for line in expected.strip().splitlines()], out
    assert out.splitlines()[-1] == "Ping: True"

    (head, body), (seed_head, seed_body) = records(out, "send"), records(expected, "send")
    assert head.startswith("b'POST /RPC2 HTTP/1.1\\r\\n"), head
    request_line, headers = request_head(head)
    seed_request_line, seed_headers = request_head(seed_head)
    assert request_line == seed_request_line
    assert headers.keys() == seed_headers.keys()
    assert headers["host"] == urlsplit(url).netloc  # the seed's is localhost:9000
    assert USER_AGENT.match(headers["user-agent"]), headers["user-agent"]
    assert USER_AGENT.match(seed_headers["user-agent"]), seed_headers["user-agent"]
    for name in ("accept-encoding", "content-type"):
        assert headers[name] == seed_headers[name], name
    assert body.startswith('b"<?xml'), body
    assert "<methodName>ping</methodName>" in body
    assert xml_document(body) == xml_document(seed_body)
    assert int(headers["content-length"]) == len(xml_document(body))
    assert int(seed_headers["content-length"]) == len(xml_document(seed_body))

    assert records(out, "reply") == records(expected, "reply") == ["'HTTP/1.0 200 OK\\r\\n'"]

    # The seed shows the names only; ours are "Name: value".
    reply_headers = [line.split(": ", 1) for line in records(out, "header")]
    assert all(len(field) == 2 for field in reply_headers), reply_headers
    names = [name.lower() for name, _ in reply_headers]
    assert names == [name.lower() for name in records(expected, "header")]
    values = {name.lower(): value for name, value in reply_headers}
    (reply_body,) = records(out, "body")
    (seed_reply_body,) = records(expected, "body")
    assert xml_document(reply_body) == xml_document(seed_reply_body)
    assert values["content-type"] == "text/xml"
    assert int(values["content-length"]) == len(xml_document(reply_body))


# -- the tests -------------------------------------------------------------------------------


def run_example(path: Path, url: str, env: dict[str, str] | None = None) -> str:
    """Run one example; return its stdout after checking its exit status and stderr."""
    if env is None:
        env = {key: value for key, value in os.environ.items() if key != "AIOXMLRPC_URL"}
    env.setdefault("PYTHONWARNINGS", "default::ResourceWarning")
    argv = [sys.executable, str(path)] if url == "" else [sys.executable, str(path), url]
    result = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=env,
        cwd=path.parent,
        check=False,
    )
    assert result.returncode == 0, f"{path.name} exited with {result.returncode}:\n{result.stderr}"
    assert result.stderr == "", f"{path.name} wrote on stderr:\n{result.stderr}"
    return result.stdout


def test_every_seed_example_is_here() -> None:
    assert len(EXAMPLES) >= 13
    assert sorted(EXPECTED) == sorted(path.stem for path in EXAMPLES)


@pytest.mark.parametrize("path", EXAMPLES, ids=[path.stem for path in EXAMPLES])
def test_example_prints_what_the_seed_shows(path: Path, example_server: ExampleServer) -> None:
    assert path.stem in EXPECTED, f"no expected output stored for {path.name}"
    expected = EXPECTED[path.stem]
    out = run_example(path, example_server.url)
    if path.stem == VERBOSE:
        check_verbose(out, expected, example_server.url)
        return
    assert normalise(out) == normalise(expected)
    assert out.endswith("\n")
    assert not out.startswith("\n")
    if path.stem in INVARIANTS:
        INVARIANTS[path.stem](out)


@pytest.mark.parametrize("path", EXAMPLES, ids=[path.stem for path in EXAMPLES])
def test_example_is_documented_and_reads_the_url_as_told(path: Path) -> None:
    module = ast.parse(path.read_text(encoding="utf-8"))
    docstring = ast.get_docstring(module)
    assert docstring, f"{path.name} has no module docstring"
    assert f"python examples/{path.name}" in docstring
    source = path.read_text(encoding="utf-8")
    for needle in ("sys.argv[1]", '"AIOXMLRPC_URL"', '"http://localhost:9000"', "asyncio.run("):
        assert needle in source, f"{path.name} lacks {needle}"


def test_the_url_can_come_from_the_environment(example_server: ExampleServer) -> None:
    env = dict(os.environ, AIOXMLRPC_URL=example_server.url)
    out = run_example(EXAMPLES_DIR / "xmlrpc_ServerProxy.py", "", env)
    assert out == "Ping: True\n"


def test_the_tour_runs_every_example_programs_own_code() -> None:
    from aioxmlrpc._demo import STEPS, load_example

    assert sorted(name for _, name, _ in STEPS) == sorted(path.stem for path in EXAMPLES)
    for _, name, _ in STEPS:
        main = load_example(name)
        assert Path(main.__code__.co_filename).resolve() == EXAMPLES_DIR / f"{name}.py"
