"""The HTTP client a run shares: httpx's API over the aiohttp transport.

httpx's default transport is several times slower than ``httpx-aiohttp``
under concurrency on our machine kind (see bench/http_fanout.py), so the
engine keeps httpx's API and swaps the transport. One client per run.
May import: httpx, httpx_aiohttp, stdlib.
"""

from __future__ import annotations

import httpx

DEFAULT_LIMITS = httpx.Limits(max_connections=200, max_keepalive_connections=100)


def make_http_client(*, timeout: float | None = 60.0) -> httpx.AsyncClient:
    """A new ``httpx.AsyncClient`` over the aiohttp transport."""
    try:
        from httpx_aiohttp import AiohttpTransport
    except ImportError:  # pragma: no cover - the dependency is declared
        transport: httpx.AsyncBaseTransport = httpx.AsyncHTTPTransport(limits=DEFAULT_LIMITS)
    else:
        transport = AiohttpTransport(limits=DEFAULT_LIMITS)
    return httpx.AsyncClient(transport=transport, timeout=timeout, follow_redirects=False)
