"""Field editors of the inspector. Each one shows a value, emits ``edited``
with the new JSON value as the user types (the inspector turns that into one
merged undo step per field), ``finished`` when focus leaves, and shows an
inline error without ever discarding what was typed. Strings highlight
``{{ }}`` expressions. May import: PySide6, editor.theme.

Why one file of ~600 lines: it is one family of small classes (a text, JSON,
number, bool, choice and schema field over ``FieldEditor``'s signals, each
under 130 lines); the form picks among all of them, and a module per class
would only scatter that shared contract.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flowdesk.editor.theme import current_theme, set_icon
from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFocusEvent,
    QFont,
    QFontDatabase,
    QKeyEvent,
    QSyntaxHighlighter,
    QTextCharFormat,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

EXPRESSION_RE = re.compile(r"\{\{.*?\}\}")
JSON_TOKENS = re.compile(
    r'(?P<key>"(?:[^"\\]|\\.)*"(?=\s*:))|(?P<str>"(?:[^"\\]|\\.)*")|(?P<num>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)'
    r"|(?P<lit>\btrue\b|\bfalse\b|\bnull\b)"
)


class ExpressionHighlighter(QSyntaxHighlighter):
    """``{{ … }}`` in the accent colour; JSON tokens too when ``json_mode``."""

    def __init__(self, document: QTextDocument, json_mode: bool = False) -> None:
        super().__init__(document)
        self.json_mode = json_mode
        theme = current_theme()
        self.expr = QTextCharFormat()
        self.expr.setForeground(
            QColor(theme.accent).lighter(125) if theme.dark else QColor(theme.accent)
        )
        tint = QColor(theme.accent)
        tint.setAlpha(38)
        self.expr.setBackground(tint)
        self.formats = {}
        palette = {"key": "#7fb3f5", "str": "#a5d6a7", "num": "#f5b971", "lit": "#ce93d8"}
        if not theme.dark:
            palette = {"key": "#1f5fbf", "str": "#2e7d32", "num": "#c2570c", "lit": "#8e24aa"}
        for name, color in palette.items():
            fmt = QTextCharFormat()
            fmt.setForeground(QColor(color))
            self.formats[name] = fmt

    def highlightBlock(self, text: str) -> None:  # noqa: N802 - Qt override
        if self.json_mode:
            for match in JSON_TOKENS.finditer(text):
                kind = match.lastgroup or "str"
                self.setFormat(match.start(), match.end() - match.start(), self.formats[kind])
        for match in EXPRESSION_RE.finditer(text):
            self.setFormat(match.start(), match.end() - match.start(), self.expr)


class CodeLine(QPlainTextEdit):
    """A one-line text field that can highlight (``QLineEdit`` cannot)."""

    text_edited = Signal(str)
    editing_finished = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._setting = False
        self.setTabChangesFocus(True)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.document().setDocumentMargin(1)
        self.setFixedHeight(QLineEdit().sizeHint().height() + 2)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.highlighter = ExpressionHighlighter(self.document())
        self.textChanged.connect(self._changed)

    def text(self) -> str:
        return self.toPlainText()

    def set_text(self, text: str) -> None:
        if text == self.toPlainText():
            return
        self._setting = True
        try:
            self.setPlainText(text)
            cursor = self.textCursor()
            cursor.movePosition(cursor.MoveOperation.End)
            self.setTextCursor(cursor)
        finally:
            self._setting = False

    def _changed(self) -> None:
        if not self._setting:
            self.text_edited.emit(self.toPlainText())

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.editing_finished.emit()
            return
        super().keyPressEvent(event)

    def insertFromMimeData(self, source: QMimeData) -> None:  # noqa: N802 - Qt override
        self.insertPlainText(source.text().replace("\r", "").replace("\n", " "))

    def focusOutEvent(self, event: QFocusEvent) -> None:  # noqa: N802 - Qt override
        super().focusOutEvent(event)
        self.editing_finished.emit()


class FieldEditor(QWidget):
    """Base of the field editors: a value, an inline error label, signals."""

    edited = Signal(object)
    finished = Signal()

    def __init__(self, key: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.key = key
        self.setObjectName(f"field_{key}")
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(3)
        self.row = QHBoxLayout()
        self.row.setSpacing(4)
        self._layout.addLayout(self.row)
        self.error_label = QLabel(self)
        self.error_label.setObjectName("fieldError")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        self._layout.addWidget(self.error_label)
        self._local_error: str | None = None
        self._issue: str | None = None
        #: the field's description, the tooltip when there is no error
        self.description = ""

    def set_value(self, value: Any) -> None:
        raise NotImplementedError

    def add_below(self, widget: QWidget) -> None:
        """A line under the field (the expression preview)."""
        self._layout.addWidget(widget)

    def set_issue(self, message: str | None) -> None:
        """A problem reported by validation for this field."""
        self._issue = message
        self._show_error()

    def set_local_error(self, message: str | None) -> None:
        """A problem found while typing (not valid JSON, not a number)."""
        self._local_error = message
        self._show_error()

    def _show_error(self) -> None:
        message = self.error
        if message:  # one message per field: the problem, not a preview too
            for preview in self.findChildren(QLabel, "expressionPreview"):
                preview.hide()
        self.error_label.setText(message or "")
        self.error_label.setVisible(bool(message))
        self.setProperty("invalid", bool(message))
        self.setToolTip(message or self.description)
        for child in self.findChildren(QWidget):
            if child.property("invalid") != bool(message):
                child.setProperty("invalid", bool(message))
                child.style().unpolish(child)
                child.style().polish(child)

    @property
    def error(self) -> str | None:
        return self._local_error or self._issue


class TextField(FieldEditor):
    """A string, with ``{{ }}`` highlighting; a browse button for paths."""

    def __init__(
        self,
        key: str,
        placeholder: str = "",
        browse: bool = False,
        multiline: bool = False,
        base_dir: str = "",
    ) -> None:
        super().__init__(key)
        self.base_dir = base_dir
        if multiline:
            self.edit: QPlainTextEdit = QPlainTextEdit(self)
            self.edit.setTabChangesFocus(True)
            self.edit.setFixedHeight(96)
            ExpressionHighlighter(self.edit.document())
            self.edit.textChanged.connect(lambda: self._emit(self.edit.toPlainText()))
        else:
            line = CodeLine(self)
            line.text_edited.connect(self._emit)
            line.editing_finished.connect(self.finished)
            self.edit = line
        self.edit.setObjectName(f"edit_{key}")
        self.edit.setAccessibleName(key)
        self.edit.setPlaceholderText(placeholder)
        self._setting = False
        self.row.addWidget(self.edit)
        if browse:
            button = QToolButton(self)
            button.setObjectName("fieldButton")
            set_icon(button, "folder")
            button.setToolTip("Choose a file")
            button.setAccessibleName(f"Choose a file for {key}")
            button.clicked.connect(self._browse)
            self.row.addWidget(button)

    def _emit(self, text: str) -> None:
        if not self._setting:
            self.edited.emit(text)

    def set_value(self, value: Any) -> None:
        text = "" if value is None else value if isinstance(value, str) else json.dumps(value)
        if text == self.edit.toPlainText():
            return
        self._setting = True
        try:
            if isinstance(self.edit, CodeLine):
                self.edit.set_text(text)
            else:
                self.edit.setPlainText(text)
        finally:
            self._setting = False

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a file", self.base_dir)
        if path:
            import os

            if self.base_dir:
                try:
                    path = os.path.relpath(path, self.base_dir)
                except ValueError:
                    pass
            self.set_value(path)
            self.edited.emit(path)
            self.finished.emit()


class JsonField(FieldEditor):
    """Any JSON value: edited as text, committed only when it parses; the
    parse error is shown inline and the text is kept as typed."""

    def __init__(self, key: str, height: int = 64) -> None:
        super().__init__(key)
        self.edit = QPlainTextEdit(self)
        self.edit.setObjectName(f"edit_{key}")
        self.edit.setAccessibleName(key)
        self.edit.setTabChangesFocus(True)
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setPointSizeF(max(8.0, QFont().pointSizeF() - 0.5))
        self.edit.setFont(font)
        self._min_height = height
        self.edit.setFixedHeight(height)
        self.edit.setPlaceholderText('JSON, e.g. {"total": "{{ input.a + input.b }}"}')
        ExpressionHighlighter(self.edit.document(), json_mode=True)
        self.edit.textChanged.connect(self._changed)
        self.row.addWidget(self.edit)
        self._setting = False
        self._value: Any = None

    def _fit_height(self) -> None:
        """Grow with the text (up to about 18 lines) instead of a fixed box."""
        lines = self.edit.document().blockCount()
        line = self.edit.fontMetrics().lineSpacing()
        wanted = int(min(max(self._min_height, (lines + 1) * line + 14), 18 * line + 14))
        if wanted != self.edit.height():
            self.edit.setFixedHeight(wanted)

    def _changed(self) -> None:
        self._fit_height()
        if self._setting:
            return
        text = self.edit.toPlainText()
        if not text.strip():
            self.set_local_error(None)
            self._value = None
            self.edited.emit(None)
            return
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            self.set_local_error(
                f"Not valid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}"
            )
            return
        self.set_local_error(None)
        self._value = value
        self.edited.emit(value)

    def set_value(self, value: Any) -> None:
        # Keep the user's own formatting while the text means the same value.
        if self._local_error is None and value == self._value and self.edit.toPlainText():
            return
        if self._local_error is not None and self.edit.hasFocus():
            return
        self._value = value
        self._setting = True
        try:
            self.edit.setPlainText(
                "" if value is None else json.dumps(value, indent=2, ensure_ascii=False)
            )
        finally:
            self._setting = False
        self.set_local_error(None)

    def focusOutEvent(self, event: QFocusEvent) -> None:  # noqa: N802 - Qt override
        super().focusOutEvent(event)
        self.finished.emit()


class NumberField(FieldEditor):
    """An integer or a number within bounds; ``none_text`` names the empty
    value when the field is optional (it sits at the minimum)."""

    def __init__(
        self,
        key: str,
        integer: bool,
        minimum: float,
        maximum: float,
        none_text: str = "",
        suffix: str = "",
    ) -> None:
        super().__init__(key)
        self.integer = integer
        self.spin: QSpinBox | QDoubleSpinBox
        if integer:
            self.spin = QSpinBox(self)
            self.spin.setRange(int(max(minimum, -(2**31))), int(min(maximum, 2**31 - 1)))
        else:
            self.spin = QDoubleSpinBox(self)
            self.spin.setDecimals(2)
            self.spin.setRange(minimum, maximum)
        self.spin.setObjectName(f"edit_{key}")
        self.spin.setAccessibleName(key)
        self.spin.setKeyboardTracking(True)
        self.none_text = none_text
        if none_text:
            self.spin.setSpecialValueText(none_text)
        if suffix:
            self.spin.setSuffix(suffix)
        self.spin.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        # Arrow keys and the wheel step the value; flat fields read better than
        # tiny arrow buttons in a narrow dock.
        self.spin.setButtonSymbols(QSpinBox.ButtonSymbols.NoButtons)
        self.spin.setMinimumWidth(110)
        self.spin.valueChanged.connect(self._changed)
        self.spin.editingFinished.connect(self.finished)
        self._setting = False
        self.row.addWidget(self.spin)
        self.row.addStretch(1)

    def _changed(self, value: float) -> None:
        if self._setting:
            return
        if self.none_text and value == self.spin.minimum():
            self.edited.emit(None)
        else:
            self.edited.emit(int(value) if self.integer else round(float(value), 6))

    def set_value(self, value: Any) -> None:
        self._setting = True
        try:
            spin = self.spin
            if value is None or isinstance(value, bool) or not isinstance(value, int | float):
                spin.setValue(spin.minimum())  # type: ignore[arg-type]
            elif isinstance(spin, QSpinBox):
                spin.setValue(int(value))
            else:
                spin.setValue(float(value))
        finally:
            self._setting = False


class BoolField(FieldEditor):
    def __init__(self, key: str, label: str) -> None:
        super().__init__(key)
        self._setting = False
        self.check = QCheckBox(label, self)
        self.check.setObjectName(f"edit_{key}")
        self.check.setAccessibleName(key)
        self.check.toggled.connect(lambda on: None if self._setting else self.edited.emit(on))
        self.row.addWidget(self.check)

    def set_value(self, value: Any) -> None:
        self._setting = True
        try:
            self.check.setChecked(bool(value))
        finally:
            self._setting = False


class ChoiceField(FieldEditor):
    """One of a list of values (an enum), or a free value for an editable
    list (credential names)."""

    def __init__(
        self,
        key: str,
        options: list[Any],
        editable: bool = False,
        labels: dict[Any, str] | None = None,
    ) -> None:
        super().__init__(key)
        labels = labels or {}
        self._setting = False
        self.combo = QComboBox(self)
        self.combo.setObjectName(f"edit_{key}")
        self.combo.setAccessibleName(key)
        self.combo.setEditable(editable)
        self.options = list(options)
        for option in options:
            text = labels.get(option) or ("—" if option is None else str(option))
            self.combo.addItem(text, option)
        self.combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        # a long option must not widen the inspector past its dock (the text is
        # elided; the drop-down list shows it whole)
        self.combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.combo.setMinimumContentsLength(10)
        self.combo.currentIndexChanged.connect(self._changed)
        if editable:
            self.combo.editTextChanged.connect(
                lambda t: None if self._setting else self.edited.emit(t)
            )
        self._setting = False
        self.row.addWidget(self.combo)

    def _changed(self, index: int) -> None:
        if not self._setting and index >= 0:
            self.edited.emit(self.combo.itemData(index))

    def set_labels(self, labels: dict[Any, str]) -> None:
        """Change the shown text of options (a credential's secret state)."""
        for i, option in enumerate(self.options):
            if option in labels:
                self.combo.setItemText(i, labels[option])

    def set_value(self, value: Any) -> None:
        self._setting = True
        try:
            index = next(
                (i for i, o in enumerate(self.options) if o == value and type(o) is type(value)), -1
            )
            if index < 0 and value is not None:
                # A value the list does not offer (an expression, a typo in the
                # file): show it rather than silently picking another.
                self.options.append(value)
                self.combo.addItem(f"{value}", value)
                index = len(self.options) - 1
            if index >= 0:
                self.combo.setCurrentIndex(index)
            elif self.combo.isEditable():
                self.combo.setEditText("")
        finally:
            self._setting = False


class SchemaField(FieldEditor):
    """An AI node's output schema: the TypeScript-like DSL or a JSON Schema
    object, validated as the user types with ``engine.schema_dsl``. Under the
    text: the strict JSON Schema it produces (read-only, collapsible), or the
    error with its line and column. The value is committed as typed (a
    string, or an object when the text is a JSON object)."""

    def __init__(self, key: str, placeholder: str = "") -> None:
        super().__init__(key)
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setPointSizeF(max(8.0, QFont().pointSizeF() - 0.5))
        self.edit = QPlainTextEdit(self)
        self.edit.setObjectName(f"edit_{key}")
        self.edit.setAccessibleName(key)
        self.edit.setTabChangesFocus(True)
        self.edit.setFont(font)
        self.edit.setFixedHeight(120)
        self.edit.setPlaceholderText(placeholder or "{name: string, tags: string[]}")
        self.highlighter = ExpressionHighlighter(self.edit.document(), json_mode=True)
        self.edit.textChanged.connect(self._changed)
        self.row.addWidget(self.edit)
        self.toggle = QToolButton(self)
        self.toggle.setObjectName("schemaToggle")
        self.toggle.setCheckable(True)
        self.toggle.setAutoRaise(True)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setText("JSON Schema sent to the model")
        self.toggle.setAccessibleName("Show the produced JSON Schema")
        self.toggle.toggled.connect(self._toggled)
        self.produced = QPlainTextEdit(self)
        self.produced.setObjectName(f"schema_{key}")
        self.produced.setAccessibleName("Produced JSON Schema")
        self.produced.setReadOnly(True)
        self.produced.setFont(font)
        self.produced.setFixedHeight(150)
        ExpressionHighlighter(self.produced.document(), json_mode=True)
        self.produced.hide()
        self._layout.addWidget(self.toggle)
        self._layout.addWidget(self.produced)
        self._setting = False
        #: why the text is not a usable schema (kept apart from the local error,
        #: which the inspector clears once the edit is committed)
        self._schema_error: str | None = None
        #: the strict JSON Schema of the current text (None: empty or invalid)
        self.schema: dict[str, Any] | None = None
        self._toggled(False)
        self._validate(self.edit.toPlainText())

    def _toggled(self, on: bool) -> None:
        set_icon(self.toggle, "chevron-down" if on else "chevron-right")
        self.produced.setVisible(on and self.schema is not None)

    @staticmethod
    def parse_value(text: str) -> Any:
        """A JSON object when the text is one, else the DSL text (None: empty)."""
        if not text.strip():
            return None
        if text.lstrip().startswith("{"):
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                return text
            if isinstance(value, dict):
                return value
        return text

    def _validate(self, text: str) -> Any:
        from flowdesk.engine import SchemaError, SchemaSyntaxError, to_strict_schema

        value = self.parse_value(text)
        self.schema = None
        problem: str | None = None
        if value is not None:
            try:
                self.schema = to_strict_schema(value)
            except SchemaSyntaxError as exc:
                # no-break spaces: a label would collapse the caret's indent
                problem = f"{exc}\n{exc.caret().replace(' ', chr(0xA0))}"
            except SchemaError as exc:
                problem = str(exc)
        if problem != self._schema_error:
            self._schema_error = problem
            self._show_error()
        self.produced.setPlainText(
            "" if self.schema is None else json.dumps(self.schema, indent=2, ensure_ascii=False)
        )
        self.toggle.setEnabled(self.schema is not None)
        self.produced.setVisible(self.toggle.isChecked() and self.schema is not None)
        return value

    @property
    def error(self) -> str | None:
        return self._local_error or self._schema_error or self._issue

    def _show_error(self) -> None:
        super()._show_error()
        # the caret under the column only lines up in a fixed-width font
        self.error_label.setFont(self.edit.font())

    def _changed(self) -> None:
        value = self._validate(self.edit.toPlainText())
        if not self._setting:
            self.edited.emit(value)

    def set_value(self, value: Any) -> None:
        current = self.parse_value(self.edit.toPlainText())
        if value == current and (value is not None or not self.edit.toPlainText()):
            return
        text = (
            ""
            if value is None
            else value
            if isinstance(value, str)
            else json.dumps(value, indent=2, ensure_ascii=False)
        )
        self._setting = True
        try:
            self.edit.setPlainText(text)
        finally:
            self._setting = False

    def focusOutEvent(self, event: QFocusEvent) -> None:  # noqa: N802 - Qt override
        super().focusOutEvent(event)
        self.finished.emit()
