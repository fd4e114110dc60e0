"""The MCP SDK's internals: the id the session gives its next request.

Checked against mcp 1.30.0 on CPython 3.11.7: ``BaseSession._request_id`` is
the id ``send_request`` uses next (then it adds one). A tool call that times
out or is cancelled tells the server which request to stop working on with
that id (``notifications/cancelled``); the SDK offers no public way to learn
it. tests/compat/test_mcp_fast.py fails, naming the attribute, when an
upgrade moves it; without it the cancel notice is simply not sent.

May import: stdlib (the session is passed in).
"""

from __future__ import annotations

from typing import Any


def next_request_id(session: Any) -> int | None:
    """The id ``session``'s next request will carry, or None when unknown."""
    value = getattr(session, "_request_id", None)
    return value if isinstance(value, int) else None
