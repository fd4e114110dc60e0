"""Expression help in the inspector's text fields: typing inside ``{{ … }}``
offers the names an expression can use — ``input``, ``nodes.<upstream id>``
(from the graph, even before anything ran), ``vars.*``, ``env.*``, ``item``
and ``index`` under ``for_each``, and the keys seen in the last run's values
(``input.total``, ``nodes.fetch.body.items``) or known before any run
(``editor.inspector.static_scope``: pinned outputs, constant transforms,
declared output schemas) — and a line under the field previews its value,
evaluated on the run shown (before a run: on what is known, so ``vars.*``
previews at once), with errors inline.

The completion list is a frameless popup that never takes the focus: typing
goes on in the field, Up/Down choose, Enter or Tab insert, Escape closes. It
opens under the line being typed (above it when the screen has no room
below), never over it.
May import: PySide6, editor.*, engine (public API), engine.expressions.
"""

from __future__ import annotations

import json
import re
import time
from typing import TYPE_CHECKING, Any

from flowdesk.editor.inspector.static_scope import StaticScope, has_unknown, keys_at
from flowdesk.editor.inspector.widgets import FieldEditor, JsonField, TextField
from flowdesk.editor.outputs.jsonpaths import capped_json
from flowdesk.editor.run.run_state import expression_scope, node_inputs
from flowdesk.editor.theme import set_style_state
from flowdesk.editor.validation import CALM_MS
from flowdesk.engine import (
    ExpressionEngine,
    FlowdeskError,
    holds_expression,
    render_value,
)
from PySide6.QtCore import QEvent, QObject, QPoint, Qt, QTimer
from PySide6.QtGui import QKeyEvent, QTextCursor
from PySide6.QtWidgets import QLabel, QListWidget, QPlainTextEdit, QWidget

if TYPE_CHECKING:
    from flowdesk.editor.run.controller import RunController

#: the name being typed at the cursor: ``nodes.fetch.bo``
TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*\.?$|$")
PREVIEW_CHARS = 300
MAX_ITEMS = 60
TOP_NAMES = ("input", "inputs", "nodes", "vars", "env", "run")


def inside_expression(text: str) -> bool:
    """Whether the end of ``text`` is inside an open ``{{``."""
    return text.rfind("{{") > text.rfind("}}")


class ExpressionAssist(QObject):
    """Attach to field editors; see the module docstring."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runs: RunController | None = None
        #: until ``runs`` is set (then its engine's cache is shared)
        self._expressions = ExpressionEngine()
        # owned by the inspector (a tool-tip window: it never takes the focus)
        self.popup = QListWidget(parent if isinstance(parent, QWidget) else None)
        self.popup.setObjectName("expressionCompletions")
        self.popup.setWindowFlags(Qt.WindowType.ToolTip | Qt.WindowType.FramelessWindowHint)
        self.popup.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.popup.setUniformItemSizes(True)
        self.popup.itemClicked.connect(lambda item: self._insert(item.text()))
        self._edit: QPlainTextEdit | None = None
        self._node_id = ""
        self._token = ""
        self._fields: list[tuple[FieldEditor, QLabel, str, bool]] = []

    @property
    def expressions(self) -> ExpressionEngine:
        """The compiled-expression cache of the window's engine (one for runs,
        validation and previews)."""
        runs = self.runs
        return runs.bridge.engine.expressions if runs is not None else self._expressions

    # --------------------------------------------------------------- attach
    def clear(self) -> None:
        """The inspector rebuilt its form."""
        self._fields = []
        self.hide()

    def attach(self, editor: FieldEditor, node_id: str, for_each_field: bool = False) -> None:
        edit = _text_edit(editor)
        if edit is None:
            return
        preview = QLabel(editor)
        preview.setObjectName("expressionPreview")
        preview.setWordWrap(True)
        preview.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        preview.hide()
        editor.add_below(preview)
        entry = (editor, preview, node_id, for_each_field)
        self._fields.append(entry)
        edit.installEventFilter(self)
        edit.setProperty("assist_node", node_id)
        timer = QTimer(preview)
        timer.setSingleShot(True)
        timer.setInterval(120)
        timer.timeout.connect(lambda: self._preview(entry))
        editor.edited.connect(lambda _v: timer.start())
        edit.textChanged.connect(lambda: edit.setProperty("typed_at", time.monotonic()))
        edit.textChanged.connect(lambda: self._typed(edit, node_id))
        edit.cursorPositionChanged.connect(lambda: self._typed(edit, node_id, moved=True))
        self._preview(entry)

    def refresh(self) -> None:
        """The run shown changed: preview again."""
        for entry in list(self._fields):
            try:
                self._preview(entry)
            except RuntimeError:  # the form was rebuilt meanwhile
                self._fields.remove(entry)

    # -------------------------------------------------------------- preview
    def _preview(self, entry: tuple[FieldEditor, QLabel, str, bool]) -> None:
        editor, label, node_id, for_each_field = entry
        edit = _text_edit(editor)
        value: Any = edit.toPlainText() if edit is not None else None
        if isinstance(editor, JsonField):
            value = editor._value if editor.error is None else None
        if not holds_expression(value) or editor.error:
            label.hide()  # (a field with a problem says only that)
            return
        scope = self.scope(node_id, with_item=not for_each_field)
        if scope is None:
            text, state = self._static_preview(value, node_id)
            label.setText(text)
        else:
            try:
                result = render_value(value, scope, self.expressions)
            except Exception as exc:  # noqa: BLE001 - a preview never breaks the form
                unknown = self.unknown_reason(node_id) if _reads_inputs(value) else ""
                if unknown:  # not wrong, just not known yet: no red
                    label.setText(unknown)
                    state = "idle"
                elif editor.error or self._still_typing(entry):
                    # one message per field (validation's), and none mid-word
                    label.hide()
                    return
                else:
                    what = str(exc) if isinstance(exc, FlowdeskError) else f"{exc}"
                    label.setText(f"⚠ {what}")
                    state = "error"
            else:
                text, cut = capped_json(result, PREVIEW_CHARS)
                if isinstance(result, str) and not cut:
                    text = result
                label.setText("= " + text + ("…" if cut else ""))
                state = "value"
        set_style_state(label, "state", state)
        label.show()

    def _static_preview(self, value: Any, node_id: str) -> tuple[str, str]:
        """Before a run: the value from what is known (``vars.*``, constants
        upstream), else why it is not known yet — never red for that."""
        static = self.static_scope(node_id)
        later = "Run the workflow (Ctrl+R) to preview this value."
        if static is None:
            return later, "idle"
        try:
            result = render_value(value, static, self.expressions)
        except Exception as exc:  # noqa: BLE001 - a preview never breaks the form
            if _reads_inputs(value):
                return self._why_unknown(node_id) or later, "idle"
            return f"⚠ {exc}", "error"
        if has_unknown(result):
            return self._why_unknown(node_id) or later, "idle"
        text, cut = capped_json(result, PREVIEW_CHARS)
        if isinstance(result, str) and not cut:
            text = result
        return "= " + text + ("…" if cut else ""), "value"

    def _why_unknown(self, node_id: str) -> str:
        runs = self.runs
        if runs is None or not runs.controller.document.has_node(node_id):
            return ""
        if not runs.controller.document.edges_into(node_id):
            return "No input yet: connect this node to preview the value."
        return ""

    def static_scope(self, node_id: str) -> dict[str, Any] | None:
        """What an expression of ``node_id`` can be known to see before a run."""
        runs = self.runs
        if runs is None or not runs.controller.document.has_node(node_id):
            return None
        doc = runs.controller.document
        return StaticScope(doc).scope(node_id, {**doc.workflow.variables, **runs.overrides})

    def _still_typing(self, entry: tuple[FieldEditor, QLabel, str, bool]) -> bool:
        """The field was typed in less than ``CALM_MS`` ago: look again then."""
        edit = _text_edit(entry[0])
        if edit is None or not edit.hasFocus():
            return False
        typed = edit.property("typed_at")
        left = CALM_MS / 1000 - (time.monotonic() - float(typed)) if typed is not None else 0
        if left <= 0:
            return False

        def again() -> None:
            try:
                self._preview(entry)
            except RuntimeError:  # the form was rebuilt meanwhile
                pass

        QTimer.singleShot(int(left * 1000) + 10, entry[1], again)
        return True

    def unknown_reason(self, node_id: str) -> str:
        """Why an expression of ``node_id`` cannot be known in the run shown
        ("" when it can): nothing connected, or nothing came in."""
        runs = self.runs
        if runs is None:
            return ""
        doc = runs.controller.document
        if not doc.has_node(node_id):
            return ""
        sources = {key[0] for key in doc.edges_into(node_id)}
        if not sources:
            return "No input yet: connect this node to preview the value."
        nodes = runs.shown.nodes
        edges = doc.edges_into(node_id)
        if not any(nodes.get(k[0]) is not None and nodes[k[0]].carried(k[1]) for k in edges):
            names = ", ".join(doc.label(s) for s in sorted(sources, key=doc.node_index))
            return f"Not known yet: {names} gave no value in the run shown."
        return ""

    def scope(self, node_id: str, with_item: bool = True) -> dict[str, Any] | None:
        """What an expression of ``node_id`` sees, from the run shown (None
        when nothing upstream has run)."""
        runs = self.runs
        if runs is None:
            return None
        doc = runs.controller.document
        if not doc.has_node(node_id):
            return None
        state = runs.shown
        upstream = doc.upstream(node_id)
        if not any(state.nodes.get(u) and state.nodes[u].has_output for u in upstream) and (
            upstream or state.run_id is None
        ):
            return None
        inputs, _ = node_inputs(state, doc.edges_into(node_id), doc.input_layout(node_id))
        wf = doc.workflow
        scope = expression_scope(
            state, node_id, inputs, upstream, {**wf.variables, **runs.overrides}, wf.env
        )
        for_each = doc.node(node_id).for_each
        if with_item and for_each:
            try:
                items = self.expressions.evaluate(for_each, scope)
            except FlowdeskError:
                items = None
            if isinstance(items, list) and items:
                scope["item"], scope["index"] = items[0], 0
        return scope

    # ------------------------------------------------------------ completion
    def names(self, node_id: str, token: str) -> list[str]:
        """Completions of ``token`` (``""``, ``nodes.``, ``input.to``…)."""
        runs = self.runs
        if runs is None or not runs.controller.document.has_node(node_id):
            return []
        doc = runs.controller.document
        head, _, partial = token.rpartition(".")
        if not head:
            names = list(TOP_NAMES)
            if doc.node(node_id).for_each:
                names += ["item", "index"]
            return [n for n in names if n.startswith(partial)]
        scopes = [s for s in (self.scope(node_id), self.static_scope(node_id)) if s]
        parts = head.split(".")
        if parts[0] == "nodes" and len(parts) == 1:
            keys = sorted(doc.upstream(node_id), key=doc.node_index)
        elif parts[0] == "vars" and len(parts) == 1:
            keys = list({**doc.workflow.variables, **runs.overrides})
        elif parts[0] == "env" and len(parts) == 1:
            keys = list(doc.workflow.env)
        elif parts[0] == "run" and len(parts) == 1:
            keys = ["id", "started_at"]
        else:  # the run's keys first, then those known before a run
            keys = keys_at(scopes, parts)
        return [f"{head}.{k}" for k in keys if k.startswith(partial)][:MAX_ITEMS]

    def _typed(self, edit: QPlainTextEdit, node_id: str, moved: bool = False) -> None:
        if not edit.hasFocus():
            return
        cursor = edit.textCursor()
        before = edit.toPlainText()[: cursor.position()]
        if not inside_expression(before):
            self.hide()
            return
        match = TOKEN.search(before[before.rfind("{{") + 2 :])
        token = match.group(0) if match else ""
        if moved and self.popup.isHidden():
            return
        names = self.names(node_id, token)
        if not names or names == [token]:
            self.hide()
            return
        self._show(edit, node_id, token, names)

    def _show(self, edit: QPlainTextEdit, node_id: str, token: str, names: list[str]) -> None:
        self._edit, self._node_id, self._token = edit, node_id, token
        self.popup.clear()
        self.popup.addItems(names)
        self.popup.setCurrentRow(0)
        rows = min(len(names), 8)
        self.popup.resize(max(220, edit.width() // 2), rows * self.popup.sizeHintForRow(0) + 6)
        self.popup.move(self.popup_position(edit, token))
        self.popup.show()

    def popup_position(self, edit: QPlainTextEdit, token: str) -> QPoint:
        """Under the line being typed, starting where the name starts; above
        the line when the screen has no room below — never over it."""
        line = edit.cursorRect()
        start = edit.cursorRect(_moved_left(edit.textCursor(), len(token)))
        if start.top() == line.top():
            line.setLeft(start.left())
        viewport = edit.viewport()
        below = viewport.mapToGlobal(QPoint(line.left(), line.bottom() + 3))
        screen = edit.screen().availableGeometry() if edit.screen() else None
        height = self.popup.height()
        if screen is not None and below.y() + height > screen.bottom():
            above = viewport.mapToGlobal(QPoint(line.left(), line.top() - 3))
            if above.y() - height >= screen.top():
                below = QPoint(above.x(), above.y() - height)
        right = edit.window().frameGeometry().right()  # inside the window if it can
        if screen is not None:
            right = min(right, screen.right())
        below.setX(
            max(right - self.popup.width(), 0)
            if below.x() + self.popup.width() > right
            else below.x()
        )
        return below

    def hide(self) -> None:
        self.popup.hide()

    def _insert(self, name: str) -> None:
        edit = self._edit
        if edit is None:
            return
        cursor = edit.textCursor()
        cursor.movePosition(
            QTextCursor.MoveOperation.Left, QTextCursor.MoveMode.KeepAnchor, len(self._token)
        )
        cursor.insertText(name)
        edit.setTextCursor(cursor)
        self.hide()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.FocusOut:
            self.hide()
        elif event.type() == QEvent.Type.KeyPress and self.popup.isVisible():
            assert isinstance(event, QKeyEvent)
            key = event.key()
            row = self.popup.currentRow()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                step = 1 if key == Qt.Key.Key_Down else -1
                self.popup.setCurrentRow((row + step) % self.popup.count())
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Tab):
                item = self.popup.currentItem()
                if item is not None:
                    self._insert(item.text())
                return True
            if key == Qt.Key.Key_Escape:
                self.hide()
                return True
        return False


def _moved_left(cursor: QTextCursor, count: int) -> QTextCursor:
    moved = QTextCursor(cursor)
    moved.movePosition(QTextCursor.MoveOperation.Left, QTextCursor.MoveMode.MoveAnchor, count)
    return moved


def _text_edit(editor: FieldEditor) -> QPlainTextEdit | None:
    if isinstance(editor, TextField | JsonField) and isinstance(editor.edit, QPlainTextEdit):
        return editor.edit
    return None


def _reads_inputs(value: Any) -> bool:
    """Whether an expression reads what comes in (``input``, ``nodes.x``)."""
    return bool(re.search(r"\b(input|inputs|nodes)\b", json.dumps(value, default=str)))
