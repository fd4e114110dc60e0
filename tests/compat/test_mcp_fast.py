"""engine/compat/mcp_fast.py: the MCP SDK still numbers its requests the way
the cancel notice of a timed-out tool call relies on."""

from __future__ import annotations

import importlib.metadata
import inspect

from flowdesk.engine.compat.mcp_fast import next_request_id
from mcp.shared.session import BaseSession

CHECKED = "engine/compat/mcp_fast.py (checked against mcp 1.30.0)"


def test_the_session_keeps_the_next_request_id() -> None:
    version = importlib.metadata.version("mcp")
    source = inspect.getsource(BaseSession.send_request)
    assert "self._request_id" in source, (
        f"mcp {version}: BaseSession.send_request no longer numbers requests with "
        f"_request_id; update {CHECKED}"
    )


def test_next_request_id_reads_it_and_is_none_otherwise() -> None:
    class Session:
        _request_id = 7

    assert next_request_id(Session()) == 7
    assert next_request_id(object()) is None
