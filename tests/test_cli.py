"""The command line, in-process for the commands and as a real subprocess for the demo."""

from __future__ import annotations

import json
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.parse
import xmlrpc.client

import pytest

from aioxmlrpc._cli import main
from aioxmlrpc._demo import ExampleServer


def test_call_prints_json(
    example_server: ExampleServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["call", example_server.url, "show_type", '{"a": [1, 2.5]}']) == 0
    out = json.loads(capsys.readouterr().out)
    assert out == ["{'a': [1, 2.5]}", "<class 'dict'>", {"a": [1, 2.5]}]


def test_bare_words_and_raw_arguments_are_strings(
    example_server: ExampleServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["call", example_server.url, "show_type", "hello"]) == 0
    assert json.loads(capsys.readouterr().out)[1] == "<class 'str'>"
    assert main(["call", "--raw", example_server.url, "show_type", "42"]) == 0
    assert json.loads(capsys.readouterr().out) == ["42", "<class 'str'>", "42"]


def test_null_needs_allow_none(
    example_server: ExampleServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["call", example_server.url, "show_type", "null"]) == 2
    assert "allow_none" in capsys.readouterr().err
    assert main(["call", "--allow-none", example_server.url, "show_type", "null"]) == 0
    assert json.loads(capsys.readouterr().out)[2] is None


def test_repr_format_and_unjsonable_values(
    example_server: ExampleServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["call", example_server.url, "now", "--format", "repr"]) == 0
    assert "<DateTime '" in capsys.readouterr().out
    assert main(["call", example_server.url, "now"]) == 0
    assert json.loads(capsys.readouterr().out).startswith("20")


def test_a_fault_exits_1_with_code_and_message(
    example_server: ExampleServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["call", example_server.url, "raises_exception", "bad"]) == 1
    captured = capsys.readouterr()
    assert captured.err.strip() == "Fault 1: <class 'RuntimeError'>:bad"
    assert "Traceback" not in captured.err


def test_a_transport_error_exits_2_without_a_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert main(["call", f"http://u:pw9@127.0.0.1:{port}", "ping", "--timeout", "5"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ConnectionRefused: cannot connect to http://u:***@127.0.0.1:")
    assert err.rstrip().endswith(": Connection refused")
    assert "pw9" not in err
    assert "Traceback" not in err


def test_a_bad_url_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["call", "ftp://example.com", "ping"]) == 2
    assert "unsupported XML-RPC protocol" in capsys.readouterr().err


def test_methods_lists_signatures_and_help(
    example_server: ExampleServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["methods", example_server.url]) == 0
    out = capsys.readouterr().out
    assert "show_type" in out
    assert "Illustrates how types are passed" in out
    assert "system.multicall" in out


def test_verbose_call(example_server: ExampleServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["call", "--verbose", example_server.url, "ping"]) == 0
    out = capsys.readouterr().out
    assert "send: b'POST /RPC2 HTTP/1.1" in out
    assert out.rstrip().endswith("true")


def test_help_everywhere(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["--help"], ["call", "--help"], ["methods", "--help"], ["demo", "--help"]):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 0
        assert "usage: aioxmlrpc" in capsys.readouterr().out


def test_the_demo_command_runs_the_whole_tour() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "aioxmlrpc", "demo"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    out = done.stdout
    for number in range(1, 14):
        assert f"== {number}. " in out
    assert "Ping: True" in out
    assert "ERROR: cannot marshal None unless allow_none is enabled" in out
    assert "ERROR: not well-formed (invalid token): line 6, column 55" in out
    assert "ERROR: <Fault 1: \"<class 'RuntimeError'>:Next to last call stops execution\">" in out
    assert out.rstrip().endswith("every step above ran against a live server.")


def test_serve_example_serves_until_stopped() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with subprocess.Popen(
        [sys.executable, "-m", "aioxmlrpc", "serve-example", "--port", str(port)],
        stdout=subprocess.PIPE,
        text=True,
    ) as server:
        try:
            assert server.stdout is not None
            line = server.stdout.readline()
            assert f"http://127.0.0.1:{port}/RPC2" in line
            assert main(["call", f"http://127.0.0.1:{port}", "ping"]) == 0
        finally:
            server.terminate()
            server.wait(timeout=10)


def test_big_integers_exit_2_or_go_as_i8(
    example_server: ExampleServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["call", example_server.url, "show_type", "9999999999"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: OverflowError: int exceeds XML-RPC limits")
    # Sent as <i8>; the stdlib server reads it, then cannot send it back: its Fault.
    assert main(["call", "--allow-i8", example_server.url, "show_type", "9999999999"]) == 1
    assert "int exceeds XML-RPC limits" in capsys.readouterr().err


def test_the_demo_in_process_against_a_given_server(
    example_server: ExampleServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--url", example_server.url]) == 0
    out = capsys.readouterr().out
    assert "== 13. A fault inside a MultiCall ==" in out
    assert "From pickle:" in out
    assert "With: " in out
    assert "Without: " in out


def test_the_example_server_is_quiet_about_clients_that_hang_up(
    capfd: pytest.CaptureFixture[str],
) -> None:
    # A client that times out or is cancelled leaves the server writing to a closed
    # socket: routine under load, so no traceback on the server's stderr.
    body = xmlrpc.client.dumps(("x" * (4 << 20),), "show_type").encode()
    with ExampleServer() as server:
        url = urllib.parse.urlsplit(server.url)
        host, port = url.hostname or "", url.port
        threads = threading.active_count()
        for _ in range(3):
            with socket.create_connection((host, port), timeout=10) as sock:
                sock.sendall(
                    b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
                )
                # Close with a reset, before the reply is read.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        deadline = time.monotonic() + 20
        while threading.active_count() > threads and time.monotonic() < deadline:
            time.sleep(0.05)  # the handlers finish writing to the closed sockets
        assert threading.active_count() == threads
        assert xmlrpc.client.ServerProxy(server.url).ping() is True
    assert "Traceback" not in capfd.readouterr().err
