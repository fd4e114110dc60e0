"""Opening a big flow (issue 14 item 27): the canvas paints the nodes in view
first and builds the others right after — and nobody can tell: after the
first paint every node is there, stacked, selectable, draggable and undoable
as always, the minimap shows them all from the start, and problems appear on
nodes built later too. Plus the other start-up savings a user could notice:
the garbage collector comes back, the log's node filter lists every node,
icons look as before."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

from flowdesk.editor.canvas.items.edge_item import EdgeItem
from flowdesk.editor.canvas.items.node_item import NodeItem
from flowdesk.editor.canvas.scene import DEFER_NODES
from flowdesk.editor.main_window import MainWindow
from PySide6.QtCore import QPoint, QPointF, QSize, Qt
from PySide6.QtGui import QIcon
from PySide6.QtTest import QTest

from .conftest import QUICKSTART, click, drag, open_flow, view_point, write_flow
from .test_scene_mirror import assert_mirrors

COUNT = DEFER_NODES + 200
COLUMNS = 20


def big_flow(folder: Path) -> Path:
    """A chain of ``COUNT`` nodes in rows; every 50th node a file.write
    without its path (a problem); node 7 overlaps node 8 (stacking)."""
    nodes: list[dict[str, Any]] = []
    for i in range(COUNT):
        node: dict[str, Any] = {
            "id": f"n{i}",
            "type": "data.transform",
            "title": f"Step {i}",
            "position": [(i % COLUMNS) * 280, (i // COLUMNS) * 180],
            "config": {"value": {"i": i}},
        }
        if i % 50 == 49:
            node.update(type="file.write", config={})
        nodes.append(node)
    nodes[7]["position"] = [nodes[8]["position"][0] - 100, nodes[8]["position"][1]]
    return write_flow(folder, nodes, [(f"n{i}", f"n{i + 1}") for i in range(COUNT - 1)])


def stacking(window: MainWindow, kind: type) -> list[Any]:
    """Items of ``kind`` from the bottom of the stack to the top."""
    items = window.scene.items(Qt.SortOrder.AscendingOrder)
    return [
        item.node_id if isinstance(item, NodeItem) else item.key
        for item in items
        if isinstance(item, kind)
    ]


def test_a_big_flow_paints_what_is_in_view_then_builds_every_other_node(
    window: MainWindow, tmp_path: Path, qtbot: Any
) -> None:
    scene, view = window.scene, window.view
    open_flow(window, big_flow(tmp_path))
    assert scene.pending  # nothing built yet, but every node placed:
    assert len(scene.overview.rects) == COUNT  # the minimap shows them all at once
    assert len(scene.overview.lines) == COUNT - 1
    view.viewport().repaint()  # the first paint: what is in view is built for it
    shown = [i for i in scene.items(view.visible_rect()) if isinstance(i, NodeItem)]
    in_view = [n for n, r in scene.overview.rects.items() if r.intersects(view.visible_rect())]
    assert in_view and set(in_view) <= {i.node_id for i in shown}
    assert len(shown) < COUNT / 4
    qtbot.waitUntil(lambda: not scene.pending, timeout=5000)  # right after it, the rest
    assert_mirrors(scene)
    doc = window.controller.document
    # stacked as a build in document order is: overlapping nodes, crossing wires
    assert stacking(window, NodeItem) == doc.node_ids()
    assert stacking(window, EdgeItem) == doc.edge_keys()
    # problems reach nodes built after the first paint
    qtbot.waitUntil(lambda: window.problems_label.text().startswith("⚠"), timeout=5000)
    assert scene.nodes[f"n{COUNT - 1}"].problems
    assert not scene.nodes[f"n{COUNT - 2}"].problems


def test_a_node_built_after_the_first_paint_selects_drags_and_undoes(
    window: MainWindow, tmp_path: Path, qtbot: Any
) -> None:
    scene, view = window.scene, window.view
    open_flow(window, big_flow(tmp_path))
    view.viewport().repaint()
    qtbot.waitUntil(lambda: not scene.pending, timeout=5000)
    last = f"n{COUNT - 2}"  # far from the opening view
    rect = scene.overview.rects[last]
    assert not view.visible_rect().intersects(rect)
    view.centerOn(rect.center())
    QTest.qWait(50)
    header = view_point(window, rect.topLeft() + QPointF(60, 12))
    click(window, header)
    assert scene.selected_node_ids() == [last]
    assert window.inspector.node_id == last
    before = window.controller.document.node(last).position
    drag(window, header, header + QPoint(80, 40))
    moved = window.controller.document.node(last).position
    assert moved is not None and before is not None and moved[0] > before[0]
    window.ui_actions["undo"].trigger()
    assert window.controller.document.node(last).position == before
    assert scene.nodes[last].pos() == QPointF(*before)


def test_what_needs_every_item_before_the_first_paint_gets_them_all(
    window: MainWindow, tmp_path: Path
) -> None:
    scene = window.scene
    open_flow(window, big_flow(tmp_path))
    assert scene.pending
    window.ui_actions["select_all"].trigger()  # Ctrl+A at once
    assert len(scene.selected_node_ids()) == COUNT
    assert not scene.pending
    assert_mirrors(scene)
    assert stacking(window, NodeItem) == window.controller.document.node_ids()


def test_a_small_flow_is_built_whole_when_it_opens(window: MainWindow) -> None:
    open_flow(window, QUICKSTART)
    assert not window.scene.pending
    assert_mirrors(window.scene)


def test_the_garbage_collector_resumes_once_the_canvas_is_painted(
    window: MainWindow, qtbot: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    from flowdesk.editor.app import main, resume_gc_after_first_paint

    gc.disable()
    try:
        resume_gc_after_first_paint(window.view.viewport())
        assert not gc.isenabled()
        window.view.viewport().update()
        qtbot.waitUntil(gc.isenabled, timeout=2000)
    finally:
        gc.enable()
    # the editor's own start leaves it on whatever way it ends
    monkeypatch.setenv("FLOWDESK_SETTINGS", str(tmp_path / "settings.ini"))
    out = tmp_path / "shot.png"
    assert main([str(QUICKSTART), "--screenshot", str(out), "--theme", "dark"]) == 0
    assert gc.isenabled()


def test_the_log_node_filter_lists_every_node_when_opened(window: MainWindow) -> None:
    open_flow(window, QUICKSTART)
    doc = window.controller.document
    choice = window.run.log.node_filter
    assert choice.currentText() == "All nodes"
    choice.showPopup()
    try:
        listed = [choice.itemData(i) for i in range(choice.count())]
        assert listed == ["", *doc.node_ids()]
        assert choice.itemText(1) == doc.shown_title(doc.node_ids()[0])
    finally:
        choice.hidePopup()
    choice.setCurrentIndex(2)
    chosen = choice.currentData()
    window.run._variables_changed()  # the document shown again: the choice stays
    assert choice.currentData() == chosen
    assert choice.currentText() == doc.shown_title(chosen)


def test_icons_look_as_an_icon_holding_every_size_did(window: MainWindow) -> None:
    from flowdesk.editor.theme import current_theme, icon, icon_pixmap

    theme = current_theme()
    for name in ("search", "copy", "trash"):
        eager = QIcon()
        for size in (16, 20, 24, 32):
            eager.addPixmap(icon_pixmap(name, size, theme.text), QIcon.Mode.Normal)
            eager.addPixmap(icon_pixmap(name, size, theme.muted), QIcon.Mode.Disabled)
        lazy = icon(name)
        assert lazy.availableSizes() == eager.availableSizes()
        for size in (12, 16, 18, 20, 22, 24, 28, 32, 48):
            asked = QSize(size, size)
            for mode in QIcon.Mode:
                for state in QIcon.State:
                    got, want = lazy.pixmap(asked, mode, state), eager.pixmap(asked, mode, state)
                    assert got.toImage() == want.toImage(), (name, size, mode, state)
                    got_size = lazy.actualSize(asked, mode, state)
                    assert got_size == eager.actualSize(asked, mode, state)


def test_a_node_is_as_wide_as_its_measured_title_needs(window: MainWindow) -> None:
    """Titles are sized by their letters' widths first (no text layout when a
    title is well within the narrowest node): the same widths as measuring."""
    import math
    import random
    import string

    from flowdesk.editor.canvas.style import GRID, NODE_MAX_WIDTH, NODE_WIDTH, TITLE_ROOM

    style = window.scene.canvas_style
    rng = random.Random(5)
    titles = ["".join(rng.choice(string.printable[:95]) for _ in range(n)) for n in range(1, 45)]
    titles += ["Node 1234", "WWWWWWWWWWWWWW", "iiiiiiiiiiiiiiiiiiiiiiiii", "Résumé des données"]
    for title in titles * 2:  # (the second time from what was learnt)
        need = style.title_metrics.horizontalAdvance(title) + TITLE_ROOM
        expected = min(NODE_MAX_WIDTH, max(NODE_WIDTH, math.ceil(need / GRID) * GRID))
        assert style.node_width(title) == expected, title


def test_scrolling_right_after_opening_does_not_put_off_the_rest(
    window: MainWindow, tmp_path: Path
) -> None:
    """Every frame of a scroll paints, and the build of the rest is not pushed
    back by each of them: it comes on the next turn of the event loop."""
    from PySide6.QtWidgets import QApplication

    scene, view = window.scene, window.view
    open_flow(window, big_flow(tmp_path))
    bar = view.verticalScrollBar()
    frames = 0
    while scene.pending and frames < 5:
        bar.setValue(bar.value() + 40)
        view.viewport().repaint()
        QApplication.processEvents()
        frames += 1
    assert not scene.pending and frames <= 2


def test_once_built_a_frame_asks_only_the_items_in_view_for_their_bounds(
    window: MainWindow, tmp_path: Path, qtbot: Any, monkeypatch: Any
) -> None:
    """Built in two steps, the scene's index covers every item: a frame at
    100 % looks up the items it paints, not all of them (Qt's index was
    sized for the first step's few items, and each frame asked thousands of
    Python items for their bounds)."""
    scene, view = window.scene, window.view
    open_flow(window, big_flow(tmp_path))
    view.viewport().repaint()
    qtbot.waitUntil(lambda: not scene.pending, timeout=5000)
    asked = []
    bounds = NodeItem.boundingRect
    monkeypatch.setattr(NodeItem, "boundingRect", lambda item: asked.append(1) or bounds(item))
    for _ in range(3):
        view.viewport().repaint()
    assert len(asked) < 3 * COUNT / 4
