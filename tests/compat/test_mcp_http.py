"""engine/compat/mcp_http.py: the MCP SDK still offers the Streamable HTTP
client and the httpx client factory in the shape the engine's choice between
its two names relies on (the connection itself: tests/sources/test_mcp.py)."""

from __future__ import annotations

import importlib.metadata
import inspect

import httpx
from flowdesk.engine.compat.mcp_http import READ_TIMEOUT, TIMEOUT
from mcp.client import streamable_http as transport
from mcp.shared import _httpx_utils

CHECKED = "engine/compat/mcp_http.py (checked against mcp 1.23.3, 1.24.0, 1.30.0)"


def test_the_new_client_takes_a_ready_httpx_client() -> None:
    version = importlib.metadata.version("mcp")
    new = getattr(transport, "streamable_http_client", None)
    if new is None:
        assert hasattr(transport, "streamablehttp_client"), (
            f"mcp {version}: neither Streamable HTTP client name exists; update {CHECKED}"
        )
        return
    parameters = inspect.signature(new).parameters
    assert "http_client" in parameters, (
        f"mcp {version}: streamable_http_client takes no http_client; update {CHECKED}"
    )


async def test_the_client_factory_keeps_headers_and_timeouts() -> None:
    version = importlib.metadata.version("mcp")
    factory = getattr(_httpx_utils, "create_mcp_http_client", None)
    assert factory is not None, (
        f"mcp {version}: mcp.shared._httpx_utils.create_mcp_http_client is gone; update {CHECKED}"
    )
    timeout = httpx.Timeout(TIMEOUT, read=READ_TIMEOUT)
    async with factory(headers={"X-Test": "1"}, timeout=timeout) as client:
        assert client.headers["X-Test"] == "1"
        assert client.timeout == timeout
