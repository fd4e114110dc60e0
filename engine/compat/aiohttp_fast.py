"""aiohttp's internals: a request sent without the context-manager wrapper,
and a cookie jar that keeps (and hands out) nothing.

Checked against aiohttp 3.14.5 on CPython 3.11.7. It relies on
``ClientSession._request`` (the coroutine behind ``session.request``, taking
the same keyword arguments) and on the session asking its jar for cookies
with ``filter_cookies(url)`` only. tests/compat/test_aiohttp_fast.py fails,
naming what changed, when either does.

May import: aiohttp, yarl, stdlib.
"""

from __future__ import annotations

from collections.abc import Coroutine
from http.cookies import SimpleCookie
from typing import Any

import aiohttp
from yarl import URL


def send(
    session: aiohttp.ClientSession, method: str, url: URL, **options: Any
) -> Coroutine[Any, Any, aiohttp.ClientResponse]:
    """``session.request(method, url, **options)`` to await directly.

    ``session.request`` wraps the coroutine in a ``_RequestContextManager``
    (one object and one more await per request); a fan-out sends thousands.
    This gives aiohttp's own coroutine (no frame of ours in between); the
    response is the same, and its caller releases it.
    """
    return session._request(method, url, **options)


class NoCookieJar(aiohttp.DummyCookieJar):
    """aiohttp's jar that keeps nothing, minus a new empty cookie set per request.

    Cookies are httpx's business (the client's jar); the session never gets
    any of its own to send (``send`` is never given ``cookies=``, the one
    case in which aiohttp adds to the set it got from the jar).
    """

    _EMPTY: SimpleCookie = SimpleCookie()

    def filter_cookies(self, request_url: URL) -> SimpleCookie:
        return self._EMPTY
