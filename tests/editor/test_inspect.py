"""Inspecting runs: a 50 MB output opens at once in a lazy tree, the table
and raw views, search and copy path; pin and unpin with undo; the history
dock shows past runs read-only; the log dock filters; expression completion
and preview in the inspector; and events of a big run reach the UI in
batches, not one repaint per event."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from flowdesk.editor.main_window import MainWindow
from flowdesk.editor.outputs.json_model import JsonTreeModel
from flowdesk.editor.outputs.table_model import JsonTableModel
from flowdesk.editor.run.run_state import RunState
from flowdesk.engine import NodeResult, RunResult
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest

from .conftest import open_flow, run_and_wait, write_flow


def big_output() -> dict[str, Any]:
    """About 50 MB of JSON: 100,000 records of ~500 bytes."""
    pad = "x" * 440
    items = [
        {"id": i, "name": f"item {i}", "tags": ["a", "b"], "note": pad} for i in range(100_000)
    ]
    return {
        "status": 200,
        "headers": {"content-type": "application/json"},
        "body": {"items": items},
    }


def test_a_50_mb_output_opens_at_once_in_a_lazy_tree(
    run_window: MainWindow, qtbot: Any, tmp_path: Path
) -> None:
    win = run_window
    value = big_output()
    size = len(json.dumps(value))
    assert size > 50_000_000
    path = write_flow(
        tmp_path / "big",
        [{"id": "fetch", "type": "data.transform", "config": {"value": 1}}],
    )
    open_flow(win, path)
    result = RunResult(
        "r1", "succeeded", "2026-01-01T00:00:00Z", 1.0, {"fetch": NodeResult("succeeded", value)}
    )
    state = RunState.from_result(result, label="test")
    panel = win.run.output
    # (CPU of the GUI thread, where the work is: a busy machine does not
    # stretch it as it stretches wall time)
    started = time.thread_time()
    panel.set_state(state)
    panel.show_node("fetch")
    panel.tree.viewport().repaint()
    elapsed = time.thread_time() - started
    assert elapsed < 0.5, f"opening took {elapsed * 1000:.0f} ms of CPU"
    model = panel.tree.model()
    assert isinstance(model, JsonTreeModel)
    # only the root and the expanded top level have bookkeeping: the 100,000
    # items (and their children) were never walked
    assert model.materialized <= 4
    body = next(
        model.index(r, 0) for r in range(model.rowCount()) if model.index(r, 0).data() == "body"
    )
    panel.tree.expand(body)
    items = model.index(0, 0, body)
    assert model.index(0, 1, body).data() == "[100,000 items]"
    panel.tree.expand(items)
    assert 0 < model.rowCount(items) <= 5000  # fetched in batches as the view scrolls
    assert model.materialized <= 5
    # search finds a deep value and reveals it
    panel.search_box.setText("item 99999")
    panel._search_enter()
    qtbot.waitUntil(lambda: panel.search.done, timeout=20_000)
    assert panel.search.hits == [("body", "items", 99999, "name")]
    current = panel.tree.currentIndex()
    assert (
        current.data() == "name"
        and model.data(model.index(current.row(), 1, current.parent())) == "item 99999"
    )
    panel.copy_path()
    assert QGuiApplication.clipboard().text() == "{{ nodes.fetch.body.items[99999].name }}"
    # the table view: one row per item, columns from the keys
    started = time.thread_time()
    panel.set_mode("table")
    panel.table.viewport().repaint()
    assert time.thread_time() - started < 0.5
    table = panel.table.model()
    assert isinstance(table, JsonTableModel)
    assert table.rowCount() == 100_000 and table.columns == ["id", "name", "tags", "note"]
    assert "body.items" in panel.table_caption.text()
    # the raw view renders only the start, with "show all" and "save to file"
    panel.set_mode("raw")
    assert len(panel.raw.text.toPlainText()) <= 200_000 and panel.raw.truncated
    target = tmp_path / "out.json"
    panel.raw.save_to(target)
    qtbot.waitUntil(lambda: "Saved" in panel.raw.notice.text(), timeout=30_000)
    assert target.stat().st_size > 50_000_000


def test_pin_and_unpin_with_undo(run_window: MainWindow, qtbot: Any, quickstart_copy: Path) -> None:
    win = run_window
    open_flow(win, quickstart_copy)
    run_and_wait(qtbot, win)
    win.scene.select(["summarise"])
    panel = win.run.output
    output = win.bridge.state.nodes["summarise"].output
    assert panel.pin_button.isEnabled() and not panel.pin_button.isChecked()
    panel.pin_button.click()
    doc = win.controller.document
    assert doc.node("summarise").pinned == output
    assert win.controller.stack.undoText() == "Pin output"
    assert win.scene.nodes["summarise"].visual.pinned and panel.pin_button.isChecked()
    assert doc.to_json()["nodes"][1]["pinned"]["orders"] == 6
    run_and_wait(qtbot, win)
    assert win.scene.nodes["summarise"].status[0] == "pinned"  # type: ignore[index]
    win.controller.stack.undo()
    assert doc.node("summarise").pinned is None and "pinned" not in doc.to_json()["nodes"][1]
    assert not win.scene.nodes["summarise"].visual.pinned
    win.controller.stack.redo()
    assert doc.node("summarise").pinned == output
    panel.pin_button.click()  # unpin
    assert doc.node("summarise").pinned is None
    assert win.controller.stack.undoText() == "Unpin output"


def test_history_dock_shows_past_runs_read_only(
    run_window: MainWindow, qtbot: Any, quickstart_copy: Path
) -> None:
    win = run_window
    open_flow(win, quickstart_copy)
    run_and_wait(qtbot, win)
    win.run.variables.edits["threshold"].setText("5000")
    with qtbot.waitSignal(win.bridge.runs_listed, timeout=5_000):
        run_and_wait(qtbot, win)
    panel = win.run.history
    qtbot.waitUntil(lambda: panel.list.topLevelItemCount() == 2, timeout=5_000)
    assert "succeeded" in panel.list.topLevelItem(0).text(1)
    assert win.scene.nodes["quiet"].status[0] == "succeeded"  # type: ignore[index]
    older = panel.list.topLevelItem(1)
    with qtbot.waitSignal(win.run.runs.shown_changed, timeout=5_000):
        panel.list.itemClicked.emit(older, 0)
    shown = win.run.runs.shown
    assert shown.read_only and win.run.runs.viewing_history
    assert win.run.banner.isVisible() and "read-only" in win.run.banner_label.text()
    assert win.scene.nodes["quiet"].status[0] == "skipped"  # type: ignore[index]
    assert win.scene.nodes["celebrate"].status[0] == "succeeded"  # type: ignore[index]
    win.scene.select(["summarise"])
    assert win.run.output.tree.model().index(0, 0).data() == "orders"
    panel.live_button.click()
    assert not win.run.runs.viewing_history and not win.run.banner.isVisible()
    assert win.scene.nodes["quiet"].status[0] == "succeeded"  # type: ignore[index]


def test_log_dock_filters_by_node_and_level(
    run_window: MainWindow, qtbot: Any, quickstart_copy: Path
) -> None:
    win = run_window
    open_flow(win, quickstart_copy)
    run_and_wait(qtbot, win)
    log = win.run.log
    model = log.model
    all_info = model.rowCount()
    assert all_info >= 8  # run started, one line per node, run finished
    messages = [model.index(r, 3).data() for r in range(all_info)]
    assert messages[0].startswith("Run started") and messages[-1].startswith("Run succeeded")
    log.filter_node("summarise")
    assert model.rowCount() >= 1
    assert {model.index(r, 2).data() for r in range(model.rowCount())} == {"Summarise"}  # title
    log.level_filter.setCurrentIndex(0)  # all levels: "started" lines too
    assert model.rowCount() >= 2
    log.level_filter.setCurrentIndex(3)  # errors only
    assert model.rowCount() == 0
    log.filter_node("")
    log.level_filter.setCurrentIndex(1)
    log.text_filter.setText("skipped")
    assert model.rowCount() == 0  # debug lines are below "info"
    log.level_filter.setCurrentIndex(0)
    assert [model.index(r, 2).data() for r in range(model.rowCount())] == ["Quiet day"]
    log.view.doubleClicked.emit(model.index(0, 0))
    assert win.scene.selected_node_ids() == ["quiet"]


def test_expression_completion_and_preview(
    run_window: MainWindow, qtbot: Any, quickstart_copy: Path
) -> None:
    win = run_window
    open_flow(win, quickstart_copy)
    win.scene.select(["is_big_day"])
    editor = win.inspector.editors["condition"]
    edit = editor.edit
    assist = win.inspector.assist
    preview = editor.findChild(type(editor.error_label), "expressionPreview")
    assert preview is not None and "Run the workflow" in preview.text()
    assert assist.names("is_big_day", "nodes.") == ["nodes.read_orders", "nodes.summarise"]
    run_and_wait(qtbot, win)
    qtbot.waitUntil(lambda: preview.text() == "= true", timeout=3_000)
    assert "nodes.summarise.total" in assist.names("is_big_day", "nodes.summarise.")
    assert "input.orders" in assist.names("is_big_day", "input.o")
    assert "vars.threshold" in assist.names("is_big_day", "vars.")
    # typing offers the names in a popup; Enter inserts the chosen one
    edit.setFocus()
    edit.clear()
    QTest.keyClicks(edit, "{{ nodes.su")
    assert assist.popup.isVisible()
    assert [assist.popup.item(i).text() for i in range(assist.popup.count())] == ["nodes.summarise"]
    QTest.keyClick(edit, Qt.Key.Key_Return)
    assert edit.toPlainText() == "{{ nodes.summarise"
    QTest.keyClicks(edit, ".orders > 3 }}")
    qtbot.waitUntil(lambda: preview.text() == "= true", timeout=3_000)
    edit.setPlainText("{{ nodes.summarise.nope }}")
    qtbot.waitUntil(lambda: preview.text().startswith("⚠"), timeout=3_000)
    assert "nope" in preview.text()


def test_events_are_batched_per_frame(run_window: MainWindow, qtbot: Any, tmp_path: Path) -> None:
    win = run_window
    count = 2000
    nodes = [{"id": "n0", "type": "data.transform", "config": {"value": 0}}] + [
        {"id": f"n{i}", "type": "data.transform", "config": {"value": "{{ input + 1 }}"}}
        for i in range(1, count)
    ]
    for i, node in enumerate(nodes):
        node["position"] = [(i % 50) * 260, (i // 50) * 140]
    edges = [(f"n{i - 1}", f"n{i}") for i in range(1, count)]
    path = write_flow(tmp_path / "chain", nodes, edges)
    open_flow(win, path)
    changes: list[Any] = []
    win.bridge.state.changed.connect(changes.append)
    events: list[Any] = []
    win.bridge.run_started.connect(lambda _id: win.bridge.handle.subscribe(events.append))
    result = run_and_wait(qtbot, win, timeout=60_000)
    assert result.status == "succeeded" and result.nodes[f"n{count - 1}"].output == count - 1
    assert len(events) > 2 * count
    assert len(changes) < len(events) / 20, (len(changes), len(events))
    assert f"{count}/{count} nodes" in win.run.run_label.text()
    last = f"n{count - 1}"
    succeeded = win.scene.canvas_style.status_colors["succeeded"]
    if not win.scene.detail:  # zoomed out: only the overview follows the run…
        assert win.scene.overview.status[last] == succeeded
        win.view.set_zoom(1.0)  # …and the items on screen catch up when it zooms in
    assert win.scene.detail
    win.view.centerOn(win.scene.nodes[last])  # off-screen items catch up when shown
    item = win.scene.nodes[last]
    qtbot.waitUntil(lambda: item.status is not None and item.status[0] == "succeeded")


def test_ai_token_usage_of_the_node_and_the_run(run_window: MainWindow, tmp_path: Path) -> None:
    win = run_window
    path = write_flow(
        tmp_path / "ai",
        [
            {"id": "a", "type": "data.transform", "config": {"value": 1}},
            {"id": "b", "type": "data.transform", "config": {"value": 2}},
        ],
    )
    open_flow(win, path)
    usage = {"prompt_tokens": 700, "completion_tokens": 112, "total_tokens": 812, "cost": 0.0012}
    result = RunResult(
        "r1",
        "succeeded",
        "2026-01-01T00:00:00Z",
        5.0,
        {"a": NodeResult("succeeded", {"x": 1}, usage=usage), "b": NodeResult("succeeded", 2)},
        usage={"prompt_tokens": 1400, "completion_tokens": 224, "total_tokens": 1624},
    )
    panel = win.run.output
    panel.set_state(RunState.from_result(result))
    panel.show_node("a")
    text = panel.header.usage.text()
    assert "812 tokens (700 in, 112 out) · $0.0012" in text and "run total 1,624 tokens" in text
    assert "Succeeded" in panel.header.status.text()
    panel.show_node("b")
    assert panel.header.usage.text() == "run total 1,624 tokens (1,400 in, 224 out)"
