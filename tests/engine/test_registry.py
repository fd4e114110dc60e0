"""engine/registry.py: a type registered can be removed again (plug-ins
unloaded; tests undoing their own ``register``), and names stay unique."""

from __future__ import annotations

import pytest
from flowdesk.engine import NodeRegistry
from flowdesk.engine.nodes.spec import NodeType


class Sample(NodeType):
    type_name = "test.registry_sample"
    title = "Sample"


class Twin(NodeType):
    type_name = "test.registry_sample"
    title = "Twin"


def test_unregister_removes_a_type_and_gives_it_back() -> None:
    registry = NodeRegistry.default(plugins=False)
    count = len(registry)
    registry.register(Sample)
    assert "test.registry_sample" in registry and len(registry) == count + 1
    assert registry.unregister("test.registry_sample") is Sample
    assert "test.registry_sample" not in registry and len(registry) == count
    assert registry.find("test.registry_sample") is None
    # the name is free again, for another type too
    registry.register(Twin)
    assert registry.get("test.registry_sample") is Twin


def test_unregister_of_an_unknown_type_says_so() -> None:
    registry = NodeRegistry()
    with pytest.raises(KeyError, match="unknown node type 'nope'"):
        registry.unregister("nope")
