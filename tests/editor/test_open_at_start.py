"""``flowdesk edit FILE``: the window is built around FILE's document (its
scene and inspector built once, not first for an empty document) and shows
what opening FILE in a running window shows — title, nodes, recent files,
run history caption, sources, status message; a corrupt FILE lists its
problems over an empty untitled document and is left as it was."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flowdesk.editor.app import build_window
from flowdesk.editor.canvas.scene import CanvasScene
from flowdesk.editor.inspector.panel import Inspector
from flowdesk.editor.main_window import MainWindow
from flowdesk.editor.settings import Settings
from flowdesk.engine import HistoryStore, NodeRegistry
from PySide6.QtCore import QSettings

from .conftest import close_window, make_window


def settings_in(folder: Path) -> Settings:
    return Settings(QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat))


def what_the_user_sees(win: MainWindow) -> dict[str, Any]:
    items = win.sources.panel.list
    return {
        "title": win.windowTitle(),
        "modified": win.controller.is_modified,
        "nodes": sorted(win.scene.nodes),
        "counts": win.count_label.text(),
        "document": win.controller.document.to_json(),
        "path": win.controller.path,
        "recent": win.settings.recent_files(),
        "status": win.statusBar().currentMessage(),
        "history": win.run.history.caption.text(),
        "data root": win.run.variables.root_label.text(),
        "sources": [items.item(i).text() for i in range(items.count())],
    }


@pytest.fixture
def rebuilds(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:
    """The documents the scene and the inspector were built for, in order."""
    built: dict[str, list[Any]] = {"scene": [], "inspector": []}
    set_document, attach = CanvasScene.set_document, Inspector._attach

    def scene_built(scene: CanvasScene, document: Any) -> None:
        built["scene"].append(document)
        set_document(scene, document)

    def inspector_built(inspector: Inspector, document: Any) -> None:
        built["inspector"].append(document)
        attach(inspector, document)

    monkeypatch.setattr(CanvasScene, "set_document", scene_built)
    monkeypatch.setattr(Inspector, "_attach", inspector_built)
    return built


def test_the_file_given_at_start_is_built_once(
    qtbot: Any,
    themed_app: Any,
    registry: NodeRegistry,
    quickstart_copy: Path,
    tmp_path: Path,
    rebuilds: dict[str, list[Any]],
) -> None:
    win = build_window(
        registry,
        settings_in(tmp_path),
        recovery_folder=tmp_path / "recovery",
        history=HistoryStore(),
        flow=quickstart_copy,
    )
    try:
        assert win.opened_at_start
        document = win.controller.document
        assert rebuilds == {"scene": [document], "inspector": [document]}
        assert document.workflow.nodes and sorted(win.scene.nodes) == sorted(
            n.id for n in document.workflow.nodes
        )
        seen = what_the_user_sees(win)
        assert seen["title"] == f"{quickstart_copy.name}[*] — Flowdesk"
        assert seen["recent"][0] == quickstart_copy.resolve()
        assert seen["status"] == f"Opened {quickstart_copy.name}"
        assert seen["history"] == f"Runs of {quickstart_copy.name}"
        # the same as opening the file in a window built empty
        other = make_window(qtbot, registry, settings_in(tmp_path / "other"), tmp_path / "rec2")
        assert other.files.open_path(quickstart_copy, confirm=False)
        assert what_the_user_sees(other) == seen
        close_window(other)
    finally:
        close_window(win)


def test_a_corrupt_file_at_start_lists_its_problems_over_an_empty_document(
    qtbot: Any, themed_app: Any, registry: NodeRegistry, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.flow.json"
    text = json.dumps({"format": "flowdesk/workflow", "version": 1, "nodes": [{"type": "b"}]})
    bad.write_text(text)
    settings = settings_in(tmp_path)
    win = build_window(
        registry, settings, recovery_folder=tmp_path / "recovery", history=HistoryStore(), flow=bad
    )
    try:
        assert not win.opened_at_start
        dialog = win.files.problems_dialog
        assert dialog is not None and dialog.isVisible()
        assert "nodes[0].id" in dialog.text()
        dialog.close()
        assert bad.read_text() == text  # nothing lost
        # what a window opened without a file shows
        empty = make_window(qtbot, registry, settings_in(tmp_path / "other"), tmp_path / "rec2")
        assert what_the_user_sees(win) == what_the_user_sees(empty)
        assert win.controller.path is None and not win.controller.document.workflow.nodes
        close_window(empty)
    finally:
        close_window(win)
