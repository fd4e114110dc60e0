"""Issue 14, part B — files: Open Recent tells same-named files apart by their
folder, File ▸ Close, File ▸ Examples (copies, the bundled file untouched),
Help ▸ Documentation (bundled, offline), runs made before the first save kept
in Run History after Save As, and work journaled by an editor killed with
SIGKILL offered when its file is opened again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from flowdesk.editor.app import offer_recovery
from flowdesk.editor.autosave import Autosave, Recovery
from flowdesk.editor.dialogs import RecoveryDialog
from flowdesk.editor.file_menu import bundled_examples
from flowdesk.editor.main_window import MainWindow
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QLabel, QMessageBox

from .conftest import QUICKSTART, close_window, make_window, open_flow, run_and_wait, write_flow


def test_open_recent_shows_each_files_folder(window: MainWindow, tmp_path: Path) -> None:
    first = write_flow(tmp_path / "team-a", [{"id": "a", "type": "data.transform"}])
    second = write_flow(tmp_path / "team-b", [{"id": "b", "type": "data.transform"}])
    assert first.name == second.name
    for path in (first, second):
        assert window.files.open_path(path, confirm=False)
    texts = [a.text() for a in window.ui_actions.recent_menu.actions() if not a.isSeparator()]
    assert texts[0].startswith(f"{second.name}\t") and texts[0].endswith("team-b")
    assert texts[1].startswith(f"{first.name}\t") and texts[1].endswith("team-a")
    assert texts[0] != texts[1]


def test_file_close_asks_then_leaves_an_empty_workflow(window: MainWindow) -> None:
    assert window.files.open_path(QUICKSTART, confirm=False)
    window.editor.add_note(QPointF(0, 0))
    asked: list[str] = []

    def answer(_parent: Any, name: str) -> QMessageBox.StandardButton:
        asked.append(name)
        return QMessageBox.StandardButton.Discard

    window.files.ask_save = answer
    window.ui_actions["close"].trigger()
    assert asked == ["quickstart.flow.json"]
    assert window.controller.path is None and not window.controller.document.workflow.nodes
    assert not window.controller.is_modified
    assert window.windowTitle().startswith("Untitled")


def test_examples_open_as_copies_and_the_bundled_file_stays(
    window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOWDESK_DATA_DIR", str(tmp_path / "data"))
    menu = window.ui_actions.examples_menu
    titles = [a.text() for a in menu.actions()]
    assert len(titles) == len(list(bundled_examples().glob("*.flow.json"))) >= 5
    bundled = bundled_examples() / "quickstart.flow.json"
    before = bundled.read_bytes()
    quick = next(a for a in menu.actions() if a.objectName() == "example_quickstart")
    quick.trigger()
    copy = window.controller.path
    assert copy is not None and copy.parent == (tmp_path / "data" / "examples").resolve()
    assert (copy.parent / "data" / "orders.csv").is_file()  # its data came along
    window.editor.add_note(QPointF(0, 0))
    assert window.files.save()
    assert bundled.read_bytes() == before  # the save went to the copy
    assert copy.read_bytes() != before
    quick.trigger()  # the edited copy is kept; a new one opens
    assert window.controller.path == copy.with_name("quickstart-2.flow.json")


def test_help_documentation_shows_the_bundled_docs(window: MainWindow, qtbot: Any) -> None:
    window.ui_actions["documentation"].trigger()
    dialog = window.file_menu.docs_dialog
    assert dialog is not None and dialog.isVisible()
    pages = [dialog.pages.item(i).text() for i in range(dialog.pages.count())]
    assert "The editor" in pages and "Getting started" in pages
    dialog.pages.setCurrentRow(pages.index("The editor"))
    assert dialog.shown_page() == "ui.md"
    assert "objectName" in dialog.browser.toPlainText()
    assert dialog.browser.source().isLocalFile()  # offline: a file, not the web
    dialog.close()


def test_runs_before_the_first_save_stay_in_run_history(
    run_window: MainWindow, qtbot: Any, tmp_path: Path
) -> None:
    win = run_window
    win.editor.add_node("data.transform", QPointF(0, 0))
    run_and_wait(qtbot, win)
    run_and_wait(qtbot, win)
    panel = win.run.history
    qtbot.waitUntil(lambda: len(panel.runs) == 2, timeout=5_000)
    target = tmp_path / "saved" / "first.flow.json"
    target.parent.mkdir()
    win.files.choose_save_path = lambda: target
    with qtbot.waitSignal(win.bridge.runs_listed, timeout=5_000) as listed:
        assert win.files.save_as()
    assert len(listed.args[0]) == 2  # the first list of the file has them: no empty flash
    qtbot.waitUntil(
        lambda: len(panel.runs) == 2 and panel.runs[0].workflow_path == str(target.resolve()),
        timeout=5_000,
    )
    assert panel.caption.text() == "Runs of first.flow.json"
    assert "succeeded" in panel.list.topLevelItem(0).text(1)


# ------------------------------------------------------------------ item 25
EDIT_AND_WAIT = textwrap.dedent(
    """
    import sys
    from PySide6.QtCore import QPointF, QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication([sys.argv[0]])

    def edit():
        window = next(w for w in QApplication.topLevelWidgets() if w.objectName() == "mainWindow")
        window.editor.add_node("data.transform", QPointF(400, 400))
        print("EDITED", flush=True)

    QTimer.singleShot(300, edit)
    from flowdesk.editor.app import main
    sys.exit(main(sys.argv[1:]))
    """
)


REOPEN_AND_RECOVER = textwrap.dedent(
    """
    import os, sys
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QPushButton

    app = QApplication([sys.argv[0]])
    started = []

    def look():
        started.append(1)
        for widget in QApplication.topLevelWidgets():
            if widget.objectName() == "recoveryDialog" and widget.isVisible():
                print("OFFERED", widget.row_texts()[0], flush=True)
                widget.findChild(QPushButton, "recoverButton").click()
                QTimer.singleShot(200, report)
                return
        if len(started) > 150:
            print("NOTHING OFFERED", flush=True)
            os._exit(1)
        QTimer.singleShot(100, look)

    def report():
        window = next(w for w in QApplication.topLevelWidgets() if w.objectName() == "mainWindow")
        doc = window.controller.document
        print("NODES", ",".join(doc.node_ids()), window.controller.is_modified, flush=True)
        print("TITLE", window.windowTitle(), flush=True)
        os._exit(0)

    QTimer.singleShot(100, look)
    from flowdesk.editor.app import main
    sys.exit(main(sys.argv[1:]))
    """
)


def _editor_env(data_dir: Path) -> dict[str, str]:
    return dict(
        os.environ,
        FLOWDESK_DATA_DIR=str(data_dir),
        XDG_CONFIG_HOME=str(data_dir / "config"),  # its own settings
        QT_QPA_PLATFORM="offscreen",
    )


def _crash_after_an_edit(flow: Path, data_dir: Path) -> None:
    """``flowdesk edit FLOW`` in a process of its own: one edit, then SIGKILL
    once the journal is on disk (the autosave writes it 5 s after the edit)."""
    process = subprocess.Popen(
        [sys.executable, "-c", EDIT_AND_WAIT, str(flow)],
        env=_editor_env(data_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "EDITED"
        journal = data_dir / "recovery"
        deadline = time.monotonic() + 20
        while not list(journal.glob("*.json")) or not list(journal.glob("*.flow.json")):
            assert time.monotonic() < deadline, "no journal written"
            time.sleep(0.1)
        time.sleep(0.3)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    assert process.returncode == -signal.SIGKILL


def test_a_killed_editors_work_is_offered_when_its_file_opens_again(
    qtbot: Any, themed_app: Any, registry: Any, settings: Any, tmp_path: Path
) -> None:
    flow = write_flow(tmp_path / "flows", [{"id": "read", "type": "data.transform"}])
    saved = flow.read_bytes()
    _crash_after_an_edit(flow, tmp_path / "data")
    # What `flowdesk edit FLOW` does on start: open the file, then offer.
    win = make_window(qtbot, registry, settings, tmp_path / "data" / "recovery")
    try:
        assert win.files.open_path(flow, confirm=False)
        assert win.controller.document.node_ids() == ["read"]  # the saved version
        offered: list[list[str]] = []

        def accept(dialog: RecoveryDialog) -> bool:
            offered.append(dialog.row_texts())
            return True

        win.recovery.ask = accept
        offer_recovery(win)
        assert len(offered) == 1 and offered[0][0].startswith(flow.name)
        assert "flows" in offered[0][0] and "kept Today" in offered[0][0]
        assert win.controller.document.node_ids() == ["read", "transform"]  # the edit is back
        assert win.controller.path == flow.resolve() and win.controller.is_modified
        assert flow.read_bytes() == saved  # nothing written until saved
        assert Autosave.orphans(tmp_path / "data" / "recovery") == []  # not offered twice
    finally:
        close_window(win)


def test_flowdesk_edit_file_offers_the_work_of_a_killed_editor(tmp_path: Path) -> None:
    """The whole way round, as a user does it: ``flowdesk edit FILE``, an
    edit, ``kill -9``; ``flowdesk edit FILE`` again offers the work."""
    flow = write_flow(tmp_path / "flows", [{"id": "read", "type": "data.transform"}])
    _crash_after_an_edit(flow, tmp_path / "data")
    again = subprocess.run(
        [sys.executable, "-c", REOPEN_AND_RECOVER, str(flow)],
        env=_editor_env(tmp_path / "data"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = dict(line.split(" ", 1) for line in again.stdout.splitlines() if " " in line)
    assert lines.get("OFFERED", "").startswith(f"{flow.name} — "), again.stdout + again.stderr
    assert "kept Today" in lines["OFFERED"]
    assert lines["NODES"] == "read,transform True"  # the edit is back, not yet saved
    assert lines["TITLE"].startswith(f"{flow.name}")


def test_opening_a_file_later_offers_its_journal(
    qtbot: Any, themed_app: Any, registry: Any, settings: Any, tmp_path: Path
) -> None:
    flow = write_flow(tmp_path / "flows", [{"id": "read", "type": "data.transform"}])
    win = make_window(qtbot, registry, settings, tmp_path / "data" / "recovery")
    try:
        offer_recovery(win)  # the start: nothing to offer yet
        _crash_after_an_edit(flow, tmp_path / "data")
        offered: list[list[str]] = []
        win.recovery.ask = lambda dialog: bool(offered.append(dialog.row_texts())) or True
        open_flow(win, flow)  # File ▸ Open, Open Recent, a drop: the same path
        qtbot.waitUntil(lambda: len(win.controller.document.node_ids()) == 2, timeout=5_000)
        assert offered and offered[0][0].startswith(flow.name)
        assert win.controller.is_modified
    finally:
        close_window(win)


def test_the_recovery_dialog_shows_file_folder_and_time_unclipped(
    themed_app: Any, tmp_path: Path
) -> None:
    deep = tmp_path.joinpath(*[f"a-rather-long-folder-name-{i}" for i in range(6)])
    now = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
    recoveries = [
        Recovery("s1", tmp_path / "s1.flow.json", deep / "orders.flow.json", "Orders", now),
        Recovery("s2", tmp_path / "s2.flow.json", None, "Scratch", now),
    ]
    dialog = RecoveryDialog(recoveries, opened=deep / "orders.flow.json")
    dialog.show()
    themed_app.processEvents()
    try:
        assert not dialog.list.horizontalScrollBar().isVisible()
        texts = dialog.row_texts()
        assert texts[0].startswith("orders.flow.json — ") and "…" in texts[0]  # folder elided
        assert texts[0].split("kept ")[1].startswith("Today ")  # the whole time
        assert texts[1].startswith("Scratch — never saved")
        metrics = dialog.fontMetrics()
        for i, text in enumerate(texts):  # each line fits the row
            second = text.split(" — ", 1)[1]
            room = dialog.list.visualItemRect(dialog.list.item(i)).width() - 20
            assert metrics.horizontalAdvance(second) <= room, second
        assert dialog.list.sizeHintForRow(0) >= 2 * metrics.lineSpacing()  # two whole lines
        heading = dialog.findChild(QLabel, "recoveryHeading")
        assert "orders.flow.json has unsaved changes" in heading.text().replace("<b>", "")
    finally:
        dialog.close()


def _after_a_crash(
    qtbot: Any, registry: Any, settings: Any, tmp_path: Path
) -> tuple[MainWindow, Path, Path]:
    """A window started after a crash kept an unsaved edit of a one-node flow:
    the window, the flow and the recovery folder."""
    flow = write_flow(tmp_path / "flows", [{"id": "read", "type": "data.transform"}])
    _crash_after_an_edit(flow, tmp_path / "data")
    folder = tmp_path / "data" / "recovery"
    return make_window(qtbot, registry, settings, folder), flow, folder


def _clicking(answer: list[str], offered: list[list[str]]) -> Any:
    """A recovery offer answered by clicking the real button named
    ``answer[0]`` (Not now rejects, Recover accepts); each offer's rows are
    added to ``offered``."""
    from PySide6.QtWidgets import QPushButton

    def click(dialog: RecoveryDialog) -> bool:
        offered.append(dialog.row_texts())
        button = dialog.findChild(QPushButton, answer[0])
        assert button is not None
        button.click()
        return dialog.result() == RecoveryDialog.DialogCode.Accepted

    return click


def test_not_now_keeps_the_work_and_does_not_ask_again_until_the_menu(
    qtbot: Any, themed_app: Any, registry: Any, settings: Any, tmp_path: Path
) -> None:
    from PySide6.QtWidgets import QApplication

    win, flow, folder = _after_a_crash(qtbot, registry, settings, tmp_path)
    try:
        offered: list[list[str]] = []
        answer = ["laterButton"]
        win.recovery.ask = _clicking(answer, offered)
        assert win.files.open_path(flow, confirm=False)
        offer_recovery(win)  # the start: offered, put off
        assert len(offered) == 1 and offered[0][0].startswith(flow.name)
        assert win.controller.document.node_ids() == ["read"]  # the saved version stays
        said = win.statusBar().currentMessage()
        assert "Kept the unsaved work for later" in said
        assert "File ▸ Recover Unsaved Work…" in said
        # opening the file again (Open, Open Recent, a drop) does not nag
        win.files.new()
        open_flow(win, flow)
        for _ in range(3):  # (the offer is made once the open has painted)
            QApplication.processEvents()
        assert len(offered) == 1
        assert not win.controller.is_modified
        assert [r.original_path for r in Autosave.orphans(folder)] == [flow.resolve()]
        # the menu entry offers it again; recovered, the edit is back
        answer[0] = "recoverButton"
        menu_entry = win.ui_actions["recover"]
        assert menu_entry.text() == "Recover &Unsaved Work…"
        menu_entry.trigger()
        assert len(offered) == 2 and offered[1][0].startswith(flow.name)
        assert win.controller.document.node_ids() == ["read", "transform"]
        assert win.controller.is_modified and win.controller.path == flow.resolve()
        # nothing kept any more (this session's own journal is no orphan): the
        # menu says so
        assert Autosave.orphans(folder) == []
        menu_entry.trigger()
        assert len(offered) == 2
        assert "nothing to recover" in win.statusBar().currentMessage()
    finally:
        close_window(win)


def test_discard_from_the_menu_deletes_the_kept_work_and_says_so(
    qtbot: Any, themed_app: Any, registry: Any, settings: Any, tmp_path: Path
) -> None:
    win, flow, folder = _after_a_crash(qtbot, registry, settings, tmp_path)
    try:
        answer = ["laterButton"]
        win.recovery.ask = _clicking(answer, [])
        assert win.files.open_path(flow, confirm=False)
        offer_recovery(win)  # put off at the start
        assert len(Autosave.orphans(folder)) == 1
        answer[0] = "discardButton"
        win.ui_actions["recover"].trigger()
        # the user reads what happened (not "nothing was kept"), and it is gone
        assert win.statusBar().currentMessage() == "Discarded the unsaved work (1)."
        assert Autosave.orphans(folder) == []
        assert win.controller.document.node_ids() == ["read"]  # the saved version stays
        win.ui_actions["recover"].trigger()
        assert "nothing to recover" in win.statusBar().currentMessage()
    finally:
        close_window(win)
