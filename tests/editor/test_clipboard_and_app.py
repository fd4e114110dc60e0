"""Copy/paste through the system clipboard between two windows (and from text
typed elsewhere), the end-to-end build-a-flow scenario through the UI, and
``editor.app.main`` with ``--screenshot``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flowdesk.editor.app import main
from flowdesk.editor.inspector.widgets import TextField
from flowdesk.editor.main_window import MainWindow
from flowdesk.engine import load_workflow
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtTest import QTest

from .conftest import QUICKSTART, close_window, drag, make_window, port_point, stack_texts
from .test_adding_nodes import drop_type


def test_copy_in_one_window_paste_in_another(
    quickstart: MainWindow, qtbot: Any, tmp_path: Path
) -> None:
    a = quickstart
    a.scene.select(["is_big_day", "celebrate", "quiet"])
    a.ui_actions["copy"].trigger()
    text = QGuiApplication.clipboard().text()
    assert json.loads(text)["format"] == "flowdesk/workflow"
    b = make_window(qtbot, a.registry, a.settings, tmp_path / "b")
    b.ui_actions["paste"].trigger()
    doc = b.controller.document
    assert set(doc.node_ids()) == {"is_big_day", "celebrate", "quiet"}
    assert len(doc.edge_keys()) == 2
    assert stack_texts(b) == ["Paste 3 nodes"]
    b.ui_actions["paste"].trigger()
    assert {"is_big_day_2", "celebrate_2", "quiet_2"} <= set(doc.node_ids())
    close_window(b)


def test_paste_hand_written_json_and_bad_text(window: MainWindow) -> None:
    messages: list[str] = []
    window.interactions.status_message.connect(messages.append)
    QGuiApplication.clipboard().setText('{"type": "flow.merge", "config": {"mode": "object"}}')
    window.ui_actions["paste"].trigger()
    assert window.controller.document.node("merge").config == {"mode": "object"}
    QGuiApplication.clipboard().setText("hello")
    window.ui_actions["paste"].trigger()
    assert any(m.startswith("Cannot paste") for m in messages)


def test_cut_duplicate_and_delete(quickstart: MainWindow) -> None:
    win = quickstart
    win.scene.select(["quiet"])
    win.ui_actions["duplicate"].trigger()
    assert win.scene.selected_node_ids() == ["quiet_2"]
    assert win.controller.document.node("quiet_2").position == (880, 140)
    win.ui_actions["cut"].trigger()
    assert not win.controller.document.has_node("quiet_2")
    assert stack_texts(win) == ["Duplicate 1 node", "Cut “Quiet day” (quiet_2)"]


def test_build_a_flow_through_the_ui(window: MainWindow, tmp_path: Path, qtbot: Any) -> None:
    win = window
    stack = win.controller.stack
    drop_type(win, "file.read", QPoint(300, 300))
    drop_type(win, "data.transform", QPoint(650, 300))
    doc = win.controller.document
    assert doc.node_ids() == ["read_file", "transform"]
    drag(win, port_point(win, "read_file", "out", True), port_point(win, "transform", "in", False))
    assert doc.edge_keys() == [("read_file", "out", "transform", "in")]
    win.scene.select(["read_file"])
    path = win.inspector.editors["path"]
    assert isinstance(path, TextField)
    path.edit.setFocus()
    QTest.keyClicks(path.edit, "data/orders.csv")
    assert doc.node("read_file").config == {"path": "data/orders.csv"}
    assert [stack.text(i) for i in range(stack.count())] == [
        "Add Read file",
        "Add Transform",
        "Connect “Read file” to “Transform”",
        "Edit Path",
    ]
    snapshots = []
    for _ in range(4):
        snapshots.append(doc.to_json())
        stack.undo()
    assert doc.node_ids() == []
    for expected in reversed(snapshots):
        stack.redo()
        assert doc.to_json() == expected
    win.scene.select(["read_file", "transform"])
    win.ui_actions["copy"].trigger()
    win.view.setFocus()
    win.ui_actions["paste"].trigger()
    assert ("read_file_2", "out", "transform_2", "in") in doc.edge_keys()
    win.files.choose_save_path = lambda: tmp_path / "built.flow.json"
    assert win.files.save_as()
    reopened = load_workflow(tmp_path / "built.flow.json", win.registry)
    assert reopened.to_json_dict() == doc.to_json()
    other = make_window(qtbot, win.registry, win.settings, tmp_path / "other")
    assert other.files.open_path(tmp_path / "built.flow.json", confirm=False)
    assert other.controller.document.to_json() == doc.to_json()
    close_window(other)


def test_screenshot_mode(tmp_path: Path, monkeypatch: Any, themed_app: Any) -> None:
    monkeypatch.setenv("FLOWDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FLOWDESK_SETTINGS", str(tmp_path / "settings.ini"))
    out = tmp_path / "shot.png"
    assert main([str(QUICKSTART), "--screenshot", str(out), "--theme", "dark"]) == 0
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1440, 900)
    bad = tmp_path / "bad.flow.json"
    bad.write_text("[]")
    assert main([str(bad), "--screenshot", str(tmp_path / "bad.png"), "--theme", "dark"]) == 2
    assert not list(tmp_path.glob("data/recovery/*.flow.json"))


def test_zoom_keys_and_fit(quickstart: MainWindow) -> None:
    win = quickstart
    win.view.setFocus()
    win.ui_actions["zoom_out"].trigger()
    assert abs(win.view.zoom - 0.8) < 1e-6
    win.scene.select(["merge"])
    QTest.keyClick(win.view, Qt.Key.Key_F)
    rect = win.view.mapToScene(win.view.viewport().rect()).boundingRect()
    assert rect.contains(win.scene.nodes["merge"].sceneBoundingRect())
    assert abs(rect.center().x() - win.scene.nodes["merge"].sceneBoundingRect().center().x()) < 20


def test_macos_file_open_event_opens_through_the_window(window: MainWindow, qtbot: Any) -> None:
    from flowdesk.editor.app import install_file_open_filter
    from PySide6.QtGui import QFileOpenEvent
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    event_filter = install_file_open_filter(app, window)
    opened: list[Path] = []
    window.files.open_path = lambda path, confirm=True: opened.append(path) or True  # type: ignore[method-assign]
    try:
        QApplication.sendEvent(app, QFileOpenEvent(str(QUICKSTART)))
        assert opened == [QUICKSTART]
    finally:
        app.removeEventFilter(event_filter)
