"""The demo tour: every example program of ``examples/``, run in order and narrated.

``python -m aioxmlrpc demo`` starts :class:`~._service.ExampleServer` on a free loopback
port and runs each step below: a title, one line on what it shows, then the example
program's own ``main(url)``, its output going where the tour prints. The programs have one
source, the files of ``examples/``: a wheel carries them as ``aioxmlrpc/_examples/``
(``tool.hatch.build.targets.wheel.force-include``), a checkout has them beside the
package, and the tour loads them from whichever is there.
"""

from __future__ import annotations

import contextlib
import importlib.util
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TextIO, cast

__all__ = ["STEPS", "examples_dir", "load_example", "run_tour"]

Main = Callable[[str], Awaitable[None]]

#: (title, example program, what it shows)
STEPS: list[tuple[str, str, str]] = [
    (
        "Connecting to a server",
        "xmlrpc_ServerProxy",
        "The simplest call: ping() takes nothing and returns a boolean.",
    ),
    (
        "Verbose output",
        "xmlrpc_ServerProxy_verbose",
        "verbose=True prints the HTTP exchange, as xmlrpc.client does.",
    ),
    (
        "Another encoding",
        "xmlrpc_ServerProxy_encoding",
        "The request can be sent in another encoding; the server detects it.",
    ),
    (
        "None and allow_none",
        "xmlrpc_ServerProxy_allow_none",
        "None is refused locally unless allow_none, then sent as <nil/>.",
    ),
    ("Data types", "xmlrpc_types", "Each XML-RPC type, sent to show_type() and back."),
    (
        "Nested types",
        "xmlrpc_types_nested",
        "Types nest: a list of structs of every type makes the round trip.",
    ),
    (
        "datetime or DateTime",
        "xmlrpc_ServerProxy_use_datetime",
        "use_datetime returns datetime objects instead of DateTime wrappers.",
    ),
    (
        "Passing objects",
        "xmlrpc_types_object",
        "Objects travel as structs of their attributes and come back as dicts.",
    ),
    (
        "Binary data",
        "xmlrpc_Binary",
        "Bytes travel as base64; a control character in a plain string cannot travel.",
    ),
    (
        "Objects in pickles",
        "xmlrpc_Binary_pickle",
        "Pickled objects can ride in a Binary (only between parties that trust each other).",
    ),
    (
        "Exception handling",
        "xmlrpc_exception",
        "A server-side exception arrives as a Fault with a code and a message.",
    ),
    (
        "Combining calls into one message",
        "xmlrpc_MultiCall",
        "MultiCall sends several calls in one request.",
    ),
    (
        "A fault inside a MultiCall",
        "xmlrpc_MultiCall_exception",
        "A failed call in a MultiCall raises its Fault when its result is reached.",
    ),
]


def examples_dir() -> Path:
    """Where the example programs are: in the installed package, else in the checkout."""
    package = Path(__file__).resolve().parent.parent
    installed = package / "_examples"
    return installed if installed.is_dir() else package.parent / "examples"


def load_example(name: str) -> Main:
    """Import the example program ``name`` (once) and return its ``main(url)``."""
    module_name = f"aioxmlrpc._examples.{name}"
    module = sys.modules.get(module_name)
    if module is None:
        path = examples_dir() / f"{name}.py"
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:  # pragma: no cover - a missing file
            raise FileNotFoundError(f"no example program {name!r} at {path}")
        module = importlib.util.module_from_spec(spec)
        # Registered before running: pickle finds the example's classes by module name.
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[module_name]
            raise
    return cast(Main, module.main)


async def run_tour(url: str, out: TextIO) -> None:
    """Run every step against the server at ``url``, printing to ``out``."""
    for number, (title, name, summary) in enumerate(STEPS, 1):
        print(f"\n== {number}. {title} ==", file=out)
        print(f"   {summary}\n", file=out)
        main = load_example(name)
        with contextlib.redirect_stdout(out):
            await main(url)
