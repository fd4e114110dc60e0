"""pytest-qt fixtures for editor tests: offscreen Qt (set before Qt is
imported), a themed application, isolated settings and recovery folders, a
main window, and helpers that drive the canvas with real mouse events."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flowdesk.editor.app import build_window
from flowdesk.editor.document.observer import Signal
from flowdesk.editor.main_window import MainWindow
from flowdesk.editor.settings import Settings
from flowdesk.editor.theme import DARK, apply_theme
from flowdesk.engine import HistoryStore, NodeRegistry
from PySide6.QtCore import QPoint, QPointF, QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from tests.helpers import ROOT as ROOT  # (for importers of the old name)
from tests.helpers import copy_example, example

QUICKSTART = example("quickstart")


@pytest.fixture(autouse=True)
def _strict_observers() -> Iterator[None]:
    Signal.strict = True
    yield
    Signal.strict = False


@pytest.fixture(scope="session")
def themed_app(qapp: QApplication) -> QApplication:
    apply_theme(qapp, DARK)
    return qapp


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


def _refuse_prompt(*_args: Any) -> Any:
    raise AssertionError("unexpected 'save changes?' prompt")


def make_window(qtbot: Any, registry: NodeRegistry, settings: Settings, folder: Path) -> MainWindow:
    window: MainWindow = build_window(
        registry, settings, recovery_folder=folder, autosave_ms=200, history=HistoryStore()
    )
    window.files.ask_save = _refuse_prompt
    window.resize(1200, 800)
    window.show()
    qtbot.waitExposed(window)
    return window


@pytest.fixture
def window(
    qtbot: Any, themed_app: QApplication, registry: NodeRegistry, settings: Settings, tmp_path: Path
) -> Iterator[MainWindow]:
    win = make_window(qtbot, registry, settings, tmp_path / "recovery")
    yield win
    close_window(win)


def close_window(win: MainWindow) -> None:
    """Close without the save prompt (tests leave documents modified)."""
    win.controller.mark_saved()
    win.close()
    win.deleteLater()


@pytest.fixture
def quickstart(window: MainWindow) -> MainWindow:
    assert window.files.open_path(QUICKSTART, confirm=False)
    window.view.fit_all()  # (it opens at its start; these tests want it centred)
    window.view.set_zoom(1.0)
    return window


def view_point(window: MainWindow, scene_pos: QPointF) -> QPoint:
    return window.view.mapFromScene(scene_pos)


def port_point(window: MainWindow, node_id: str, port: str, is_output: bool) -> QPoint:
    item = window.scene.nodes[node_id]
    return view_point(window, item.port_scene_pos(port, is_output))


def drag(
    window: MainWindow,
    start: QPoint,
    end: QPoint,
    steps: int = 6,
    modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
    button: Qt.MouseButton = Qt.MouseButton.LeftButton,
) -> None:
    """A real mouse drag on the canvas viewport: press, several moves, release."""
    viewport = window.view.viewport()
    QTest.mousePress(viewport, button, modifiers, start)
    for i in range(1, steps + 1):
        point = start + (end - start) * (i / steps)
        QTest.mouseMove(viewport, QPoint(round(point.x()), round(point.y())))
    QTest.mouseRelease(viewport, button, modifiers, end)


def click(
    window: MainWindow,
    point: QPoint,
    modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
) -> None:
    QTest.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, modifiers, point)


def stack_texts(window: MainWindow) -> list[str]:
    stack = window.controller.stack
    return [stack.text(i) for i in range(stack.count())]


# ------------------------------------------------------------------ runs
@pytest.fixture
def qloop(themed_app: QApplication) -> Iterator[Any]:
    """qasync's loop as the running loop while pytest-qt spins Qt's (the
    editor's runs need it); removed afterwards so that other tests can run
    their own loops."""
    from flowdesk.editor.run.qasync_compat import install_loop, uninstall_loop

    loop = install_loop(themed_app)
    yield loop
    uninstall_loop(loop)


@pytest.fixture
def history(tmp_path: Path) -> Any:
    from flowdesk.engine.history import HistoryStore

    store = HistoryStore(tmp_path / "history.sqlite3")
    yield store
    store.close()


@pytest.fixture
def run_window(
    qtbot: Any,
    qloop: Any,
    registry: NodeRegistry,
    settings: Settings,
    tmp_path: Path,
    history: Any,
) -> Iterator[MainWindow]:
    win: MainWindow = build_window(
        registry,
        settings,
        recovery_folder=tmp_path / "recovery",
        autosave_ms=60_000,
        history=history,
    )
    win.files.ask_save = _refuse_prompt
    win.resize(1200, 800)
    win.show()
    qtbot.waitExposed(win)
    yield win
    close_window(win)


@pytest.fixture
def quickstart_copy(tmp_path: Path) -> Path:
    """The quick-start example and its data in a folder of the test's own."""
    return copy_example("quickstart", tmp_path / "flows")


def write_flow(folder: Path, nodes: list[dict[str, Any]], edges: Any = (), **top: Any) -> Path:
    """A workflow file in ``folder``; an edge may be written ``("a", "b")`` or
    ``("a:true", "b")``."""
    import json

    def end(text: str, default: str) -> dict[str, str]:
        node, _, port = text.partition(":")
        return {"node": node, "port": port or default}

    for i, node in enumerate(nodes):
        node.setdefault("position", [i * 260, 0])
    doc = {
        "format": "flowdesk/workflow",
        "version": 1,
        "name": top.pop("name", "test flow"),
        **top,
        "nodes": nodes,
        "edges": [{"from": end(a, "out"), "to": end(b, "in")} for a, b in edges],
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "test.flow.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def open_flow(win: MainWindow, path: Path) -> None:
    assert win.files.open_path(path, confirm=False)


def run_and_wait(qtbot: Any, win: MainWindow, action: str = "run", timeout: int = 20_000) -> Any:
    """Trigger a Run action and wait for the run's result."""
    with qtbot.waitSignal(win.bridge.run_finished, timeout=timeout) as blocker:
        win.ui_actions[action].trigger()
    return blocker.args[0]
