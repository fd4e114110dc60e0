"""``VariablesPanel``: override the workflow's variables for the next runs
(not saved, not undone — like ``flowdesk run --var NAME=VALUE``), and see
which folder file nodes read and write. A value is read as JSON when it
parses (``5``, ``true``, ``[1, 2]``) and as text otherwise; empty means the
workflow's own value.
May import: PySide6, editor.theme.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


def parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


class VariablesPanel(QWidget):
    """``overrides_changed(dict)`` as the user types."""

    overrides_changed = Signal(dict)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("variablesPanel")
        self.setAccessibleName("Run variables")
        self.overrides: dict[str, Any] = {}
        self.edits: dict[str, QLineEdit] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(6)
        self.root_label = QLabel(self)
        self.root_label.setObjectName("dataRootLabel")
        self.root_label.setWordWrap(True)
        self.root_label.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.root_label)
        self.form_host = QWidget(self)
        self.form = QFormLayout(self.form_host)
        self.form.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.form_host)
        self.empty = QLabel(
            "This workflow has no variables. Add them in the inspector "
            "(click the empty canvas) and read them as vars.NAME.",
            self,
        )
        self.empty.setObjectName("emptyHint")
        self.empty.setWordWrap(True)
        layout.addWidget(self.empty)
        row = QHBoxLayout()
        row.addStretch(1)
        self.reset_button = QPushButton("Use the workflow's values", self)
        self.reset_button.setObjectName("resetVariables")
        self.reset_button.clicked.connect(self.reset)
        row.addWidget(self.reset_button)
        layout.addLayout(row)
        layout.addStretch(1)

    def set_data_root(self, root: str, saved: bool) -> None:
        if saved:
            self.root_label.setText(
                f"File nodes read and write in the workflow's folder:<br><b>{root}</b>"
            )
        else:
            self.root_label.setText(
                f"This workflow is not saved yet, so file nodes read and write in your home "
                f"folder:<br><b>{root}</b><br>Save it to use its own folder."
            )

    def set_variables(self, defaults: Mapping[str, Any]) -> None:
        """Rebuild the form for the workflow's variables (keeps overrides that
        still name a variable)."""
        while self.form.rowCount():
            self.form.removeRow(0)
        self.edits = {}
        self.overrides = {k: v for k, v in self.overrides.items() if k in defaults}
        for name, value in defaults.items():
            edit = QLineEdit(self.form_host)
            edit.setObjectName(f"var_{name}")
            edit.setAccessibleName(f"Value of {name} for runs")
            edit.setPlaceholderText(json.dumps(value, ensure_ascii=False))
            edit.setClearButtonEnabled(True)
            if name in self.overrides:
                edit.setText(_text(self.overrides[name]))
            edit.textChanged.connect(lambda text, n=name: self._edited(n, text))
            self.edits[name] = edit
            self.form.addRow(name, edit)
        self.empty.setVisible(not defaults)
        self.reset_button.setVisible(bool(defaults))

    def _edited(self, name: str, text: str) -> None:
        if text.strip():
            self.overrides[name] = parse_value(text)
        else:
            self.overrides.pop(name, None)
        self.overrides_changed.emit(dict(self.overrides))

    def set_override(self, name: str, value: Any) -> None:
        if name in self.edits:
            self.edits[name].setText(_text(value))

    def reset(self) -> None:
        for edit in self.edits.values():
            edit.clear()


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
