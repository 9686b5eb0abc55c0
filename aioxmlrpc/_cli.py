"""The command line: ``python -m aioxmlrpc`` (also installed as ``aioxmlrpc``).

Commands::

    aioxmlrpc demo                          the tour, against an example server it starts
    aioxmlrpc serve-example [--port 9000]   the example server, until Ctrl-C
    aioxmlrpc call URL METHOD [ARG ...]     one call; arguments are JSON literals
    aioxmlrpc methods URL                   what the server offers (introspection)
    aioxmlrpc profiles                      the server profiles --profile accepts

``call`` and ``methods`` take ``--profile NAME`` (a server profile: aria2, rtorrent...)
and ``--token TOKEN`` (or a ``token:SECRET@`` in the URL, for aria2); URLs may be
``http(s)://``, ``http+unix://``, ``scgi://`` or ``scgi+unix://``.

Exit status: 0 on success, 1 when the server answers with a fault (its code and message
go to stderr), 2 when the call could not be made or understood (usage, connection,
timeout, HTTP status, malformed reply). Expected failures never print a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime
import json
import pprint
import sys
from collections.abc import Sequence
from decimal import Decimal

from ._exceptions import Error, Fault, ResponseError
from ._multicall import MultiCall
from ._proxy import AsyncServerProxy
from ._redact import redact_url
from ._types import Binary, DateTime
from ._version import __version__
from .profiles import PROFILES

__all__ = ["main"]

EXIT_FAULT = 1
EXIT_ERROR = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aioxmlrpc",
        description="A fast, hardened asyncio XML-RPC client. Run 'aioxmlrpc demo' for a tour.",
    )
    parser.add_argument("--version", action="version", version=f"aioxmlrpc {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", help="run the tour against an example server")
    demo.add_argument("--url", help="use this server instead of starting the example one")

    serve = commands.add_parser("serve-example", help="serve the example service")
    serve.add_argument("--host", default="127.0.0.1", help="address (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=9000, help="port (default: 9000)")

    client = argparse.ArgumentParser(add_help=False)
    client.add_argument(
        "url",
        help="the server: http(s)://host:port/path, http+unix://%%2Fpath.sock/path, "
        "scgi://host:port/ or scgi+unix:///path.sock",
    )
    client.add_argument(
        "--profile",
        choices=sorted(PROFILES),
        help="the server's profile: what it needs beyond standard XML-RPC",
    )
    client.add_argument(
        "--token", help="the profile's token (aria2's secret); or http://token:SECRET@host/"
    )
    client.add_argument("--timeout", type=float, default=30.0, help="seconds (default: 30)")
    client.add_argument("--unix-socket", help="reach the server through this socket")
    client.add_argument("--verbose", action="store_true", help="print the HTTP exchange")
    client.add_argument("--allow-none", action="store_true", help="send null arguments as <nil/>")
    client.add_argument(
        "--allow-i8", action="store_true", help="send integers beyond 32 bits as <i8>"
    )

    call = commands.add_parser(
        "call",
        parents=[client],
        help="call one method",
        description="Call METHOD with ARGs parsed as JSON literals (1, 2.5, true, null, "
        '"text", [1, 2], {"k": "v"}); an ARG that is not JSON is sent as a string.',
    )
    call.add_argument("method", help="the method, e.g. system.listMethods")
    call.add_argument("args", nargs="*", metavar="ARG", help="a parameter (JSON literal)")
    call.add_argument("--raw", action="store_true", help="send every ARG as a string")
    call.add_argument(
        "--format",
        choices=("json", "repr"),
        default="json",
        help="print the result as JSON (default) or as a Python repr",
    )

    commands.add_parser("profiles", help="list the server profiles and what each changes")
    commands.add_parser(
        "methods",
        parents=[client],
        help="list the server's methods",
        description="List the methods with their signatures and help, if the server "
        "offers introspection (system.listMethods, methodSignature, methodHelp).",
    )
    return parser


def _argument(text: str, raw: bool) -> object:
    if raw:
        return text
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text  # a bare word is meant as a string


def _jsonable(value: object) -> object:
    if isinstance(value, (Binary, bytes)):
        data = value.data if isinstance(value, Binary) else value
        return base64.b64encode(data).decode("ascii")
    if isinstance(value, DateTime):
        return value.value
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot show {type(value).__name__} as JSON")


def _proxy(args: argparse.Namespace) -> AsyncServerProxy:
    return AsyncServerProxy(
        args.url,
        verbose=args.verbose,
        allow_none=args.allow_none,
        allow_i8=args.allow_i8,
        timeout=args.timeout,
        unix_socket=args.unix_socket,
        profile=args.profile,
        token=args.token,
    )


async def _call(args: argparse.Namespace) -> None:
    params = [_argument(text, args.raw) for text in args.args]
    async with _proxy(args) as proxy:
        result = await getattr(proxy, args.method)(*params)
    if args.format == "repr":
        pprint.pprint(result)
    else:
        print(json.dumps(result, default=_jsonable, indent=2, ensure_ascii=False))


async def _methods(args: argparse.Namespace) -> None:
    async with _proxy(args) as proxy:
        names = await proxy.system.listMethods()
        if not isinstance(names, list):
            raise ResponseError(f"system.listMethods returned {names!r:.80}, not a list")
        for name, (signatures, help_text) in zip(names, await _describe(proxy, names), strict=True):
            print(f"{name}{_signatures(signatures)}")
            if isinstance(help_text, str):
                for line in help_text.strip().splitlines():
                    print(f"    {line.strip()}")


async def _describe(proxy: AsyncServerProxy, names: list[str]) -> list[tuple[object, object]]:
    """Each method's signatures and help: in multicalls if the server has them."""
    multicall = MultiCall(proxy)
    for name in names:
        multicall.system.methodSignature(name)
        multicall.system.methodHelp(name)
    results: list[object]
    try:
        results = await multicall(return_exceptions=True, chunk_size=250, fallback=True)
    except (Fault, ResponseError):
        # No usable multicall, or a reply it cannot read: one call at a time, each failure
        # only hiding that method's details.
        results = []
        for name in names:
            for method in (proxy.system.methodSignature, proxy.system.methodHelp):
                try:
                    results.append(await method(name))
                except (Fault, ResponseError) as exc:
                    results.append(exc)
    return list(zip(results[0::2], results[1::2], strict=True))


def _signatures(signatures: object) -> str:
    # Introspection's answer: a list of [return type, parameter types...] lists, or a
    # string ("undef", "signatures not supported") when the server does not know.
    if not isinstance(signatures, list) or not signatures:
        return ""
    return "  " + " | ".join(
        f"{sig[0]} ({', '.join(map(str, sig[1:]))})" if isinstance(sig, list) and sig else str(sig)
        for sig in signatures
    )


async def _demo(args: argparse.Namespace) -> None:
    from ._demo import ExampleServer, run_tour

    if args.url:
        await run_tour(args.url, sys.stdout)
        return
    with ExampleServer() as server:
        print(f"Example server listening on {server.url}")
        await run_tour(server.url, sys.stdout)
    print("\nThe tour is over: every step above ran against a live server.")


def _serve(args: argparse.Namespace) -> None:
    from ._demo import ExampleServer

    server = ExampleServer(args.host, args.port)
    print(f"Serving the example service on {server.url} (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("Exiting")
    finally:
        server.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "serve-example":
            _serve(args)
        elif args.command == "demo":
            asyncio.run(_demo(args))
        elif args.command == "profiles":
            for name, profile in sorted(PROFILES.items()):
                print(f"{name:16} {profile.description}")
        elif args.command == "call":
            asyncio.run(_call(args))
        else:
            asyncio.run(_methods(args))
    except Fault as fault:
        print(f"Fault {fault.faultCode}: {fault.faultString}", file=sys.stderr)
        return EXIT_FAULT
    except (Error, OSError, TypeError, ValueError, OverflowError) as exc:
        message = redact_url(str(exc)) if "://" in str(exc) else str(exc)
        print(f"error: {type(exc).__name__}: {message}", file=sys.stderr)
        return EXIT_ERROR
    return 0
