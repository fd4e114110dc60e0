"""engine/compat/httpx_fast.py: the httpx internals it relies on are still
there, in the shape it expects. On an httpx upgrade these fail first, each
naming what moved; tests/http/test_http_client.py then compares results."""

from __future__ import annotations

import importlib.metadata
from typing import Any

import httpx
import pytest
from flowdesk.engine.compat import httpx_fast

CHECKED = "engine/compat/httpx_fast.py (checked against httpx 0.28.1)"


def need(owner: Any, name: str) -> Any:
    """``owner.name``, or a failure saying which private part of httpx is gone."""
    if not hasattr(owner, name):
        version = importlib.metadata.version("httpx")
        pytest.fail(f"httpx {version}: {owner!r} has no {name!r} any more; update {CHECKED}")
    return getattr(owner, name)


def test_the_private_modules_and_names_are_there() -> None:
    import httpx._client
    import httpx._models
    import httpx._urlparse

    state = need(httpx._client, "ClientState")
    assert {"UNOPENED", "OPENED", "CLOSED"} <= set(state.__members__), CHECKED
    need(httpx._client, "UseClientDefault")
    assert httpx_fast.ClientState is state
    key = need(httpx._models, "_normalize_header_key")
    value = need(httpx._models, "_normalize_header_value")
    assert key("X-A", None) == b"X-A" and value("v", None) == b"v", CHECKED
    parts = need(httpx._urlparse, "ParseResult")
    assert parts._fields == (
        "scheme",
        "userinfo",
        "host",
        "port",
        "path",
        "query",
        "fragment",
    ), CHECKED


def test_a_url_keeps_its_parsed_parts() -> None:
    url = httpx.URL("https://user@Example.com:8443/a/b?x=1#f")
    ref = need(url, "_uri_reference")
    assert isinstance(ref, httpx_fast.ParseResult), CHECKED
    assert httpx_fast.url_parts(url) is ref
    assert (ref.scheme, ref.host, ref.port, ref.path, ref.query) == (
        "https",
        "example.com",
        8443,
        "/a/b",
        "x=1",
    )


def test_headers_keep_raw_entries_and_a_lazy_encoding() -> None:
    headers = httpx.Headers({"X-A": "1"})
    assert need(headers, "_list") == [(b"X-A", b"x-a", b"1")], CHECKED
    assert need(headers, "_encoding") is None, CHECKED
    assert httpx_fast.header_entries(headers) is headers._list
    assert httpx_fast.known_encoding(headers) is None
    assert headers.encoding == "ascii"  # working it out stores it
    assert httpx_fast.known_encoding(headers) == "ascii"
    other = httpx.Headers({"X-B": "2"})
    httpx_fast.remember_encoding(other, "latin-1")
    assert other.encoding == "latin-1"


async def test_read_content_is_the_body_once_read_and_none_before() -> None:
    request = httpx.Request("POST", "http://host/x", content=b"abc")
    assert httpx_fast.read_content(request) == b"abc"
    streamed = httpx.Response(200, stream=httpx.ByteStream(b"body"))
    assert httpx_fast.read_content(streamed) is None
    await streamed.aread()
    assert httpx_fast.read_content(streamed) == b"body"
    stream = httpx.ByteStream(b"x")
    assert need(stream, "_stream") == b"x", CHECKED


def test_the_client_has_the_private_parts_send_direct_uses() -> None:
    client = httpx.AsyncClient()
    for name in (
        "_auth",
        "_event_hooks",
        "_state",
        "_mounts",
        "_transport",
        "_params",
        "_headers",
        "_cookies",
        "_default_encoding",
        "_set_timeout",
        "_transport_for_url",
        "_build_redirect_request",
    ):
        need(client, name)
    assert set(client._event_hooks) == {"request", "response"}, CHECKED
    assert client._state == httpx_fast.ClientState.UNOPENED, CHECKED
    # the cookie jar's store (stdlib's ``CookieJar._cookies``): empty, no cookie
    assert need(client.cookies.jar, "_cookies") == {}, CHECKED


async def test_the_fast_client_sends_through_its_transport() -> None:
    """``HttpClient``'s template path and ``send_direct``, end to end on a
    transport that answers in process (httpx's own ``MockTransport``)."""
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"path": request.url.path})

    client = httpx_fast.HttpClient(transport=httpx.MockTransport(answer))
    try:
        for _ in range(2):  # the second request is built from the template
            request = client.build_request("POST", "http://host/p?q=1", content=b"x")
            response = await client.send_direct(request)
            await response.aread()
            assert response.json() == {"path": "/p"}
        assert [r.headers["content-length"] for r in seen] == ["1", "1"]
        assert seen[0].headers.raw == seen[1].headers.raw
    finally:
        await client.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await client.send_direct(client.build_request("GET", "http://host/"))
