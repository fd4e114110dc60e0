"""The fast paths of engine/http_client.py (and of engine/compat/httpx_fast.py
and yarl_fast.py under it) against httpx's and yarl's own behaviour."""

from __future__ import annotations

import json
import random

import httpx
import pytest
from flowdesk.engine.compat import httpx_fast, yarl_fast
from flowdesk.engine.compat.httpx_fast import parse_url, read_response
from flowdesk.engine.compat.yarl_fast import _ORIGIN_PROPERTIES, yarl_url
from flowdesk.engine.expressions import to_text
from flowdesk.engine.http_client import _sent_headers, make_http_client
from flowdesk.engine.nodes.builtin.http_parts import json_body, response_headers
from yarl import URL

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
    ours = read_response(200, raw, body, request, {"reason_phrase": b"OK"})
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


# ------------------------------------------------- build_request's templates
def _request_state(request: httpx.Request) -> tuple[object, ...]:
    return (
        type(request),
        request.method,
        request.url._uri_reference,
        request.headers._list,
        request.headers._encoding,
        request.extensions,
        request.read(),
        type(request.stream),
        b"".join(request.stream),  # type: ignore[arg-type]
    )


BUILD_URLS = [
    "http://127.0.0.1:8080/item/17",
    "https://Example.COM:443/a?x=1",
    "http://user:pw@host:8000/p",
    "http://[::1]:99/v6",
    "http://bücher.de/x#frag",
]
BUILD_HEADERS: list[dict[str, str] | None] = [
    None,
    {},
    {"X-Api": "k1"},
    {"user-agent": "mine", "ACCEPT": "text/plain"},
    {"Host": "other.example"},
    {"Content-Length": "7"},
    {"Transfer-Encoding": "chunked"},
    {"Content-Type": "application/json", "Idempotency-Key": "abc"},
    {"X-A": "1", "x-a": "2"},
]


@pytest.mark.parametrize("method", ["GET", "get", "POST", "PUT", "PATCH", "DELETE", "HEAD"])
async def test_build_request_matches_httpx(method: str) -> None:
    client = make_http_client(shared_pool=False)
    timeouts: list[object] = [httpx.USE_CLIENT_DEFAULT, None, 5.0, httpx.Timeout(None)]
    try:
        for url in BUILD_URLS:
            for headers in BUILD_HEADERS:
                for content in (None, b"", b"abc", b"x" * 1000):
                    for round_, timeout in enumerate(timeouts):
                        # Values change between rounds: the template is per
                        # shape, the values are the request's own.
                        values = (
                            {k: f"{v}-{round_}" for k, v in headers.items()}
                            if headers is not None
                            else None
                        )
                        for target in (url, parse_url(url)):
                            ours = client.build_request(
                                method, target, headers=values, content=content, timeout=timeout
                            )
                            theirs = httpx.AsyncClient.build_request(
                                client, method, target, headers=values, content=content,
                                timeout=timeout,
                            )  # fmt: skip
                            assert _request_state(ours) == _request_state(theirs), (
                                method,
                                url,
                                values,
                                content,
                            )
        assert client._templates  # type: ignore[attr-defined]
    finally:
        await client.aclose()


async def test_build_request_follows_client_changes() -> None:
    client = make_http_client(shared_pool=False)
    url = "http://host.local/x"
    try:
        for change in (
            lambda: client.headers.update({"X-Client": "1"}),
            lambda: client.headers.__setitem__("User-Agent", "other"),
            lambda: setattr(client, "headers", {"Accept": "a/b"}),
            lambda: setattr(client, "timeout", httpx.Timeout(3.0)),
            lambda: client.cookies.set("session", "s1", domain="host.local"),
            lambda: setattr(client, "params", {"p": "1"}),
        ):
            change()
            for headers in (None, {"X-Api": "k"}):
                ours = client.build_request("GET", url, headers=headers)
                theirs = httpx.AsyncClient.build_request(client, "GET", url, headers=headers)
                assert _request_state(ours) == _request_state(theirs)
        assert client.build_request("GET", url).headers["Cookie"] == "session=s1"
        assert client.build_request("GET", url).url.params["p"] == "1"
    finally:
        await client.aclose()


async def test_build_request_slow_paths_and_errors_match_httpx() -> None:
    client = make_http_client(shared_pool=False)
    client.base_url = httpx.URL("http://base.example/api/")
    try:
        cases: list[dict[str, object]] = [
            {"url": "relative/path"},
            {"url": "http://h/x", "params": {"q": "1"}},
            {"url": "http://h/x", "json": {"a": 1}},
            {"url": "http://h/x", "content": "text body"},
            {"url": "http://h/x", "headers": [("X-A", "1"), ("X-A", "2")]},
            {"url": "http://h/x", "headers": httpx.Headers({"X-B": "1"})},
            {"url": "http://h/x", "cookies": {"c": "1"}},
            {"url": "http://h/x", "extensions": {"trace": None}},
        ]
        for kwargs in cases:
            url = kwargs.pop("url")
            ours = client.build_request("POST", url, **kwargs)  # type: ignore[arg-type]
            theirs = httpx.AsyncClient.build_request(client, "POST", url, **kwargs)  # type: ignore[arg-type]
            assert _request_state(ours)[:7] == _request_state(theirs)[:7]
        for _ in range(2):  # first through httpx, then through the template
            for bad in ({"X-A": "é"}, {"X-A": 1}, {"é": "1"}):
                with pytest.raises(Exception) as theirs_error:
                    httpx.AsyncClient.build_request(client, "GET", "http://h/x", headers=bad)
                with pytest.raises(theirs_error.type, match=str(theirs_error.value)[:20]):
                    client.build_request("GET", "http://h/x", headers=bad)
            client.build_request("GET", "http://h/x", headers={"X-A": "ok"})
        with pytest.raises(httpx.InvalidURL):
            httpx.AsyncClient.build_request(client, "GET", "http://h:abc/x")
        with pytest.raises(httpx.InvalidURL):
            client.build_request("GET", "http://h:abc/x")
    finally:
        await client.aclose()


def test_fast_request_is_an_ordinary_request() -> None:
    client = make_http_client(shared_pool=False)
    for _ in range(2):
        request = client.build_request("POST", "http://h/x", headers={"X-A": "1"}, content=b"ab")
    request.headers["X-A"] = "2"  # a request's headers are its own
    request.url = request.url.copy_set_param("k", "v")
    again = client.build_request("POST", "http://h/x", headers={"X-A": "1"}, content=b"ab")
    assert again.headers["X-A"] == "1"
    assert str(again.url) == "http://h/x"
    assert repr(request) == "<Request('POST', 'http://h/x?k=v')>"
    assert request.headers["content-length"] == "2"


@pytest.mark.parametrize(
    "raw",
    [
        [],
        [(b"Content-Type", b"application/json"), (b"Content-Length", b"8")],
        [(b"Set-Cookie", b"a=1"), (b"set-cookie", b"b=2"), (b"X-Latin", "é".encode("latin-1"))],
        [(b"X-Utf8", "é".encode())],
    ],
)
async def test_read_response_state_matches_a_read_httpx_response(
    raw: list[tuple[bytes, bytes]],
) -> None:
    request = httpx.Request("GET", "http://host/x")
    body = b'{"a": 1}'
    ours = read_response(200, tuple(raw), body, request, {"http_version": b"HTTP/1.1"})
    theirs = httpx.Response(
        200,
        headers=raw,
        stream=httpx.ByteStream(body),
        request=request,
        extensions={"http_version": b"HTTP/1.1"},
    )
    await theirs.aread()
    mine, reference = vars(ours), vars(theirs)
    reference.pop("_decoder")  # created by the read loop, lazily by ours
    assert mine.keys() == reference.keys()
    for name in mine:
        if name in ("headers", "stream"):
            continue
        assert mine[name] == reference[name], name
    assert ours.headers._list == theirs.headers._list
    assert ours.headers.encoding == theirs.headers.encoding
    assert ours.headers.get_list("set-cookie") == theirs.headers.get_list("set-cookie")
    assert ours.text == theirs.text


def test_sent_headers_decode_like_httpx_and_are_cached() -> None:
    cache: dict[tuple[object, ...], object] = {}
    for headers in (
        httpx.Headers({"Host": "h", "Accept": "*/*"}),
        httpx.Headers([(b"X-Latin", "é".encode("latin-1"))]),
        httpx.Headers([(b"X-Utf8", "é".encode())]),
        httpx.Headers({"X-A": "1"}, encoding="latin-1"),
    ):

        def decoded(h: httpx.Headers) -> list[tuple[str, str]]:
            enc = httpx.Headers(h, encoding=h._encoding).encoding
            return [(k.decode(enc), v.decode(enc)) for k, v in h.raw]

        twin = httpx.Headers(headers)
        expected, twin_expected = decoded(headers), decoded(twin)
        assert list(_sent_headers(headers, cache).items()) == expected  # type: ignore[arg-type]
        size = len(cache)
        again = _sent_headers(twin, cache)  # type: ignore[arg-type]
        assert list(again.items()) == twin_expected
        assert twin._encoding == httpx.Headers(twin).encoding  # as httpx's property leaves it
        with pytest.raises(TypeError):
            again["X-New"] = "1"  # type: ignore[index]
        # Same encoding: from the cache; an explicit other encoding: its own entry.
        assert len(cache) == size + (headers._encoding == "latin-1")


@pytest.mark.parametrize(
    "raw",
    [
        [],
        [(b"Content-Type", b"application/json"), (b"X-Dup", b"1"), (b"x-dup", b"2")],
        [(b"Set-Cookie", b"a=1"), (b"set-cookie", b"b=2")],
        [(b"X-Latin", "é".encode("latin-1")), (b"X-A", b"1")],
        [(b"X-Utf8", "é".encode()), (b"X-A", b"1")],
    ],
)
def test_output_headers_match_httpx_decoding(raw: list[tuple[bytes, bytes]]) -> None:
    def expected(reference: httpx.Headers) -> dict[str, str]:
        out: dict[str, str] = {}
        for name, value in reference.multi_items():
            if name in out:
                out[name] += ("\n" if name == "set-cookie" else ", ") + value
            else:
                out[name] = value
        return out

    headers, reference = httpx.Headers(raw), httpx.Headers(raw)
    assert response_headers(headers) == expected(reference)
    assert headers._encoding == reference.encoding
    explicit = httpx.Headers(raw, encoding="latin-1")
    assert response_headers(explicit) == expected(httpx.Headers(raw, encoding="latin-1"))


@pytest.mark.parametrize(
    "value", [0, 7, -12, 10**30, True, False, None, 1.5, float("nan"), "s", [1, "é"], {"a": 1}]
)
def test_to_text_matches_json(value: object) -> None:
    expected = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    assert to_text(value) == expected


# ------------------------------------------------------------------ yarl_url
_YARL_PROPERTIES = (
    *_ORIGIN_PROPERTIES,
    "raw_path",
    "path",
    "raw_query_string",
    "query_string",
    "raw_path_qs",
    "path_qs",
    "raw_fragment",
    "fragment",
    "raw_parts",
    "name",
)


@pytest.mark.parametrize(
    "text",
    [
        *URLS,
        "https://user:pa%20ss@example.com:8443/a/b?x=1&y=%20#frag",
        "https://EXAMPLE.com:443/a",
        "http://example.com./x",
        "http://u@h/p",
        "https://h:1/?a=b#c",
        "http://[::1]/",
    ],
)
def test_yarl_url_is_what_yarl_parses(text: str) -> None:
    """aiohttp gets the same URL, every property included, as from a parse."""
    for url in (httpx.URL(text), parse_url(text)):
        ours, theirs = yarl_url(url), URL(str(url), encoded=True)
        assert ours == theirs and hash(ours) == hash(theirs) and str(ours) == str(theirs)
        assert ours.origin() == theirs.origin()
        for name in _YARL_PROPERTIES:
            assert getattr(ours, name) == getattr(theirs, name), name
        # a second URL of the same origin gets its own path and query
        other = url.copy_with(path="/other", query=b"k=v")
        assert yarl_url(other) == URL(str(other), encoded=True)
        assert yarl_url(other).raw_path_qs == "/other?k=v"


async def test_cookies_a_server_sets_are_sent_on_later_requests(peer: Peer) -> None:
    """The template path of build_request steps aside once the client holds a cookie."""
    client = make_http_client(shared_pool=False)
    try:
        first = await client.get(f"{peer.url}/echo")
        assert json.loads(first.content)["cookies"] == {}
        client.cookies.set("session", "s1", domain="127.0.0.1")
        echoed = json.loads((await client.get(f"{peer.url}/echo")).content)
        assert echoed["cookies"] == {"session": "s1"}
        client.cookies.clear()
        echoed = json.loads((await client.get(f"{peer.url}/echo")).content)
        assert echoed["cookies"] == {}
    finally:
        await client.aclose()


@pytest.mark.parametrize(
    "data",
    [
        b'{"a": [1, 2.5, null, true]}',
        b"  [1, 2]  ",
        b"7",
        b"12",
        rb'"\u00e9"',
        '{"é": "ü"}'.encode(),
        '{"a": 1}'.encode("utf-16-le"),
        '{"a": 1}'.encode("utf-16-be"),
        '{"a": 1}'.encode("utf-16"),
        '{"a": 1}'.encode("utf-32"),
        '{"a": 1}'.encode("utf-8-sig"),
        "[]".encode("utf-16-le"),
        b"\x001",
    ],
)
def test_json_body_reads_like_json_loads_of_bytes(data: bytes) -> None:
    try:
        expected = json.loads(data)
    except ValueError as exc:
        with pytest.raises(type(exc)):
            json_body(data)
    else:
        assert json_body(data) == expected


def test_yarl_url_parses_when_yarl_is_laid_out_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yarl_fast, "_YARL_LAYOUT", False)
    origins: yarl_fast.YarlOrigins = {}
    url = httpx.URL("http://127.0.0.1:9/item/1?x=2")
    assert yarl_url(url, origins) == URL(str(url), encoded=True)
    assert origins == {("http", "127.0.0.1", 9): yarl_fast._PARSE}


def test_urls_with_a_password_stay_out_of_the_url_caches() -> None:
    text = "https://user:s3cret@example.com/a?b=1"
    origins: httpx_fast.Origins = {}
    yarl_origins: yarl_fast.YarlOrigins = {}
    url = parse_url(text, origins)
    assert url == httpx.URL(text)
    assert yarl_url(url, yarl_origins) == URL(str(url), encoded=True)
    assert "s3cret" not in repr(origins) + repr(yarl_origins)


async def test_each_client_keeps_its_own_url_caches(peer: Peer) -> None:
    """Two clients (two runs, two engines) share no parsed origins: what one
    worked out is not in the other's caches."""
    first, second = make_http_client(), make_http_client()
    try:
        response = await first.get(f"{peer.url}/echo")
        assert response.status_code == 200
        assert first._origins and first._transport._origins  # type: ignore[attr-defined]
        assert not second._origins  # type: ignore[attr-defined]
        assert not second._transport._origins  # type: ignore[attr-defined]
    finally:
        await first.aclose()
        await second.aclose()
