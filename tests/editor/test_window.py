"""Window-level behaviour: Edit menu texts, canvas-only shortcuts, the
minimap, dropping a file on the window, the context menu, themes."""

from __future__ import annotations

from pathlib import Path

from flowdesk.editor.document.commands import MoveNodes
from flowdesk.editor.main_window import MainWindow
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMenu

from .conftest import QUICKSTART


def test_edit_menu_names_the_step(quickstart: MainWindow) -> None:
    win = quickstart
    doc = win.controller.document
    ids = ["read_orders", "summarise", "merge"]
    win.controller.push(
        MoveNodes({i: (doc.node(i).position, (0, 500 + n)) for n, i in enumerate(ids)})
    )
    assert win.ui_actions["undo"].text() == "Undo Move 3 nodes"
    win.ui_actions["undo"].trigger()
    assert win.ui_actions["redo"].text() == "Redo Move 3 nodes"


def test_selection_shortcuts_only_on_the_canvas(quickstart: MainWindow) -> None:
    win = quickstart
    win.scene.select(["merge"])
    win.node_palette.tree.setFocus()
    QTest.keyClick(win.node_palette.tree, Qt.Key.Key_Delete)
    assert win.controller.document.has_node("merge")
    win.view.setFocus()
    QTest.keyClick(win.view, Qt.Key.Key_Delete)
    assert not win.controller.document.has_node("merge")
    QTest.keyClick(win.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert win.controller.document.has_node("merge")


def test_minimap_shows_when_the_graph_is_out_of_view_and_navigates(quickstart: MainWindow) -> None:
    win = quickstart
    view = win.view
    view.fit_all()
    assert not view.minimap.shown
    view.set_zoom(1.5)
    view.centerOn(QPointF(0, 0))
    assert view.minimap.shown
    rect = view.minimap.rect()
    QTest.qWait(1)
    view.viewport().repaint()  # paints the minimap and its transform
    QTest.mouseClick(
        view.viewport(),
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
        QPoint(rect.right() - 20, rect.center().y()),
    )
    center = view.center_scene()
    assert center.x() > 600  # jumped towards the right end of the graph
    assert win.controller.stack.count() == 0
    win.ui_actions["minimap"].trigger()
    assert not view.minimap.shown and not win.settings.minimap


def test_dropping_a_flow_file_on_the_window_opens_it(window: MainWindow) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(QUICKSTART))])
    enter = QDragEnterEvent(
        QPoint(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(
        window,
        QDropEvent(
            QPointF(10, 10),
            Qt.DropAction.CopyAction,
            mime,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        ),
    )
    assert len(window.controller.document.node_ids()) == 7
    assert window.controller.path == QUICKSTART.resolve()


def test_context_menu_disables_a_node(quickstart: MainWindow) -> None:
    win = quickstart
    point = win.view.mapFromScene(win.scene.nodes["merge"].pos() + QPointF(60, 12))
    QTest.mouseClick(
        win.view.viewport(), Qt.MouseButton.RightButton, Qt.KeyboardModifier.NoModifier, point
    )
    menu = win.findChild(QMenu, "canvasContextMenu")
    assert menu is not None and menu.isVisible()
    disable = next(a for a in menu.actions() if a.text() == "Disable")
    disable.trigger()
    menu.close()
    assert win.controller.document.node("merge").disabled
    assert win.scene.nodes["merge"].visual.disabled
    assert win.controller.stack.undoText() == "Disable node"


def test_theme_switch_and_empty_canvas(window: MainWindow, tmp_path: Path) -> None:
    window.set_theme("light")
    assert window.scene.canvas_style.theme.name == "light"
    window.view.viewport().repaint()
    window.set_theme("dark")
    assert window.settings.theme == "dark"
    image = window.grab()
    assert image.width() > 0
