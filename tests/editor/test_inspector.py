"""The inspector: a form generated from a config model, typing is one merged
undo step per field, undo refreshes the form, invalid input is shown and kept,
validation problems appear inline and on the node, rename through the id field."""

from __future__ import annotations

from typing import Any, Literal

from flowdesk.editor.inspector.form import field_specs
from flowdesk.editor.inspector.widgets import (
    BoolField,
    ChoiceField,
    JsonField,
    NumberField,
    TextField,
)
from flowdesk.editor.main_window import MainWindow
from flowdesk.engine import NodeType, Port
from pydantic import BaseModel, ConfigDict, Field
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QToolButton


class SampleConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(..., description="A name", json_schema_extra={"placeholder": "who"})
    count: int = Field(3, ge=1, le=10)
    ratio: float | None = None
    on: bool = False
    mode: Literal["a", "b"] = "a"
    tags: list[str] = []
    extra: dict[str, Any] = {}
    body: str = Field("", json_schema_extra={"widget": "multiline"})
    where: str = Field("x", json_schema_extra={"widget": "path"})


class Sample(NodeType):
    type_name = "test.sample"
    title = "Sample"
    category = "Test"
    inputs = (Port("in"),)
    outputs = (Port("out"),)
    Config = SampleConfig


def test_schema_maps_to_editors() -> None:
    specs = {s.key: s for s in field_specs(Sample.config_schema())}
    assert {k: s.kind for k, s in specs.items()} == {
        "name": "text",
        "count": "integer",
        "ratio": "number",
        "on": "bool",
        "mode": "enum",
        "tags": "json",
        "extra": "json",
        "body": "multiline",
        "where": "path",
    }
    assert (specs["count"].minimum, specs["count"].maximum) == (1, 10)
    assert specs["ratio"].nullable and specs["name"].required
    assert specs["mode"].options == ["a", "b"]


def test_form_generated_for_a_plugin_type(window: MainWindow, registry: Any) -> None:
    registry.register(Sample)
    try:
        win = window
        win.editor.add_node("test.sample", win.view.center_scene())
        editors = win.inspector.editors
        assert isinstance(editors["name"], TextField)
        assert isinstance(editors["count"], NumberField) and editors["count"].spin.maximum() == 10
        assert isinstance(editors["on"], BoolField)
        assert isinstance(editors["mode"], ChoiceField)
        assert isinstance(editors["tags"], JsonField)
        editors["count"].spin.setValue(7)
        node_id = win.inspector.node_id
        assert win.controller.document.node(node_id).config["count"] == 7  # type: ignore[arg-type]
        editors["mode"].combo.setCurrentIndex(1)
        assert win.controller.document.node(node_id).config["mode"] == "b"  # type: ignore[arg-type]
        win.validator.run()
        assert editors["name"].error == "Field required"
        assert win.scene.nodes[node_id].problems  # type: ignore[index]
    finally:
        registry.unregister("test.sample")


def test_typing_is_one_undo_step_and_undo_refreshes_the_form(quickstart: MainWindow) -> None:
    win = quickstart
    win.scene.select(["read_orders"])
    path = win.inspector.editors["path"]
    assert isinstance(path, TextField)
    path.edit.setFocus()
    QTest.keyClicks(path.edit, "_v2")
    doc = win.controller.document
    assert doc.node("read_orders").config["path"] == "data/orders.csv_v2"
    assert win.controller.stack.count() == 1
    assert win.controller.stack.undoText() == "Edit Path"
    win.controller.stack.undo()
    assert path.edit.toPlainText() == "data/orders.csv"
    win.controller.stack.redo()
    assert path.edit.toPlainText() == "data/orders.csv_v2"


def test_leaving_the_field_starts_a_new_step(quickstart: MainWindow) -> None:
    win = quickstart
    win.scene.select(["read_orders"])
    path = win.inspector.editors["path"]
    assert isinstance(path, TextField)
    QTest.keyClicks(path.edit, "a")
    path.finished.emit()
    QTest.keyClicks(path.edit, "b")
    assert win.controller.stack.count() == 2


def test_invalid_json_is_shown_and_kept(quickstart: MainWindow) -> None:
    win = quickstart
    win.scene.select(["summarise"])
    value = win.inspector.editors["value"]
    assert isinstance(value, JsonField)
    before = win.controller.document.node("summarise").config["value"]
    value.edit.setPlainText('{"total": ')
    assert value.error is not None and "Not valid JSON" in value.error
    assert value.edit.toPlainText() == '{"total": '
    assert win.controller.document.node("summarise").config["value"] == before
    value.edit.setPlainText('{"total": "{{ input | length }}"}')
    assert value.error is None
    assert win.controller.document.node("summarise").config["value"] == {
        "total": "{{ input | length }}"
    }


def test_validation_problems_inline_and_on_the_node(quickstart: MainWindow) -> None:
    win = quickstart
    win.scene.select(["read_orders"])
    path = win.inspector.editors["path"]
    assert isinstance(path, TextField)
    path.edit.selectAll()
    QTest.keyClick(path.edit, Qt.Key.Key_Delete)
    assert "path" not in win.controller.document.node("read_orders").config
    win.validator.run()
    assert path.error == "Field required"
    assert win.scene.nodes["read_orders"].problems == ["Path: field required"]
    assert not win.inspector.problem_box.isVisible()  # shown once: at its field
    assert "1 problem" in win.problems_label.text()


def test_common_fields_and_rename(quickstart: MainWindow) -> None:
    win = quickstart
    win.scene.select(["merge"])
    common = win.inspector.common
    common["disabled"].check.setChecked(True)  # type: ignore[attr-defined]
    common["timeout_s"].spin.setValue(30)  # type: ignore[attr-defined]
    common["retry.max_attempts"].spin.setValue(3)  # type: ignore[attr-defined]
    doc = win.controller.document
    node = doc.to_json()["nodes"][5]
    assert (
        node["disabled"] is True
        and node["timeout_s"] == 30
        and node["retry"] == {"max_attempts": 3}
    )
    ident = common["id"]
    assert isinstance(ident, TextField)
    ident.edit.set_text("either")  # type: ignore[attr-defined]
    ident.finished.emit()
    assert doc.has_node("either") and ("either", "out", "write_report", "in") in doc.edge_keys()
    assert win.inspector.node_id == "either"
    ident.edit.set_text("read_orders")  # type: ignore[attr-defined]
    ident.edited.emit("read_orders")
    assert ident.error and "already" in ident.error
    while win.controller.stack.canUndo():
        win.controller.stack.undo()
    assert doc.to_json()["nodes"][5] == {
        "id": "merge",
        "type": "flow.merge",
        "title": "Either branch",
        "position": [1120, 0],
        "config": {"mode": "list"},
    }


def test_workflow_fields_when_nothing_is_selected(quickstart: MainWindow) -> None:
    win = quickstart
    win.scene.select()
    name = win.inspector.common["name"]
    assert isinstance(name, TextField)
    name.edit.set_text("Orders")  # type: ignore[attr-defined]
    name.edited.emit("Orders")
    assert win.controller.document.workflow.name == "Orders"
    win.controller.stack.undo()
    assert name.edit.toPlainText() == "Quick start: orders report"


def test_typed_field_switches_to_an_expression_and_back(quickstart: MainWindow) -> None:
    win = quickstart
    win.scene.select(["merge"])
    assert isinstance(win.inspector.editors["mode"], ChoiceField)
    toggle = next(
        b
        for b in win.inspector.findChildren(QToolButton)
        if b.accessibleName() == "Expression for Mode"
    )
    toggle.setChecked(True)
    doc = win.controller.document
    assert doc.node("merge").config["mode"] == '{{ "list" }}'
    mode = win.inspector.editors["mode"]
    assert isinstance(mode, TextField)
    assert mode.edit.toPlainText() == '{{ "list" }}'
    win.controller.stack.undo()
    assert doc.node("merge").config["mode"] == "list"
    assert isinstance(win.inspector.editors["mode"], ChoiceField)
