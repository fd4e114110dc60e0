from __future__ import annotations

from typing import Any

import pytest
from flowdesk.engine import NodeRegistry, Workflow, parse_workflow

from tests.engine.stub_nodes import Probe, Sleep, stub_registry
from tests.workflows import flow


@pytest.fixture
def registry() -> NodeRegistry:
    return stub_registry()


@pytest.fixture
def probe() -> Probe:
    Sleep.probe = Probe()
    return Sleep.probe


def make(
    registry: NodeRegistry, nodes: list[dict[str, Any]], edges: list[Any] = (), **top: Any
) -> Workflow:
    return parse_workflow(flow(nodes, edges, **top), registry)
