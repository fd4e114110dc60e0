"""Workflow documents for tests, written compactly (shared by the engine,
HTTP and file node tests)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def flow(nodes: list[dict[str, Any]], edges: Iterable[Any] = (), **top: Any) -> dict[str, Any]:
    """A workflow dict; an edge is a dict, or ``("a", "b")`` / ``("a:true", "b:in")``."""

    def end(text: str, default: str) -> dict[str, str]:
        node, _, port = text.partition(":")
        return {"node": node, "port": port or default}

    built = [
        e if isinstance(e, dict) else {"from": end(e[0], "out"), "to": end(e[1], "in")}
        for e in edges
    ]
    return {
        "format": "flowdesk/workflow",
        "version": 1,
        "name": "test",
        **top,
        "nodes": nodes,
        "edges": built,
    }
