"""Unexpected errors never take the editor down: they are logged and shown in
a dialog with the details (the traceback), one at a time. ``install(window)``
routes uncaught exceptions (including those raised in Qt slots, which PySide
hands to ``sys.excepthook``) to it.
May import: PySide6, stdlib. Main names: ``show_error``, ``install``.
"""

from __future__ import annotations

import logging
import sys
import traceback
from types import TracebackType

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QMessageBox, QWidget

log = logging.getLogger(__name__)

#: error boxes on screen, kept alive while shown (process-wide: the
#: application's, shown for errors raised anywhere)
_open: list[QMessageBox] = []


def show_error(parent: QWidget | None, title: str, details: str, text: str = "") -> QMessageBox:
    """A non-blocking error dialog (the window keeps working behind it)."""
    box = QMessageBox(parent)
    box.setObjectName("errorDialog")
    box.setIcon(QMessageBox.Icon.Critical)
    box.setWindowTitle("Flowdesk")
    box.setText(f"<b>{title}</b>")
    box.setInformativeText(
        text or "The editor kept running. The details below were also written to the log."
    )
    box.setDetailedText(details)
    box.setStandardButtons(QMessageBox.StandardButton.Close)
    box.finished.connect(lambda _r: _open.remove(box) if box in _open else None)
    _open.append(box)
    box.open()
    return box


def install(window: QWidget) -> None:
    """Show uncaught exceptions instead of losing them (or the process)."""
    previous = sys.excepthook

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            previous(kind, exc, tb)
            return
        log.error("unexpected error", exc_info=(kind, exc, tb))
        details = "".join(traceback.format_exception(kind, exc, tb))
        if len(_open) < 3:  # a burst of the same failure must not bury the window
            QTimer.singleShot(
                0, lambda: show_error(window, f"Unexpected error: {kind.__name__}", details)
            )

    sys.excepthook = hook
