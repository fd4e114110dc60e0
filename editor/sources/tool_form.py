"""The inspector's form for a ``tool.call`` node: one field per argument of
the tool's input schema — required ones first (marked), the schema's
descriptions as help, enums as combo boxes, numbers and booleans as their
editors, objects, arrays and unions as JSON, and any value holding an
expression as text. Every edit is one ``SetConfig`` of ``arguments``; values
that do not fit the schema are flagged on their field as the run would
report them (INVALID_PARAMS), before anything is sent.
May import: PySide6, engine (sources.schema), editor.document, editor.inspector.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flowdesk.editor.document import UNSET
from flowdesk.editor.document.commands import SetConfig
from flowdesk.editor.inspector.form import FieldSpec, build_editor
from flowdesk.editor.inspector.widgets import FieldEditor
from flowdesk.engine import ToolInfo, argument_issues, coerce_to_schema, has_expression
from PySide6.QtWidgets import QLabel

if TYPE_CHECKING:
    from flowdesk.editor.inspector.panel import Inspector


def argument_specs(schema: dict[str, Any]) -> list[FieldSpec]:
    """Field specs of a tool's arguments: required first, then the rest in order."""
    props = schema.get("properties") or {}
    required = [k for k in schema.get("required", []) if k in props]
    order = required + [k for k in props if k not in required]
    specs = []
    for key in order:
        prop = props[key] if isinstance(props[key], dict) else {}
        kinds = prop.get("type")
        kinds = [kinds] if isinstance(kinds, str) else list(kinds or [])
        nullable = "null" in kinds or bool(prop.get("nullable"))
        concrete = [k for k in kinds if k != "null"]
        kind = "json"
        members = prop.get("oneOf") or prop.get("anyOf")
        if not concrete and isinstance(members, list) and members:
            # a union of scalars ("string or integer"): typed as text, read as the run would
            member_kinds = {m.get("type") for m in members if isinstance(m, dict)}
            if member_kinds and member_kinds <= {"string", "integer", "number", "boolean", "null"}:
                concrete = ["string"]
                nullable = nullable or "null" in member_kinds
        if isinstance(prop.get("enum"), list) and prop["enum"]:
            kind = "enum"
        elif len(concrete) == 1 and "$ref" not in prop:
            kind = {
                "boolean": "bool",
                "integer": "integer",
                "number": "number",
                "string": "text",
            }.get(concrete[0], "json")
        description = str(prop.get("description") or prop.get("title") or "").strip()
        if len(description) > 400:
            description = description[:400].rstrip() + "…"
        spec = FieldSpec(
            key=key,
            title=key,
            kind=kind,
            description=description,
            required=key in required,
            default=prop.get("default", UNSET),
            nullable=nullable or key not in required,
            placeholder=str(prop.get("example", ""))
            if isinstance(prop.get("example"), str | int | float)
            else "",
        )
        if kind == "enum":
            options = [o for o in prop["enum"] if o is not None]
            spec.options = [None, *options] if spec.nullable else options
        if kind in ("integer", "number"):
            if isinstance(prop.get("minimum"), int | float):
                spec.minimum = float(prop["minimum"])
            if isinstance(prop.get("maximum"), int | float):
                spec.maximum = float(prop["maximum"])
        specs.append(spec)
    return specs


class ToolForm:
    """The argument editors of one tool.call node in the inspector."""

    def __init__(self, inspector: Inspector, node_id: str, tool: ToolInfo, source: str) -> None:
        self.inspector = inspector
        self.node_id = node_id
        self.tool = tool
        self.source = source
        self.editors: dict[str, FieldEditor] = {}
        self.specs: dict[str, FieldSpec] = {}

    def arguments(self) -> dict[str, Any]:
        doc = self.inspector.doc
        if not doc.has_node(self.node_id):
            return {}
        value = doc.node(self.node_id).config.get("arguments")
        return dict(value) if isinstance(value, dict) else {}

    def build(self) -> None:
        inspector = self.inspector
        heading = QLabel("ARGUMENTS")
        heading.setObjectName("sectionLabel")
        heading.setIndent(0)
        inspector.body.addWidget(heading)
        about = QLabel(
            f"<b>{self.tool.title or self.tool.name}</b>"
            + (f" <code>{self.tool.path}</code>" if self.tool.path else "")
        )
        about.setObjectName("fieldHelp")
        about.setWordWrap(True)
        inspector.body.addWidget(about)
        args = self.arguments()
        specs = argument_specs(self.tool.input_schema)
        if not specs:
            none = QLabel("This tool takes no arguments.")
            none.setObjectName("fieldHelp")
            inspector.body.addWidget(none)
        for spec in specs:
            editor = build_editor(spec, args.get(spec.key, UNSET), inspector.base_dir)
            editor.setObjectName(f"arg_{spec.key}")
            editor.setAccessibleName(f"Argument {spec.key}")
            editor.edited.connect(self._slot(spec.key))
            inspector.assist.attach(editor, self.node_id)
            self.editors[spec.key] = editor
            self.specs[spec.key] = spec
            inspector._row(spec.title, editor, spec.required, spec.description)
        inspector.extra_refresh.append(self.refresh)
        self.show_issues()

    def _slot(self, key: str) -> Callable[[Any], None]:
        def commit(value: Any) -> None:
            args = self.arguments()
            if value is None or value == "" or value is UNSET:
                args.pop(key, None)
            else:
                args[key] = value
            command = SetConfig(self.node_id, "arguments", args or UNSET, text=f"Edit {key}")
            # keystrokes in one argument merge; another argument is another step
            command.merge_key = ("config", self.node_id, "arguments", key)
            self.inspector._push(command, self.editors.get(key))

        return commit

    def refresh(self) -> None:
        args = self.arguments()
        for key, editor in self.editors.items():
            spec = self.specs[key]
            shown = args.get(key, spec.default if spec.default is not UNSET else None)
            editor.set_value(shown)
        self.show_issues()

    def show_issues(self) -> None:
        """Flag values that do not fit the schema (expressions are checked at run time)."""
        args = {k: v for k, v in self.arguments().items() if not has_expression(v)}
        problems: dict[str, str] = {}
        for issue in argument_issues(
            self.tool.input_schema,
            coerce_to_schema(self.tool.input_schema, args),
            validator=self.tool.validator,
        ):
            key = issue["path"].split(".", 1)[0].split("[", 1)[0]
            if issue["message"] == "required" and "." not in issue["path"]:
                continue  # the asterisk says it; a fresh node is not an error
            problems.setdefault(key, issue["message"])
        for key, editor in self.editors.items():
            editor.set_issue(problems.get(key))


def tool_form_for(
    find_tool: Callable[[str, str], ToolInfo | None],
) -> Callable[[Inspector, str], Callable[[], None] | None]:
    """The inspector's ``tool_form`` hook over a catalogue's ``tool(source, name)``."""

    def hook(inspector: Inspector, node_id: str) -> Callable[[], None] | None:
        config = inspector.doc.node(node_id).config
        source, name = config.get("source"), config.get("tool")
        if not isinstance(source, str) or not isinstance(name, str):
            return None
        tool = find_tool(source, name)
        if tool is None:
            return None
        return ToolForm(inspector, node_id, tool, source).build

    return hook
