"""engine/compat/aiohttp_fast.py against a real aiohttp server on 127.0.0.1:
``send`` is ``session.request`` minus its wrapper, and ``NoCookieJar`` keeps
none of the cookies a server sets."""

from __future__ import annotations

import importlib.metadata
import inspect
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from flowdesk.engine.compat.aiohttp_fast import NoCookieJar, send
from yarl import URL

CHECKED = "engine/compat/aiohttp_fast.py (checked against aiohttp 3.14.5)"


def test_the_session_still_has_the_private_request_coroutine() -> None:
    version = importlib.metadata.version("aiohttp")
    request = getattr(aiohttp.ClientSession, "_request", None)
    assert inspect.iscoroutinefunction(request), (
        f"aiohttp {version}: ClientSession._request is gone; update {CHECKED}"
    )
    parameters = inspect.signature(request).parameters
    for name in ("headers", "data", "allow_redirects", "timeout", "server_hostname"):
        assert name in parameters, f"aiohttp {version}: _request takes no {name}=; {CHECKED}"


@pytest.fixture
async def server() -> AsyncIterator[URL]:
    async def echo(request: web.Request) -> web.Response:
        body = await request.read()
        response = web.json_response(
            {"method": request.method, "cookie": request.headers.get("Cookie"), "body": len(body)}
        )
        response.set_cookie("session", "s1")
        return response

    app = web.Application()
    app.router.add_route("*", "/echo", echo)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield URL(f"http://127.0.0.1:{port}/echo")
    await runner.cleanup()


async def test_send_is_a_request_and_no_cookie_is_kept(server: URL) -> None:
    async with aiohttp.ClientSession(cookie_jar=NoCookieJar()) as session:
        for _ in range(2):
            response = await send(
                session,
                "POST",
                server,
                data=b"abc",
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=30),
            )
            try:
                assert response.status == 200
                assert "session=s1" in response.headers["Set-Cookie"]
                # the cookie set by the first answer is not sent with the second
                assert await response.json() == {"method": "POST", "cookie": None, "body": 3}
            finally:
                response.release()
        assert len(session.cookie_jar) == 0
