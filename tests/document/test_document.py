"""Document invariants, event order, ports, connection rules and the
placeholder round trip (unknown node types keep their JSON)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from flowdesk.editor.document import Document, DocumentError
from flowdesk.editor.document.commands import AddNode, RemoveItems, SetConfig
from flowdesk.editor.document.events import EdgeRemoved, NodeRemoved
from flowdesk.engine import NodeRegistry, dumps_workflow, loads_workflow, parse_workflow

from .conftest import make_doc


def test_removing_a_node_announces_its_edges_first(doc: Document) -> None:
    events: list[Any] = []
    doc.changed.connect(events.append)
    RemoveItems(["is_big_day"]).redo(doc)
    kinds = [type(e) for e in events]
    assert kinds == [EdgeRemoved, EdgeRemoved, EdgeRemoved, NodeRemoved]
    assert not doc.edges_of("celebrate") or all("is_big_day" not in k for k in doc.edge_keys())


def test_duplicate_ids_and_dangling_edges_are_refused(
    quickstart_json: dict[str, Any], registry: NodeRegistry
) -> None:
    bad = copy.deepcopy(quickstart_json)
    bad["nodes"].append(copy.deepcopy(bad["nodes"][0]))
    bad["edges"].append({"from": {"node": "ghost"}, "to": {"node": "merge"}})
    with pytest.raises(DocumentError) as info:
        make_doc(bad, registry)
    assert "duplicate id 'read_orders'" in str(info.value)
    assert "'ghost' does not exist" in str(info.value)


def test_adding_a_taken_id_fails_and_changes_nothing(doc: Document) -> None:
    before = doc.to_json()
    with pytest.raises(DocumentError):
        AddNode({"id": "merge", "type": "flow.merge"}).redo(doc)
    assert doc.to_json() == before


def test_ports_of_known_types(doc: Document) -> None:
    inputs, outputs = doc.ports("is_big_day")
    assert [p.name for p in inputs] == ["in"]
    assert [p.name for p in outputs] == ["true", "false"]
    assert doc.ports("merge")[0][0].multiple
    assert doc.ports("read_orders")[0] == []


def test_can_connect_explains_refusals(doc: Document) -> None:
    assert doc.can_connect("read_orders", "out", "merge", "in") is None
    assert "itself" in doc.can_connect("merge", "out", "merge", "in")  # type: ignore[operator]
    assert "cycle" in doc.can_connect("write_report", "out", "summarise", "in")  # type: ignore[operator]
    assert "already connected" in doc.can_connect("read_orders", "out", "summarise", "in")  # type: ignore[operator]
    assert "no input" in doc.can_connect("summarise", "out", "read_orders", "in")  # type: ignore[operator]
    assert "no output" in doc.can_connect("summarise", "nope", "merge", "in")  # type: ignore[operator]


def test_unique_ids(doc: Document) -> None:
    assert doc.unique_id("fresh") == "fresh"
    assert doc.unique_id("merge") == "merge_2"
    assert doc.unique_id("merge", taken=["merge_2"]) == "merge_3"
    assert doc.unique_id("Read file") == "read_file"


PLACEHOLDER_FILE = {
    "format": "flowdesk/workflow",
    "version": 1,
    "name": "Has a plug-in node",
    "nodes": [
        {"id": "src", "type": "file.read", "position": [0, 0], "config": {"path": "a.txt"}},
        {
            "id": "magic",
            "type": "acme.magic",
            "type_version": 3,
            "title": "Magic",
            "position": [300, 0],
            "config": {"spell": {"words": ["abra", "cadabra"]}, "power": 9000},
            "retry": {"max_attempts": 2},
        },
        {"id": "out", "type": "file.write", "position": [600, 0], "config": {"path": "b.txt"}},
    ],
    "edges": [
        {"from": {"node": "src", "port": "out"}, "to": {"node": "magic", "port": "source"}},
        {"from": {"node": "magic", "port": "result"}, "to": {"node": "out", "port": "in"}},
    ],
    "ui": {"viewport": {"x": 1, "y": 2, "zoom": 1.0}, "groups": [{"any": "thing"}]},
}


def test_placeholder_opens_and_saves_back_unchanged(registry: NodeRegistry) -> None:
    text = json.dumps(PLACEHOLDER_FILE, indent=2) + "\n"
    doc = Document(loads_workflow(text, registry), registry)
    assert doc.node_type("magic") is None
    inputs, outputs = doc.ports("magic")
    assert [(p.name, p.declared) for p in inputs] == [("source", False)]
    assert [(p.name, p.declared) for p in outputs] == [("result", False)]
    assert "not installed" in (doc.can_connect("src", "out", "magic", "source") or "")
    # Edit around it: the placeholder's JSON does not move.
    cmd = SetConfig("src", "path", "c.txt")
    cmd.redo(doc)
    cmd.undo(doc)
    assert dumps_workflow(doc.workflow) == text
    assert doc.to_json() == PLACEHOLDER_FILE


def test_quickstart_round_trips(quickstart_json: dict[str, Any], registry: NodeRegistry) -> None:
    doc = Document(parse_workflow(copy.deepcopy(quickstart_json), registry), registry)
    assert doc.to_json() == quickstart_json


def test_a_workflow_field_is_checked_by_its_own_type(registry: NodeRegistry) -> None:
    """A top-level key is checked by the file format's type of that key (its
    constraints included), with the key in the message; unknown keys refused."""
    doc = Document.new(registry)
    doc.set_workflow_field("settings", {"max_concurrency": 3})
    assert doc.workflow.settings.max_concurrency == 3
    doc.set_workflow_field("credentials", {"api": {"type": "bearer"}})
    assert doc.workflow.credentials["api"].type == "bearer"
    # (in the words of flowdesk validate: the engine's one mapper)
    unknown = r"^settings\.bogus: unknown key \(not part of the format"
    with pytest.raises(DocumentError, match=unknown):
        doc.set_workflow_field("settings", {"bogus": 1})
    too_short = r"^name: string should have at least 1 character \(got ''\)"
    with pytest.raises(DocumentError, match=too_short):
        doc.set_workflow_field("name", "")
    with pytest.raises(DocumentError, match="not a key of a workflow"):
        doc.set_workflow_field("colour", "red")
    assert doc.workflow.settings.max_concurrency == 3  # a refused value changes nothing
