"""The AI node's editors: the output schema field validates live and shows
the strict JSON Schema it produces (or the error at its column); the prompt
fields are multi-line with ``{{ }}`` highlighting."""

from __future__ import annotations

import json

from flowdesk.editor.inspector.widgets import SchemaField
from PySide6.QtGui import QSyntaxHighlighter
from PySide6.QtWidgets import QPlainTextEdit

from tests.helpers import example

EXAMPLE = example("ai-extract")


def test_schema_field_shows_the_produced_json_schema(qtbot, themed_app):
    field = SchemaField("output_schema")
    qtbot.addWidget(field)
    field.show()
    edited: list[object] = []
    field.edited.connect(edited.append)
    field.edit.setPlainText("{name: string, tags: string[]}")
    assert field.error is None
    assert edited[-1] == "{name: string, tags: string[]}"
    assert field.schema == {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["name", "tags"],
        "additionalProperties": False,
    }
    assert not field.produced.isVisible()  # collapsed until asked for
    field.toggle.setChecked(True)
    assert field.produced.isVisible() and field.produced.isReadOnly()
    assert json.loads(field.produced.toPlainText()) == field.schema


def test_schema_field_error_points_at_the_column(qtbot, themed_app):
    field = SchemaField("output_schema")
    qtbot.addWidget(field)
    field.show()
    field.toggle.setChecked(True)
    field.edit.setPlainText("{name string}")
    assert field.schema is None
    assert field.error is not None
    assert field.error.startswith("column 7:")
    assert field.error_label.isVisible()
    # the source line and a caret under column 7 (no-break spaces keep the indent)
    assert field.error_label.text().endswith("{name\xa0string}\n" + "\xa0" * 6 + "^")
    assert not field.produced.isVisible()
    assert not field.toggle.isEnabled()
    field.edit.setPlainText("{name: string}")
    assert field.error is None and field.schema is not None


def test_schema_field_accepts_a_json_schema_object(qtbot, themed_app):
    field = SchemaField("output_schema")
    qtbot.addWidget(field)
    edited: list[object] = []
    field.edited.connect(edited.append)
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}}
    field.edit.setPlainText(json.dumps(schema))
    assert edited[-1] == schema
    assert field.schema is not None and field.schema["required"] == ["ok"]
    field.set_value({"type": "object", "properties": {}})
    assert json.loads(field.edit.toPlainText()) == {"type": "object", "properties": {}}


def test_ai_node_editors_in_the_inspector(window, qtbot):
    assert window.files.open_path(EXAMPLE, confirm=False)
    window.inspector.show_nodes(["classify"])
    editors = window.inspector.editors
    schema = editors["output_schema"]
    assert isinstance(schema, SchemaField)
    assert schema.error is None and schema.schema is not None
    assert "needs_human" in schema.schema["properties"]
    for key in ("system_prompt", "user_prompt"):
        edit = editors[key].findChild(QPlainTextEdit, f"edit_{key}")
        assert edit is not None and edit.height() > 60  # multi-line
        assert edit.document().findChildren(QSyntaxHighlighter)
    user = editors["user_prompt"].findChild(QPlainTextEdit, "edit_user_prompt")
    block = user.document().firstBlock()
    formats = block.layout().formats()
    assert any(f.start == block.text().index("{{") for f in formats)
    # A syntax error stays shown after the text was committed.
    schema.edit.setPlainText("{name string}")
    assert schema.error is not None and schema.error.startswith("column 7:")
    assert not schema.error_label.isHidden()
    window.controller.break_merge()
    # Typing in the schema field is an undoable edit of the node.
    schema.edit.setPlainText("{name: string}")
    assert schema.error is None
    assert window.controller.document.node("classify").config["output_schema"] == "{name: string}"
    window.controller.stack.undo()
    window.controller.stack.undo()
    assert "needs_human" in window.controller.document.node("classify").config["output_schema"]
    assert "needs_human" in schema.edit.toPlainText()
