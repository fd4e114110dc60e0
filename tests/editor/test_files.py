"""Files and safety: save and reopen give the same model, the ui section
round-trips, a corrupt file lists its problems and changes nothing, unknown
node types open as placeholders and save back unchanged, the title shows the
modified star, closing asks first, recent files, autosave and recovery."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from flowdesk.editor.autosave import Autosave
from flowdesk.editor.document.commands import MoveNodes
from flowdesk.editor.main_window import MainWindow
from flowdesk.engine import load_workflow
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QMessageBox

from .conftest import QUICKSTART, close_window, make_window


def test_save_and_reopen_gives_the_same_model(
    quickstart: MainWindow, tmp_path: Path, qtbot: Any
) -> None:
    win = quickstart
    win.editor.add_node("flow.if", QPointF(200, 300))
    win.editor.add_note(QPointF(0, 400))
    win.view.user_moved = True
    target = tmp_path / "out.flow.json"
    win.files.choose_save_path = lambda: target
    assert win.files.save_as()
    assert not win.controller.is_modified
    assert win.windowTitle() == "out.flow.json[*] — Flowdesk"
    saved = win.controller.document.to_json()
    assert "viewport" in saved["ui"] and saved["ui"]["notes"]
    assert load_workflow(target, win.registry).to_json_dict() == saved
    other = make_window(qtbot, win.registry, win.settings, tmp_path / "rec2")
    assert other.files.open_path(target, confirm=False)
    assert other.controller.document.to_json() == saved
    assert set(other.scene.nodes) == set(win.scene.nodes)
    assert abs(other.view.zoom - win.view.zoom) < 0.01  # the viewport came back
    assert win.settings.recent_files()[0] == target.resolve()
    close_window(other)


def test_open_then_save_leaves_the_file_unchanged(window: MainWindow, tmp_path: Path) -> None:
    text = QUICKSTART.read_text()
    copy = tmp_path / "copy.flow.json"
    copy.write_text(text)
    assert window.files.open_path(copy, confirm=False)
    assert window.files.save()
    assert json.loads(copy.read_text()) == json.loads(text)


def test_placeholder_nodes_open_and_save_back_unchanged(window: MainWindow, tmp_path: Path) -> None:
    data = json.loads(QUICKSTART.read_text())
    data["nodes"].append(
        {
            "id": "magic",
            "type": "acme.magic",
            "type_version": 2,
            "position": [0, 300],
            "config": {"spell": ["a", {"b": None}]},
            "on_error": "continue",
        }
    )
    data["edges"].append(
        {"from": {"node": "magic", "port": "result"}, "to": {"node": "merge", "port": "in"}}
    )
    data["ui"] = {"groups": [{"keep": "me"}]}
    path = tmp_path / "plugin.flow.json"
    path.write_text(json.dumps(data, indent=2) + "\n")
    assert window.files.open_path(path, confirm=False)
    item = window.scene.nodes["magic"]
    assert item.visual.placeholder and "acme.magic" in item.visual.subtitle
    window.scene.select(["magic"])
    assert window.inspector.node_id == "magic" and "config" not in window.inspector.editors
    window.controller.push(MoveNodes({"read_orders": ((0, 0), (20, 20))}))
    window.controller.stack.undo()
    assert window.files.save()
    assert json.loads(path.read_text()) == data


def test_corrupt_file_lists_every_problem(quickstart: MainWindow, tmp_path: Path) -> None:
    win = quickstart
    bad = tmp_path / "bad.flow.json"
    bad.write_text(
        json.dumps(
            {
                "format": "flowdesk/workflow",
                "version": 1,
                "name": "",
                "nodes": [{"id": "9x", "type": "a"}, {"type": "b"}],
                "edges": [],
                "oops": 1,
            }
        )
    )
    before = win.controller.document.to_json()
    assert not win.files.open_path(bad)
    dialog = win.files.problems_dialog
    assert dialog is not None and dialog.isVisible()
    text = dialog.text()
    assert "name" in text and "nodes[0].id" in text and "nodes[1].id" in text and "oops" in text
    assert dialog.table.topLevelItemCount() == len(dialog.issues) >= 4
    assert win.controller.document.to_json() == before
    dialog.close()
    (tmp_path / "garbage.flow.json").write_text("{not json")
    assert not win.files.open_path(tmp_path / "garbage.flow.json")
    assert "not valid JSON" in win.files.problems_dialog.text()  # type: ignore[union-attr]
    win.files.problems_dialog.close()  # type: ignore[union-attr]
    dup = json.loads(QUICKSTART.read_text())
    dup["nodes"].append(dup["nodes"][0])
    (tmp_path / "dup.flow.json").write_text(json.dumps(dup))
    assert not win.files.open_path(tmp_path / "dup.flow.json")
    assert "duplicate id" in win.files.problems_dialog.text()  # type: ignore[union-attr]
    win.files.problems_dialog.close()  # type: ignore[union-attr]


def test_modified_star_and_confirm_before_replacing(quickstart: MainWindow) -> None:
    win = quickstart
    win.editor.add_node("flow.if", QPointF(0, 300))
    assert win.isWindowModified()
    answers: list[str] = []

    def cancel(*_: Any) -> QMessageBox.StandardButton:
        answers.append("asked")
        return QMessageBox.StandardButton.Cancel

    win.files.ask_save = cancel
    win.files.new()
    assert win.controller.document.has_node("if")  # kept
    assert not win.close()  # closing asks too, and Cancel keeps the window
    assert answers == ["asked", "asked"]
    win.files.ask_save = lambda *_: QMessageBox.StandardButton.Discard
    win.files.new()
    assert win.controller.document.node_ids() == []
    assert not win.isWindowModified()


def test_autosave_and_recovery_after_a_crash(
    quickstart: MainWindow, qtbot: Any, tmp_path: Path
) -> None:
    win = quickstart
    folder = win.autosave.folder
    win.editor.add_node("flow.merge", QPointF(0, 300))
    qtbot.waitUntil(lambda: win.autosave.journal_path.exists(), timeout=3000)
    expected = win.controller.document.to_json()
    # Simulate a crash: the session's process is gone (a pid that cannot exist).
    (folder / f"{win.autosave.session}.lock").write_text(str(2**22 + 12345))
    orphans = Autosave.orphans(folder)
    assert len(orphans) == 1
    recovery = orphans[0]
    assert recovery.original_path == QUICKSTART.resolve() and recovery.name == expected["name"]
    other = make_window(qtbot, win.registry, win.settings, folder)
    other.files.open_workflow(
        load_workflow(recovery.flow_path, other.registry), recovery.original_path, modified=True
    )
    assert other.controller.document.to_json() == expected
    assert other.isWindowModified() and other.controller.path == QUICKSTART.resolve()
    Autosave.discard(folder, recovery)
    assert not Autosave.orphans(folder)
    close_window(other)


def test_saving_removes_the_journal(quickstart: MainWindow, tmp_path: Path, qtbot: Any) -> None:
    win = quickstart
    win.editor.add_node("flow.merge", QPointF(0, 300))
    win.autosave.write_journal()
    assert win.autosave.journal_path.exists()
    win.files.choose_save_path = lambda: tmp_path / "saved"
    assert win.files.save_as()
    assert (tmp_path / "saved.flow.json").exists()
    assert not win.autosave.journal_path.exists()
    win.close()
    assert not list(win.autosave.folder.glob("*"))


def test_live_session_journals_are_not_offered(quickstart: MainWindow) -> None:
    win = quickstart
    win.editor.add_node("flow.merge", QPointF(0, 300))
    win.autosave.write_journal()
    assert (win.autosave.folder / f"{win.autosave.session}.lock").read_text() == str(os.getpid())
    assert Autosave.orphans(win.autosave.folder) == []
