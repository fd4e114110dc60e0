"""The Log dock's lines: every message can be read whole (the message column
is as wide as the longest one, the view scrolls sideways; with short ones it
fills the dock), and each level's colour keeps WCAG AA contrast (4.5:1) on
the view's background in both themes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flowdesk.editor.run.log_panel import LogPanel
from flowdesk.editor.run.run_state import LogLine, RunState
from flowdesk.editor.theme import DARK, LIGHT, Theme, apply_theme
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

LONG = (
    "attempt 1/3 failed: Connection refused by 127.0.0.1:9 — nothing answers there: "
    "is the server running, and is the address right? (TRANSPORT, retrying in 2.0 s)"
)


def _luminance(color: QColor) -> float:
    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in (color.redF(), color.greenF(), color.blueF()))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: QColor, b: QColor) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.fixture
def panel(qtbot: Any, themed_app: QApplication) -> Iterator[LogPanel]:
    panel = LogPanel()
    panel.resize(420, 260)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitExposed(panel)
    yield panel


def _state(*lines: tuple[str, str]) -> RunState:
    state = RunState()
    state.t0 = 100.0
    state.logs = [
        LogLine(100.0 + i, "fetch", level, message) for i, (level, message) in enumerate(lines)
    ]
    return state


def test_a_long_message_can_be_read_whole(panel: LogPanel, qtbot: Any) -> None:
    panel.model.min_level = 0
    panel.set_state(_state(("info", "Run started: 2 of 2 nodes"), ("warning", LONG)))
    view = panel.view
    width = view.fontMetrics().horizontalAdvance(LONG)
    # the column holds the whole message; the view scrolls to it
    assert view.columnWidth(3) >= width
    bar = view.horizontalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0)  # (the range follows on the next layout)
    bar.setValue(bar.maximum())
    rect = view.visualRect(panel.model.index(1, 3))
    assert rect.right() <= view.viewport().width() + 1  # its end is in sight
    assert panel.model.index(1, 3).data() == LONG
    # "Message" stays in sight above it (left-aligned, not centred far away)
    header = view.horizontalHeader()
    assert header.defaultAlignment() & Qt.AlignmentFlag.AlignLeft


def test_short_messages_fill_the_dock_without_a_scroll_bar(panel: LogPanel, qtbot: Any) -> None:
    panel.set_state(_state(("info", "ok"), ("error", "failed")))
    view = panel.view
    used = sum(view.columnWidth(c) for c in range(4))
    assert used >= view.viewport().width()
    assert view.horizontalScrollBar().maximum() == 0
    # a wider dock: the message column follows
    before = view.columnWidth(3)
    panel.resize(640, 260)
    qtbot.waitUntil(lambda: view.columnWidth(3) > before)
    qtbot.waitUntil(lambda: view.horizontalScrollBar().maximum() == 0)


@pytest.mark.parametrize("theme", [LIGHT, DARK], ids=["light", "dark"])
def test_every_level_is_legible(qtbot: Any, themed_app: QApplication, theme: Theme) -> None:
    apply_theme(themed_app, theme)
    try:
        panel = LogPanel()
        qtbot.addWidget(panel)
        panel.model.min_level = 0
        levels = ("debug", "info", "warning", "error")
        panel.set_state(_state(*((level, level) for level in levels)))
        base = panel.view.palette().color(QPalette.ColorRole.Base)
        text = panel.view.palette().color(QPalette.ColorRole.Text)
        for row, level in enumerate(levels):
            color = panel.model.index(row, 3).data(Qt.ItemDataRole.ForegroundRole) or text
            ratio = contrast(QColor(color), base)
            assert ratio >= 4.5, f"{theme.name} {level}: {ratio:.2f}:1"
    finally:
        apply_theme(themed_app, DARK)
