"""yarl's internals: an aiohttp URL built from httpx's parts without a parse.

Checked against yarl 1.25.1 (aiohttp 3.14.5) on CPython 3.11.7: it relies on
``yarl.URL``'s ``__slots__`` layout (``_scheme``, ``_netloc``, ``_path``,
``_query``, ``_fragment`` and the property cache ``_cache``). The layout is
checked at import, and the first URL of each origin is compared with yarl's
own parse; on any difference URLs are parsed by yarl, so an upgrade makes
this slower, not wrong. tests/compat/test_yarl_fast.py says when the fast
path is off; tests/http/test_http_client.py compares every property.

May import: httpx, yarl, ``.httpx_fast``, stdlib.
"""

from __future__ import annotations

from typing import Any

import httpx
from yarl import URL

from .httpx_fast import ParseResult, url_parts

_new_object = object.__new__

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
#: with user info are not cached. Each transport keeps its own (no
#: module-level cache: two engines share nothing)
YarlOrigins = dict[tuple[Any, ...], tuple[str, dict[str, Any]]]
_MAX_YARL_ORIGINS = 256


def yarl_url(url: httpx.URL, origins: YarlOrigins | None = None) -> URL:
    """``URL(str(url), encoded=True)``: httpx's URL as yarl's, without a second parse.

    httpx has already normalized and percent-encoded the URL, so yarl takes its
    parts as they are. What aiohttp asks of every request's URL (host, port,
    ``Host`` header, …) depends on the scheme and authority only: it is worked
    out once per origin (kept in ``origins``, the transport's; None: worked
    out for this URL only) and handed to each URL of that origin as yarl's own
    property cache. This skips yarl's parse (its cache holds 128 URLs, fewer
    than a fan-out sends) and half a dozen property computations per request.
    It relies on yarl's private layout (``__slots__``): checked at import, and
    the first URL of each origin is compared with yarl's parse; any difference
    and that origin's URLs are parsed. tests/http/test_http_client.py compares
    every property with yarl's own.
    """
    ref = url_parts(url)
    if ref.userinfo:
        # (a password in the URL stays out of the caches)
        return URL(str(url), encoded=True)
    key = (ref.scheme, ref.host, ref.port)
    known = origins.get(key) if origins is not None else None
    if known is None:
        known = _yarl_origin(url, key, {} if origins is None else origins)
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


def _yarl_origin(
    url: httpx.URL, key: tuple[Any, ...], origins: YarlOrigins
) -> tuple[str, dict[str, Any]]:
    """What ``yarl_url`` reuses for the URLs of ``url``'s origin (``_PARSE``: nothing)."""
    known = _PARSE
    if _YARL_LAYOUT:
        ref = url_parts(url)
        authority = ref.authority
        origin = URL(f"{ref.scheme}://{authority}", encoded=True)
        candidate = (authority, {name: getattr(origin, name) for name in _ORIGIN_PROPERTIES})
        built, parsed = _yarl_build(ref, *candidate), URL(str(url), encoded=True)
        if str(built) == str(parsed) and all(
            getattr(built, name) == getattr(parsed, name)
            for name in (*_ORIGIN_PROPERTIES, "raw_path_qs", "raw_fragment")
        ):
            known = candidate
    if len(origins) >= _MAX_YARL_ORIGINS:
        origins.clear()
    origins[key] = known
    return known
