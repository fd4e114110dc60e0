"""Issue 14, part B — expression help before the first run: ``input.``
completes from what the document says (pinned outputs, constant Transform
values, an AI transform's output schema, a node type's declared output keys,
through If and Merge), ``vars.*`` previews without a run, and the completion
popup opens under the line being typed, never over it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flowdesk.editor.inspector.static_scope import UNKNOWN, StaticScope
from flowdesk.editor.main_window import MainWindow
from PySide6.QtCore import QRect, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel

from .conftest import write_flow


def _flow(tmp_path: Path) -> Path:
    return write_flow(
        tmp_path,
        [
            {
                "id": "order",
                "type": "data.transform",
                "config": {"value": {"total": 120, "customer": {"name": "Ada"}, "at": "{{ 1 }}"}},
            },
            {"id": "gate", "type": "flow.if", "config": {"condition": "{{ input.total > 100 }}"}},
            {"id": "fetch", "type": "http.request", "config": {"url": "https://example.org"}},
            {
                "id": "label",
                "type": "ai.transform",
                "config": {"output_schema": "{label: string, score: number}"},
            },
            {"id": "pinned", "type": "file.read", "config": {"path": "x.json"}},
            {"id": "use", "type": "data.transform", "config": {"value": "{{ input }}"}},
            {"id": "use_http", "type": "data.transform", "config": {"value": "{{ input }}"}},
            {"id": "use_ai", "type": "data.transform", "config": {"value": "{{ input }}"}},
            {"id": "use_pin", "type": "data.transform", "config": {"value": "{{ input }}"}},
        ],
        [
            ("order", "gate"),
            ("gate:true", "use"),
            ("fetch", "use_http"),
            ("label", "use_ai"),
            ("pinned", "use_pin"),
        ],
        variables={"threshold": 100, "region": "eu"},
    )


def test_input_completes_from_what_is_known_before_a_run(
    window: MainWindow, tmp_path: Path
) -> None:
    win = window
    assert win.files.open_path(_flow(tmp_path), confirm=False)
    win.controller.document.set_pinned("pinned", {"rows": [1, 2], "source": "x.json"})
    names = win.inspector.assist.names
    # a constant Transform, through an If
    assert names("use", "input.") == ["input.total", "input.customer", "input.at"]
    assert names("use", "input.customer.") == ["input.customer.name"]
    assert names("use", "nodes.order.c") == ["nodes.order.customer"]
    # the keys a node type's output declares, an output schema, a pinned output
    assert names("use_http", "input.") == ["input.status", "input.headers", "input.body"]
    assert names("use_ai", "input.") == ["input.label", "input.score"]
    assert names("use_pin", "input.") == ["input.rows", "input.source"]
    static = StaticScope(win.controller.document)
    assert static.output("order")["at"] is UNKNOWN  # an expression: not known yet


def test_vars_preview_without_a_run(window: MainWindow, tmp_path: Path, qtbot: Any) -> None:
    win = window
    assert win.files.open_path(_flow(tmp_path), confirm=False)
    win.scene.select(["use"])
    editor = win.inspector.editors["value"]
    preview = editor.findChild(QLabel, "expressionPreview")
    assert preview is not None
    assert preview.text() == "Run the workflow (Ctrl+R) to preview this value."
    assert preview.property("state") == "idle"  # not red: just not known yet
    editor.edit.setPlainText('"{{ vars.region | upper }}-{{ vars.threshold * 2 }}"')
    qtbot.waitUntil(lambda: preview.text() == "= EU-200", timeout=3_000)
    assert preview.property("state") == "value"
    editor.edit.setPlainText('"Total {{ input.total }} of {{ input.customer.name }}"')
    qtbot.waitUntil(lambda: preview.text().startswith("= Total 120 of Ada"), timeout=3_000)
    editor.edit.setPlainText('"at {{ input.at }}"')  # the upstream's own expression
    qtbot.waitUntil(lambda: preview.text().startswith("Run the workflow"), timeout=3_000)
    assert preview.property("state") == "idle"


def test_the_completion_popup_never_covers_the_line_being_typed(
    window: MainWindow, tmp_path: Path
) -> None:
    win = window
    assert win.files.open_path(_flow(tmp_path), confirm=False)
    win.scene.select(["use"])
    edit = win.inspector.editors["value"].edit
    assist = win.inspector.assist
    edit.setFocus()
    edit.clear()
    QTest.keyClicks(edit, '"{{ input.')
    assert assist.popup.isVisible()
    items = [assist.popup.item(i).text() for i in range(assist.popup.count())]
    assert items == ["input.total", "input.customer", "input.at"]
    line = edit.cursorRect()
    on_screen = QRect(edit.viewport().mapToGlobal(line.topLeft()), line.size())
    on_screen.setLeft(edit.viewport().mapToGlobal(edit.viewport().rect().topLeft()).x())
    on_screen.setRight(on_screen.left() + edit.viewport().width())
    assert not assist.popup.geometry().intersects(on_screen)
    QTest.keyClick(edit, Qt.Key.Key_Down)
    QTest.keyClick(edit, Qt.Key.Key_Return)
    assert edit.toPlainText() == '"{{ input.customer'
