"""The scene mirrors the document after any sequence of commands, undo and
redo: the id maps equal the document's ids, and every item sits where the
document says (edges end at their ports)."""

from __future__ import annotations

import random

from flowdesk.editor.canvas.scene import CanvasScene
from flowdesk.editor.document.clipboard import (
    fragment_text,
    new_node_json,
    parse_fragment,
    plan_paste,
)
from flowdesk.editor.document.commands import (
    AddEdge,
    AddNode,
    AddNote,
    EditNote,
    MoveNodes,
    RemoveEdges,
    RemoveItems,
    RenameNode,
    SetConfig,
    SetNodeField,
)
from flowdesk.editor.main_window import MainWindow
from PySide6.QtCore import QPointF


def assert_mirrors(scene: CanvasScene) -> None:
    doc = scene.document
    assert doc is not None
    assert set(scene.nodes) == set(doc.node_ids())
    assert set(scene.edges) == set(doc.edge_keys())
    assert set(scene.notes) == {n["id"] for n in doc.notes()}
    for node_id, item in scene.nodes.items():
        node = doc.node(node_id)
        assert item.node_id == node_id
        if node.position is not None:
            assert item.pos() == QPointF(*node.position), node_id
        assert item.visual.title == (node.title or doc.node_type(node_id).title)  # type: ignore[union-attr]
        assert set(scene.overview.rects) == set(scene.nodes)
    for key, edge in scene.edges.items():
        assert edge.line.p1() == scene.nodes[key[0]].port_scene_pos(key[1], True)
        assert edge.line.p2() == scene.nodes[key[2]].port_scene_pos(key[3], False)
    for note_id, item in scene.notes.items():
        assert item.pos() == QPointF(*doc.note(note_id)["position"])


def random_command(win: MainWindow, rng: random.Random) -> object | None:
    doc = win.controller.document
    ids = doc.node_ids()
    edges = doc.edge_keys()
    choice = rng.randrange(11)
    if choice == 0 or not ids:
        type_name = rng.choice(
            ["data.transform", "flow.if", "flow.merge", "file.read", "file.write"]
        )
        return AddNode(
            new_node_json(doc, type_name, (rng.randrange(-500, 500), rng.randrange(-500, 500)))
        )
    if choice == 1:
        return RemoveItems(rng.sample(ids, min(len(ids), rng.randrange(1, 3))))
    if choice == 2:
        moved = rng.sample(ids, min(len(ids), 3))
        return MoveNodes(
            {
                i: (doc.node(i).position, (rng.randrange(-900, 900), rng.randrange(-900, 900)))
                for i in moved
            }
        )
    if choice == 3:
        a, b = rng.choice(ids), rng.choice(ids)
        outs, ins = doc.ports(a)[1], doc.ports(b)[0]
        if outs and ins and doc.can_connect(a, outs[0].name, b, ins[0].name) is None:
            return AddEdge(a, rng.choice(outs).name, b, ins[0].name)
        return None
    if choice == 4 and edges:
        return RemoveEdges([rng.choice(edges)])
    if choice == 5:
        node_id = rng.choice(ids)
        return SetNodeField(node_id, "title", f"Title {rng.randrange(100)}")
    if choice == 6:
        node_id = rng.choice(ids)
        new = doc.unique_id(node_id + "_r")
        return RenameNode(node_id, new)
    if choice == 7:
        return SetConfig(rng.choice(ids), "path", f"p{rng.randrange(9)}.txt")
    if choice == 8:
        command, _, _ = plan_paste(
            doc, parse_fragment(fragment_text(doc, rng.sample(ids, min(2, len(ids)))))
        )
        return command
    if choice == 9:
        return AddNote(
            {"id": doc.unique_note_id(), "text": "n", "position": [rng.randrange(99), 0]}
        )
    notes = [n["id"] for n in doc.notes()]
    if notes:
        return EditNote(rng.choice(notes), {"text": "x", "position": [5, rng.randrange(99)]})
    return SetNodeField(rng.choice(ids), "disabled", True)


def test_random_sequences_with_undo_and_redo(quickstart: MainWindow) -> None:
    win = quickstart
    rng = random.Random(4)
    stack = win.controller.stack
    snapshots = [win.controller.document.to_json()]
    for _ in range(120):
        command = random_command(win, rng)
        if command is None:
            continue
        win.controller.push(command)  # type: ignore[arg-type]
        win.controller.break_merge()
        snapshots = [*snapshots[: stack.index()], win.controller.document.to_json()]
        assert_mirrors(win.scene)
        if rng.random() < 0.3:
            steps = rng.randrange(1, 4)
            for _ in range(steps):
                stack.undo()
                assert_mirrors(win.scene)
                assert win.controller.document.to_json() == snapshots[stack.index()]
            for _ in range(rng.randrange(0, steps + 1)):
                stack.redo()
                assert_mirrors(win.scene)
                assert win.controller.document.to_json() == snapshots[stack.index()]
    while stack.canUndo():
        stack.undo()
    assert_mirrors(win.scene)
    assert win.controller.document.to_json() == snapshots[0]


def test_overview_mode_keeps_mirroring(quickstart: MainWindow) -> None:
    win = quickstart
    win.view.set_zoom(0.1)
    assert not win.scene.detail
    win.editor.add_node("data.transform", QPointF(0, 400))
    new_id = win.scene.selected_node_ids()[0]
    win.controller.push(AddEdge("merge", "out", new_id, "in"))
    assert win.view.scene() is not win.scene  # the overview is drawn instead of items
    assert ("merge", "out", new_id, "in") in win.scene.overview.lines
    assert_mirrors(win.scene)
    win.view.set_zoom(1.0)
    assert win.view.scene() is win.scene


def test_run_status_badges_are_not_document_state(quickstart: MainWindow) -> None:
    win = quickstart
    before = win.controller.document.to_json()
    win.scene.set_status("merge", "succeeded", "2 items")
    item = win.scene.nodes["merge"]
    assert item.status == ("succeeded", "2 items") and "Succeeded: 2 items" in item.toolTip()
    win.scene.clear_statuses()
    assert item.status is None
    assert win.controller.document.to_json() == before and win.controller.stack.count() == 0
