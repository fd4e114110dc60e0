"""httpx's internals, in one file: the fast paths of the engine's HTTP client.

Checked against httpx 0.28.1 on CPython 3.11.7 (pyproject pins httpx
>=0.28,<0.29 for this file). It uses ``httpx._client`` (``ClientState``,
``UseClientDefault``, ``AsyncClient``'s private attributes), ``httpx._models``
(header normalization; ``Headers._list``/``_encoding``; the state
``Request``/``Response`` keep after a read) and ``httpx._urlparse``
(``ParseResult``, ``URL._uri_reference``). Outside this file the engine
uses httpx's public API only: on an httpx upgrade, this is the file to
check. tests/compat/test_httpx_fast.py fails, naming the attribute, when
one of these is gone or changed shape; tests/http/test_http_client.py
compares every fast path's result with httpx's own.

What is here:

- ``parse_url``: ``httpx.URL(text)`` minus most of its cost for plain URLs;
- ``read_response``: an ``httpx.Response`` already read, built directly;
- ``HttpClient``: ``httpx.AsyncClient`` with request templates per shape,
  a cheaper cookie store and ``send_direct``;
- small accessors for the rest of the engine (``url_parts``,
  ``header_entries``, ``known_encoding``, ``remember_encoding``,
  ``read_content``).

May import: httpx, stdlib.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
from httpx._client import ClientState, UseClientDefault
from httpx._models import _normalize_header_key, _normalize_header_value
from httpx._urlparse import ParseResult

__all__ = [
    "ClientState",
    "HeaderEntry",
    "HttpClient",
    "Origins",
    "ParseResult",
    "UseClientDefault",
    "header_entries",
    "known_encoding",
    "parse_url",
    "read_content",
    "read_response",
    "remember_encoding",
    "url_parts",
]

_new_tuple = tuple.__new__
_new_object = object.__new__
#: one entry of ``httpx.Headers``: (raw name, lower-case name, value)
HeaderEntry = tuple[bytes, bytes, bytes]


# ------------------------------------------------------------------ accessors


def url_parts(url: httpx.URL) -> ParseResult:
    """A URL's parsed parts (scheme, userinfo, host, port, path, query,
    fragment), as httpx keeps them: without IDNA decoding or a copy."""
    return url._uri_reference


def header_entries(headers: httpx.Headers) -> list[HeaderEntry]:
    """The headers as httpx keeps them (not a copy: do not change it)."""
    return headers._list


def known_encoding(headers: httpx.Headers) -> str | None:
    """The headers' encoding if httpx has worked it out (or was told), else None."""
    return headers._encoding


def remember_encoding(headers: httpx.Headers, encoding: str) -> None:
    """Leave the state that working out ``headers.encoding`` would leave."""
    headers._encoding = encoding


def read_content(message: httpx.Request | httpx.Response) -> bytes | None:
    """The body of a request or response if it has been read, else None
    (``message.content`` raises instead)."""
    return getattr(message, "_content", None)


# ------------------------------------------------------------------ parse_url

#: ``scheme://authority`` and an already-canonical rest: a path of characters
#: httpx never re-quotes, then an optional query of the same kind (no fragment)
_PLAIN_URL = re.compile(
    r"([A-Za-z][A-Za-z0-9+.-]*://[^/?#]*)"
    r"(/[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*)"
    r"(?:\?([A-Za-z0-9\-._~!$&'()*+,;=:@/?%]*))?"
)
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
#: origin text (``scheme://host:port``) -> its parsed parts; each ``HttpClient``
#: keeps its own (no module-level cache: two engines share nothing)
Origins = dict[str, ParseResult]
_MAX_ORIGINS = 256
_MAX_PLAIN_URL = 8192


def parse_url(text: str, origins: Origins | None = None) -> httpx.URL:
    """``httpx.URL(text)``, minus most of its cost for plain, canonical URLs.

    httpx parses, validates and re-quotes every component of every URL (~10 µs
    for a short one); a fan-out sends many URLs that differ only in a path or
    query that is already canonical. Those reuse the parsed origin (scheme,
    user info, host, port: cached in ``origins``, the client's; None: not
    cached) and take the rest as is; anything else — a
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
    parsed = origins.get(origin) if origins is not None else None
    if parsed is None:
        parsed = httpx.URL(origin)._uri_reference
        if parsed.path or parsed.query is not None or not parsed.host:
            return httpx.URL(text)
        if origins is not None:
            if len(origins) >= _MAX_ORIGINS:
                origins.clear()
            origins[origin] = parsed
    url = httpx.URL.__new__(httpx.URL)
    # ``parsed._replace(path=path, query=query)``, without namedtuple's slow path
    # (nor the Python-level ``__new__`` of a NamedTuple)
    url._uri_reference = _new_tuple(
        ParseResult,
        (parsed.scheme, parsed.userinfo, parsed.host, parsed.port, path, query, parsed.fragment),
    )
    return url


def read_response(
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
        self._origins: Origins = {}

    def parse_url(self, text: str) -> httpx.URL:
        """``parse_url`` with this client's cache of parsed origins."""
        return parse_url(text, self._origins)

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
                url = parse_url(url, self._origins)
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
