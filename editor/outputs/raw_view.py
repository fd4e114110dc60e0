"""``RawView``: a value as highlighted JSON text — only the first 200 KB are
rendered (the serializer stops there), with "Show all" (the full text is built
on a worker thread and added in slices, unhighlighted when huge, so the window
keeps responding) and "Save to file…" (written on a worker thread).
May import: PySide6, editor.outputs, editor.inspector.widgets, editor.workers.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from flowdesk.editor.inspector.widgets import ExpressionHighlighter
from flowdesk.editor.outputs.jsonpaths import capped_json
from flowdesk.editor.workers import run_in_thread
from PySide6.QtCore import QTimer
from PySide6.QtGui import QFont, QFontDatabase, QTextCursor, QTextDocument
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

log = logging.getLogger(__name__)

#: characters rendered before "Show all"
CAP = 200_000
#: above this many characters the text is not highlighted
HIGHLIGHT_LIMIT = 1_000_000
#: characters added per slice when showing everything
SLICE = 400_000


def _size_text(chars: int) -> str:
    if chars >= 1_000_000:
        return f"{chars / 1_000_000:.1f} M characters"
    if chars >= 1000:
        return f"{chars / 1000:.0f} K characters"
    return f"{chars} characters"


class RawView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("rawView")
        self.value: Any = None
        self._generation = 0
        self._pending = ""
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.bar = QWidget(self)
        self.bar.setObjectName("rawBar")
        row = QHBoxLayout(self.bar)
        row.setContentsMargins(8, 4, 8, 4)
        self.notice = QLabel(self.bar)
        self.notice.setObjectName("rawNotice")
        self.show_all_button = QPushButton("Show all", self.bar)
        self.show_all_button.setObjectName("rawShowAll")
        self.show_all_button.clicked.connect(self.show_all)
        self.save_button = QPushButton("Save to file…", self.bar)
        self.save_button.setObjectName("rawSave")
        self.save_button.clicked.connect(self._save_dialog)
        row.addWidget(self.notice, 1)
        row.addWidget(self.show_all_button)
        row.addWidget(self.save_button)
        self.text = QPlainTextEdit(self)
        self.text.setObjectName("rawText")
        self.text.setAccessibleName("Raw JSON")
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setPointSizeF(max(8.0, QFont().pointSizeF() - 0.5))
        self.text.setFont(font)
        self.highlighter = ExpressionHighlighter(self.text.document(), json_mode=True)
        self._slicer = QTimer(self)
        self._slicer.setInterval(0)
        self._slicer.timeout.connect(self._add_slice)
        layout.addWidget(self.bar)
        layout.addWidget(self.text, 1)

    def set_value(self, value: Any) -> None:
        """Render the start of ``value``."""
        self._generation += 1
        self._slicer.stop()
        self.value = value
        text, cut = capped_json(value, CAP, indent=2)
        self._set_text(text, highlight=True)
        self.show_all_button.setVisible(cut)
        self.show_all_button.setEnabled(True)
        self.notice.setText(
            f"Showing the first {_size_text(CAP)}; the value is longer." if cut else ""
        )
        self.bar.setVisible(True)

    def _set_text(self, text: str, highlight: bool) -> None:
        self.highlighter.setDocument(self.text.document() if highlight else None)
        self.text.setPlainText(text)

    @property
    def truncated(self) -> bool:
        return self.show_all_button.isVisible() and self.show_all_button.isEnabled()

    def show_all(self) -> None:
        """Serialise everything on a worker thread, then add it slice by slice."""
        generation = self._generation
        value = self.value
        self.show_all_button.setEnabled(False)
        self.notice.setText("Preparing the whole value…")

        def done(text: Any, error: BaseException | None) -> None:
            if generation != self._generation:
                return
            if error is not None:
                self.notice.setText(f"Could not show the value: {error}")
                return
            self._start_slices(str(text))

        run_in_thread(
            lambda: json.dumps(value, indent=2, ensure_ascii=False, default=str), done, "raw"
        )

    def _start_slices(self, text: str) -> None:
        highlight = len(text) <= HIGHLIGHT_LIMIT
        self._set_text("", highlight)
        self._pending = text
        self._total = len(text)
        self._slicer.start()

    def _add_slice(self) -> None:
        chunk, self._pending = self._pending[:SLICE], self._pending[SLICE:]
        cursor = QTextCursor(self.text.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(chunk)
        shown = self._total - len(self._pending)
        if self._pending:
            self.notice.setText(f"Loading… {_size_text(shown)} of {_size_text(self._total)}")
        else:
            self._slicer.stop()
            self.show_all_button.hide()
            plain = " (not highlighted: too long)" if self._total > HIGHLIGHT_LIMIT else ""
            self.notice.setText(f"Showing all {_size_text(self._total)}{plain}.")
            self.text.moveCursor(QTextCursor.MoveOperation.Start)

    def _save_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Save the value", "output.json", "JSON files (*.json);;All files (*)"
        )
        if path:
            self.save_to(Path(path))

    def save_to(self, path: Path) -> None:
        """Write the whole value as JSON (on a worker thread)."""
        value = self.value

        def write() -> int:
            with open(path, "w", encoding="utf-8") as out:
                json.dump(value, out, indent=2, ensure_ascii=False, default=str)
            return path.stat().st_size

        def done(size: Any, error: BaseException | None) -> None:
            if error is not None:
                self.notice.setText(f"Could not save {path.name}: {error}")
            else:
                self.notice.setText(f"Saved {path.name} ({int(size):,} bytes).")

        self.notice.setText(f"Saving {path.name}…")
        run_in_thread(write, done, "save")

    def set_placeholder(self, text: str) -> None:
        self._generation += 1
        self._slicer.stop()
        self.value = None
        self._set_text("", True)
        self.text.setPlaceholderText(text)
        self.bar.setVisible(False)

    def find_text(self, needle: str, backward: bool = False) -> bool:
        """Select the next (previous) occurrence of ``needle``, wrapping round."""
        options = QTextDocument.FindFlag.FindBackward if backward else QTextDocument.FindFlag(0)
        found = self.text.find(needle, options)
        if not found:  # wrap around
            cursor = self.text.textCursor()
            cursor.movePosition(
                QTextCursor.MoveOperation.End if backward else QTextCursor.MoveOperation.Start
            )
            self.text.setTextCursor(cursor)
            found = self.text.find(needle, options)
        return bool(found)
