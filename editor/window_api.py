"""``Window``: what the window's parts (the canvas menu, the credentials bar,
the problems menu, the sources panel, the File menu, the recovery offer) use of
``MainWindow``. They are built by ``main_window`` and annotate the window with
this protocol instead of importing ``main_window`` back (no import cycle).
May import: PySide6, editor.* except main_window and its parts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from flowdesk.editor.actions import Actions
    from flowdesk.editor.autosave import Autosave
    from flowdesk.editor.canvas.editing import CanvasEditor
    from flowdesk.editor.canvas.interactions import Interactions
    from flowdesk.editor.canvas.quick_add import QuickAdd
    from flowdesk.editor.canvas.scene import CanvasScene
    from flowdesk.editor.canvas.view import CanvasView
    from flowdesk.editor.files import FileController
    from flowdesk.editor.inspector.panel import Inspector
    from flowdesk.editor.palette import Palette
    from flowdesk.editor.run.engine_bridge import EngineBridge
    from flowdesk.editor.run.workspace import RunWorkspace
    from flowdesk.editor.settings import Settings
    from flowdesk.editor.undo import DocumentController
    from flowdesk.engine import NodeRegistry
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QDockWidget, QMenuBar, QStatusBar, QWidget


class Window(Protocol):
    """The ``MainWindow`` (a ``QMainWindow``) as its parts see it."""

    registry: NodeRegistry
    settings: Settings
    controller: DocumentController
    scene: CanvasScene
    view: CanvasView
    editor: CanvasEditor
    interactions: Interactions
    quick_add: QuickAdd
    files: FileController
    autosave: Autosave
    node_palette: Palette
    palette_dock: QDockWidget
    inspector: Inspector
    inspector_dock: QDockWidget
    ui_actions: Actions
    bridge: EngineBridge
    run: RunWorkspace
    #: the credentials bar (``editor.credentials_ui.CredentialsUi``, a part)
    credentials: Any

    def show_message(self, text: str) -> None: ...

    def statusBar(self) -> QStatusBar: ...  # noqa: N802 - Qt's name

    def menuBar(self) -> QMenuBar: ...  # noqa: N802 - Qt's name

    def resizeDocks(self, docks: Any, sizes: Any, orientation: Any) -> None: ...  # noqa: N802

    def _dock(
        self, name: str, title: str, widget: QWidget, area: Qt.DockWidgetArea
    ) -> QDockWidget: ...
