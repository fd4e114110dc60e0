"""The inspector: the selected node's header, problems, title and id, its
parameters (a form generated from the type's config schema) and the common
settings (disabled, on error, timeout, retry, for each, concurrency). With
nothing selected it edits the workflow's name, description and variables.

Every edit is one command through the controller (keystrokes in one field
merge); document events refresh the form, so undo shows in it at once.

Why one file of ~700 lines: ``Inspector`` is one widget whose three views
(node, its common settings, the workflow) share its rows, editors, problem
marks and the command path of every edit; split into mixins they would
reach into each other's private state. The fields themselves are in
``widgets``, the generated form in ``form``, the expression help in
``expression_help``.
May import: PySide6, editor.document, editor.undo, editor.inspector, editor.theme, engine.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flowdesk.editor.document import UNSET, Document, DocumentError
from flowdesk.editor.document.commands import (
    Command,
    RenameNode,
    SetConfig,
    SetNodeField,
    SetWorkflowField,
)
from flowdesk.editor.document.document import NODE_ID_RE, node_json
from flowdesk.editor.document.events import (
    DocumentEvent,
    EdgeAdded,
    EdgeRemoved,
    NodeAdded,
    NodeChanged,
    NodeRemoved,
    NodeRenamed,
    WorkflowChanged,
)
from flowdesk.editor.inspector.expression_help import ExpressionAssist
from flowdesk.editor.inspector.form import build_editor, field_specs
from flowdesk.editor.inspector.widgets import (
    BoolField,
    ChoiceField,
    FieldEditor,
    JsonField,
    NumberField,
    TextField,
)
from flowdesk.editor.problems import Place, describe, field_message, place_of
from flowdesk.editor.text import counts_text
from flowdesk.editor.theme import PLACEHOLDER_COLOR, category_color, icon_name, icon_pixmap
from flowdesk.editor.undo import DocumentController
from flowdesk.engine import (
    NO_RETRY,
    PRESET_NAMES,
    PRESETS,
    Issue,
    has_expression,
    resolve_retry_policy,
)
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPainter, QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

TYPED_KINDS = ("integer", "number", "bool", "enum")
#: the last entry of a credential picker: declare a credential and pick it
NEW_CREDENTIAL = object()
RETRY_DEFAULTS = {"max_attempts": 1, "base_delay_s": 1.0, "max_delay_s": 32.0}


def _section(text: str) -> QLabel:
    label = QLabel(text.upper())
    label.setObjectName("sectionLabel")
    label.setIndent(0)  # a styled label would otherwise indent by half an "x"
    return label


class Inspector(QWidget):
    """Edits the selection; see the module docstring."""

    def __init__(self, controller: DocumentController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("inspector")
        self.setAccessibleName("Inspector")
        self.controller = controller
        self.node_id: str | None = None
        self.selection: list[str] = []
        self.editors: dict[str, FieldEditor] = {}
        self.defaults: dict[str, Any] = {}
        #: typed fields (number, boolean, choice) → whether they hold an expression
        self.typed: dict[str, bool] = {}
        self.common: dict[str, FieldEditor] = {}
        self.issues: list[Issue] = []
        self.base_dir = ""
        #: the window's ``SecretStatus`` (None: secrets are not shown)
        self.secret_status: Any = None
        #: "New credential…" in a picker: ``new_credential(node_id, key, kinds)``
        self.new_credential: Any = None
        #: ``tool_form(inspector, node_id)``: for a tool.call node whose tool is
        #: known, a function adding the tool's argument form (editor.sources)
        self.tool_form: Callable[[Inspector, str], Callable[[], None] | None] | None = None
        #: refreshers of forms built outside this class (run after ``_refresh``)
        self.extra_refresh: list[Callable[[], None]] = []
        #: called after every rebuild of the form (the plan's changed-field marks)
        self.decorators: list[Callable[[], None]] = []
        self.scroll_area = QScrollArea(self)
        self.scroll_area.setObjectName("inspectorScroll")
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.scroll_area)
        self._doc: Document | None = None
        #: completion and live preview of {{ }} (``assist.runs`` gives it runs)
        self.assist = ExpressionAssist(self)
        controller.document_replaced.connect(self._attach)
        self._attach(controller.document)

    @property
    def doc(self) -> Document:
        return self.controller.document

    def _attach(self, document: Document) -> None:
        if self._doc is not None:
            self._doc.changed.disconnect(self._on_event)
        self._doc = document
        document.changed.connect(self._on_event)
        self.show_nodes([])

    # -------------------------------------------------------------- input
    def show_nodes(self, node_ids: list[str]) -> None:
        """Show the selection: one node, several, or none (the workflow)."""
        self.selection = list(node_ids)
        self.node_id = node_ids[0] if len(node_ids) == 1 else None
        self._rebuild()

    def set_issues(self, issues: list[Issue]) -> None:
        self.issues = issues
        self._apply_issues()

    # ------------------------------------------------------------- events
    def _on_event(self, event: DocumentEvent) -> None:
        if isinstance(event, NodeRenamed) and event.old_id == self.node_id:
            self.node_id = event.new_id
            self.selection = [event.new_id]
            self._refresh()
        elif isinstance(event, NodeRemoved) and event.node_id == self.node_id:
            self.show_nodes([])
        elif isinstance(event, WorkflowChanged) and "credentials" in event.fields and self.node_id:
            self._rebuild()  # the pickers offer the declared credentials
        elif self._concerns_form(event):
            self._refresh()
        elif not self.selection and isinstance(
            event, NodeAdded | NodeRemoved | EdgeAdded | EdgeRemoved
        ):
            self._update_counts()

    def _concerns_form(self, event: DocumentEvent) -> bool:
        if isinstance(event, NodeChanged):
            return event.node_id == self.node_id
        return isinstance(event, WorkflowChanged) and not self.selection

    def _push(self, command: Command, editor: FieldEditor | None = None) -> None:
        try:
            self.controller.push(command)
        except DocumentError as exc:
            if editor is not None:
                editor.set_local_error(str(exc))
            return
        if editor is not None:
            editor.set_local_error(None)

    # ------------------------------------------------------------- layout
    def _rebuild(self) -> None:
        self.assist.clear()
        self.editors = {}
        self.defaults = {}
        self.typed = {}
        self.common = {}
        self.extra_refresh = []
        content = QWidget()
        content.setObjectName("inspectorContent")
        content.setMinimumWidth(0)
        self.body = QVBoxLayout(content)
        self.body.setContentsMargins(14, 12, 14, 16)
        self.body.setSpacing(6)
        if self.node_id is not None and self.doc.has_node(self.node_id):
            self._build_node(self.node_id)
        elif len(self.selection) > 1:
            self._header(
                "flowdesk",
                f"{len(self.selection)} nodes selected",
                "Move, copy, delete or lay them out together.",
            )
        else:
            self._build_workflow()
        self.body.addStretch(1)
        old = self.scroll_area.takeWidget()
        self.scroll_area.setWidget(content)
        if old is not None:
            old.deleteLater()
        self._apply_issues()
        for decorate in self.decorators:
            decorate()

    def _header(self, icon: str, title: str, subtitle: str, color: QColor | None = None) -> None:
        row = QHBoxLayout()
        row.setSpacing(10)
        tile = QLabel()
        tile.setFixedSize(36, 36)
        dpr = self.devicePixelRatioF()
        if icon == "flowdesk":
            pixmap = icon_pixmap("flowdesk", 36, "#ffffff", dpr)
        else:
            pixmap = QPixmap(round(36 * dpr), round(36 * dpr))
            pixmap.setDevicePixelRatio(dpr)
            pixmap.fill(Qt.GlobalColor.transparent)
            painter = QPainter(pixmap)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(color or QColor("#4f8ff7"))
            painter.drawRoundedRect(0, 0, 36, 36, 8, 8)
            painter.drawPixmap(8, 8, icon_pixmap(icon, 20, "#ffffff", dpr))
            painter.end()
        tile.setPixmap(pixmap)
        text = QVBoxLayout()
        text.setSpacing(0)
        self.title_label = QLabel(title)
        self.subtitle_label = sub = QLabel(subtitle)
        self.title_label.setObjectName("inspectorTitle")
        self.title_label.setWordWrap(True)
        sub.setObjectName("inspectorSubtitle")
        sub.setWordWrap(True)
        text.addWidget(self.title_label)
        text.addWidget(sub)
        row.addWidget(tile, 0, Qt.AlignmentFlag.AlignTop)
        row.addLayout(text, 1)
        self.body.addLayout(row)
        self.problem_box = QLabel()
        self.problem_box.setObjectName("problemBox")
        self.problem_box.setWordWrap(True)
        self.problem_box.setTextFormat(Qt.TextFormat.RichText)
        self.problem_box.setContentsMargins(10, 8, 10, 8)
        self.problem_box.hide()
        self.body.addSpacing(4)
        self.body.addWidget(self.problem_box)

    def _row(
        self,
        title: str,
        editor: FieldEditor,
        required: bool = False,
        help_text: str = "",
        toggle: QToolButton | None = None,
    ) -> None:
        if not isinstance(editor, BoolField) or toggle is not None:
            label = QLabel(title + (" <span style='color:#ef5350'>*</span>" if required else ""))
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setBuddy(editor)
            label.setToolTip(help_text)
            self.body.addSpacing(4)
            if toggle is None:
                self.body.addWidget(label)
            else:
                row = QHBoxLayout()
                row.addWidget(label, 1)
                row.addWidget(toggle)
                self.body.addLayout(row)
        self.body.addWidget(editor)
        if help_text:
            help_label = QLabel(help_text)
            help_label.setObjectName("fieldHelp")
            help_label.setWordWrap(True)
            self.body.addWidget(help_label)

    def _build_node(self, node_id: str) -> None:
        doc = self.doc
        node = doc.node(node_id)
        node_type = doc.node_type(node_id)
        if node_type is None:
            self._header(
                "puzzle",
                node.title or node.type,
                f"Missing type · {node.type}",
                QColor(PLACEHOLDER_COLOR),
            )
        else:
            self._header(
                icon_name(node_type.icon, node_type.category),
                node.title or node_type.title or node_type.type_name,
                f"{node_type.title} · {node_type.type_name}",
                category_color(node_type.category),
            )
            if node_type.description:
                desc = QLabel(node_type.description)
                desc.setObjectName("fieldHelp")
                desc.setWordWrap(True)
                self.body.addWidget(desc)
        self.body.addWidget(_section("Node"))
        title = TextField("title", node_type.title if node_type else node.type)
        title.edited.connect(
            lambda text: self._set_field("title", text or UNSET, "Edit title", title)
        )
        self._bind(title)
        self.common["title"] = title
        self._row("Title", title)
        ident = TextField("id", "node_id")
        ident.edited.connect(lambda text: self._check_id(text, ident))
        ident.finished.connect(lambda: self._rename(ident))
        self.common["id"] = ident
        self._row("ID", ident, help_text="Expressions name this node as nodes.ID.")
        if node_type is None:
            self.body.addWidget(_section("Parameters"))
            note = QLabel(
                f"The node type <b>{node.type}</b> is not installed. Its settings are kept "
                "exactly as they are and saved back unchanged."
            )
            note.setWordWrap(True)
            note.setObjectName("fieldHelp")
            self.body.addWidget(note)
            raw = JsonField("config")
            raw.set_value(node.config)
            raw.edit.setReadOnly(True)
            self.body.addWidget(raw)
        else:
            self._build_config(node_id, node_type.config_schema())
        self._build_settings(node_id)
        self._refresh()

    def _build_config(self, node_id: str, schema: dict[str, Any]) -> None:
        specs = field_specs(schema)
        if not specs:
            return
        self.body.addWidget(_section("Parameters"))
        config = self.doc.node(node_id).config
        node_type = self.doc.node_type(node_id)
        kinds = tuple(getattr(node_type, "credential_kinds", ()) or ())
        credentials = sorted(
            name
            for name, ref in self.doc.workflow.credentials.items()
            if not kinds or ref.type in kinds
        )
        tool_form = None
        if self.tool_form is not None and node_type is not None:
            if node_type.type_name == "tool.call":
                tool_form = self.tool_form(self, node_id)
        for spec in specs:
            if tool_form is not None and spec.key == "arguments":
                continue  # edited through the tool's own form below
            value = config.get(spec.key, UNSET)
            labels = self.credential_labels(credentials) if spec.kind == "credential" else None
            editor = build_editor(spec, value, self.base_dir, credentials, labels)
            picker = spec.kind == "credential" and isinstance(editor, ChoiceField)
            if picker and self.new_credential and isinstance(editor, ChoiceField):
                editor.options.append(NEW_CREDENTIAL)
                editor.combo.addItem("New credential…", NEW_CREDENTIAL)
            editor.edited.connect(self._config_slot(spec.key, spec.title, editor))
            self._bind(editor)
            self.assist.attach(editor, node_id)
            self.editors[spec.key] = editor
            self.defaults[spec.key] = None if spec.default is UNSET else spec.default
            toggle = None
            if spec.kind in TYPED_KINDS:
                toggle = self._expression_toggle(spec.key, spec.title, has_expression(value))
                self.typed[spec.key] = has_expression(value)
            self._row(spec.title, editor, spec.required, spec.description, toggle)
        if tool_form is not None:
            tool_form()

    def _expression_toggle(self, key: str, title: str, on: bool) -> QToolButton:
        """The ``{ }`` switch of a number, boolean or choice field: a fixed
        value, or an expression computed at run time."""
        button = QToolButton()
        button.setObjectName("fieldButton")
        button.setText("{ }")
        button.setCheckable(True)
        button.setChecked(on)
        button.setToolTip("Use an expression ({{ }}) instead of a fixed value")
        button.setAccessibleName(f"Expression for {title}")
        button.toggled.connect(lambda checked: self._switch_mode(key, title, checked))
        return button

    def _switch_mode(self, key: str, title: str, expression: bool) -> None:
        if self.node_id is None:
            return
        current = self.doc.node(self.node_id).config.get(key, self.defaults.get(key))
        if expression:
            shown = "" if current is None else json.dumps(current)
            value: Any = "{{ " + shown + " }}"
        else:
            value = UNSET  # back to a fixed value: the default, until edited
        self._push(SetConfig(self.node_id, key, value, text=f"Edit {title}"))
        self._rebuild()

    def credential_labels(self, names: list[str]) -> dict[Any, str]:
        """Picker entries: "none", and each name with whether a secret is stored."""
        labels: dict[Any, str] = {None: "none"}
        for name in names:
            known = self.secret_status.has_secret(name) if self.secret_status else None
            state = "✓" if known else "…" if known is None else "— no secret"
            labels[name] = f"{name}  {state}" if self.secret_status else name
        return labels

    def refresh_pickers(self) -> None:
        """Credentials were declared or removed: offer the current ones."""
        if self.node_id is not None:
            self._rebuild()

    def refresh_credentials(self) -> None:
        """Secret states changed: relabel the credential pickers."""
        for editor in self.editors.values():
            if isinstance(editor, ChoiceField) and editor.property("credential_picker"):
                names = [o for o in editor.options if isinstance(o, str)]
                editor.set_labels(self.credential_labels(names))

    def _config_slot(self, key: str, title: str, editor: FieldEditor) -> Callable[[Any], None]:
        def commit(value: Any) -> None:
            if self.node_id is None:
                return
            if value is NEW_CREDENTIAL:
                config = self.doc.node(self.node_id).config
                editor.set_value(config.get(key, self.defaults.get(key)))
                kinds = getattr(self.doc.node_type(self.node_id), "credential_kinds", ())
                self.new_credential(self.node_id, key, tuple(kinds or ()))
                return
            if value is None and editor.property("credential_picker") and self.defaults.get(key):
                pass  # "none" where the type defaults to a credential: an explicit null
            elif value is None or value == "":
                value = UNSET  # an empty field means "not set": the default applies
            self._push(SetConfig(self.node_id, key, value, text=f"Edit {title}"), editor)

        return commit

    def _build_settings(self, node_id: str) -> None:
        self.body.addWidget(_section("Settings"))
        disabled = BoolField("disabled", "Disabled")
        disabled.edited.connect(
            lambda on: self._set_field(
                "disabled", on or UNSET, "Disable node" if on else "Enable node", disabled
            )
        )
        self._add_common(
            "disabled", disabled, "", "A disabled node is skipped, and so is what depends on it."
        )
        on_error = ChoiceField(
            "on_error",
            ["stop", "continue"],
            labels={"stop": "Stop the run", "continue": "Continue with the error as output"},
        )
        on_error.edited.connect(
            lambda v: self._set_field(
                "on_error", UNSET if v == "stop" else v, "Edit on error", on_error
            )
        )
        self._add_common("on_error", on_error, "On error")
        timeout = NumberField("timeout_s", False, 0.0, 86_400.0, "No limit", " s")
        timeout.edited.connect(
            lambda v: self._set_field(
                "timeout_s", UNSET if v is None else v, "Edit timeout", timeout
            )
        )
        self._add_common("timeout_s", timeout, "Timeout per attempt")
        preset = ChoiceField(
            "preset",
            [None, *PRESET_NAMES],
            labels={None: "Custom (or the workflow's default)", "none": "none (no retry)"},
        )
        preset.edited.connect(lambda v: self._set_retry("preset", v, preset))
        self._bind(preset)
        self.common["retry.preset"] = preset
        self._row(
            "Retry preset",
            preset,
            help_text="Named retry policies; the numbers below override the preset's.",
        )
        attempts = NumberField("max_attempts", True, 1, 100, "No retry")
        base = NumberField("base_delay_s", False, 0.0, 3600.0, "", " s")
        cap = NumberField("max_delay_s", False, 0.0, 86_400.0, "", " s")
        for key, editor in (
            ("max_attempts", attempts),
            ("base_delay_s", base),
            ("max_delay_s", cap),
        ):
            editor.edited.connect(lambda v, k=key, e=editor: self._set_retry(k, v, e))
            self._bind(editor)
            self.common["retry." + key] = editor
        self._row(
            "Retry attempts",
            attempts,
            help_text="Retries retryable errors with exponential backoff.",
        )
        delays = QHBoxLayout()
        for caption, editor in (("Base delay", base), ("Max delay", cap)):
            column = QVBoxLayout()
            column.setSpacing(2)
            column.addWidget(QLabel(caption))
            column.addWidget(editor)
            delays.addLayout(column)
        self.body.addLayout(delays)
        for_each = TextField("for_each", "{{ input.items }}")
        for_each.edited.connect(
            lambda t: self._set_field("for_each", t or UNSET, "Edit for each", for_each)
        )
        self._add_common("for_each", for_each, "For each", "Run once per element of this list.")
        self.assist.attach(for_each, node_id, for_each_field=True)
        concurrency = NumberField("concurrency", True, 0, 10_000, "Default (8)")
        concurrency.edited.connect(
            lambda v: self._set_field(
                "concurrency", UNSET if v is None else v, "Edit concurrency", concurrency
            )
        )
        self._add_common(
            "concurrency", concurrency, "Concurrency", "With for each: element runs at once."
        )

    def _add_common(self, key: str, editor: FieldEditor, title: str, help_text: str = "") -> None:
        self._bind(editor)
        self.common[key] = editor
        self._row(title, editor, help_text=help_text)

    def _bind(self, editor: FieldEditor) -> None:
        # Leaving a field ends its undo step: the next edit there is a new one.
        editor.finished.connect(self.controller.break_merge)

    # ------------------------------------------------------------ commits
    def _set_field(self, field: str, value: Any, text: str, editor: FieldEditor) -> None:
        if self.node_id is not None:
            self._push(SetNodeField(self.node_id, field, value, text=text), editor)

    def _set_retry(self, key: str, value: Any, editor: FieldEditor) -> None:
        if self.node_id is None:
            return
        node = self.doc.node(self.node_id)
        retry: dict[str, Any] = (
            node.retry.model_dump(exclude_unset=True) if node.retry is not None else {}
        )
        if key == "preset":
            if value:
                retry = {"preset": value}  # a preset chosen: its numbers
            else:
                # back to custom: the preset's numbers become the node's own
                current = resolve_retry_policy(node.retry) or NO_RETRY
                retry = {k: getattr(current, k) for k in RETRY_DEFAULTS}
        elif value is None:
            retry.pop(key, None)
        else:
            retry[key] = value
        base = PRESETS[retry["preset"]] if retry.get("preset") else NO_RETRY
        pruned = {k: v for k, v in retry.items() if k == "preset" or v != getattr(base, k)}
        self._push(SetNodeField(self.node_id, "retry", pruned or UNSET, text="Edit retry"), editor)

    def _check_id(self, text: str, editor: FieldEditor) -> None:
        if text == self.node_id:
            editor.set_local_error(None)
        elif not NODE_ID_RE.match(text):
            editor.set_local_error(
                "Use letters, digits and _, starting with a letter or _ (max 64)."
            )
        elif self.doc.has_node(text):
            editor.set_local_error(f"Another node is already called {text}.")
        else:
            editor.set_local_error(None)

    def _rename(self, editor: FieldEditor) -> None:
        assert isinstance(editor, TextField)
        text = editor.edit.toPlainText().strip()
        if self.node_id is None or text == self.node_id or editor.error:
            return
        self._push(RenameNode(self.node_id, text), editor)

    # ------------------------------------------------------------ workflow
    def _build_workflow(self) -> None:
        wf = self.doc.workflow
        self._header("flowdesk", "Workflow", counts_text(len(wf.nodes), len(wf.edges)))
        hint = QLabel(
            "Select a node to edit it. Add nodes from the palette, or press Tab on the canvas; "
            "drag from a port to connect."
            if wf.nodes
            else "Drag a node from the palette, or double-click the canvas (or press Tab) to add "
            "one. Drag from a port to connect."
        )
        hint.setObjectName("emptyHint")
        hint.setWordWrap(True)
        self.body.addWidget(hint)
        self.body.addWidget(_section("Workflow"))
        name = TextField("name", "Untitled")
        name.edited.connect(lambda t: self._push_workflow("name", t, "Rename workflow", name))
        description = TextField("description", "What this workflow does", multiline=True)
        description.edited.connect(
            lambda t: self._push_workflow(
                "description", t or UNSET, "Edit description", description
            )
        )
        variables = JsonField("variables")
        variables.edited.connect(
            lambda v: self._push_workflow(
                "variables", UNSET if v is None else v, "Edit variables", variables
            )
        )
        for key, editor, title, help_text in (
            ("name", name, "Name", ""),
            ("description", description, "Description", ""),
            ("variables", variables, "Variables", "JSON object, read in expressions as vars.NAME."),
        ):
            self._bind(editor)
            self.common[key] = editor
            self._row(title, editor, help_text=help_text)
        self._refresh()

    def _update_counts(self) -> None:
        """The workflow header follows wiring, deleting and undo."""
        label = getattr(self, "subtitle_label", None)
        if label is not None:
            wf = self.doc.workflow
            label.setText(counts_text(len(wf.nodes), len(wf.edges)))

    def _push_workflow(self, field: str, value: Any, text: str, editor: FieldEditor) -> None:
        if field == "name" and not str(value).strip():
            editor.set_local_error("A workflow needs a name.")
            return
        self._push(SetWorkflowField(field, value, text=text), editor)

    # -------------------------------------------------------------- refresh
    def _refresh(self) -> None:
        """Show the document's current values (after any edit, undo or redo)."""
        if self.node_id is not None and self.doc.has_node(self.node_id):
            config = self.doc.node(self.node_id).config
            if any(has_expression(config.get(k)) != was for k, was in self.typed.items()):
                self._rebuild()  # undo flipped a field between value and expression
                return
        if self.node_id is None:
            if not self.selection and "name" in self.common:
                fields = {"name", "description", "variables"}
                # (only these: dumping a 5,000-node workflow took 0.1 s per refresh)
                wf = self.doc.workflow.model_dump(
                    include=fields, by_alias=True, exclude_unset=True, mode="json"
                )
                for key in ("name", "description", "variables"):
                    self.common[key].set_value(wf.get(key))
            return
        if not self.doc.has_node(self.node_id):
            return
        node = self.doc.node(self.node_id)
        data = node_json(node)
        node_type = self.doc.node_type(self.node_id)
        if hasattr(self, "title_label"):
            self.title_label.setText(node.title or (node_type.title if node_type else node.type))
        for key, editor in self.editors.items():
            editor.set_value(node.config.get(key, self.defaults.get(key)))
        for key, editor in self.common.items():
            if key.startswith("retry."):
                # the numbers the node runs with: its preset's, then its own
                policy = resolve_retry_policy(node.retry) or NO_RETRY
                editor.set_value(getattr(policy, key[6:]))
            elif key == "id":
                editor.set_value(self.node_id)
            else:
                editor.set_value(data.get(key))
        for refresh in self.extra_refresh:
            refresh()

    def _apply_issues(self) -> None:
        """Each problem once: under its field when the form shows that field,
        else in the box at the top (in words: titles and field labels)."""
        box = getattr(self, "problem_box", None)
        for editor in (*self.editors.values(), *self.common.values()):
            editor.set_issue(None)
        if box is None:
            return
        mine = (
            [i for i in self.issues if i.node_id == self.node_id]
            if self.node_id
            else ([i for i in self.issues if i.node_id is None] if not self.selection else [])
        )
        rest = []
        for issue in mine:
            editor = self._field_editor(place_of(issue)) if self.node_id else None
            if editor is None:
                rest.append(issue)
            elif editor.error is None or editor._issue is None:
                editor.set_issue(field_message(issue, self.doc))
        if rest:
            items = "".join(
                f"<li>{_escape(describe(i, self.doc, with_node=False))}</li>" for i in rest[:8]
            )
            more = f"<br>… and {len(rest) - 8} more" if len(rest) > 8 else ""
            plural = "s" if len(rest) != 1 else ""
            box.setText(
                f"<b>{len(rest)} problem{plural}</b>"
                f"<ul style='margin:2px 0 0 -20px'>{items}</ul>{more}"
            )
            box.show()
        else:
            box.hide()

    def _field_editor(self, place: Place) -> FieldEditor | None:
        """The editor of a problem's field in the form shown (None: not shown)."""
        if not place.key:
            return None
        if place.section == "config":
            return self.editors.get(place.key)
        key = "retry.max_attempts" if place.key == "retry" else place.key
        return self.common.get(key)

    def focus_field(self, place: Place) -> bool:
        """Scroll to a field of the node shown and put the cursor in it."""
        editor = self._field_editor(place)
        if editor is None:
            return False
        self.scroll_area.ensureWidgetVisible(editor, 0, 40)
        target = getattr(editor, "edit", None) or getattr(editor, "spin", None) or editor
        target.setFocus(Qt.FocusReason.OtherFocusReason)
        return True


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
