"""From a node type's config JSON Schema to field editors.

The schema (pydantic's ``model_json_schema``) gives each field's type, title,
description, default, bounds and enum; ``json_schema_extra`` hints choose
special editors: ``widget`` = ``json`` | ``path`` | ``expression`` |
``multiline`` | ``credential`` | ``schema`` (an AI output schema: DSL or
JSON Schema, validated live), and ``placeholder``. Unknown or free-form
values fall back to a JSON editor, so any plug-in's config is editable.
May import: PySide6, editor.inspector.widgets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flowdesk.editor.document import UNSET
from flowdesk.editor.inspector.widgets import (
    BoolField,
    ChoiceField,
    FieldEditor,
    JsonField,
    NumberField,
    SchemaField,
    TextField,
)
from flowdesk.editor.text import field_label
from flowdesk.engine import has_expression

BIG = 1e12


@dataclass
class FieldSpec:
    key: str
    title: str
    kind: str
    description: str = ""
    required: bool = False
    default: Any = UNSET
    options: list[Any] = field(default_factory=list)
    minimum: float = -BIG
    maximum: float = BIG
    placeholder: str = ""
    nullable: bool = False


def _resolve(prop: dict[str, Any], defs: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Follow ``$ref`` and unwrap ``Optional`` (``anyOf`` with null)."""
    nullable = False
    if "$ref" in prop:
        name = str(prop["$ref"]).rsplit("/", 1)[-1]
        prop = {**defs.get(name, {}), **{k: v for k, v in prop.items() if k != "$ref"}}
    if "anyOf" in prop:
        branches = [b for b in prop["anyOf"] if b.get("type") != "null"]
        nullable = len(branches) < len(prop["anyOf"])
        rest = {k: v for k, v in prop.items() if k != "anyOf"}
        if len(branches) == 1:
            inner, _ = _resolve(branches[0], defs)
            prop = {**inner, **rest}
        else:
            prop = rest  # a union of several types: free-form JSON
    return prop, nullable


def field_specs(schema: dict[str, Any]) -> list[FieldSpec]:
    """The fields of a config schema, in declaration order."""
    defs = schema.get("$defs", {})
    required = set(schema.get("required", []))
    specs = []
    for key, raw in schema.get("properties", {}).items():
        prop, nullable = _resolve(raw, defs)
        widget = prop.get("widget")
        kind = "json"
        if widget in ("json", "path", "expression", "multiline", "credential", "schema"):
            kind = str(widget)
        elif key == "credential":
            kind = "credential"
        elif "enum" in prop or "const" in prop:
            kind = "enum"
        elif prop.get("type") in ("boolean", "integer", "number"):
            kind = {"boolean": "bool", "integer": "integer", "number": "number"}[prop["type"]]
        elif prop.get("type") == "string":
            kind = "text"
        spec = FieldSpec(
            key=key,
            title=field_label(str(prop.get("title") or key)),
            kind=kind,
            description=str(prop.get("description", "")),
            required=key in required,
            default=prop.get("default", UNSET),
            placeholder=str(prop.get("placeholder", "")),
            nullable=nullable,
        )
        if kind == "enum":
            spec.options = list(prop.get("enum", [prop.get("const")]))
            if nullable:
                spec.options.insert(0, None)
        if kind in ("integer", "number"):
            epsilon = 1 if kind == "integer" else 0.01
            if "minimum" in prop:
                spec.minimum = float(prop["minimum"])
            elif "exclusiveMinimum" in prop:
                spec.minimum = float(prop["exclusiveMinimum"]) + epsilon
            if "maximum" in prop:
                spec.maximum = float(prop["maximum"])
            elif "exclusiveMaximum" in prop:
                spec.maximum = float(prop["exclusiveMaximum"]) - epsilon
        specs.append(spec)
    return specs


def build_editor(
    spec: FieldSpec,
    value: Any,
    base_dir: str = "",
    credentials: list[str] | None = None,
    labels: dict[Any, str] | None = None,
) -> FieldEditor:
    """The editor for a field. A typed field (number, boolean, choice) that
    holds an expression is edited as text so the expression is not lost."""
    kind = spec.kind
    if kind in ("integer", "number", "bool", "enum") and has_expression(value):
        kind = "expression"
    editor: FieldEditor
    if kind == "json":
        editor = JsonField(spec.key)
    elif kind == "multiline":
        editor = TextField(spec.key, spec.placeholder, multiline=True)
    elif kind == "path":
        editor = TextField(
            spec.key, spec.placeholder or "relative/path", browse=True, base_dir=base_dir
        )
    elif kind == "expression":
        editor = TextField(spec.key, spec.placeholder or "{{ expression }}")
    elif kind == "bool":
        editor = BoolField(spec.key, spec.title)
    elif kind == "enum":
        editor = ChoiceField(spec.key, spec.options)
    elif kind == "credential":
        # The workflow's compatible credentials (with ``labels``: "name  ✓"
        # or "name — no secret"); a name it does not declare is still shown.
        editor = ChoiceField(spec.key, [None, *(credentials or [])], labels=labels)
        editor.setProperty("credential_picker", True)
    elif kind == "schema":
        editor = SchemaField(spec.key, spec.placeholder)
    elif kind in ("integer", "number"):
        minimum = spec.minimum if spec.minimum > -BIG else -1e9
        maximum = spec.maximum if spec.maximum < BIG else 1e9
        none_text = ""
        if spec.nullable or spec.default is None:
            minimum -= 1 if kind == "integer" else 0.01
            none_text = "—"
        editor = NumberField(spec.key, kind == "integer", minimum, maximum, none_text)
    else:
        placeholder = spec.placeholder
        if not placeholder and isinstance(spec.default, str):
            placeholder = spec.default
        editor = TextField(spec.key, placeholder)
    editor.description = spec.description
    editor.setToolTip(spec.description)
    shown = value if value is not UNSET else (spec.default if spec.default is not UNSET else None)
    editor.set_value(shown)
    return editor
