"""What a new user trips over (issue 14, part A): bugs and friction found by
building a flow from scratch — each test drives the window as a user would
(real mouse and key events, the real validator and engine)."""

from __future__ import annotations

from typing import Any

from flowdesk.editor.main_window import MainWindow
from flowdesk.editor.palette import TYPE_ROLE
from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from .conftest import drag, port_point, view_point


def double_click(widget: Any, point: QPoint) -> None:
    """A real double-click: press, release, then the second press as a
    double-click, and its release."""
    left, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    QTest.mouseClick(widget, left, none, point)
    QTest.mouseDClick(widget, left, none, point)


def palette_row(win: MainWindow, type_name: str) -> Any:
    model = win.node_palette.model
    for row in range(model.rowCount()):
        heading = model.index(row, 0)
        for child in range(model.rowCount(heading)):
            index = model.index(child, 0, heading)
            if index.data(TYPE_ROLE) == type_name:
                return index
    raise AssertionError(type_name)


# ------------------------------------------------------------------ 1
def test_double_click_in_the_palette_adds_one_node(window: MainWindow) -> None:
    tree = window.node_palette.tree
    index = palette_row(window, "flow.if")
    tree.scrollTo(index)
    center = tree.visualRect(index).center()
    double_click(tree.viewport(), center)
    assert window.controller.document.node_ids() == ["if"]
    tree.setCurrentIndex(index)
    tree.setFocus()
    QTest.keyClick(tree, Qt.Key.Key_Return)
    assert len(window.controller.document.node_ids()) == 2


# ------------------------------------------------------------------ 2
def test_a_sticky_note_gets_its_keys(window: MainWindow) -> None:
    window.editor.add_note(QPointF(0, 0))
    (note_id,) = window.scene.notes
    note = window.scene.notes[note_id]
    window.view.setFocus()
    point = view_point(window, note.sceneBoundingRect().center())
    double_click(window.view.viewport(), point)
    assert note._editor is not None and note._editor.hasFocus()
    view = window.view
    QTest.keyClicks(view, "a fox")
    QTest.keyClick(view, Qt.Key.Key_Left)
    QTest.keyClick(view, Qt.Key.Key_Left)
    QTest.keyClick(view, Qt.Key.Key_Left)
    QTest.keyClicks(view, "big ")
    QTest.keyClick(view, Qt.Key.Key_End)
    QTest.keyClick(view, Qt.Key.Key_Tab)
    QTest.keyClicks(view, "pf")  # F fits, P pins on the canvas: here they are letters
    QTest.keyClick(view, Qt.Key.Key_Backspace)
    assert not view.space_down
    assert window.quick_add.isHidden()
    QTest.keyClick(view, Qt.Key.Key_Escape)  # ends editing: one undoable edit
    assert window.controller.document.note(note_id)["text"] == "a big fox\tp"
    assert note_id in window.scene.notes  # Backspace did not delete the note


# ------------------------------------------------------------------ 3
def icon_color(icon: Any) -> str:
    """The colour of an icon's opaque pixels."""
    image = icon.pixmap(16, 16).toImage()
    for y in range(image.height()):
        for x in range(image.width()):
            color = image.pixelColor(x, y)
            if color.alpha() > 250:
                return color.name()
    raise AssertionError("blank icon")


def test_switching_the_theme_restyles_bars_docks_and_icons(window: MainWindow) -> None:
    from flowdesk.editor.theme import DARK, LIGHT

    search = window.node_palette.filter.actions()[0]
    try:
        for theme in (LIGHT, DARK, LIGHT):
            window.set_theme(theme.name)
            QApplication.processEvents()
            shot = window.grab().toImage()
            bar = window.menuBar().geometry()
            tools = window.toolbar.geometry()
            status = window.statusBar().geometry()
            dock_title = window.palette_dock.mapTo(window, QPoint(120, 6))
            for where in (
                QPoint(bar.right() - 40, bar.center().y()),
                QPoint(tools.right() - 40, tools.center().y()),
                QPoint(status.center().x() - 200, status.center().y()),
                dock_title,
            ):
                assert shot.pixelColor(where).name() == theme.panel, where
            for icon in (search.icon(), window.ui_actions["undo"].icon()):
                assert icon_color(icon) == theme.text
            assert icon_color(window.run.output.search_box.actions()[0].icon()) == theme.text
    finally:
        window.set_theme("dark")


# ------------------------------------------------------------------ 4
class PaintWatcher(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.regions: list[Any] = []

    def eventFilter(self, _obj: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Paint:
            self.regions.append(event.region())  # type: ignore[attr-defined]
        return False


def test_the_empty_hint_is_wiped_by_the_first_node(window: MainWindow, qtbot: Any) -> None:
    viewport = window.view.viewport()
    QApplication.processEvents()
    watcher = PaintWatcher()
    viewport.installEventFilter(watcher)
    try:
        window.editor.add_node("flow.if", window.view.center_scene() + QPointF(300, 200))
        qtbot.waitUntil(lambda: bool(watcher.regions))
        QApplication.processEvents()
        painted = watcher.regions[0]
        for region in watcher.regions[1:]:
            painted = painted.united(region)
        # the hint's lines, in the middle of the view, are painted over
        assert painted.contains(viewport.rect().center())
    finally:
        viewport.removeEventFilter(watcher)


# ------------------------------------------------------------------ 5
def test_the_workflow_header_counts_follow_edits(quickstart: MainWindow) -> None:
    win = quickstart
    win.scene.select()
    header = win.inspector.subtitle_label
    assert header.text() == "7 nodes · 7 edges"
    doc = win.controller.document
    drag(win, port_point(win, "read_orders", "out", True), port_point(win, "merge", "in", False))
    assert len(doc.workflow.edges) == 8
    assert header.text() == "7 nodes · 8 edges"
    win.controller.stack.undo()
    assert header.text() == "7 nodes · 7 edges"
    win.scene.select(["quiet"])
    win.editor.delete_selection()
    win.scene.select()
    assert win.inspector.subtitle_label.text() == "6 nodes · 5 edges"
    win.controller.stack.undo()
    assert win.inspector.subtitle_label.text() == "7 nodes · 7 edges"
    win.scene.select(["celebrate", "quiet", "merge", "write_report", "read_orders", "summarise"])
    win.editor.delete_selection()
    win.scene.select()
    assert win.inspector.subtitle_label.text() == "1 node · 0 edges"
    assert win.count_label.text() == "1 node · 0 edges"


# ------------------------------------------------------------------ 6
def test_dropping_a_picked_up_edge_clears_the_status_bar(quickstart: MainWindow) -> None:
    win = quickstart
    win.view.centerOn(QPointF(1200, 0))
    target = port_point(win, "write_report", "in", False)
    viewport = win.view.viewport()
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, target)
    for step in range(1, 5):  # away, and back over the input: "Release to connect…"
        QTest.mouseMove(viewport, target + QPoint(-15 * step, 30 * step))
    QTest.mouseMove(viewport, target)
    assert "Release to connect" in win.statusBar().currentMessage()
    QTest.mouseMove(viewport, target + QPoint(-80, 160))
    assert win.statusBar().currentMessage() == ""
    QTest.mouseMove(viewport, target)
    QTest.mouseMove(viewport, target + QPoint(-80, 160))
    QTest.mouseRelease(
        viewport,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
        target + QPoint(-80, 160),
    )
    assert ("merge", "out", "write_report", "in") not in win.controller.document.edge_keys()
    assert win.statusBar().currentMessage() == ""


# ------------------------------------------------------------------ 18
def test_a_refused_connection_shows_on_the_wire_and_the_port(quickstart: MainWindow) -> None:
    from flowdesk.editor.canvas.items.node_item import PORT_DENIED

    win = quickstart
    win.view.centerOn(QPointF(700, 0))
    start = port_point(win, "merge", "out", True)
    target = port_point(win, "summarise", "in", False)
    viewport = win.view.viewport()
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for step in range(1, 7):
        point = start + (target - start) * (step / 6)
        QTest.mouseMove(viewport, QPoint(round(point.x()), round(point.y())))
    gesture = win.interactions.gesture
    style = win.scene.canvas_style
    assert gesture.wire.pen().color() == style.problem
    assert gesture.wire.pen().style() == Qt.PenStyle.DashLine
    summarise = win.scene.nodes["summarise"]
    assert summarise.port_states[("in", False)] == PORT_DENIED
    hint = gesture.hint
    assert hint.isVisible()
    assert "cycle" in hint.text and "“Summarise”" in hint.text and "“Either branch”" in hint.text
    assert hint.sceneBoundingRect().bottom() < summarise.scene_rect().top()  # above, not over
    # the wire ends on the refusing port
    assert (
        gesture.wire.path().pointAtPercent(1) - summarise.port_scene_pos("in", False)
    ).manhattanLength() < 1
    away = target + QPoint(-60, -120)
    QTest.mouseMove(viewport, away)
    assert not hint.isVisible()
    assert gesture.wire.pen().color() == style.accent
    assert summarise.port_states.get(("in", False)) != PORT_DENIED
    QTest.mouseMove(viewport, target)
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, target)
    assert win.controller.stack.count() == 0
    assert hint.scene() is None
    assert summarise.port_states == {}


# ------------------------------------------------------------------ 9, 10
def test_without_a_secret_service_the_secret_dialog_says_so_and_keeps_the_input(
    qtbot: Any,
) -> None:
    import keyring
    from flowdesk.editor.credentials_dialog import CredentialsDialog
    from flowdesk.engine.keyring_store import KeyringSecretStore
    from flowdesk.engine.model.workflow import BearerCredential
    from keyring.backends import fail
    from PySide6.QtWidgets import QDialogButtonBox

    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())  # what a machine without a Secret Service has
    try:
        dialog = CredentialsDialog({"api": BearerCredential(type="bearer")}, KeyringSecretStore())
        qtbot.addWidget(dialog)
        seen: dict[str, Any] = {}

        def type_and_ok() -> None:
            secret = dialog.secret_dialog
            secret.name_edit.setText("api2")
            secret.secret_edit.setText("s3cret")
            secret.again_edit.setText("s3cret")
            box = secret.findChild(QDialogButtonBox)
            box.button(QDialogButtonBox.StandardButton.Ok).click()
            seen["visible"] = secret.isVisible()
            seen["problem"] = secret.problem.text()
            seen["problem_shown"] = secret.problem.isVisible()
            seen["typed"] = (secret.name_edit.text(), secret.secret_edit.text())
            seen["fits"] = secret.problem.height() >= secret.problem.heightForWidth(
                secret.problem.width()
            )
            secret.reject()

        dialog.add_button.click()  # the credential editor opens (not blocking)
        type_and_ok()
        assert seen["visible"] and seen["problem_shown"]
        assert seen["problem"].startswith("Not stored: ") and "keyring" in seen["problem"]
        assert seen["typed"] == ("api2", "s3cret")  # nothing typed is lost
        assert seen["fits"]  # the explanation is not cut off
    finally:
        keyring.set_keyring(before)


def test_credentials_dialog_headers_are_whole_and_buttons_have_no_stray_icons(qtbot: Any) -> None:
    from flowdesk.editor.credentials_dialog import COLUMNS, CredentialsDialog
    from flowdesk.engine.credentials import MemorySecretStore
    from flowdesk.engine.model.workflow import BearerCredential
    from PySide6.QtWidgets import QDialogButtonBox, QPushButton

    dialog = CredentialsDialog(
        {"a_rather_long_credential_name": BearerCredential(type="bearer")}, MemorySecretStore()
    )
    qtbot.addWidget(dialog)
    for width in (720, 560):
        dialog.resize(width, 380)
        dialog.show()
        QApplication.processEvents()
        header = dialog.table.horizontalHeader()
        metrics = header.fontMetrics()
        for column, title in enumerate(COLUMNS):
            assert header.sectionSize(column) >= metrics.horizontalAdvance(title) + 8, title
        assert (
            sum(header.sectionSize(c) for c in range(len(COLUMNS)))
            <= dialog.table.viewport().width() + 1
        )
    for box in dialog.findChildren(QDialogButtonBox):
        for button in box.findChildren(QPushButton):
            assert button.icon().isNull(), button.text()


def test_the_fit_tooltip_names_its_key_once(window: MainWindow) -> None:
    from PySide6.QtGui import QKeySequence

    assert window.ui_actions["fit"].toolTip() == "Fit the selection, or everything  (F)"
    for action in window.ui_actions.by_name.values():
        tip = action.toolTip()
        assert ")  (" not in tip, tip
        if action.shortcut().isEmpty():
            continue
        key = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        assert tip.count(f"({key})") == 1, tip


# ------------------------------------------------------------------ 11
def test_examples_open_at_a_readable_zoom_at_their_start(window: MainWindow, tmp_path: Any) -> None:
    from .conftest import QUICKSTART, open_flow, write_flow

    open_flow(window, QUICKSTART)
    view = window.view
    assert view.zoom >= 0.8 - 1e-6  # fitted, it would be about half size
    shown = view.visible_rect()
    first = window.scene.nodes["read_orders"].scene_rect()
    assert shown.contains(first)
    assert first.left() - shown.left() < 100 / view.zoom  # the start, near the left edge
    assert window.zoom_label.text() == "80 %"
    # a small workflow still opens fitted, at most at 100 %
    open_flow(window, write_flow(tmp_path, [{"id": "a", "type": "flow.if"}]))
    assert view.zoom == 1.0
    assert view.visible_rect().contains(window.scene.nodes["a"].scene_rect())


def test_nodes_grow_with_their_title_up_to_a_maximum(quickstart: MainWindow) -> None:
    from flowdesk.editor.canvas.style import NODE_MAX_WIDTH, NODE_WIDTH
    from flowdesk.editor.document.commands import SetNodeField

    win = quickstart
    item = win.scene.nodes["is_big_day"]
    assert item.size[0] > NODE_WIDTH
    item.set_status("succeeded", "12 ms")  # a run's badge does not cut it either
    assert item._elided()[0] == "Total above threshold?"
    assert win.scene.nodes["quiet"].size[0] == NODE_WIDTH
    # retitled: the node, its ports and its edges follow
    long_title = "Send the weekly summary of every large order to the sales team"
    win.controller.push(SetNodeField("summarise", "title", long_title))
    node = win.scene.nodes["summarise"]
    assert node.size[0] == NODE_MAX_WIDTH
    assert node._elided()[0].endswith("…")
    edge = win.scene.edges[("summarise", "out", "is_big_day", "in")]
    assert (edge.path().pointAtPercent(0) - node.port_scene_pos("out", True)).manhattanLength() < 1
    assert node.port_scene_pos("out", True).x() == node.scene_rect().right()


# ------------------------------------------------------------------ 17
def test_combo_boxes_show_their_drop_down_arrow(quickstart: MainWindow) -> None:
    from flowdesk.editor.theme import current_theme
    from PySide6.QtGui import QColor
    from PySide6.QtWidgets import QComboBox

    win = quickstart
    win.scene.select(["merge"])
    QApplication.processEvents()
    combos = [c for c in win.inspector.findChildren(QComboBox) if c.isVisible()]
    assert len(combos) >= 2  # Mode, On error
    base = QColor(current_theme().base)
    for combo in combos:
        image = combo.grab().toImage()
        drawn = [
            (x, y)
            for x in range(image.width() - 24, image.width() - 6)
            for y in range(4, image.height() - 4)
            if image.pixelColor(x, y).lightness() > base.lightness() + 50
        ]
        assert len(drawn) >= 6, combo.objectName()  # the chevron's strokes


# ------------------------------------------------------------------ 10
def test_counts_are_worded_for_one(quickstart: MainWindow) -> None:
    from flowdesk.editor.text import counts_text, plural

    assert (
        plural(1, "row") == "1 row"
        and plural(2, "row") == "2 rows"
        and plural(0, "row") == "0 rows"
    )
    assert counts_text(1, 1) == "1 node · 1 edge"
    win = quickstart
    messages: list[str] = []
    win.editor.status_message.connect(messages.append)
    win.scene.select(["summarise"])
    win.editor.copy_selection()
    assert messages[-1] == "Copied 1 node as JSON."
