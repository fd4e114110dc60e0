"""Gestures with real mouse and key events on the canvas: a drag is exactly
one MoveNodes, wiring adds one edge (compatible ports only, refusals
explained), an input's edge can be picked up and dropped off, rubber band and
keyboard selection, delete, nudge."""

from __future__ import annotations

from flowdesk.editor.main_window import MainWindow
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from .conftest import click, drag, port_point, stack_texts, view_point


def test_drag_pushes_exactly_one_move(quickstart: MainWindow) -> None:
    win = quickstart
    item = win.scene.nodes["summarise"]
    start = view_point(win, item.pos() + QPointF(60, 12))
    drag(win, start, start + QPoint(100, 60), steps=10)
    assert stack_texts(win) == ["Move “Summarise”"]  # titles, as the canvas shows them
    assert win.controller.document.node("summarise").position == (380, 60)  # snapped to the grid
    assert item.pos() == QPointF(380, 60)
    win.controller.stack.undo()
    assert win.controller.document.node("summarise").position == (280, 0)
    assert item.pos() == QPointF(280, 0)


def test_drag_moves_the_whole_selection_and_notes(quickstart: MainWindow) -> None:
    win = quickstart
    win.editor.add_note(QPointF(0, 300))
    note_id = next(iter(win.scene.notes))
    win.scene.select(["summarise", "merge"], [note_id])
    start = view_point(win, win.scene.nodes["merge"].pos() + QPointF(60, 12))
    drag(win, start, start + QPoint(40, 0))
    assert stack_texts(win)[-1] == "Move 2 nodes and 1 note"
    doc = win.controller.document
    assert doc.node("merge").position == (1160, 0)
    assert doc.node("summarise").position == (320, 0)


def test_click_selects_and_modifiers_extend(quickstart: MainWindow) -> None:
    win = quickstart
    click(win, view_point(win, win.scene.nodes["merge"].pos() + QPointF(80, 12)))
    assert win.scene.selected_node_ids() == ["merge"]
    click(
        win,
        view_point(win, win.scene.nodes["quiet"].pos() + QPointF(80, 12)),
        Qt.KeyboardModifier.ShiftModifier,
    )
    assert set(win.scene.selected_node_ids()) == {"merge", "quiet"}
    click(
        win,
        view_point(win, win.scene.nodes["quiet"].pos() + QPointF(80, 12)),
        Qt.KeyboardModifier.ControlModifier,
    )
    assert win.scene.selected_node_ids() == ["merge"]
    assert win.controller.stack.count() == 0


def test_rubber_band_selects(quickstart: MainWindow) -> None:
    win = quickstart
    win.view.set_zoom(0.5)
    win.view.centerOn(QPointF(700, 0))
    a = view_point(win, QPointF(820, -160))  # right of "Total above threshold?"
    b = view_point(win, QPointF(1100, 160))
    drag(win, a, b)
    assert set(win.scene.selected_node_ids()) == {"celebrate", "quiet"}
    assert win.view.rubber_band is None


def test_wire_two_ports_with_the_mouse(quickstart: MainWindow) -> None:
    win = quickstart
    win.view.centerOn(QPointF(500, 0))
    start = port_point(win, "summarise", "out", True)
    end = port_point(win, "merge", "in", False)
    win.view.centerOn(QPointF(700, 0))
    start = port_point(win, "summarise", "out", True)
    end = port_point(win, "merge", "in", False)
    drag(win, start, end, steps=12)
    assert stack_texts(win) == ["Connect “Summarise” to “Either branch”"]
    assert ("summarise", "out", "merge", "in") in win.controller.document.edge_keys()
    assert ("summarise", "out", "merge", "in") in win.scene.edges
    win.controller.stack.undo()
    assert ("summarise", "out", "merge", "in") not in win.scene.edges


def test_refused_wire_explains_why(quickstart: MainWindow) -> None:
    win = quickstart
    win.view.centerOn(QPointF(700, 0))
    messages: list[str] = []
    win.interactions.status_message.connect(messages.append)
    drag(win, port_point(win, "merge", "out", True), port_point(win, "summarise", "in", False))
    assert win.controller.stack.count() == 0
    assert any("cycle" in m for m in messages)


def test_second_edge_into_single_input_replaces(quickstart: MainWindow) -> None:
    win = quickstart
    win.view.centerOn(QPointF(700, 0))
    drag(
        win, port_point(win, "celebrate", "out", True), port_point(win, "write_report", "in", False)
    )
    doc = win.controller.document
    assert doc.edges_into("write_report") == [("celebrate", "out", "write_report", "in")]
    win.controller.stack.undo()
    assert doc.edges_into("write_report") == [("merge", "out", "write_report", "in")]


def test_pick_up_an_edge_and_drop_it_off(quickstart: MainWindow) -> None:
    win = quickstart
    win.view.centerOn(QPointF(1200, 0))
    start = port_point(win, "write_report", "in", False)
    drag(win, start, start + QPoint(-60, 150))
    assert ("merge", "out", "write_report", "in") not in win.controller.document.edge_keys()
    assert stack_texts(win) == ["Disconnect “Either branch” from “Write report”"]
    win.controller.stack.undo()
    assert ("merge", "out", "write_report", "in") in win.scene.edges
    assert win.scene.edges[("merge", "out", "write_report", "in")].isVisible()


def test_reconnect_an_edge_to_another_input(quickstart: MainWindow) -> None:
    win = quickstart
    win.view.centerOn(QPointF(1000, 0))
    drag(win, port_point(win, "quiet", "in", False), port_point(win, "celebrate", "in", False))
    doc = win.controller.document
    assert ("is_big_day", "false", "celebrate", "in") in doc.edge_keys()
    assert stack_texts(win) == ["Reconnect"]


def test_delete_select_all_and_nudge_keys(quickstart: MainWindow) -> None:
    win = quickstart
    view = win.view
    view.setFocus()
    win.scene.select(["merge"])
    QTest.keyClick(view, Qt.Key.Key_Right)
    QTest.keyClick(view, Qt.Key.Key_Right)
    assert win.controller.document.node("merge").position == (1160, 0)
    assert stack_texts(win) == ["Move “Either branch”"]  # nudges merge
    QTest.keyClick(view, Qt.Key.Key_Delete)
    assert not win.controller.document.has_node("merge")
    assert stack_texts(win)[-1] == "Delete “Either branch”"
    win.ui_actions["select_all"].trigger()
    assert len(win.scene.selected_node_ids()) == 6
    win.controller.stack.undo()
    assert win.controller.document.has_node("merge")


def test_wheel_zoom_is_bounded_and_fit(quickstart: MainWindow) -> None:
    win = quickstart
    for _ in range(60):
        win.view.set_zoom(win.view.zoom * 1.5)
    assert win.view.zoom <= 4.0
    win.view.fit_all()
    rect = win.view.mapToScene(win.view.viewport().rect()).boundingRect()
    assert rect.contains(win.scene.items_rect())
    win.view.set_zoom(0.1)
    assert not win.scene.detail  # overview below the threshold
    win.view.set_zoom(1.0)
    assert win.scene.detail
