"""The parts of an HTTP message the ``http.request`` node reads and writes:
its URL (checked, a password masked in messages), header and query values,
charsets, the response's headers as a dict and its JSON body, and the
``Retry-After`` wait. Pure functions; the exchange itself (credentials,
redirects, limits, errors) is ``http_request``.

May import: httpx and engine.compat.httpx_fast (both lazily: the HTTP stack is
imported on the first request), engine.errors, engine.lazy, stdlib.
"""

from __future__ import annotations

import codecs
import functools
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ...errors import ConfigError
from ...lazy import lazy_module

if TYPE_CHECKING:
    import httpx

    from ...compat import httpx_fast as _fast
else:  # imported when a request is sent, not when the node types are listed
    httpx = lazy_module("httpx")
    _fast = lazy_module(__name__.rsplit(".", 3)[0] + ".compat.httpx_fast")

CHARSET = re.compile(r"charset=\"?([\w.:-]+)", re.IGNORECASE)
TEXT_TYPES = (
    "application/xml",
    "application/javascript",
    "application/ecmascript",
    "application/x-www-form-urlencoded",
    "application/x-ndjson",
    "application/yaml",
    "application/x-yaml",
    "application/graphql",
)


def parse_retry_after(value: str, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta seconds or HTTP date)."""
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return seconds if seconds >= 0 and seconds == seconds else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    delay = (when - (now or datetime.now(UTC))).total_seconds()
    return max(0.0, delay)


def mask_password(text: str) -> str:
    """``text`` with the password of a URL's user info shown as ``***``."""
    return USERINFO_PASSWORD.sub(r"\1***@", text)


USERINFO_PASSWORD = re.compile(r"(^[A-Za-z][A-Za-z0-9+.-]*://[^/?#@:]*:)[^/?#@]*@")


def checked_url(text: str, parse: Callable[[str], httpx.URL] | None = None) -> httpx.URL:
    """``text`` as an absolute http(s) URL, or a located ``ConfigError``.
    ``parse``: the run's client's parser (``HttpClient.parse_url``, which
    caches parsed origins); by default ``parse_url`` without a cache."""
    shown = mask_password(text)
    try:
        # httpx takes "http://[bad" for a host named "%5Bbad" and looks it up:
        # urllib refuses an unclosed or invalid bracketed address
        urlsplit(text.strip()).port  # noqa: B018 - parses (and checks) the port too
        url = parse(text.strip()) if parse is not None else _fast.parse_url(text.strip())
    except (httpx.InvalidURL, ValueError) as exc:
        raise ConfigError(
            f"config.url {shown!r} is not a valid URL: {mask_password(str(exc))}",
            details={"field": "url", "url": shown},
        ) from None
    parts = _fast.url_parts(url)  # (``url.scheme``/``url.host`` minus IDNA decoding)
    if parts.scheme not in ("http", "https") or not parts.host:
        raise ConfigError(
            f"config.url {shown!r} must be an absolute http:// or https:// URL",
            details={"field": "url", "url": shown},
        )
    if "[" in parts.host or "]" in parts.host or "%5b" in parts.host.lower():
        raise ConfigError(
            f"config.url {shown!r} is not a valid URL: a bracketed host must be an IPv6 address",
            details={"field": "url", "url": shown},
        )
    return url


# (a constant built on first use, not a cache of anything a run or engine owns)
@functools.cache
def no_phase_timeout() -> httpx.Timeout:
    """Per-phase limits off: ``timeout_s`` already bounds the whole request, and
    per-phase limits would cost aiohttp a timer per read."""
    return httpx.Timeout(None)


def phase_timeout(seconds: float | None) -> httpx.Timeout | Any:
    """The per-phase timeout of a request: the client's, unless ``timeout_s`` is set."""
    return httpx.USE_CLIENT_DEFAULT if seconds is None else no_phase_timeout()


def set_default(headers: dict[str, str], name: str, value: str) -> str:
    """Set ``name`` unless present in any letter case; the value in effect."""
    lowered = name.lower()
    for key, existing in headers.items():
        if key.lower() == lowered:
            return existing
    headers[name] = value
    return value


def without_query(url: httpx.URL) -> str:
    # A redirect target may carry anything in its query (tokens included).
    return str(url.copy_with(query=None, fragment=None))


def same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    return (a.scheme, a.host, a.port) == (b.scheme, b.host, b.port)


def header_text(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def query_text(value: str | int | float | bool) -> str:
    return header_text(value)


def charset_of(content_type: str) -> str | None:
    """The codec named by a Content-Type's charset, if Python knows it."""
    match = CHARSET.search(content_type)
    if match is None:
        return None
    try:
        return codecs.lookup(match.group(1)).name
    except LookupError:
        return None


def request_charset(content_type: str) -> str:
    """The codec a text body is encoded with: the Content-Type's charset, else UTF-8."""
    return charset_of(content_type) or "utf-8"


def response_headers(headers: httpx.Headers) -> dict[str, str]:
    """Lower-case names; repeated headers joined by ', ' (Set-Cookie by newlines)."""
    # Working out ``headers.encoding`` decodes every header once more to pick
    # ASCII, else UTF-8, else Latin-1: decoding as ASCII straight away is that
    # first pick, and a failure falls back to it.
    entries = _fast.header_entries(headers)
    if _fast.known_encoding(headers) is None:
        try:
            out = header_dict(entries, "ascii")
        except UnicodeDecodeError:
            pass
        else:
            _fast.remember_encoding(headers, "ascii")  # what ``headers.encoding`` would have found
            return out
    return header_dict(entries, headers.encoding)


def header_dict(entries: list[tuple[bytes, bytes, bytes]], encoding: str) -> dict[str, str]:
    # httpx's (raw name, lower-case name, value) entries, one decode each:
    # ``multi_items`` looks the encoding up again for every header.
    out: dict[str, str] = {}
    for _, lower, raw_value in entries:
        name = lower.decode(encoding)
        value = raw_value.decode(encoding)
        if name in out:
            out[name] += ("\n" if name == "set-cookie" else ", ") + value
        else:
            out[name] = value
    return out


def json_body(data: bytes) -> Any:
    """``json.loads(data)``, minus its encoding detection for plain ASCII text."""
    if data.isascii() and data[:1] != b"\x00" and data[1:2] != b"\x00":
        # json.loads(bytes) reads text without a BOM or NUL bytes in front as UTF-8
        return json.loads(data.decode("ascii"))
    return json.loads(data)


def is_json(media: str) -> bool:
    return media in ("application/json", "text/json") or media.endswith("+json")


def is_text(media: str) -> bool:
    return media.startswith("text/") or media in TEXT_TYPES or media.endswith("+xml")


def size_text(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):g} MB"
    if size >= 1024:
        return f"{size / 1024:g} KB"
    return f"{size} bytes"


def describe_transport_error(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.ConnectError):
        return f"could not connect ({exc})"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"the server closed the connection or broke the protocol ({exc})"
    if isinstance(exc, httpx.ReadError | httpx.WriteError):
        return f"the connection failed mid-exchange ({exc})"
    return str(exc) or type(exc).__name__
