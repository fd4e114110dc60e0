"""``ValueSearch``: finds keys and values containing a text in a JSON value,
a time slice at a time on the GUI thread (a 50 MB value is searched while
the window keeps responding), and steps through the hits. The first hit is
reported as soon as it is found.
May import: PySide6, editor.outputs.jsonpaths.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from flowdesk.editor.outputs.jsonpaths import JsonPath, search
from PySide6.QtCore import QObject, QTimer, Signal

#: time spent searching per event-loop turn
SLICE_S = 0.012
MAX_HITS = 10_000


class ValueSearch(QObject):
    """``progress(hits, done)`` after each slice; ``current(path)`` when the
    hit to show changes."""

    progress = Signal(int, bool)
    current = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.hits: list[JsonPath] = []
        self.position = -1
        self.needle = ""
        self.done = True
        self._walk: Iterator[JsonPath | None] | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._slice)

    def start(self, value: Any, needle: str) -> None:
        self.stop()
        self.hits = []
        self.position = -1
        self.needle = needle
        if not needle:
            self.done = True
            self.progress.emit(0, True)
            return
        self.done = False
        self._walk = search(value, needle, MAX_HITS)
        self._slice()
        if not self.done:
            self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        self._walk = None

    def _slice(self) -> None:
        walk = self._walk
        if walk is None:
            self._timer.stop()
            return
        deadline = time.perf_counter() + SLICE_S
        first = not self.hits
        for found in walk:
            if found is not None:
                self.hits.append(found)
            if time.perf_counter() > deadline:
                break
        else:
            self.done = True
            self._walk = None
            self._timer.stop()
        if first and self.hits:
            self.position = 0
            self.current.emit(self.hits[0])
        self.progress.emit(len(self.hits), self.done)

    def step(self, forward: bool = True) -> None:
        if not self.hits:
            return
        self.position = (self.position + (1 if forward else -1)) % len(self.hits)
        self.current.emit(self.hits[self.position])

    def status_text(self) -> str:
        if not self.needle:
            return ""
        more = "+" if len(self.hits) >= MAX_HITS else ""
        if not self.hits:
            return "searching…" if not self.done else "no match"
        suffix = "" if self.done else " (searching…)"
        return f"{self.position + 1} of {len(self.hits):,}{more}{suffix}"
