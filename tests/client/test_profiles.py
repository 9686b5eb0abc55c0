"""Profiles: the Profile object, custom profiles, and the servers that cannot run here.

WordPress, Odoo and koji cannot be installed on this machine, so their profiles are
tested against recorded exchanges replayed by a small aiohttp server: each reply is the
bytes such a server sends (the layout of WordPress's IXR library, Odoo's and koji's
``xmlrpc.client.dumps``), with the junk, versions and fault codes their users report.
The server also keeps each request, so that what the profile sends is checked too.
"""

from __future__ import annotations

import dataclasses
import logging
import warnings
import xmlrpc.client
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from xml.parsers.expat import ExpatError

import pytest
from aiohttp import web

from aioxmlrpc import (
    AsyncServerProxy,
    Fault,
    MalformedXML,
    MultiCall,
    Profile,
    ResponseError,
)
from aioxmlrpc.codec import encode_response
from aioxmlrpc.profiles import (
    KOJI,
    PROFILES,
    KojiAuthError,
    KojiError,
    KojiParameterError,
    get_profile,
)

TIMEOUT = 5.0


# -- the replaying server ---------------------------------------------------------------------


@dataclass
class Replay:
    """A server that answers each method with its recorded reply (a body, or body pieces)."""

    replies: dict[str, bytes | list[bytes]]
    url: str = ""
    requests: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)

    def last(self) -> tuple[str, tuple[Any, ...]]:
        return self.requests[-1]


@pytest.fixture
async def replay() -> AsyncIterator[Replay]:
    state = Replay({})

    async def handle(request: web.Request) -> web.StreamResponse:
        params, method = xmlrpc.client.loads(await request.read(), use_builtin_types=True)
        assert method is not None
        state.requests.append((method, params))
        reply = state.replies[method]
        if isinstance(reply, bytes):
            return web.Response(body=reply, content_type="text/xml", charset="UTF-8")
        response = web.StreamResponse(headers={"Content-Type": "text/xml; charset=UTF-8"})
        await response.prepare(request)
        for piece in reply:
            await response.write(piece)
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_post("/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    state.url = f"http://127.0.0.1:{port}"
    try:
        yield state
    finally:
        await runner.cleanup()


def _ixr(value_xml: str) -> bytes:
    """A reply laid out as WordPress's IXR_Message writes it."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<methodResponse>\n  <params>\n    <param>\n'
        f"      <value>\n        {value_xml}\n      </value>\n    </param>\n  </params>\n"
        "</methodResponse>\n"
    ).encode()


def _ixr_fault(code: int, message: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<methodResponse>\n  <fault>\n    <value>\n'
        "      <struct>\n        <member>\n          <name>faultCode</name>\n"
        f"          <value><int>{code}</int></value>\n        </member>\n        <member>\n"
        "          <name>faultString</name>\n"
        f"          <value><string>{message}</string></value>\n        </member>\n"
        "      </struct>\n    </value>\n  </fault>\n</methodResponse>\n"
    ).encode()


def _py(value: Any) -> bytes:
    """A reply as Python servers write it (koji's xmlrpcplus adds <i8> to the stdlib's)."""
    return encode_response(value, allow_none=True, allow_i8=True)


def _py_fault(code: int, message: str) -> bytes:
    return xmlrpc.client.dumps(xmlrpc.client.Fault(code, message), allow_none=True).encode()


# A theme's functions.php with a blank line after "?>", and a plugin printing its CSS on
# every request: the two causes WordPress users report for "XML declaration not at start".
BLANK_LINES = b"\n\n"
STYLE_BLOCK = b'<style type="text/css">\n.wp-admin-bar { display: none; }\n</style>\n'


# -- WordPress --------------------------------------------------------------------------------


async def test_wordpress_junk_is_skipped_and_logged_once(
    replay: Replay, caplog: pytest.LogCaptureFixture
) -> None:
    replay.replies["demo.sayHello"] = BLANK_LINES + _ixr("<string>Hello!</string>")
    replay.replies["wp.getPosts"] = STYLE_BLOCK + _ixr_fault(403, "Incorrect username or password.")
    caplog.set_level(logging.WARNING, logger="aioxmlrpc")
    url = f"{replay.url}/xmlrpc.php"
    async with AsyncServerProxy(url, profile="wordpress", timeout=TIMEOUT) as wp:
        assert await wp.demo.sayHello() == "Hello!"
        with pytest.raises(Fault) as info:
            await wp.wp.getPosts(1, "editor", "wrong")
        assert (info.value.faultCode, info.value.faultString) == (
            403,
            "Incorrect username or password.",
        )
        assert await wp.demo.sayHello() == "Hello!"
    warned = [r for r in caplog.records if "bytes before the XML document" in r.getMessage()]
    assert len(warned) == 1  # once per proxy
    assert "skipped 2 bytes" in warned[0].getMessage()
    assert "profile 'wordpress' allows 4096" in warned[0].getMessage()


async def test_wordpress_junk_in_a_streamed_reply(replay: Replay) -> None:
    big = "p" * 100_000
    body = _ixr(f"<string>{big}</string>")
    replay.replies["wp.getPost"] = [STYLE_BLOCK[:10], STYLE_BLOCK[10:], body[:3], body[3:]]
    async with AsyncServerProxy(replay.url, profile="wordpress", timeout=TIMEOUT) as wp:
        assert await wp.wp.getPost(1) == big


async def test_the_standard_proxy_refuses_the_junk(replay: Replay) -> None:
    replay.replies["demo.sayHello"] = BLANK_LINES + _ixr("<string>Hello!</string>")
    async with AsyncServerProxy(replay.url, timeout=TIMEOUT) as proxy:
        with pytest.raises(MalformedXML):
            await proxy.demo.sayHello()
    with pytest.raises(ExpatError, match="not at start"):  # the stdlib refuses it too
        xmlrpc.client.loads(BLANK_LINES + _ixr("<string>Hello!</string>"))


async def test_junk_beyond_the_bound_is_refused(replay: Replay) -> None:
    replay.replies["demo.sayHello"] = b"x" * 5000 + _ixr("<string>Hello!</string>")
    replay.replies["nothing"] = b"PHP Fatal error: out of memory\n" * 10
    async with AsyncServerProxy(replay.url, profile="wordpress", timeout=TIMEOUT) as wp:
        with pytest.raises(MalformedXML):
            await wp.demo.sayHello()
        with pytest.raises(ResponseError):
            await wp.nothing()


# -- Odoo -------------------------------------------------------------------------------------

ODOO_19 = {
    "server_version": "19.0",
    "server_version_info": [19, 0, 0, "final", 0, ""],
    "server_serie": "19.0",
    "protocol_version": 1,
}
ODOO_17 = {**ODOO_19, "server_version": "17.0", "server_version_info": [17, 0, 0, "final", 0, ""]}
ODOO_SAAS = {**ODOO_19, "server_version": "saas~18.4", "server_version_info": ["saas~18", 4]}


async def test_odoo_19_is_a_deprecation_warning_once_per_proxy(replay: Replay) -> None:
    replay.replies["version"] = _py(ODOO_19)
    replay.replies["authenticate"] = _py(2)
    url = f"{replay.url}/xmlrpc/2/common"
    async with AsyncServerProxy(url, profile="odoo", timeout=TIMEOUT) as common:
        with pytest.warns(DeprecationWarning, match=r"version 19\.0\) deprecates its XML-RPC"):
            assert (await common.version())["server_version"] == "19.0"
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            await common.version()  # once per proxy
            assert await common.authenticate("db", "admin", "pw", {}) == 2
    async with AsyncServerProxy(url, profile="odoo", timeout=TIMEOUT) as again:
        with pytest.warns(DeprecationWarning, match="deprecates"):
            await again.version()  # a new proxy warns again


@pytest.mark.parametrize("info", [ODOO_17, ODOO_SAAS])
async def test_older_odoo_and_the_standard_proxy_are_silent(
    replay: Replay, info: dict[str, Any]
) -> None:
    replay.replies["version"] = _py(info)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        async with AsyncServerProxy(replay.url, profile="odoo", timeout=TIMEOUT) as common:
            assert await common.version() == info
        replay.replies["version"] = _py(ODOO_19)
        async with AsyncServerProxy(replay.url, timeout=TIMEOUT) as generic:
            await generic.version()


# -- koji -------------------------------------------------------------------------------------


async def test_koji_multicall_nil_i8_and_fault_classes(replay: Replay) -> None:
    replay.replies["getAPIVersion"] = _py(1)
    replay.replies["getTag"] = _py_fault(1000, "No such tagInfo: 'nope'")
    replay.replies["getLoggedInUser"] = _py_fault(1002, "Not logged in")
    replay.replies["echo"] = _py([None, 2**40])
    # koji's hub answers multiCall with [value] per success and a fault struct (with a
    # traceback member) per failure.
    replay.replies["multiCall"] = _py(
        [
            [1],
            {"faultCode": 1019, "faultString": "bad parameter", "traceback": "..."},
            {"faultCode": 1, "faultString": "some other error"},
        ]
    )
    url = f"{replay.url}/kojihub"
    async with AsyncServerProxy(url, profile="koji", timeout=TIMEOUT) as koji:
        assert await koji.getAPIVersion() == 1
        with pytest.raises(KojiError) as info:
            await koji.getTag("nope", True)
        assert type(info.value) is KojiError
        assert isinstance(info.value, Fault)
        assert info.value.faultString == "No such tagInfo: 'nope'"
        with pytest.raises(KojiAuthError):
            await koji.getLoggedInUser()
        assert await koji.echo(None, 2**40) == [None, 2**40]
        assert replay.last() == ("echo", (None, 2**40))  # <nil/> and <i8> sent

        multicall = MultiCall(koji)
        multicall.getAPIVersion()
        multicall.getBuild("no-such-build-1.0-1")
        multicall.other()
        version, bad, other = await multicall(return_exceptions=True)
        assert replay.last() == (
            "multiCall",
            (
                [
                    {"methodName": "getAPIVersion", "params": []},
                    {"methodName": "getBuild", "params": ["no-such-build-1.0-1"]},
                    {"methodName": "other", "params": []},
                ],
            ),
        )
        assert version == 1
        assert type(bad) is KojiParameterError
        assert type(other) is Fault  # not one of koji's codes
        results = await multicall()
        with pytest.raises(KojiParameterError, match="bad parameter"):
            results[1]


# -- custom profiles, and what a profile leaves alone -------------------------------------------


class UnknownInstance(Fault):
    """Homematic's fault -2."""


class UnknownParameter(Fault):
    """Homematic's fault -5."""


HOMEMATIC = Profile(
    "homematic",
    "Homematic CCU: its fault codes as classes",
    faults={-2: UnknownInstance, -5: UnknownParameter},
)


@dataclass(frozen=True)
class SessionProfile(Profile):
    """A server that wants a session id as the first parameter of every call."""

    session: str = ""

    def params(self, method: str, params: tuple[Any, ...], token: str | None) -> tuple[Any, ...]:
        return (self.session, *params) if not method.startswith("system.") else params


async def test_a_custom_profile_maps_fault_codes(replay: Replay) -> None:
    replay.replies["getValue"] = _py_fault(-2, "Unknown instance")
    replay.replies["putParamset"] = _py_fault(-5, "Unknown paramset")
    replay.replies["init"] = _py_fault(-1, "Generic error")
    async with AsyncServerProxy(replay.url, profile=HOMEMATIC, timeout=TIMEOUT) as ccu:
        with pytest.raises(UnknownInstance):
            await ccu.getValue("ABC0000000:1", "STATE")
        with pytest.raises(UnknownParameter):
            await ccu.putParamset("ABC0000000:1", "VALUES", {})
        with pytest.raises(Fault) as info:
            await ccu.init()
        assert type(info.value) is Fault


async def test_a_subclassed_profile_injects_its_own_parameter(replay: Replay) -> None:
    replay.replies["list"] = _py([])
    replay.replies["system.listMethods"] = _py(["list"])
    profile = SessionProfile("session", session="s-123")
    async with AsyncServerProxy(replay.url, profile=profile, timeout=TIMEOUT) as proxy:
        await proxy.list("x")
        assert replay.last() == ("list", ("s-123", "x"))
        await proxy.system.listMethods()
        assert replay.last() == ("system.listMethods", ())


async def test_the_standard_proxy_sends_exactly_the_same_bytes(replay: Replay) -> None:
    bodies: list[bytes] = []

    class Recorder:
        async def request(
            self, url: str, body: bytes, parser: Any, *, verbose: bool = False
        ) -> Any:
            bodies.append(body)
            return parser.close(_py([["ok"]]))

        async def aclose(self) -> None:
            pass

    for profile in (None, Profile("nothing")):
        proxy = AsyncServerProxy(replay.url, transport=Recorder(), profile=profile)
        await proxy.method(1, "two")
        multicall = MultiCall(proxy)
        multicall.one(1)
        assert list(await multicall()) == ["ok"]
    assert bodies[0] == bodies[2]
    assert bodies[1] == bodies[3]
    assert b"system.multicall" in bodies[1]


def test_every_shipped_profile_is_named_and_described() -> None:
    assert sorted(PROFILES) == [
        "aria2",
        "koji",
        "odoo",
        "perl-rpc-xml",
        "php-xmlrpc-epi",
        "rtorrent",
        "supervisord",
        "wordpress",
    ]
    for name, profile in PROFILES.items():
        assert profile.name == name
        assert profile.description
        assert get_profile(name) is profile
    assert get_profile(KOJI) is KOJI
    with pytest.raises(dataclasses.FrozenInstanceError):
        KOJI.allow_none = False  # type: ignore[misc]
    with pytest.raises(TypeError):
        KOJI.faults[1] = Fault  # type: ignore[index]


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"name": ""}, ValueError, "needs a name"),
        ({"token_format": "token:"}, ValueError, "must contain"),
        ({"token_user": "token"}, ValueError, "needs a token_format"),
        ({"multicall_results": "dict"}, ValueError, "must be one of"),
        ({"multicall_method": ""}, ValueError, "a method name"),
        ({"junk_before_xml": -1}, ValueError, "0 or more"),
        ({"faults": {1: ValueError}}, TypeError, "must be a Fault subclass"),
    ],
)
def test_a_profile_that_cannot_work_is_refused(
    options: dict[str, Any], error: type[Exception], message: str
) -> None:
    options.setdefault("name", "broken")
    with pytest.raises(error, match=message):
        Profile(**options)


def test_profile_and_token_mistakes_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown profile 'aria'; known: aria2, koji"):
        AsyncServerProxy("http://127.0.0.1/", profile="aria")
    with pytest.raises(TypeError, match="profile must be a name or a Profile"):
        get_profile(3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="token= given, but no profile takes a token"):
        AsyncServerProxy("http://127.0.0.1/", token="x")  # noqa: S106
    with pytest.raises(TypeError, match="profile 'koji' takes a token"):
        AsyncServerProxy("http://127.0.0.1/", profile="koji", token="x")  # noqa: S106
    with pytest.raises(TypeError, match="given twice"):
        AsyncServerProxy("http://token:a@127.0.0.1/", profile="aria2", token="b")  # noqa: S106
    with pytest.raises(TypeError, match="takes no token"):
        KOJI.token_param("x")


async def test_the_url_user_must_be_the_token_user(replay: Replay) -> None:
    replay.replies["aria2.getVersion"] = _py({"version": "1.36.0"})
    base = replay.url.removeprefix("http://")
    # Another user name: ordinary basic auth credentials, no token parameter.
    async with AsyncServerProxy(f"http://alice:pw@{base}/rpc", profile="aria2") as proxy:
        await proxy.aria2.getVersion()
        assert replay.last() == ("aria2.getVersion", ())
    async with AsyncServerProxy(f"http://token:s%40cret@{base}/rpc", profile="aria2") as proxy:
        await proxy.aria2.getVersion()
        assert replay.last() == ("aria2.getVersion", ("token:s@cret",))


def test_an_empty_list_in_multicall_results_is_no_value() -> None:
    # PHP's xmlrpc-epi answers [] for a call whose response held no <param>.
    from aioxmlrpc import MultiCallIterator

    with pytest.raises(ValueError, match="unexpected type in multicall result"):
        MultiCallIterator([[]])[0]


async def test_profiles_hold_with_hooks_and_the_token_is_hidden_from_them(replay: Replay) -> None:
    from aioxmlrpc.hooks import CallInfo, Hook

    seen: list[tuple[str, Any]] = []

    class Watch(Hook):
        def on_request(self, call: CallInfo) -> None:
            seen.append((call.method, call.params))

        def on_fault(self, call: CallInfo, fault: Fault) -> None:
            seen.append(("fault", type(fault)))

    replay.replies["getTag"] = _py_fault(1000, "No such tagInfo")
    replay.replies["multiCall"] = _py([[1]])
    replay.replies["aria2.getVersion"] = _py({"version": "1.36.0"})
    async with AsyncServerProxy(replay.url, profile="koji", hooks=[Watch()]) as koji:
        with pytest.raises(KojiError):
            await koji.getTag("nope")
        multicall = MultiCall(koji)
        multicall.getAPIVersion()
        assert list(await multicall()) == [1]
    assert seen[:3] == [("getTag", ("nope",)), ("fault", Fault), ("multiCall", ())]
    seen.clear()
    base = replay.url.removeprefix("http://")
    async with AsyncServerProxy(
        f"http://token:s3cret@{base}/rpc", profile="aria2", hooks=[Watch()]
    ) as aria2:
        await aria2.aria2.getVersion()
    assert replay.last() == ("aria2.getVersion", ("token:s3cret",))
    assert "s3cret" not in repr(seen)
