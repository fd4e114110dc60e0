"""The HTTP client a run shares: httpx's API over an aiohttp transport.

httpx's default transport is several times slower than aiohttp under
concurrency on our machine kind (bench/http_fanout.py), so the engine keeps
httpx's API and swaps the transport for ``AiohttpTransport`` below, with
aiohttp's errors mapped to the matching httpx ones (a refused connection is a
``ConnectError``, not a timeout). One client per run; by default the runs of
an event loop share their idle keep-alive connections (``_SharedPool``).
The node's hot path (``HttpClient.build_request`` from per-shape templates,
``HttpClient.send_direct``, ``parse_url``, responses built read) skips httpx's
client middleware and re-parsing; it uses private parts of httpx 0.28, which
is why pyproject pins httpx below 0.29 and tests/http/test_http_client.py
checks the results against httpx's own.
May import: httpx, aiohttp, stdlib.
"""

from __future__ import annotations

import asyncio
import os
import re
import ssl
import time
import weakref
from collections.abc import AsyncIterator
from http.cookies import SimpleCookie
from typing import Any

import aiohttp
import httpx
from httpx._client import ClientState, UseClientDefault
from httpx._models import _normalize_header_key, _normalize_header_value
from httpx._urlparse import ParseResult
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from .bus import BUS
from .metrics import METRICS

DEFAULT_LIMITS = httpx.Limits(
    max_connections=200, max_keepalive_connections=100, keepalive_expiry=30.0
)
USER_AGENT = "flowdesk/0.1 (+httpx; aiohttp)"
#: bodies up to this size (announced by Content-Length) are read at once
EAGER_BODY_BYTES = 256 * 1024
#: raw chunk size of compressed bodies (each inflates to at most ~1000x this)
COMPRESSED_CHUNK_BYTES = 4096
_PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "ws_proxy", "wss_proxy")

_ssl_context: ssl.SSLContext | None = None
_new_tuple = tuple.__new__
_new_object = object.__new__


def _default_ssl_context() -> ssl.SSLContext:
    # Building a verifying context (certifi's bundle) costs milliseconds; every
    # run makes a new client, so build it once per process.
    global _ssl_context
    if _ssl_context is None:
        _ssl_context = httpx.create_ssl_context()
    return _ssl_context


def _proxy_configured() -> bool:
    return any(os.environ.get(name) or os.environ.get(name.upper()) for name in _PROXY_VARIABLES)


class _ResponseStream(httpx.AsyncByteStream):
    """The body of an aiohttp response as an httpx stream."""

    __slots__ = ("_compressed", "_request", "_response")

    def __init__(self, response: aiohttp.ClientResponse, request: httpx.Request) -> None:
        self._response = response
        self._request = request
        self._compressed = "Content-Encoding" in response.headers

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self._compressed:
            _check_content_encoding(self._response.headers, self._request)
        content = self._response.content
        # httpx inflates each raw chunk in one go: keep compressed chunks small
        # so that a body limit holds within a few MB even for a zip bomb
        # (zlib inflates up to ~1000x).
        if self._compressed:
            chunks = content.iter_chunked(COMPRESSED_CHUNK_BYTES)
        else:
            chunks = content.iter_any()
        try:
            async for chunk in chunks:
                yield chunk
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise _map_error(exc, self._request, reading=True) from exc

    async def aclose(self) -> None:
        # Returns the connection to the pool when the body was read to the end,
        # closes it otherwise (a half-read body cannot be reused).
        self._response.release()


#: encodings whose decoder inflates a chunk without bound: refused
UNBOUNDED_CONTENT_ENCODINGS = frozenset({"br", "zstd"})


def _check_content_encoding(headers: Any, request: httpx.Request) -> None:
    """Refuse what could inflate without bound before any of it is decoded:
    ``br`` and ``zstd`` (one chunk can inflate to gigabytes) and stacked
    encodings (``gzip, gzip``: each layer multiplies the other)."""
    codings = [
        value.strip().lower()
        for header in headers.getall("Content-Encoding", ())
        for value in header.split(",")
        if value.strip() and value.strip().lower() != "identity"
    ]
    if len(codings) > 1:
        raise httpx.DecodingError(
            f"stacked Content-Encoding {', '.join(codings)!r} refused "
            "(decompression bomb protection: one of gzip or deflate is accepted)",
            request=request,
        )
    if codings and codings[0] in UNBOUNDED_CONTENT_ENCODINGS:
        raise httpx.DecodingError(
            f"Content-Encoding {codings[0]!r} refused (decompression bomb protection: "
            "gzip or deflate is accepted)",
            request=request,
        )


def _map_error(exc: BaseException, request: httpx.Request, *, reading: bool) -> httpx.HTTPError:
    """The httpx exception matching an aiohttp one (httpx users catch those)."""
    message = str(exc) or type(exc).__name__
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(message, request=request)
    if isinstance(exc, aiohttp.ServerTimeoutError):
        return httpx.ReadTimeout(message, request=request)
    if isinstance(exc, TimeoutError):
        # aiohttp's ``connect`` budget covers waiting for a pooled connection.
        return (httpx.ReadTimeout if reading else httpx.PoolTimeout)(message, request=request)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError(message, request=request)
    if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientResponseError):
        return httpx.RemoteProtocolError(message, request=request)
    if isinstance(exc, aiohttp.ClientPayloadError):
        return httpx.ReadError(message, request=request)
    if isinstance(exc, aiohttp.InvalidURL):
        return httpx.UnsupportedProtocol(message, request=request)
    if isinstance(exc, aiohttp.ClientOSError):
        return (httpx.ReadError if reading else httpx.ConnectError)(message, request=request)
    return httpx.NetworkError(message, request=request)


#: ``scheme://authority`` and an already-canonical rest: a path of characters
#: httpx never re-quotes, then an optional query of the same kind (no fragment)
_PLAIN_URL = re.compile(
    r"([A-Za-z][A-Za-z0-9+.-]*://[^/?#]*)"
    r"(/[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*)"
    r"(?:\?([A-Za-z0-9\-._~!$&'()*+,;=:@/?%]*))?"
)
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_origins: dict[str, ParseResult] = {}
_MAX_ORIGINS = 256
_MAX_PLAIN_URL = 8192


def parse_url(text: str) -> httpx.URL:
    """``httpx.URL(text)``, minus most of its cost for plain, canonical URLs.

    httpx parses, validates and re-quotes every component of every URL (~10 µs
    for a short one); a fan-out sends many URLs that differ only in a path or
    query that is already canonical. Those reuse the parsed origin (scheme,
    user info, host, port: cached) and take the rest as is; anything else — a
    fragment, ``.`` segments, characters httpx would quote, a stray ``%`` —
    goes through httpx. tests/http/test_http_client.py checks that both give
    the same URL.
    """
    match = _PLAIN_URL.fullmatch(text) if len(text) <= _MAX_PLAIN_URL else None
    if match is None:
        return httpx.URL(text)
    origin, path, query = match.groups()
    if "/." in path or ("%" in text and _BAD_PERCENT.search(text)):
        return httpx.URL(text)
    if "@" in origin:
        return httpx.URL(text)  # user info (a password?) stays out of the cache
    parsed = _origins.get(origin)
    if parsed is None:
        parsed = httpx.URL(origin)._uri_reference
        if parsed.path or parsed.query is not None or not parsed.host:
            return httpx.URL(text)
        if len(_origins) >= _MAX_ORIGINS:
            _origins.clear()
        _origins[origin] = parsed
    url = httpx.URL.__new__(httpx.URL)
    # ``parsed._replace(path=path, query=query)``, without namedtuple's slow path
    # (nor the Python-level ``__new__`` of a NamedTuple)
    url._uri_reference = _new_tuple(
        ParseResult,
        (parsed.scheme, parsed.userinfo, parsed.host, parsed.port, path, query, parsed.fragment),
    )
    return url


_EXTENSIONS: dict[str, dict[str, Any]] = {}


def _extensions(reason: str | None) -> dict[str, Any]:
    """A response's extensions (a fresh dict: httpx users may change theirs)."""
    key = reason or ""
    template = _EXTENSIONS.get(key)
    if template is None:
        template = {"http_version": b"HTTP/1.1"}
        if reason:
            template["reason_phrase"] = reason.encode("latin-1", "replace")
        if len(_EXTENSIONS) < 64:
            _EXTENSIONS[key] = template
    return dict(template)


def _read_response(
    status: int,
    raw_headers: Any,
    body: bytes,
    request: httpx.Request,
    extensions: dict[str, Any],
) -> httpx.Response:
    """An ``httpx.Response`` already read, as ``Response(content=body)`` gives.

    ``Response(content=...)`` runs the body through httpx's encoder, a header
    merge and its whole decoding read loop (~10 µs); a response whose body is
    in hand only needs the state a completed read leaves behind, set here
    attribute by attribute (what ``Response.__init__`` sets, then ``read``).
    ``raw_headers`` are byte pairs (aiohttp's), which httpx keeps as they are.
    tests/http/test_http_client.py checks it against httpx's own.
    """
    response = httpx.Response.__new__(httpx.Response)
    response.status_code = status
    headers = httpx.Headers.__new__(httpx.Headers)
    headers._list = [(key, key.lower(), value) for key, value in raw_headers]
    headers._encoding = None
    response.headers = headers
    response._request = request
    response.next_request = None
    response.extensions = extensions
    response.history = []
    response.default_encoding = "utf-8"
    response.stream = stream = _new_object(httpx.ByteStream)
    stream._stream = body  # ``ByteStream(body)``
    response._content = body
    response._num_bytes_downloaded = len(body)
    response.is_stream_consumed = True
    response.is_closed = True
    return response


#: yarl's cached properties that depend on a URL's scheme and authority only
_ORIGIN_PROPERTIES = (
    "absolute",
    "scheme",
    "raw_authority",
    "authority",
    "raw_user",
    "user",
    "raw_password",
    "password",
    "raw_host",
    "host",
    "host_subcomponent",
    "host_port_subcomponent",
    "port",
    "explicit_port",
)
#: recent yarl (1.25 here; not 1.17) keeps a URL's parts and property cache in these slots
_YARL_LAYOUT = {"_cache", "_scheme", "_netloc", "_path", "_query", "_fragment"} <= set(
    getattr(URL, "__slots__", ())
)
#: an origin whose URLs ``yarl_url`` parses
_PARSE: tuple[str, dict[str, Any]] = ("", {})
#: (scheme, host, port) -> (authority, yarl's properties of the origin); URLs
#: with user info are not cached
_yarl_origins: dict[tuple[Any, ...], tuple[str, dict[str, Any]]] = {}
_MAX_YARL_ORIGINS = 256


def yarl_url(url: httpx.URL) -> URL:
    """``URL(str(url), encoded=True)``: httpx's URL as yarl's, without a second parse.

    httpx has already normalized and percent-encoded the URL, so yarl takes its
    parts as they are. What aiohttp asks of every request's URL (host, port,
    ``Host`` header, …) depends on the scheme and authority only: it is worked
    out once per origin and handed to each URL of that origin as yarl's own
    property cache. This skips yarl's parse (its cache holds 128 URLs, fewer
    than a fan-out sends) and half a dozen property computations per request.
    It relies on yarl's private layout (``__slots__``): checked at import, and
    the first URL of each origin is compared with yarl's parse; any difference
    and that origin's URLs are parsed. tests/http/test_http_client.py compares
    every property with yarl's own.
    """
    ref = url._uri_reference
    if ref.userinfo:
        # (a password in the URL stays out of process-wide caches)
        return URL(str(url), encoded=True)
    key = (ref.scheme, ref.host, ref.port)
    known = _yarl_origins.get(key)
    if known is None:
        known = _yarl_origin(url, key)
    if known is _PARSE:
        return URL(str(url), encoded=True)
    return _yarl_build(ref, *known)


def _yarl_build(ref: ParseResult, authority: str, seed: dict[str, Any]) -> URL:
    built = _new_object(URL)
    built._scheme = ref.scheme
    built._netloc = authority
    built._path = ref.path
    built._query = ref.query or ""
    built._fragment = ref.fragment or ""
    built._cache = dict(seed)  # type: ignore[assignment]
    return built


def _yarl_origin(url: httpx.URL, key: tuple[Any, ...]) -> tuple[str, dict[str, Any]]:
    """What ``yarl_url`` reuses for the URLs of ``url``'s origin (``_PARSE``: nothing)."""
    known = _PARSE
    if _YARL_LAYOUT:
        ref = url._uri_reference
        authority = ref.authority
        origin = URL(f"{ref.scheme}://{authority}", encoded=True)
        candidate = (authority, {name: getattr(origin, name) for name in _ORIGIN_PROPERTIES})
        built, parsed = _yarl_build(ref, *candidate), URL(str(url), encoded=True)
        if str(built) == str(parsed) and all(
            getattr(built, name) == getattr(parsed, name)
            for name in (*_ORIGIN_PROPERTIES, "raw_path_qs", "raw_fragment")
        ):
            known = candidate
    if len(_yarl_origins) >= _MAX_YARL_ORIGINS:
        _yarl_origins.clear()
    _yarl_origins[key] = known
    return known


#: most header lists a transport remembers (see ``_sent_headers``)
_MAX_SENT_HEADERS = 256
_SentHeaders = dict[tuple[Any, ...], tuple[str, CIMultiDictProxy[str]]]


def _sent_headers(headers: httpx.Headers, cache: _SentHeaders) -> CIMultiDictProxy[str]:
    """``headers.raw`` decoded with ``headers.encoding``, as aiohttp takes them.

    Most requests of a run send one of a few header lists: the decoded list
    is cached by httpx's raw one, as an immutable view that aiohttp reads as
    it is instead of copying it into a multidict of its own. The cache
    belongs to one transport (one run): header values may carry secrets.
    """
    key = (headers._encoding, *headers._list)
    cached = cache.get(key)
    if cached is None:
        encoding = headers.encoding
        sent = CIMultiDict((k.decode(encoding), v.decode(encoding)) for k, v in headers.raw)
        cached = (encoding, CIMultiDictProxy(sent))
        if len(cache) >= _MAX_SENT_HEADERS:
            cache.clear()
        cache[key] = cached
    elif headers._encoding is None:
        headers._encoding = cached[0]  # as computing ``headers.encoding`` leaves it
    return cached[1]


class _NoCookieJar(aiohttp.DummyCookieJar):
    """aiohttp's jar that keeps nothing, minus a new empty cookie set per request.

    Cookies are httpx's business (the client's jar); the session never gets
    any of its own to send (``_request`` is never given ``cookies=``, the one
    case in which aiohttp adds to the set it got from the jar).
    """

    _EMPTY: SimpleCookie = SimpleCookie()

    def filter_cookies(self, request_url: URL) -> SimpleCookie:
        return self._EMPTY


def _open_session(
    limits: httpx.Limits, ssl_context: ssl.SSLContext | None
) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(
        limit=limits.max_connections or 0,
        limit_per_host=0,
        keepalive_timeout=limits.keepalive_expiry or 15.0,
        ssl=ssl_context or _default_ssl_context(),
    )
    return aiohttp.ClientSession(
        connector=connector,
        cookie_jar=_NoCookieJar(),
        auto_decompress=False,
        timeout=aiohttp.ClientTimeout(total=None),
        # Looking proxies up in the environment on every request is costly;
        # only pay for it when a proxy is configured.
        trust_env=_proxy_configured(),
    )


class _SharedPool:
    """The keep-alive connections of one event loop, shared by the runs on it.

    Every run gets its own client (cookies and settings stay per run), but
    opening connections costs more than a whole fan-out of requests on warm
    ones (bench/http_fanout.py), so the connections outlive a run: idle ones
    close after ``keepalive_expiry``, and the pool itself once no client has
    used it for ``IDLE_CLOSE_S`` — or when the loop shuts down (``asyncio.run``
    cancels the reaper task, which then closes the session).
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        # A weak reference: a pool must not keep a finished loop alive.
        self._loop = weakref.ref(loop)
        self.session = _open_session(DEFAULT_LIMITS, None)
        self.users = 0
        self._reaper: asyncio.Task[None] | None = None

    def acquire(self) -> aiohttp.ClientSession:
        self.users += 1
        reaper, self._reaper = self._reaper, None
        if reaper is not None:
            reaper.cancel()
        return self.session

    def release(self) -> None:
        self.users -= 1
        loop = self._loop()
        if self.users == 0 and self._reaper is None and loop is not None and not loop.is_closed():
            self._reaper = loop.create_task(self._reap(), name="flowdesk-http-pool-reaper")

    async def _reap(self) -> None:
        try:
            await asyncio.sleep(IDLE_CLOSE_S)
        finally:
            # Cancelled by a new client (users > 0: keep going) or by the loop
            # shutting down (users == 0: close, so nothing is left unclosed).
            loop = self._loop()
            if self.users == 0 and loop is not None and _pools.get(loop) is self:
                del _pools[loop]
                await self.session.close()


#: seconds a shared pool stays open with no client using it
IDLE_CLOSE_S = 30.0
_pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _SharedPool] = (
    weakref.WeakKeyDictionary()
)


def _shared_pool() -> _SharedPool:
    loop = asyncio.get_running_loop()
    pool = _pools.get(loop)
    if pool is None or pool.session.closed:
        pool = _pools[loop] = _SharedPool(loop)
    return pool


async def close_shared_pool() -> None:
    """Close the shared connections of the running loop now (e.g. on app exit)."""
    pool = _pools.pop(asyncio.get_running_loop(), None)
    if pool is not None:
        await pool.session.close()


class AiohttpTransport(httpx.AsyncBaseTransport):
    """An httpx transport that sends requests through an ``aiohttp.ClientSession``.

    ``shared=True`` (the default) uses the keep-alive pool of the running
    loop, shared with the clients of other runs (see ``_SharedPool``); closing
    the transport gives its lease back. ``shared=False`` opens a session of
    its own, closed with the transport.
    Redirects, cookies and content decoding stay with httpx (the session has
    no cookie jar and does not decompress), so httpx behaves as documented.
    Proxies come from the usual ``*_proxy`` environment variables.
    """

    def __init__(
        self,
        *,
        shared: bool = True,
        limits: httpx.Limits = DEFAULT_LIMITS,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._shared = shared and ssl_context is None and limits == DEFAULT_LIMITS
        self._limits = limits
        self._ssl_context = ssl_context
        self._session: aiohttp.ClientSession | None = None
        self._pool: _SharedPool | None = None
        self._timeouts: dict[tuple[Any, ...], aiohttp.ClientTimeout] = {}
        self._sent: _SentHeaders = {}
        #: requests per origin ("source") this transport sent to
        self._calls: dict[str, int] = {}

    def _open(self) -> aiohttp.ClientSession:
        if self._shared:
            self._pool = _shared_pool()
            return self._pool.acquire()
        return _open_session(self._limits, self._ssl_context)

    def _timeout(self, request: httpx.Request) -> aiohttp.ClientTimeout:
        spec = request.extensions.get("timeout") or {}
        key = (spec.get("connect"), spec.get("read"), spec.get("pool"))
        timeout = self._timeouts.get(key)
        if timeout is None:
            timeout = aiohttp.ClientTimeout(
                total=None, sock_connect=key[0], sock_read=key[1], connect=key[2]
            )
            self._timeouts[key] = timeout
        return timeout

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send one request, timed: the call counts in ``METRICS`` per origin,
        and ``http.request``/``http.response`` (and ``source.connect`` on an
        origin's first request) go to the bus when someone listens."""
        url = request.url
        origin = f"{url.scheme}://{url.netloc.decode('ascii', 'replace')}"
        calls = self._calls.get(origin)
        self._calls[origin] = 1 if calls is None else calls + 1
        if BUS.active:
            if calls is None:
                BUS.signal("source.connect", source=origin)
            BUS.signal("http.request", source=origin, method=request.method, url=origin + url.path)
        started = time.monotonic()
        try:
            response = await self._exchange(request)
        except BaseException as exc:
            elapsed = time.monotonic() - started
            METRICS.record_source(origin, elapsed, False)
            if BUS.active:
                BUS.signal(
                    "http.response",
                    source=origin,
                    method=request.method,
                    url=origin + url.path,
                    status=None,
                    error=type(exc).__name__,
                    duration_ms=elapsed * 1000.0,
                )
            raise
        elapsed = time.monotonic() - started
        status = response.status_code
        METRICS.record_source(origin, elapsed, status < 400)
        if BUS.active:
            BUS.signal(
                "http.response",
                source=origin,
                method=request.method,
                url=origin + url.path,
                status=status,
                error=None,
                duration_ms=elapsed * 1000.0,
            )
        return response

    async def _exchange(self, request: httpx.Request) -> httpx.Response:
        session = self._session
        if session is None:
            session = self._session = self._open()
        data = getattr(request, "_content", None)  # ``request.content``, if read
        if data is None:
            # A body given as a stream (e.g. the re-sent body of a redirect):
            # buffer it, so that it goes out with a Content-Length, not chunked.
            data = await request.aread()
        try:
            # ``session._request`` skips the context-manager wrapper, and the
            # URL goes over as yarl's without a second parse and re-quoting:
            # httpx has already normalized and percent-encoded it.
            response = await session._request(
                request.method,
                yarl_url(request.url),
                headers=_sent_headers(request.headers, self._sent),
                data=data or None,
                allow_redirects=False,
                timeout=self._timeout(request),
                server_hostname=request.extensions.get("sni_hostname"),
            )
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise _map_error(exc, request, reading=False) from exc
        extensions = _extensions(response.reason)
        length = response.content_length
        if (
            length is not None
            and length <= EAGER_BODY_BYTES
            and "Content-Encoding" not in response.headers
        ):
            # A small plain body is read here and handed to httpx as content:
            # this skips four layers of async generators per response.
            # (Not for compressed bodies: a small one may inflate to anything.)
            try:
                body = await response.read()
            except (TimeoutError, aiohttp.ClientError) as exc:
                raise _map_error(exc, request, reading=True) from exc
            finally:
                response.release()
            return _read_response(response.status, response.raw_headers, body, request, extensions)
        return httpx.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=_ResponseStream(response, request),
            request=request,
            extensions=extensions,
        )

    async def aclose(self) -> None:
        self._sent.clear()
        calls, self._calls = self._calls, {}
        if BUS.active:
            for origin, count in calls.items():
                BUS.signal("source.disconnect", source=origin, calls=count)
        session, self._session = self._session, None
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.release()
        elif session is not None:
            await session.close()


def _no_cookies(cookies: httpx.Cookies) -> bool:
    """``not cookies``, without a generator over the jar when it was never used."""
    # The jar's store is a dict of domains; empty, there is not a cookie to find.
    return not getattr(cookies.jar, "_cookies", True) or not cookies


class _Cookies(httpx.Cookies):
    """httpx's cookie store, minus the cost of parsing responses that set none."""

    def extract_cookies(self, response: httpx.Response) -> None:
        # httpx builds urllib request/response adapters for every response
        # (~20 µs); most API answers carry no Set-Cookie at all. (The raw
        # lower-case names: ``in`` would work out the headers' encoding first.)
        for _, name, _ in response.headers._list:
            if name == b"set-cookie":
                super().extract_cookies(response)
                return


_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


class _RequestTemplate:
    """The headers every request of one shape gets from ``build_request``.

    A shape is what decides the header list apart from the values of the
    caller's headers and the body's length: method, scheme, host and port,
    the client's headers, the names of the caller's headers, body or not.
    httpx's list is then ``[Host] [Content-Length: 0] + client headers not
    overridden + caller's headers + [Content-Length: N]`` (see
    ``_template_for``).
    """

    __slots__ = ("base", "keys", "length", "method")

    def __init__(
        self,
        method: str,
        base: list[tuple[bytes, bytes, bytes]],
        keys: list[tuple[bytes, bytes]],
        length: bool,
    ) -> None:
        self.method = method
        #: the entries before the caller's headers
        self.base = base
        #: (raw, lower-case) names of the caller's headers, in their order
        self.keys = keys
        #: a ``Content-Length`` of the body comes last
        self.length = length

    def headers(self, values: Any, content: bytes | None) -> list[tuple[bytes, bytes, bytes]]:
        entries = list(self.base)
        if self.keys:
            for (raw, lower), value in zip(self.keys, values, strict=True):
                entries.append((raw, lower, _normalize_header_value(value, None)))
        if self.length:
            assert content is not None
            entries.append((b"Content-Length", b"content-length", str(len(content)).encode()))
        return entries


def _template_for(
    request: httpx.Request,
    client_headers: httpx.Headers,
    headers: dict[Any, Any] | None,
    content: bytes | None,
) -> _RequestTemplate | None:
    """The template of ``request``'s shape, if httpx built it by the known rule.

    The rule (``_merge_headers``, then ``Request.__init__`` and ``_prepare``)
    is re-derived here and compared with what httpx actually built; any
    difference (unusual encodings, a caller's ``Host``…) gives None: requests
    of that shape keep going through httpx.
    """
    given = [
        (_normalize_header_key(name, None), _normalize_header_value(value, None))
        for name, value in (headers or {}).items()
    ]
    caller = [(raw, raw.lower(), value) for raw, value in given]
    overridden = {lower for _, lower, _ in caller}
    merged = [entry for entry in client_headers._list if entry[1] not in overridden] + caller
    names = {lower for _, lower, _ in merged}
    length = content is not None and b"content-length" not in names
    auto: list[tuple[bytes, bytes, bytes]] = []
    if b"host" not in names and request.url.host:
        auto.append((b"Host", b"host", request.url.netloc))
    if (
        not length
        and not names & {b"content-length", b"transfer-encoding"}
        and request.method in ("POST", "PUT", "PATCH")
    ):
        auto.append((b"Content-Length", b"content-length", b"0"))
    expected = auto + merged
    if length:
        assert content is not None
        expected.append((b"Content-Length", b"content-length", str(len(content)).encode()))
    if expected != request.headers._list or request.headers._encoding is not None:
        return None
    base = auto + merged[: len(merged) - len(caller)]
    return _RequestTemplate(
        request.method, base, [(raw, lower) for raw, lower, _ in caller], length
    )


_NO_TEMPLATE = _RequestTemplate("", [], [], False)
_MAX_TEMPLATES = 256


class HttpClient(httpx.AsyncClient):
    """``httpx.AsyncClient`` with a cheaper cookie store and ``build_request``;
    the API is httpx's."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._cookies = _Cookies(self._cookies)
        self._templates: dict[tuple[Any, ...], _RequestTemplate] = {}

    def build_request(
        self,
        method: str,
        url: httpx.URL | str,
        *,
        content: Any = None,
        data: Any = None,
        files: Any = None,
        json: Any = None,
        params: Any = None,
        headers: Any = None,
        cookies: Any = None,
        timeout: Any = httpx.USE_CLIENT_DEFAULT,
        extensions: Any = None,
    ) -> httpx.Request:
        """``httpx.AsyncClient.build_request``, ~5x cheaper for common requests.

        httpx merges the client's headers, URL, params and cookies, then
        re-parses the URL and normalizes every header of every request
        (~15 µs). A request to an absolute URL with at most a bytes body and
        a dict of headers, from a client without params or cookies, gets its
        header list from a template of its shape instead (``_RequestTemplate``;
        the first request of each shape is built by httpx and checked against
        the template's rule). tests/http/test_http_client.py compares both.
        """
        if (
            data is None
            and files is None
            and json is None
            and params is None
            and cookies is None
            and extensions is None
            and (content is None or type(content) is bytes)
            and (headers is None or type(headers) is dict)
            and type(method) is str
            and not self._params
            and _no_cookies(self._cookies)
        ):
            if type(url) is str:
                url = parse_url(url)
            # (``url.is_absolute_url``, minus a property call)
            if type(url) is httpx.URL and url._uri_reference.scheme and url._uri_reference.host:
                return self._build_request_from_template(method, url, content, headers, timeout)
        return super().build_request(
            method,
            url,
            content=content,
            data=data,
            files=files,
            json=json,
            params=params,
            headers=headers,
            cookies=cookies,
            timeout=timeout,
            extensions=extensions,
        )

    def _build_request_from_template(
        self,
        method: str,
        url: httpx.URL,
        content: bytes | None,
        headers: dict[Any, Any] | None,
        timeout: Any,
    ) -> httpx.Request:
        ref = url._uri_reference
        client_headers = self._headers
        key = (
            method,
            ref.scheme,
            ref.host,
            ref.port,
            content is None,
            tuple(headers) if headers else (),
            client_headers._encoding,
            *client_headers._list,
        )
        template = self._templates.get(key)
        if template is None or template is _NO_TEMPLATE:
            request = super().build_request(
                method, url, content=content, headers=headers, timeout=timeout
            )
            if template is None:
                if len(self._templates) >= _MAX_TEMPLATES:
                    self._templates.clear()
                self._templates[key] = (
                    _template_for(request, client_headers, headers, content) or _NO_TEMPLATE
                )
            return request
        spec = self.timeout if isinstance(timeout, UseClientDefault) else timeout
        request = httpx.Request.__new__(httpx.Request)
        # What ``Request.__init__`` leaves (``read()`` included) for this shape.
        request.method = template.method
        request.url = copy = httpx.URL.__new__(httpx.URL)
        copy._uri_reference = ref
        request.headers = built = httpx.Headers.__new__(httpx.Headers)
        built._list = template.headers(headers.values() if headers else (), content)
        built._encoding = None
        if type(spec) is httpx.Timeout:
            # ``Timeout(spec).as_dict()``: a copy of the same four fields
            phases = {
                "connect": spec.connect,
                "read": spec.read,
                "write": spec.write,
                "pool": spec.pool,
            }
        else:
            phases = httpx.Timeout(spec).as_dict()
        request.extensions = {"timeout": phases}
        body = b"" if content is None else content
        request.stream = stream = _new_object(httpx.ByteStream)
        stream._stream = body  # ``ByteStream(body)``
        request._content = body
        return request

    @property
    def cookies(self) -> httpx.Cookies:
        return self._cookies

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        self._cookies = _Cookies(cookies)

    async def send_direct(self, request: httpx.Request) -> httpx.Response:
        """Send a built request once, straight to the transport; the response streams.

        What ``send(request, stream=True, follow_redirects=False)`` does for a
        client without auth or event hooks, minus its layers of coroutines:
        cookies are stored, and a redirect's ``next_request`` is set (the
        caller follows it). Falls back to ``send`` when auth or hooks are set.
        """
        if self._auth is not None or self._event_hooks["request"] or self._event_hooks["response"]:
            return await self.send(request, stream=True, follow_redirects=False)
        if self._state == ClientState.CLOSED:
            raise RuntimeError("Cannot send a request, as the client has been closed.")
        self._state = ClientState.OPENED
        if "timeout" not in request.extensions:
            self._set_timeout(request)
        transport = self._transport_for_url(request.url) if self._mounts else self._transport
        response = await transport.handle_async_request(request)
        try:
            if getattr(response, "_request", None) is not request:  # (ours: set already)
                response.request = request
            self._cookies.extract_cookies(response)
            response.default_encoding = self._default_encoding
            if response.status_code in _REDIRECT_STATUSES and response.has_redirect_location:
                response.next_request = self._build_redirect_request(request, response)
        except BaseException:
            await response.aclose()
            raise
        return response


def make_http_client(
    *, timeout: float | None = 60.0, shared_pool: bool = True
) -> httpx.AsyncClient:
    """A new client over the aiohttp transport, for one run.

    ``timeout`` bounds each phase (connect, each read, pool wait); the HTTP
    node adds its own limit on a whole request. Redirects are off at the
    client: ``http.request`` follows them itself to re-apply credentials only
    on the same origin. ``shared_pool``: keep-alive connections are shared with
    other runs on the same event loop (see ``_SharedPool``); closing the
    client closes its in-flight connections but leaves idle ones pooled.
    """
    return HttpClient(
        transport=AiohttpTransport(shared=shared_pool),
        timeout=timeout,
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT},
    )
