"""The HTTP client a run shares: httpx's API over an aiohttp transport.

httpx's default transport is several times slower than aiohttp under
concurrency on our machine kind (bench/http_fanout.py), so the engine keeps
httpx's API and swaps the transport for ``AiohttpTransport`` below, with
aiohttp's errors mapped to the matching httpx ones (a refused connection is a
``ConnectError``, not a timeout). One client per run; by default the runs of
an event loop share their idle keep-alive connections (``_SharedPool``).
The node's hot path (``HttpClient.build_request`` from per-shape templates,
``HttpClient.send_direct``, ``parse_url``, responses built read, aiohttp URLs
built from httpx's) skips httpx's client middleware and re-parsing; it relies
on private parts of httpx, yarl and aiohttp, each kept in one file of
``engine/compat/`` (``httpx_fast``, ``yarl_fast``, ``aiohttp_fast``) that says
which versions it is checked against. This module uses their public API only.
May import: httpx, aiohttp, multidict, engine.compat, engine.bus,
engine.metrics, stdlib.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import time
import weakref
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import httpx
from multidict import CIMultiDict, CIMultiDictProxy

from .bus import BUS
from .compat.aiohttp_fast import NoCookieJar, send
from .compat.httpx_fast import (
    HttpClient,
    header_entries,
    known_encoding,
    read_content,
    read_response,
    remember_encoding,
)
from .compat.yarl_fast import YarlOrigins, yarl_url
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

#: Process-wide on purpose: the default verifying context (certifi's bundle)
#: is never changed once built and holds nothing of a run or an engine;
#: building it costs milliseconds and every run makes a new client.
_ssl_context: ssl.SSLContext | None = None


def _default_ssl_context() -> ssl.SSLContext:
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


def _extensions(reason: str | None, templates: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A response's extensions (a fresh dict: httpx users may change theirs),
    copied from ``templates`` (the transport's, by reason phrase)."""
    key = reason or ""
    template = templates.get(key)
    if template is None:
        template = {"http_version": b"HTTP/1.1"}
        if reason:
            template["reason_phrase"] = reason.encode("latin-1", "replace")
        if len(templates) < 64:
            templates[key] = template
    return dict(template)


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
    key = (known_encoding(headers), *header_entries(headers))
    cached = cache.get(key)
    if cached is None:
        encoding = headers.encoding
        sent = CIMultiDict((k.decode(encoding), v.decode(encoding)) for k, v in headers.raw)
        cached = (encoding, CIMultiDictProxy(sent))
        if len(cache) >= _MAX_SENT_HEADERS:
            cache.clear()
        cache[key] = cached
    elif key[0] is None:
        remember_encoding(headers, cached[0])  # as computing ``headers.encoding`` leaves it
    return cached[1]


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
        cookie_jar=NoCookieJar(),
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
#: One pool per event loop, not per engine, on purpose: an aiohttp session
#: belongs to the loop it was opened on, and its idle connections carry
#: nothing of a run (no cookie jar, credentials go on each request), so the
#: runs of every engine on a loop may reuse them (weak keys: a finished loop
#: takes its pool with it). ``close_shared_pool`` closes the running loop's.
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
        #: what ``yarl_url`` worked out per origin, and response extensions
        #: by reason phrase (this transport's: nothing is shared between runs)
        self._origins: YarlOrigins = {}
        self._extensions: dict[str, dict[str, Any]] = {}

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
            # (the origin only: a path may hold a token, and the bus feeds logs)
            BUS.signal("http.request", source=origin, method=request.method)
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
                status=status,
                error=None,
                duration_ms=elapsed * 1000.0,
            )
        return response

    async def _exchange(self, request: httpx.Request) -> httpx.Response:
        session = self._session
        if session is None:
            session = self._session = self._open()
        data = read_content(request)  # ``request.content``, if read
        if data is None:
            # A body given as a stream (e.g. the re-sent body of a redirect):
            # buffer it, so that it goes out with a Content-Length, not chunked.
            data = await request.aread()
        try:
            # The URL goes over as yarl's without a second parse and
            # re-quoting: httpx has already normalized and percent-encoded it.
            response = await send(
                session,
                request.method,
                yarl_url(request.url, self._origins),
                headers=_sent_headers(request.headers, self._sent),
                data=data or None,
                allow_redirects=False,
                timeout=self._timeout(request),
                server_hostname=request.extensions.get("sni_hostname"),
            )
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise _map_error(exc, request, reading=False) from exc
        extensions = _extensions(response.reason, self._extensions)
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
            return read_response(response.status, response.raw_headers, body, request, extensions)
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
