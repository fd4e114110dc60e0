"""``PaintClock``: how long the window spends painting. Qt paints a window's
widgets when its ``UpdateRequest`` arrives — after the frame that changed
them, in the event loop. A run's frame rate must count that cost too (it is
most of a frame's: the canvas, the minimap, the log), or a busy run's window
takes a bigger share than the bridge intends.
May import: PySide6.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, QObject


class PaintClock(QObject):
    """Installed on a top-level window; ``take_ms()`` returns the painting
    time since the last call."""

    def __init__(self, window: QObject) -> None:
        super().__init__(window)
        self._ms = 0.0
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() != QEvent.Type.UpdateRequest:
            return False
        started = time.perf_counter()
        watched.event(event)  # the paint itself (filters are not run again)
        self._ms += (time.perf_counter() - started) * 1000.0
        return True

    def take_ms(self) -> float:
        spent, self._ms = self._ms, 0.0
        return spent
