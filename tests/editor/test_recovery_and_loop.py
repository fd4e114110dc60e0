"""Start-up: the recovery offer after a crash, the qasync event loop, and
canvas operations that are one undo step (auto-layout, note editing)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from flowdesk.editor.app import offer_recovery
from flowdesk.editor.main_window import MainWindow
from PySide6.QtCore import QPointF
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDialog

from .conftest import QUICKSTART, close_window, make_window


def test_recovery_is_offered_and_restores_the_work(
    quickstart: MainWindow, qtbot: Any, monkeypatch: Any
) -> None:
    crashed = quickstart
    crashed.editor.add_node("flow.merge", QPointF(0, 300))
    crashed.autosave.write_journal()
    expected = crashed.controller.document.to_json()
    folder = crashed.autosave.folder
    (folder / f"{crashed.autosave.session}.lock").write_text(
        str(2**22 + 4321)
    )  # its process is gone
    monkeypatch.setattr(
        "flowdesk.editor.dialogs.RecoveryDialog.exec", lambda self: QDialog.DialogCode.Accepted
    )
    fresh = make_window(qtbot, crashed.registry, crashed.settings, folder)
    offer_recovery(fresh)
    assert fresh.controller.document.to_json() == expected
    assert fresh.controller.is_modified and fresh.controller.path == QUICKSTART.resolve()
    assert fresh.autosave.journal_path.exists()  # journaled again under the new session
    assert not (folder / f"{crashed.autosave.session}.flow.json").exists()
    close_window(fresh)


def test_discard_all(quickstart: MainWindow, qtbot: Any, monkeypatch: Any) -> None:
    crashed = quickstart
    crashed.editor.add_node("flow.merge", QPointF(0, 300))
    crashed.autosave.write_journal()
    folder = crashed.autosave.folder
    (folder / f"{crashed.autosave.session}.lock").write_text(str(2**22 + 4321))

    def discard(self: Any) -> int:
        self._discard()
        return QDialog.DialogCode.Rejected

    monkeypatch.setattr("flowdesk.editor.dialogs.RecoveryDialog.exec", discard)
    fresh = make_window(qtbot, crashed.registry, crashed.settings, folder)
    offer_recovery(fresh)
    assert fresh.controller.document.node_ids() == []
    assert not list(folder.glob("*.flow.json"))
    close_window(fresh)


def test_event_loop_runs_on_qasync(tmp_path: Path) -> None:
    code = (
        "import os; os.environ['QT_QPA_PLATFORM'] = 'offscreen'\n"
        "from PySide6.QtCore import QTimer\n"
        "from PySide6.QtWidgets import QApplication\n"
        "import asyncio\n"
        "app = QApplication([])\n"
        "ran = []\n"
        "async def tick(): ran.append(1); app.quit()\n"
        "QTimer.singleShot(50, lambda: asyncio.ensure_future(tick()))\n"
        "from flowdesk.editor.app import run_event_loop\n"
        "print(run_event_loop(app), ran)\n"
    )
    env = {**os.environ, "FLOWDESK_DATA_DIR": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "0 [1]"


def test_auto_layout_is_one_step(quickstart: MainWindow) -> None:
    win = quickstart
    doc = win.controller.document
    before = doc.to_json()
    win.scene.select(["celebrate", "quiet", "merge"])
    win.ui_actions["auto_layout"].trigger()
    assert win.controller.stack.count() == 1
    assert win.controller.stack.undoText() == "Auto-layout selection"
    assert doc.node("read_orders").position == (0, 0)  # outside the selection
    win.scene.select()
    win.ui_actions["auto_layout"].trigger()
    assert win.controller.stack.undoText() == "Auto-layout"
    xs = [doc.node(i).position[0] for i in ("read_orders", "summarise", "is_big_day", "merge")]  # type: ignore[index]
    assert xs == sorted(xs)
    win.controller.stack.undo()
    win.controller.stack.undo()
    assert doc.to_json() == before


def test_sticky_note_typing_is_one_step(window: MainWindow) -> None:
    win = window
    win.editor.add_note(QPointF(0, 0))
    note_id = next(iter(win.scene.notes))
    item = win.scene.notes[note_id]
    editor = item._editor
    assert editor is not None and editor.hasFocus()
    QTest.keyClicks(win.view.viewport(), "Hello")
    editor.clearFocus()
    assert win.controller.document.note(note_id)["text"] == "Hello"
    assert win.controller.stack.count() == 2
    win.controller.stack.undo()
    assert item.text == ""
