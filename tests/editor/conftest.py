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
from PySide6.QtCore import QPoint, QPointF, QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from editor.document.observer import Signal
from editor.main_window import MainWindow
from editor.settings import Settings
from editor.theme import DARK, apply_theme
from engine import NodeRegistry

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "resources" / "examples" / "quickstart.flow.json"


@pytest.fixture(autouse=True)
def _strict_observers() -> Iterator[None]:
    Signal.strict = True
    yield
    Signal.strict = False


@pytest.fixture(scope="session")
def themed_app(qapp: QApplication) -> QApplication:
    apply_theme(qapp, DARK)
    return qapp


@pytest.fixture(scope="session")
def registry() -> NodeRegistry:
    return NodeRegistry.default(plugins=False)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


def _refuse_prompt(*_args: Any) -> Any:
    raise AssertionError("unexpected 'save changes?' prompt")


def make_window(qtbot: Any, registry: NodeRegistry, settings: Settings, folder: Path) -> MainWindow:
    window = MainWindow(registry, settings, recovery_folder=folder, autosave_ms=200)
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
