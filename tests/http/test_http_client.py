"""The fast paths of engine/http_client.py against httpx's own behaviour."""

from __future__ import annotations

import random

import httpx
import pytest

from engine.http_client import _read_response, make_http_client, parse_url
from tests.http.peer import Peer

URLS = [
    "http://127.0.0.1:8080/item/17",
    "HTTP://Example.COM/a/b?x=1&y=%2F",
    "https://user:pw@host.io:443/path",
    "http://host:80/p?",
    "http://host/p?q=a?b/c",
    "http://[::1]:99/v6",
    "http://bücher.de/x",
    "http://host/a/./b",
    "http://host/a/../b",
    "http://host/.well-known/x",
    "http://host/a%zz",
    "http://host/a%2fb%7E",
    "http://host/a b",
    "http://host/a#frag",
    "http://host/é?q=é",
    "http://host/[x]",
    "http://host",
    "http://host?x=1",
]


@pytest.mark.parametrize("text", URLS)
def test_parse_url_matches_httpx(text: str) -> None:
    ours, theirs = parse_url(text), httpx.URL(text)
    assert ours == theirs
    assert str(ours) == str(theirs)
    assert ours.raw_path == theirs.raw_path
    assert (ours.scheme, ours.host, ours.port, ours.query) == (
        theirs.scheme,
        theirs.host,
        theirs.port,
        theirs.query,
    )


def test_parse_url_fuzz_matches_httpx() -> None:
    alphabet = "aZ09-._~!$&'()*+,;=:@/%?#[] \t\"<>\\^`{|}éA"
    origins = ["http://127.0.0.1:8080", "HTTP://Ex.COM", "https://u:p@h.io:443", "http://h:80"]
    origins += ["http://h:99999", "http://h:", "http://a b", "https://[::1]:9"]
    rng = random.Random(3)
    for _ in range(20_000):
        tail = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        text = rng.choice(origins) + ("/" + tail if rng.random() < 0.7 else tail)
        try:
            expected: httpx.URL | type[Exception] = httpx.URL(text)
        except (httpx.InvalidURL, ValueError) as exc:
            expected = type(exc)
        try:
            got: httpx.URL | type[Exception] = parse_url(text)
        except (httpx.InvalidURL, ValueError) as exc:
            got = type(exc)
        if isinstance(expected, httpx.URL):
            assert isinstance(got, httpx.URL), text
            assert got._uri_reference == expected._uri_reference, text
        else:
            assert got is expected, text


async def test_read_response_matches_httpx_read_response() -> None:
    request = httpx.Request("GET", "http://host/x")
    raw = [(b"Content-Type", b"application/json"), (b"Content-Length", b"8")]
    body = b'{"a": 1}'
    ours = _read_response(200, raw, body, request, {"reason_phrase": b"OK"})
    theirs = httpx.Response(200, headers=raw, content=body, request=request)
    assert ours.is_closed and ours.is_stream_consumed
    assert (ours.is_closed, ours.is_stream_consumed) == (
        theirs.is_closed,
        theirs.is_stream_consumed,
    )
    assert ours.headers == theirs.headers
    assert ours.content == theirs.content == body
    assert ours.json() == {"a": 1}
    assert ours.num_bytes_downloaded == len(body)
    assert ours.reason_phrase == "OK"
    assert b"".join([chunk async for chunk in ours.aiter_bytes()]) == body
    assert await ours.aread() == body
    await ours.aclose()


async def test_send_direct_sets_next_request_and_keeps_cookies(peer: Peer) -> None:
    client = make_http_client(shared_pool=False)
    send_direct = client.send_direct  # type: ignore[attr-defined]
    try:
        request = client.build_request(
            "POST", f"{peer.url}/redirect?status=303&to=/echo", content=b"x"
        )
        response = await send_direct(request)
        await response.aclose()
        assert response.status_code == 303
        assert response.request is request
        assert response.next_request is not None
        assert response.next_request.method == "GET"
        assert str(response.next_request.url) == f"{peer.url}/echo"
        response = await send_direct(client.build_request("GET", f"{peer.url}/echo"))
        try:
            assert response.status_code == 200
            assert response.next_request is None
            assert (await response.aread()) != b""
        finally:
            await response.aclose()
    finally:
        await client.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await send_direct(httpx.Request("GET", f"{peer.url}/echo"))


async def test_send_direct_falls_back_to_send_with_event_hooks(peer: Peer) -> None:
    seen: list[str] = []

    async def hook(request: httpx.Request) -> None:
        seen.append(str(request.url))

    client = make_http_client(shared_pool=False)
    client.event_hooks = {"request": [hook], "response": []}
    try:
        response = await client.send_direct(  # type: ignore[attr-defined]
            client.build_request("GET", f"{peer.url}/echo")
        )
        await response.aread()
        await response.aclose()
    finally:
        await client.aclose()
    assert seen == [f"{peer.url}/echo"]
