"""Running from the editor with the real engine: node states on the canvas,
the status bar, stopping a slow run within 100 ms while the window keeps
responding, re-running one node with its upstream outputs reused, variable
overrides, and engine errors shown on the node instead of crashing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flowdesk.editor.main_window import MainWindow
from flowdesk.engine import BUS
from PySide6.QtCore import QTimer

from .conftest import open_flow, run_and_wait, write_flow
from .slow_server import LocalServer


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    srv = LocalServer(slow_s=30.0).start()
    yield srv
    srv.stop()


def test_run_shows_states_edges_and_progress(
    run_window: MainWindow, qtbot: Any, quickstart_copy: Path
) -> None:
    win = run_window
    open_flow(win, quickstart_copy)
    result = run_and_wait(qtbot, win)
    assert result.status == "succeeded"
    items = win.scene.nodes
    assert items["read_orders"].status is not None
    assert items["read_orders"].status[0] == "succeeded"
    assert items["read_orders"].status[1].endswith("ms")
    assert items["celebrate"].status[0] == "succeeded"  # type: ignore[index]
    assert items["quiet"].status == ("skipped", "skipped")
    edges = win.scene.edges
    assert edges[("is_big_day", "true", "celebrate", "in")].flow == "carried"
    assert edges[("is_big_day", "false", "quiet", "in")].flow == "idle"
    assert "Succeeded · 7/7 nodes" in win.run.run_label.text()
    assert (quickstart_copy.parent / "output" / "report.json").is_file()  # data root = folder
    # the output dock shows the selected node's value as a tree
    win.scene.select(["summarise"])
    panel = win.run.output
    model = panel.tree.model()
    keys = {model.index(r, 0).data(): model.index(r, 1).data() for r in range(model.rowCount())}
    assert keys["orders"] == "6" and keys["total"] == "787.65"
    assert panel.path_expression(("customers", 0)) == "{{ nodes.summarise.customers[0] }}"
    # the input view: what arrived on the "in" port (the CSV rows)
    panel.tabs.setCurrentIndex(1)
    model = panel.tree.model()
    assert model.index(0, 0).data() == "in" and model.index(0, 1).data() == "[6 items]"
    assert panel.path_expression(("in", 0, "amount")) == "{{ input[0].amount }}"


def test_a_source_line_written_during_a_run_stays_in_its_log(
    run_window: MainWindow, qtbot: Any, tmp_path: Path
) -> None:
    """An MCP server's stderr line, read while the run's start is still in the
    bridge's inbox (no frame yet), is not wiped by that start when the frame comes."""
    win = run_window
    path = write_flow(tmp_path, [{"id": "a", "type": "data.transform", "config": {"value": 1}}])
    open_flow(win, path)

    def server_writes(event: Any) -> None:  # as a tool call would, mid-run
        win.bridge.add_source_line("t", "greeting Ada")

    unsubscribe = BUS.subscribe("node.started", server_writes)
    try:
        result = run_and_wait(qtbot, win)
    finally:
        unsubscribe()
    assert result.status == "succeeded"
    lines = [(line.source, line.message) for line in win.bridge.state.logs]
    assert ("t", "greeting Ada") in lines


def test_stop_cancels_at_once_and_the_ui_keeps_running(
    run_window: MainWindow, qtbot: Any, tmp_path: Path, server: LocalServer
) -> None:
    win = run_window
    path = write_flow(
        tmp_path / "slow",
        [
            {"id": "slow", "type": "http.request", "config": {"url": f"{server.url}/slow"}},
            {"id": "after", "type": "data.transform", "config": {"value": "{{ input.body }}"}},
        ],
        [("slow", "after")],
    )
    open_flow(win, path)
    ticks: list[int] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(len(ticks)))
    timer.start(20)
    win.ui_actions["run"].trigger()
    qtbot.waitUntil(lambda: server.hits["/slow"] >= 1, timeout=10_000)
    qtbot.waitUntil(
        lambda: (
            win.scene.nodes["slow"].status is not None
            and win.scene.nodes["slow"].status[0] == "running"
        ),
        timeout=5_000,
    )
    # The node awaits the server; Qt keeps serving timers meanwhile.
    running_since = len(ticks)
    qtbot.waitUntil(lambda: len(ticks) >= running_since + 5, timeout=5_000)
    assert win.ui_actions["stop"].isEnabled() and not win.ui_actions["run"].isEnabled()
    # The server holds the request for half a minute: a cancelled result now
    # means the request was dropped, not waited for.
    with qtbot.waitSignal(win.bridge.run_finished, timeout=5_000) as blocker:
        win.ui_actions["stop"].trigger()
    timer.stop()
    assert blocker.args[0].status == "cancelled"
    assert win.scene.nodes["slow"].status[0] == "cancelled"  # type: ignore[index]
    assert win.scene.nodes["after"].status[0] == "cancelled"  # type: ignore[index]
    assert "Cancelled" in win.run.run_label.text()
    assert win.ui_actions["run"].isEnabled()


def test_run_selected_node_reuses_upstream_outputs(
    run_window: MainWindow, qtbot: Any, tmp_path: Path, server: LocalServer
) -> None:
    win = run_window
    path = write_flow(
        tmp_path / "reuse",
        [
            {"id": "fetch", "type": "http.request", "config": {"url": f"{server.url}/fast"}},
            {
                "id": "names",
                "type": "data.transform",
                "config": {"value": "{{ input.body['items'] | map(attribute='name') | list }}"},
            },
        ],
        [("fetch", "names")],
    )
    open_flow(win, path)
    before = server.hits["/fast"]
    assert run_and_wait(qtbot, win).status == "succeeded"
    assert server.hits["/fast"] == before + 1
    win.scene.select(["names"])
    assert win.ui_actions["run_node"].isEnabled()
    result = run_and_wait(qtbot, win, "run_node")
    assert result.status == "succeeded"
    assert server.hits["/fast"] == before + 1  # the server saw no second request
    state = win.bridge.state
    assert state.nodes["fetch"].reused and state.nodes["names"].output == ["one", "two"]
    assert "reused" in win.scene.nodes["fetch"].status[1]  # type: ignore[index]
    # run up to: the node and its ancestors run again
    result = run_and_wait(qtbot, win, "run_up_to")
    assert server.hits["/fast"] == before + 2


def test_variable_overrides_change_the_run(
    run_window: MainWindow, qtbot: Any, quickstart_copy: Path
) -> None:
    win = run_window
    open_flow(win, quickstart_copy)
    panel = win.run.variables
    assert "threshold" in panel.edits
    assert str(quickstart_copy.parent) in panel.root_label.text()
    panel.edits["threshold"].setText("1000")
    assert win.run.runs.overrides == {"threshold": 1000}
    run_and_wait(qtbot, win)
    assert win.scene.nodes["quiet"].status[0] == "succeeded"  # type: ignore[index]
    assert win.scene.nodes["celebrate"].status[0] == "skipped"  # type: ignore[index]
    assert win.controller.document.workflow.variables == {"threshold": 500}  # not an edit
    assert not win.controller.is_modified


def test_an_engine_error_shows_on_the_node(
    run_window: MainWindow, qtbot: Any, tmp_path: Path
) -> None:
    win = run_window
    path = write_flow(
        tmp_path / "err",
        [
            {
                "id": "load",
                "type": "file.read",
                "config": {"path": "missing.json", "format": "json"},
            },
            {"id": "use", "type": "data.transform", "config": {"value": "{{ input }}"}},
        ],
        [("load", "use")],
    )
    open_flow(win, path)
    result = run_and_wait(qtbot, win)
    assert result.status == "failed"
    status = win.scene.nodes["load"].status
    assert status is not None and status[0] == "failed" and "FILE_NOT_FOUND" in status[1]
    assert win.scene.nodes["use"].status[0] == "skipped"  # type: ignore[index]
    win.scene.select(["load"])
    panel = win.run.output
    assert panel.tab == "error" and panel.stack.currentWidget() is panel.errors
    text = panel.errors.toPlainText()
    assert "FILE_NOT_FOUND" in text and "Retryable" in text and "Attempts" in text
    assert "Failed" in win.run.run_label.text()
    assert win.isVisible()


def test_invalid_workflow_is_refused_without_running(
    run_window: MainWindow, qtbot: Any, tmp_path: Path
) -> None:
    win = run_window
    path = write_flow(tmp_path / "bad", [{"id": "load", "type": "file.read", "config": {}}])
    open_flow(win, path)
    with qtbot.waitSignal(win.bridge.start_refused, timeout=5_000) as blocker:
        win.ui_actions["run"].trigger()
    assert blocker.args[0] == "The workflow cannot run"
    assert blocker.args[2]  # the issues
    assert not win.bridge.running and win.bridge.state.status == "idle"
    # no dialog to dismiss: the status bar says what to fix, and the first
    # problem's node and field are shown
    assert "Cannot run yet — fix “Read file” › Path: field required" in (
        win.statusBar().currentMessage()
    )
    assert win.scene.selected_node_ids() == ["load"]
    assert win.inspector.editors["path"].edit.hasFocus()


def test_an_unexpected_exception_is_reported_not_raised(
    run_window: MainWindow, qtbot: Any, quickstart_copy: Path, monkeypatch: Any
) -> None:
    win = run_window
    open_flow(win, quickstart_copy)

    def broken(_event: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(win.bridge.state, "apply", broken)
    with qtbot.waitSignal(win.bridge.internal_error, timeout=5_000) as blocker:
        win.ui_actions["run"].trigger()
    assert blocker.args[0] == "A run event could not be shown"
    assert "RuntimeError: boom" in blocker.args[1]
    qtbot.waitUntil(lambda: not win.bridge.running, timeout=5_000)
    dialog = next(
        w
        for w in win.findChildren(object)
        if getattr(w, "objectName", lambda: "")() == "errorDialog"
    )
    assert dialog.isVisible()
    dialog.close()


def test_a_run_reuses_the_live_validation_until_the_document_changes(
    run_window: MainWindow, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flowdesk.editor.document.commands import MoveNodes
    from flowdesk.editor.run import engine_bridge

    win = run_window
    path = write_flow(tmp_path / "bad", [{"id": "load", "type": "file.read", "config": {}}])
    open_flow(win, path)
    win.validator.run()
    calls: list[object] = []
    real = engine_bridge.validate

    def counted(*args: Any) -> Any:
        calls.append(args[0])
        return real(*args)

    monkeypatch.setattr(engine_bridge, "validate", counted)
    with qtbot.waitSignal(win.bridge.start_refused, timeout=5_000) as blocker:
        win.ui_actions["run"].trigger()
    assert "field required" in str(blocker.args[2][0])
    assert calls == []  # the live validator's problems, not a second validation
    win.controller.push(MoveNodes({"load": ((0, 0), (40, 40))}))
    with qtbot.waitSignal(win.bridge.start_refused, timeout=5_000) as blocker:
        win.ui_actions["run"].trigger()
    assert "field required" in str(blocker.args[2][0])
    assert len(calls) == 1  # edited since: the run's snapshot is validated
