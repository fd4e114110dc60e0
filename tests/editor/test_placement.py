"""Issue 14, part B — the canvas: quick-add from a dropped wire (the wire stays
in sight, the node goes beside its source, the likeliest type first, whole
rows), results kept in view (auto-layout, adding near the edge, align), the
minimap never over a node when a corner is free, Arrange ▸ Align and
Distribute as undoable steps, the Error tab without tools that do nothing."""

from __future__ import annotations

import itertools
from typing import Any

from flowdesk.editor.document.commands import MoveNodes
from flowdesk.editor.main_window import MainWindow
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QWidget

from .conftest import drag, port_point, run_and_wait, stack_texts, write_flow


def _port_at_left(win: MainWindow, node_id: str, port: str, is_output: bool) -> QPoint:
    """Scroll so that the port sits near the canvas's left edge (the offscreen
    screen is small: a popup beside a point far right would not fit)."""
    item = win.scene.nodes[node_id]
    at = item.port_scene_pos(port, is_output)
    width = win.view.viewport().width() / win.view.zoom
    win.view.centerOn(at + QPointF(width / 2 - 60, 0))
    return port_point(win, node_id, port, is_output)


def _on_screen(win: MainWindow, node_ids: list[str]) -> None:
    view = win.view
    visible = view.visible_rect()
    corner = view.minimap.rect()
    for node_id in node_ids:
        rect = win.scene.nodes[node_id].scene_rect()
        assert visible.contains(rect), node_id
        if not corner.isNull():
            shown = QRectF(view.mapFromScene(rect).boundingRect())
            assert not shown.intersects(QRectF(corner)), f"{node_id} under the minimap"


def test_a_dropped_wire_stays_while_quick_add_is_open(quickstart: MainWindow) -> None:
    win = quickstart
    start = _port_at_left(win, "merge", "out", True)
    end = start + QPoint(60, 140)
    drag(win, start, end)
    popup = win.quick_add
    assert popup.isVisible()
    wire = win.interactions.dangling
    assert wire is not None and wire.scene() is win.scene and wire.isVisible()
    assert wire.path().pointAtPercent(1.0).toPoint() == win.view.mapToScene(end).toPoint()
    drop = win.view.viewport().mapToGlobal(end)
    assert not popup.frameGeometry().contains(drop)  # the wire's end stays in sight
    assert popup.frameGeometry().left() > drop.x()  # beside it, away from the wire
    QTest.keyClick(popup.search, Qt.Key.Key_Escape)
    assert win.interactions.dangling is None and wire.scene() is None
    assert win.controller.stack.count() == 0


def test_quick_add_from_a_wire_offers_the_likeliest_types(quickstart: MainWindow) -> None:
    win = quickstart
    win.view.centerOn(QPointF(1100, 100))
    start = port_point(win, "merge", "out", True)
    drag(win, start, start + QPoint(120, 140))
    popup = win.quick_add
    matches = popup.matches()
    assert matches[0] == "data.transform"  # not "AI transform", first in the palette
    assert "file.read" not in matches and "trigger.webhook" not in matches  # no input
    QTest.keyClick(popup.search, Qt.Key.Key_Escape)
    win.editor.add_node("flow.merge", QPointF(1100, 500))  # an input with no edge yet
    start = port_point(win, "merge_2", "in", False)
    drag(win, start, start + QPoint(-120, 60))
    assert popup.matches()[0] == "file.read"  # something to feed an input
    assert "file.write" in popup.matches()
    QTest.keyClick(popup.search, Qt.Key.Key_Escape)


def test_quick_add_list_shows_whole_rows_without_a_horizontal_bar(
    quickstart: MainWindow,
) -> None:
    win = quickstart
    win.view.centerOn(QPointF(1100, 100))
    start = port_point(win, "merge", "out", True)
    drag(win, start, start + QPoint(120, 140))
    view = win.quick_add.list
    assert view.horizontalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOff
    assert not view.horizontalScrollBar().isVisible()
    row = view.sizeHintForRow(0)
    assert view.viewport().height() % row == 0  # no half-cut last entry
    last = view.model().index(view.viewport().height() // row - 1, 0)
    assert view.visualRect(last).bottom() < view.viewport().height()
    QTest.keyClick(win.quick_add.search, Qt.Key.Key_Escape)


def test_the_new_node_goes_beside_its_source_not_on_it(quickstart: MainWindow) -> None:
    win = quickstart
    win.view.centerOn(QPointF(1100, 100))
    start = port_point(win, "merge", "out", True)
    drag(win, start, start + QPoint(20, 10))  # a short drag: right by the node
    QTest.keyClick(win.quick_add.search, Qt.Key.Key_Return)
    doc = win.controller.document
    assert ("merge", "out", "transform", "in") in doc.edge_keys()
    assert stack_texts(win) == ["Add Transform"]
    source = win.scene.nodes["merge"].scene_rect()
    added = win.scene.nodes["transform"].scene_rect()
    assert added.left() >= source.right() + 20
    for node_id, item in win.scene.nodes.items():
        if node_id != "transform":
            assert not added.intersects(item.scene_rect()), node_id
    assert win.interactions.dangling is None
    _on_screen(win, ["transform"])


def test_adding_near_the_edge_scrolls_the_node_into_view(quickstart: MainWindow) -> None:
    win = quickstart
    view = win.view
    corner = view.viewport().rect().bottomRight() - QPoint(5, 5)
    win.editor.add_node("data.transform", view.mapToScene(corner))
    _on_screen(win, ["transform"])


def test_auto_layout_keeps_the_result_in_view(quickstart: MainWindow) -> None:
    win = quickstart
    win.view.centerOn(QPointF(5000, 3000))  # looking elsewhere
    win.ui_actions["auto_layout"].trigger()
    assert stack_texts(win) == ["Auto-layout"]
    _on_screen(win, list(win.scene.nodes))


def test_the_minimap_moves_off_a_node(window: MainWindow, tmp_path: Any) -> None:
    win = window
    flow = write_flow(
        tmp_path,
        [
            {"id": "near", "type": "data.transform", "position": [0, 0]},
            {"id": "other", "type": "data.transform", "position": [3000, 0]},
            {"id": "far", "type": "data.transform", "position": [6000, 0]},
        ],
    )
    assert win.files.open_path(flow, confirm=False)
    view = win.view
    view.set_zoom(1.0)
    # "near" in the canvas's bottom-right corner, the others out of view
    rect = win.scene.nodes["near"].scene_rect()
    area = view.viewport().rect()
    view.centerOn(rect.right() - area.width() / 2 + 40, rect.bottom() - area.height() / 2 + 40)
    view.minimap.sync()
    assert view.minimap.shown
    assert view.minimap.corner == "bottom-left"  # the right one would cover "near"
    assert not view.minimap.covers_node()
    corner = QRectF(view.minimap.rect())
    assert not QRectF(view.mapFromScene(rect).boundingRect()).intersects(corner)
    # a node under each bottom corner: it goes to the top
    seen = view.visible_rect()
    old = win.controller.document.node("other").position
    win.editor.push(MoveNodes({"other": (old, (seen.left() + 20, seen.bottom() - 80))}))
    view.minimap.sync()
    assert view.minimap.shown and view.minimap.corner == "top-right"
    assert not view.minimap.covers_node()
    view.fit_rect(win.scene.nodes["far"].scene_rect())  # a new view: bottom-right again
    assert view.minimap.corner == "bottom-right" and view.minimap.shown


def test_align_and_distribute_are_undoable_steps(quickstart: MainWindow) -> None:
    win = quickstart
    a = win.ui_actions
    win.scene.select(["summarise"])
    assert not a["align_left"].isEnabled() and not a["distribute_h"].isEnabled()
    ids = ["read_orders", "summarise", "is_big_day"]
    doc = win.controller.document
    before = {i: doc.node(i).position for i in ids}
    win.scene.select(ids)
    assert a["align_top"].isEnabled() and a["distribute_h"].isEnabled()
    win.editor.push(MoveNodes({"summarise": (before["summarise"], (300.0, 140.0))}))
    a["align_top"].trigger()
    assert len({doc.node(i).position[1] for i in ids}) == 1  # type: ignore[index]
    assert stack_texts(win)[1:] == ["Align top (3 nodes)"]
    a["distribute_h"].trigger()
    rects = sorted((win.scene.nodes[i].scene_rect() for i in ids), key=lambda r: r.left())
    gaps = [round(b.left() - a_.right()) for a_, b in itertools.pairwise(rects)]
    assert len(set(gaps)) == 1 and gaps[0] > 0, gaps
    assert stack_texts(win)[-1] == "Distribute horizontally (3 nodes)"
    a["align_left"].trigger()
    assert len({doc.node(i).position[0] for i in ids}) == 1  # type: ignore[index]
    assert stack_texts(win)[-1] == "Align left (3 nodes)"
    _on_screen(win, ids)
    for _ in range(4):
        win.controller.stack.undo()
    assert {i: doc.node(i).position for i in ids} == before


def test_the_error_tab_hides_the_value_tools(
    run_window: MainWindow, qtbot: Any, tmp_path: Any
) -> None:
    win = run_window
    nodes = [{"id": "read", "type": "file.read", "config": {"path": "missing.csv"}}]
    assert win.files.open_path(write_flow(tmp_path, nodes), confirm=False)
    result = run_and_wait(qtbot, win)
    assert result.status == "failed"
    panel = win.run.output
    assert panel.tab == "error"  # a failed node opens on its error
    tools = (*panel.mode_buttons.values(), panel.search_box, panel.copy_value_button)
    for button in tools:
        assert not button.isVisible(), button.objectName()  # no tool that does nothing
    panel.tabs.setCurrentIndex(0)  # Output: the tools are back (greyed: no output)
    assert all(button.isVisible() and not button.isEnabled() for button in tools)


def test_the_minimap_leaves_a_nodes_status_line_clear(window: MainWindow, tmp_path: Any) -> None:
    # a node just above the minimap: its status line ("skipped", a time) is drawn
    # under it, so the minimap must not sit right there
    win = window
    flow = write_flow(
        tmp_path,
        [
            {"id": "near", "type": "data.transform", "position": [0, 0]},
            {"id": "far", "type": "data.transform", "position": [6000, 0]},
        ],
    )
    assert win.files.open_path(flow, confirm=False)
    view = win.view
    view.set_zoom(1.0)
    view.minimap.sync()
    place = view.minimap._place("bottom-right")
    node = view.mapFromScene(win.scene.nodes["near"].scene_rect()).boundingRect()
    # scroll so that the node ends 8 px above the bottom-right minimap, over its right part
    target = QPointF(place.right() - 20 - node.width(), place.top() - 8 - node.height())
    shift = view.mapToScene(node.topLeft()) - view.mapToScene(target.toPoint())
    view.centerOn(view.mapToScene(view.viewport().rect().center()) + shift)
    node = view.mapFromScene(win.scene.nodes["near"].scene_rect()).boundingRect()
    assert not node.intersects(place) and place.top() - node.bottom() < 18
    view.minimap.sync()
    assert view.minimap.shown and view.minimap.corner != "bottom-right"


def test_the_inspector_fits_its_dock(quickstart: MainWindow) -> None:
    # a long option (the retry presets' labels) must not push the fields past
    # the edge of the inspector dock at its default width (its viewport is
    # ~260 px in a 1440×900 window); the combo box elides, its list shows all
    win = quickstart
    win.scene.select(["summarise"])
    QTest.qWait(20)
    content = win.inspector.scroll_area.widget()
    assert content.findChild(QWidget, "edit_preset") is not None
    assert content.minimumSizeHint().width() <= 260
