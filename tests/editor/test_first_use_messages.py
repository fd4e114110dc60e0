"""What a new user reads (issue 14, part A): problems in titles and field
labels, each one a click away from its node and field; validation that waits
for a pause in typing and says each thing once; nothing red for values that
are simply not known yet; Run's state that agrees with the problems."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flowdesk.editor.inspector.widgets import TextField
from flowdesk.editor.main_window import MainWindow
from flowdesk.editor.validation import CALM_MS
from PySide6.QtCore import Qt, QUrl
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLabel

from tests.helpers import free_port

from .conftest import QUICKSTART, open_flow, run_and_wait


def clear_path(win: MainWindow) -> TextField:
    win.scene.select(["read_orders"])
    path = win.inspector.editors["path"]
    assert isinstance(path, TextField)
    path.edit.setFocus()
    path.edit.selectAll()
    QTest.keyClick(path.edit, Qt.Key.Key_Delete)
    return path


def preview_of(editor: Any) -> QLabel:
    return editor.findChild(QLabel, "expressionPreview")


# ------------------------------------------------------------------ 7
def test_run_status_agrees_with_the_problems(run_window: MainWindow) -> None:
    win = run_window
    open_flow(win, QUICKSTART)
    win.validator.run()
    assert win.run.run_label.text() == "Ready to run (Ctrl+R)"
    clear_path(win)
    win.validator.run()
    assert win.problems_label.text() == "⚠ 1 problem"
    assert win.run.run_label.text() == "Fix 1 problem to run"
    win.controller.stack.undo()
    win.validator.run()
    assert win.run.run_label.text() == "Ready to run (Ctrl+R)"


# ------------------------------------------------------------------ 12
def test_problems_speak_titles_and_jump_to_their_field(quickstart: MainWindow) -> None:
    win = quickstart
    clear_path(win)
    win.validator.run()
    item = win.scene.nodes["read_orders"]
    assert item.toolTip().endswith("• Path: field required")
    assert win.problems_label.toolTip().startswith("“Read orders” › Path: field required")
    win.scene.select(["merge"])  # elsewhere
    win.view.setFocus()
    menu = win.problems.show_menu()
    assert menu is not None
    texts = [a.text() for a in menu.actions()]
    assert texts == ["“Read orders” › Path: field required"]
    menu.actions()[0].trigger()
    menu.close()
    assert win.scene.selected_node_ids() == ["read_orders"]
    assert win.inspector.editors["path"].edit.hasFocus()


def test_a_problem_named_in_an_expression_uses_titles(quickstart: MainWindow) -> None:
    from flowdesk.editor.document.commands import SetConfig

    win = quickstart
    win.controller.push(SetConfig("summarise", "value", {"x": "{{ nodes.write_report }}"}))
    issues = win.validator.run()
    assert issues
    (text,) = win.scene.nodes["summarise"].problems
    assert text == (
        "Value › x: expression names node “Write report”, which is not upstream of “Summarise”"
    )


# ------------------------------------------------------------------ 13
def test_typing_an_expression_is_calm(quickstart: MainWindow, qtbot: Any) -> None:
    win = quickstart
    win.validator.run()
    win.scene.select(["celebrate"])
    editor = win.inspector.editors["value"]
    edit = editor.edit
    edit.setFocus()
    edit.moveCursor(edit.textCursor().MoveOperation.End)
    QTest.keyClick(edit, Qt.Key.Key_Backspace)  # the JSON's closing brace
    QTest.keyClicks(edit, ', "x": "{{ inp')
    # mid-word: nothing turns red
    qtbot.wait(150)
    assert win.problems_label.text() == "✓ No problems"
    assert not win.scene.nodes["celebrate"].problems
    assert not preview_of(editor).isVisible() or preview_of(editor).property("state") != "error"
    QTest.keyClicks(edit, ' }}"}')
    qtbot.wait(CALM_MS + 300)  # a pause: checked, and all is well
    assert win.problems_label.text() == "✓ No problems"


def test_a_problem_is_said_once_at_its_field(quickstart: MainWindow, qtbot: Any) -> None:
    win = quickstart
    win.scene.select(["is_big_day"])
    editor = win.inspector.editors["condition"]
    editor.edit.setFocus()
    editor.edit.selectAll()
    QTest.keyClicks(editor.edit, "{{ input.total > }}")
    qtbot.waitUntil(lambda: win.problems_label.text() == "⚠ 1 problem", timeout=3000)
    assert editor.error_label.isVisible()
    assert editor.error.startswith("Syntax error in expression")
    assert not win.inspector.problem_box.isVisible()
    assert not preview_of(editor).isVisible()


def test_values_not_known_yet_are_not_errors(
    run_window: MainWindow, qtbot: Any, quickstart_copy: Path
) -> None:
    win = run_window
    open_flow(win, quickstart_copy)
    result = run_and_wait(qtbot, win)
    assert result.status == "succeeded"
    skipped = next(n for n in ("celebrate", "quiet") if result.nodes[n].status == "skipped")
    win.scene.select([skipped])
    preview = preview_of(win.inspector.editors["value"])
    assert preview.isVisible()
    assert preview.property("state") == "idle"
    assert preview.text().startswith("Not known yet: “Total above threshold?” gave no value")
    # a node with nothing connected: not an error either
    win.editor.add_node("data.transform", win.view.center_scene())
    (new,) = win.scene.selected_node_ids()
    editor = win.inspector.editors["value"]
    editor.set_value({"n": "{{ input.orders }}"})
    editor.edited.emit({"n": "{{ input.orders }}"})
    qtbot.waitUntil(lambda: preview_of(win.inspector.editors["value"]).isVisible(), timeout=3000)
    preview = preview_of(win.inspector.editors["value"])
    assert preview.property("state") == "idle"
    assert preview.text() == "No input yet: connect this node to preview the value."
    assert new


# ------------------------------------------------------------------ 21, 22


def test_a_failed_run_opens_its_error_in_peoples_words(
    run_window: MainWindow, qtbot: Any, tmp_path: Path
) -> None:
    from .conftest import write_flow

    win = run_window
    port = free_port()
    nodes = [
        {"id": "fetch", "type": "http.request", "config": {"url": f"http://127.0.0.1:{port}/x"}}
    ]
    open_flow(win, write_flow(tmp_path, nodes))
    result = run_and_wait(qtbot, win)
    assert result.status == "failed"
    assert win.scene.selected_node_ids() == ["fetch"]  # the failure, shown
    output = win.run.output
    assert output.tab == "error"
    text = output.errors.toPlainText()
    first = text.splitlines()[0]
    assert first == f"Connection refused by 127.0.0.1:{port}"
    assert "ssl:default" not in text and "Connect call failed" not in text
    output.errors.anchorClicked.emit(QUrl("#raw"))  # the raw detail: one click away
    raw = output.errors.toPlainText()
    assert "Cannot connect to host" in raw or "Connect call failed" in raw or "refused" in raw
    output.errors.anchorClicked.emit(QUrl("#raw"))
    assert output.errors.toPlainText() == text
    log = win.run.log.model
    lines = [log.index(r, 3).data() for r in range(log.rowCount())]
    assert any(f"Connection refused by 127.0.0.1:{port}" in line for line in lines)


def test_an_error_naming_a_field_goes_to_it(
    run_window: MainWindow, qtbot: Any, tmp_path: Path
) -> None:
    from .conftest import write_flow

    win = run_window
    nodes = [{"id": "fetch", "type": "http.request", "config": {"url": "{{ vars.u }}"}}]
    open_flow(win, write_flow(tmp_path, nodes, variables={"u": "not a url"}))
    result = run_and_wait(qtbot, win)
    assert result.nodes["fetch"].error["code"] == "CONFIG_INVALID"
    errors = win.run.output.errors
    assert "Go to URL" in errors.toPlainText()
    win.view.setFocus()
    errors.anchorClicked.emit(QUrl("#field"))
    assert win.inspector.editors["url"].edit.hasFocus()
    # a log line of the node does the same (double-click)
    win.scene.select()
    win.view.setFocus()
    model = win.run.log.model
    row = next(r for r in range(model.rowCount()) if model.line(r).node_id == "fetch")
    win.run.log.view.doubleClicked.emit(model.index(row, 0))
    assert win.scene.selected_node_ids() == ["fetch"]
    assert win.inspector.editors["url"].edit.hasFocus()
    win.scene.select()
    view = win.run.log.view
    cell = view.visualRect(model.index(row, 2)).center()  # a click on its node's title
    QTest.mouseClick(
        view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, cell
    )
    assert win.scene.selected_node_ids() == ["fetch"]


def test_an_unknown_filter_is_not_a_syntax_error(quickstart: MainWindow) -> None:
    from flowdesk.editor.document.commands import SetConfig

    win = quickstart
    win.controller.push(SetConfig("celebrate", "value", "{{ input.total | money }}"))
    win.validator.run()
    win.scene.select(["celebrate"])
    error = win.inspector.editors["value"].error
    assert error == "Unknown filter 'money' in expression '{{ input.total | money }}'"


def test_the_output_tab_follows_the_node(
    run_window: MainWindow, qtbot: Any, quickstart_copy: Path
) -> None:
    win = run_window
    open_flow(win, quickstart_copy)
    run_and_wait(qtbot, win)
    output = win.run.output
    win.scene.select(["summarise"])
    output.tabs.setCurrentIndex(1)  # Input
    assert output.tab == "input"
    win.scene.select(["merge"])  # another node: its output, not the tab left behind
    assert output.tab == "output"


def test_a_config_refused_at_run_time_names_its_field(
    run_window: MainWindow, qtbot: Any, tmp_path: Path
) -> None:
    """A value from an expression that does not fit its field: the error says
    which field as the inspector names it, in the words of flowdesk validate,
    and goes to it."""
    from .conftest import write_flow

    win = run_window
    (tmp_path / "a.txt").write_text("hi")
    nodes = [
        {"id": "read", "type": "file.read", "config": {"path": "a.txt", "format": "{{ vars.f }}"}}
    ]
    open_flow(win, write_flow(tmp_path, nodes, variables={"f": "xml"}))
    result = run_and_wait(qtbot, win)
    error = result.nodes["read"].error
    assert error["code"] == "CONFIG_INVALID"
    assert error["details"]["issues"] == [
        {
            "path": "config.format",
            "message": "input should be 'text', 'json', 'jsonl', 'csv' or 'bytes' (got 'xml')",
        }
    ]
    errors = win.run.output.errors
    assert errors.toPlainText().startswith(
        "Format: input should be 'text', 'json', 'jsonl', 'csv' or 'bytes' (got 'xml')"
    )
    assert "Go to Format" in errors.toPlainText()
    win.view.setFocus()
    errors.anchorClicked.emit(QUrl("#field"))
    field = win.inspector.editors["format"]
    focused = QApplication.focusWidget()
    assert focused is not None and (focused is field or field.isAncestorOf(focused))


def test_a_config_with_several_problems_heads_with_the_first_and_lists_the_rest(
    run_window: MainWindow, qtbot: Any, tmp_path: Path
) -> None:
    """Two fields refused at run time: the headline names the first field as
    the inspector does and says how many more; the hint names the others."""
    from .conftest import write_flow

    win = run_window
    config = {"path": "a.txt", "format": "{{ vars.f }}", "max_bytes": "{{ vars.n }}"}
    nodes = [{"id": "read", "type": "file.read", "config": config}]
    open_flow(win, write_flow(tmp_path, nodes, variables={"f": "xml", "n": "lots"}))
    result = run_and_wait(qtbot, win)
    error = result.nodes["read"].error
    assert error["code"] == "CONFIG_INVALID"
    assert [issue["path"] for issue in error["details"]["issues"]] == [
        "config.format",
        "config.max_bytes",
    ]
    text = win.run.output.errors.toPlainText()
    first, second = text.splitlines()[:2]
    assert first == (
        "Format: input should be 'text', 'json', 'jsonl', 'csv' or 'bytes' (got 'xml') "
        "(and 1 more problem)"
    )
    assert second.startswith("Max bytes: ") and "lots" in second
    assert "has an invalid config" not in first  # not the engine's raw message
