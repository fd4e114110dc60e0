from __future__ import annotations

from typing import Any

import pytest

from engine import NodeRegistry, Workflow, parse_workflow
from tests.engine.stub_nodes import Probe, Sleep, stub_registry


@pytest.fixture
def registry() -> NodeRegistry:
    return stub_registry()


@pytest.fixture
def probe() -> Probe:
    Sleep.probe = Probe()
    return Sleep.probe


def flow(nodes: list[dict[str, Any]], edges: list[Any] = (), **top: Any) -> dict[str, Any]:
    """A workflow dict; edges may be given as ("a", "b") or ("a:true", "b:in")."""

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


def make(
    registry: NodeRegistry, nodes: list[dict[str, Any]], edges: list[Any] = (), **top: Any
) -> Workflow:
    return parse_workflow(flow(nodes, edges, **top), registry)
