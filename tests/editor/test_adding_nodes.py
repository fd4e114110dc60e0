"""Adding nodes: drop from the palette, the palette filter, the quick-add
popup (fuzzy search, Enter adds), and dropping a wire on empty canvas, which
opens quick-add and connects the new node in the same undo step."""

from __future__ import annotations

from flowdesk.editor.fuzzy import rank
from flowdesk.editor.main_window import MainWindow
from flowdesk.editor.palette import NODE_TYPE_MIME, TYPE_ROLE
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from .conftest import drag, port_point, stack_texts, view_point


def drop_type(win: MainWindow, type_name: str, point: QPoint) -> None:
    mime = QMimeData()
    mime.setData(NODE_TYPE_MIME, type_name.encode())
    viewport = win.view.viewport()
    actions = Qt.DropAction.CopyAction
    enter = QDragEnterEvent(
        point, actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(viewport, enter)
    assert enter.isAccepted()
    drop = QDropEvent(
        QPointF(point), actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(viewport, drop)


def test_palette_lists_registry_types_and_drags_them(window: MainWindow) -> None:
    types = window.node_palette.visible_types()
    assert {"data.transform", "flow.if", "flow.merge", "file.read", "file.write"} <= set(types)
    model = window.node_palette.model
    first = model.index(0, 0, model.index(0, 0))
    mime = model.mimeData([first])
    assert bytes(mime.data(NODE_TYPE_MIME).data()).decode() == first.data(TYPE_ROLE)


def test_palette_filter(window: MainWindow) -> None:
    window.node_palette.filter.setText("merge")
    assert window.node_palette.visible_types()[0] == "flow.merge"
    window.node_palette.filter.setText("data root")  # in descriptions only
    assert set(window.node_palette.visible_types()) == {"file.read", "file.write"}
    window.node_palette.filter.setText("")
    assert len(window.node_palette.visible_types()) >= 5


def test_drop_from_palette_adds_a_node(window: MainWindow) -> None:
    point = QPoint(400, 300)
    drop_type(window, "flow.if", point)
    doc = window.controller.document
    assert doc.node_ids() == ["if"]
    assert stack_texts(window) == ["Add If"]
    item = window.scene.nodes["if"]
    assert item.sceneBoundingRect().contains(window.view.mapToScene(point))
    assert window.scene.selected_node_ids() == ["if"]
    assert window.inspector.node_id == "if"
    drop_type(window, "flow.if", QPoint(600, 300))
    assert doc.node_ids() == ["if", "if_2"]


def test_fuzzy_ranking() -> None:
    entries = [
        ("t", ("Transform", "data.transform", "Build a new value")),
        ("r", ("Read file", "file.read", "Read a file from the data root.")),
        ("w", ("Write file", "file.write", "Write data to a file")),
    ]
    assert rank("rf", entries)[0] == "r"
    assert rank("write", entries) == ["w"]
    assert rank("xyz", entries) == []
    assert rank("", entries) == ["t", "r", "w"]


def test_tab_opens_quick_add_and_enter_adds(quickstart: MainWindow) -> None:
    win = quickstart
    win.view.setFocus()
    QTest.keyClick(win.view, Qt.Key.Key_Tab)
    popup = win.quick_add
    assert popup.isVisible()
    QTest.keyClicks(popup.search, "mrg")
    assert popup.matches()[0] == "flow.merge"
    QTest.keyClick(popup.search, Qt.Key.Key_Return)
    assert not popup.isVisible()
    assert win.controller.document.has_node("merge_2")
    assert stack_texts(win) == ["Add Merge"]


def test_double_click_on_empty_canvas_opens_quick_add(quickstart: MainWindow) -> None:
    win = quickstart
    point = view_point(win, QPointF(400, 400))
    QTest.mouseDClick(
        win.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point
    )
    assert win.quick_add.isVisible()
    QTest.keyClick(win.quick_add.search, Qt.Key.Key_Escape)
    assert not win.quick_add.isVisible()
    assert win.controller.stack.count() == 0


def test_wire_dropped_on_empty_canvas_adds_and_connects(quickstart: MainWindow) -> None:
    win = quickstart
    win.view.centerOn(QPointF(1300, 0))
    start = port_point(win, "write_report", "out", True)
    drag(win, start, start + QPoint(150, 120))
    popup = win.quick_add
    assert popup.isVisible()
    QTest.keyClicks(popup.search, "transform")
    QTest.keyClick(popup.search, Qt.Key.Key_Return)
    doc = win.controller.document
    assert ("write_report", "out", "transform", "in") in doc.edge_keys()
    assert stack_texts(win) == ["Add Transform"]
    win.controller.stack.undo()
    assert not doc.has_node("transform")
    assert ("write_report", "out", "transform", "in") not in win.scene.edges


def test_wire_from_an_input_connects_the_new_nodes_output(quickstart: MainWindow) -> None:
    win = quickstart
    win.view.centerOn(QPointF(0, 0))
    win.editor.add_node("data.transform", QPointF(0, 300))
    start = port_point(win, "transform", "in", False)
    drag(win, start, start + QPoint(-150, 0))
    QTest.keyClicks(win.quick_add.search, "read file")
    QTest.keyClick(win.quick_add.search, Qt.Key.Key_Return)
    assert ("read_file", "out", "transform", "in") in win.controller.document.edge_keys()
