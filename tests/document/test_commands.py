"""Every command: redo then undo gives the original JSON, redo again gives the
same JSON as the first redo. Plus merging and the texts the Edit menu shows."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flowdesk.editor.document import UNSET, Document, DocumentError
from flowdesk.editor.document.clipboard import new_node_json, parse_fragment, plan_paste
from flowdesk.editor.document.commands import (
    AddEdge,
    AddNode,
    AddNote,
    Command,
    EditNote,
    MoveNodes,
    RemoveEdges,
    RemoveItems,
    RenameNode,
    SetConfig,
    SetNodeField,
    SetWorkflowField,
)

IF_TRUE = ("is_big_day", "true", "celebrate", "in")

FACTORIES: dict[str, Callable[[Document], Command]] = {
    "add node": lambda d: AddNode(new_node_json(d, "data.transform", (10, 20))),
    "remove nodes": lambda d: RemoveItems(["is_big_day", "merge"]),
    "remove first node": lambda d: RemoveItems(["read_orders"]),
    "remove edge + note": lambda d: RemoveItems(edge_keys=[IF_TRUE], note_ids=["note_1"]),
    "remove everything": lambda d: RemoveItems(d.node_ids(), d.edge_keys(), ["note_1"]),
    "move": lambda d: MoveNodes({"summarise": ((280, 0), (300.5, 40)), "loose": (None, (5, 5))}),
    "move note": lambda d: MoveNodes({}, {"note_1": ((0, 200), (40, 240))}),
    "set config (existing key)": lambda d: SetConfig("read_orders", "path", "data/x.csv"),
    "set config (new key)": lambda d: SetConfig("merge", "extra", {"a": [1, 2]}),
    "set config (unset node)": lambda d: SetConfig("loose", "value", 3),
    "remove config key": lambda d: SetConfig("read_orders", "path", UNSET),
    "set title": lambda d: SetNodeField("summarise", "title", "Sum up"),
    "set retry": lambda d: SetNodeField("summarise", "retry", {"max_attempts": 3}),
    "unset title": lambda d: SetNodeField("summarise", "title", UNSET),
    "rename": lambda d: RenameNode("summarise", "totals"),
    "connect": lambda d: AddEdge("read_orders", "out", "merge", "in"),
    "connect replacing": lambda d: AddEdge("read_orders", "out", "is_big_day", "in"),
    "disconnect": lambda d: RemoveEdges([IF_TRUE]),
    "add note": lambda d: AddNote({"id": "note_2", "text": "x", "position": [1, 2]}),
    "edit note": lambda d: EditNote("note_1", {"text": "Bye", "size": [200, 100]}),
    "set workflow name": lambda d: SetWorkflowField("name", "Renamed"),
    "set workflow description unset": lambda d: SetWorkflowField("description", UNSET),
    "set variables": lambda d: SetWorkflowField("variables", {"threshold": 10}),
    "paste": lambda d: plan_paste(
        d,
        parse_fragment(
            '{"nodes": [{"id": "summarise", "type": "data.transform", "position": [0, 0],'
            ' "config": {"value": "{{ nodes.read_orders }}"}},'
            ' {"id": "read_orders", "type": "file.read", "position": [-200, 0]}],'
            ' "edges": [{"from": {"node": "read_orders"}, "to": {"node": "summarise"}}]}'
        ),
        anchor=(100, 100),
    )[0],
}


@pytest.mark.parametrize("name", list(FACTORIES))
def test_redo_undo_redo_round_trip(doc: Document, name: str) -> None:
    original = doc.to_json()
    command = FACTORIES[name](doc)
    command.redo(doc)
    after = doc.to_json()
    assert after != original, "the command changed nothing"
    command.undo(doc)
    assert doc.to_json() == original
    command.redo(doc)
    assert doc.to_json() == after
    command.undo(doc)
    assert doc.to_json() == original
    assert command.text


def test_connect_replaces_edge_into_single_input(doc: Document) -> None:
    AddEdge("read_orders", "out", "is_big_day", "in").redo(doc)
    assert doc.edges_into("is_big_day") == [("read_orders", "out", "is_big_day", "in")]


def test_connect_adds_to_multiple_input(doc: Document) -> None:
    AddEdge("read_orders", "out", "merge", "in").redo(doc)
    assert len(doc.edges_into("merge")) == 3


def test_rename_rewrites_edges_and_expressions(doc: Document) -> None:
    SetConfig(
        "quiet",
        "value",
        {
            "n": "{{ nodes.summarise.total }}",
            "m": "{{ nodes['summarise'] }}",
            "keep": "{{ nodes.summarise_2 }}",
        },
    ).redo(doc)
    RenameNode("summarise", "totals").redo(doc)
    assert doc.has_node("totals") and not doc.has_node("summarise")
    assert ("read_orders", "out", "totals", "in") in doc.edge_keys()
    value = doc.node("quiet").config["value"]
    assert value == {
        "n": "{{ nodes.totals.total }}",
        "m": "{{ nodes['totals'] }}",
        "keep": "{{ nodes.summarise_2 }}",
    }


def test_rename_refuses_bad_or_taken_ids(doc: Document) -> None:
    with pytest.raises(DocumentError):
        RenameNode("summarise", "9lives").redo(doc)
    with pytest.raises(DocumentError):
        RenameNode("summarise", "merge").redo(doc)


def test_keystrokes_in_one_field_merge(doc: Document) -> None:
    original = doc.to_json()
    first = SetConfig("read_orders", "path", "d")
    first.redo(doc)
    for text in ("da", "dat", "data.csv"):
        nxt = SetConfig("read_orders", "path", text)
        nxt.redo(doc)
        assert nxt.merge_key == first.merge_key
        assert first.merge(nxt)
    assert doc.node("read_orders").config["path"] == "data.csv"
    first.undo(doc)
    assert doc.to_json() == original
    first.redo(doc)
    assert doc.node("read_orders").config["path"] == "data.csv"


def test_nudges_merge_but_drags_do_not(doc: Document) -> None:
    a = MoveNodes({"merge": ((1120, 0), (1130, 0))}, mergeable=True)
    b = MoveNodes({"merge": ((1130, 0), (1140, 0))}, mergeable=True)
    assert a.merge_key == b.merge_key and a.merge(b)
    assert a.nodes["merge"] == ((1120, 0), (1140, 0))
    assert MoveNodes({"merge": ((0, 0), (1, 1))}).merge_key is None


def test_texts_name_the_step(doc: Document) -> None:
    assert MoveNodes(
        {"a": ((0, 0), (1, 1)), "b": ((0, 0), (1, 1)), "c": ((0, 0), (1, 1))}
    ).text == ("Move 3 nodes")
    assert RemoveItems(["a"], note_ids=["n"]).text == "Delete 1 node and 1 note"
    assert AddNode({"id": "x", "type": "data.transform"}).text == "Add data.transform"


def test_invalid_field_value_is_refused(doc: Document) -> None:
    before = doc.to_json()
    with pytest.raises(DocumentError):
        SetNodeField("summarise", "timeout_s", -1).redo(doc)
    assert doc.to_json() == before


def test_positions_are_whole_pixels_when_whole(doc: Document) -> None:
    MoveNodes({"merge": ((1120, 0), (10.0, 20.04))}).redo(doc)
    assert doc.to_json()["nodes"][5]["position"] == [10, 20]


def test_undoing_the_first_note_leaves_no_empty_ui(quickstart_json: dict, registry: object) -> None:
    from .conftest import make_doc

    doc = make_doc(quickstart_json, registry)  # type: ignore[arg-type]
    original = doc.to_json()
    command = AddNote({"id": "n", "text": "", "position": [0, 0]})
    command.redo(doc)
    assert doc.to_json()["ui"] == {"notes": [{"id": "n", "text": "", "position": [0, 0]}]}
    command.undo(doc)
    assert doc.to_json() == original
