"""The MCP SDK's Streamable HTTP client, under the name each version gives it.

Checked against mcp 1.23.3, 1.24.0 and 1.30.0 on CPython 3.11.7 (pyproject
allows mcp >=1.10,<2). mcp 1.24 added ``streamable_http_client(url, *,
http_client=None, terminate_on_close=True)``, which takes a ready
``httpx.AsyncClient``, and deprecated ``streamablehttp_client(url, headers,
timeout, ...)`` (a DeprecationWarning at every connection); before 1.24
only the old name exists. The old function is, from 1.24 on, a wrapper that
builds the client with ``mcp.shared._httpx_utils.create_mcp_http_client``
(private: the SDK's redirect and timeout defaults) and hands it to the new
one; ``streamable_http`` does the same itself, so both versions connect
alike: the same headers on every request, 30 s timeouts (300 s to read, a
server may hold a stream open), the session ended when the context exits.
tests/compat/test_mcp_http.py fails, naming what is missing, when an
upgrade changes one of these.

May import: mcp, httpx, stdlib (mcp only when a connection is made: it is
slow to import).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

#: the old function's defaults, kept for the new one: connect/write/pool, read
TIMEOUT = 30.0
READ_TIMEOUT = 300.0


def current_client(transport: Any) -> Any | None:
    """``transport.streamable_http_client`` (``transport``: the SDK's module
    ``mcp.client.streamable_http``), or None before mcp 1.24."""
    return getattr(transport, "streamable_http_client", None)


@contextlib.asynccontextmanager
async def streamable_http(url: str, headers: dict[str, str]) -> AsyncIterator[tuple[Any, Any]]:
    """The (read, write) streams of an MCP session with the Streamable HTTP
    server at ``url``, ``headers`` sent with every request."""
    from mcp.client import streamable_http as transport

    client_of = current_client(transport)
    if client_of is None:  # mcp < 1.24
        async with transport.streamablehttp_client(url, headers=headers) as (read, write, _):
            yield read, write
        return
    import httpx
    from mcp.shared._httpx_utils import create_mcp_http_client

    timeout = httpx.Timeout(TIMEOUT, read=READ_TIMEOUT)
    async with (
        create_mcp_http_client(headers=headers, timeout=timeout) as client,
        client_of(url, http_client=client) as (read, write, _),
    ):
        yield read, write
