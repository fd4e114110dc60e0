"""``MainWindow``: assembles the canvas, palette and inspector docks, menus,
toolbar and status bar, and wires them to the controllers. It holds no
editing logic of its own: edits live in ``editor.canvas.editing``, gestures
in ``editor.canvas.interactions``, files in ``editor.files``.
May import: PySide6, engine (public API), editor.*.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flowdesk.editor.actions import Actions
from flowdesk.editor.autosave import Autosave, default_folder
from flowdesk.editor.canvas.editing import CanvasEditor
from flowdesk.editor.canvas.interactions import Interactions
from flowdesk.editor.canvas.quick_add import QuickAdd
from flowdesk.editor.canvas.scene import CanvasScene
from flowdesk.editor.canvas.view import CanvasView
from flowdesk.editor.context_menu import canvas_menu
from flowdesk.editor.credentials_ui import CredentialsUi
from flowdesk.editor.document import Document
from flowdesk.editor.document.commands import EditNote
from flowdesk.editor.files import FileController
from flowdesk.editor.files import read as read_flow
from flowdesk.editor.inspector.panel import Inspector
from flowdesk.editor.palette import Palette
from flowdesk.editor.problems_ui import ProblemsUi
from flowdesk.editor.run.engine_bridge import EngineBridge
from flowdesk.editor.run.workspace import RunWorkspace
from flowdesk.editor.settings import Settings
from flowdesk.editor.text import counts_text
from flowdesk.editor.theme import (
    app_icon,
    apply_theme,
    current_theme,
    refresh_icons,
    resolve_theme,
)
from flowdesk.editor.undo import DocumentController
from flowdesk.editor.validation import LiveValidator, problems_by_node
from flowdesk.engine import Engine, HistoryStore, NodeRegistry
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

log = logging.getLogger(__name__)

SHORTCUTS_HTML = """<table cellspacing=6>
<tr><td><b>Tab</b>, double-click, <b>Shift+A</b></td><td>Add a node at the cursor</td></tr>
<tr><td>Drag from a port</td><td>Connect (drop on empty canvas to add and connect)</td></tr>
<tr><td>Drag an input's edge away</td><td>Disconnect or reconnect it</td></tr>
<tr><td>Click, Shift/Ctrl+click, drag on empty canvas</td><td>Select</td></tr>
<tr><td><b>Del</b> / <b>Backspace</b></td><td>Delete</td></tr>
<tr><td><b>Ctrl+C / X / V / D</b></td><td>Copy, cut, paste (JSON), duplicate</td></tr>
<tr><td>Arrow keys (Shift: 1 px)</td><td>Nudge the selection</td></tr>
<tr><td>Wheel, <b>Ctrl+= / Ctrl+-</b>, <b>Ctrl+0</b></td><td>Zoom</td></tr>
<tr><td>Middle-drag, <b>Space</b>+drag</td><td>Pan</td></tr>
<tr><td><b>F</b></td><td>Fit the selection or everything</td></tr>
<tr><td><b>Ctrl+Shift+L</b></td><td>Auto-layout</td></tr>
<tr><td><b>Ctrl+Z</b>, <b>Ctrl+Shift+Z</b> / <b>Ctrl+Y</b></td><td>Undo, redo</td></tr>
<tr><td><b>Ctrl+R</b> / <b>F5</b>, <b>Shift+F5</b></td><td>Run, stop</td></tr>
<tr><td><b>F6</b>, <b>Shift+F6</b></td><td>Run the selected node; run up to it</td></tr>
<tr><td><b>P</b>, <b>Ctrl+F</b> (output)</td><td>Pin the output; search in it</td></tr>
</table>"""


class MainWindow(QMainWindow):
    def __init__(
        self,
        registry: NodeRegistry,
        settings: Settings | None = None,
        recovery_folder: Path | None = None,
        autosave_ms: int | None = None,
        *,
        engine: Engine,
        history: HistoryStore,
        secret_store: Any = None,
        flow: Path | None = None,
    ) -> None:
        """The window of ``registry``'s node types; runs go to ``engine`` and
        are kept in ``history`` (both built by the composition root,
        ``editor.app``, or by a test). ``flow``: a file to open, the window
        built around its document (not around an empty one first);
        ``opened_at_start`` says whether it opened (if not, its problems show)."""
        super().__init__()
        self.setObjectName("mainWindow")
        self.setAccessibleName("Flowdesk")
        self.setWindowIcon(app_icon())
        self.registry = registry
        self.settings = settings or Settings()
        self.controller = DocumentController(registry, self)
        loaded = read_flow(flow, registry) if flow is not None else None
        if flow is not None and isinstance(loaded, Document):  # (before any observer)
            self.controller.set_document(loaded, flow.resolve())
        self.scene = CanvasScene(current_theme(), self)
        self.view = CanvasView(self.scene, self)
        central = QWidget(self)
        central.setObjectName("canvasArea")
        self.central_layout = QVBoxLayout(central)
        self.central_layout.setContentsMargins(0, 0, 0, 0)
        self.central_layout.setSpacing(0)
        self.central_layout.addWidget(self.view)
        self.setCentralWidget(central)
        self.editor = CanvasEditor(self.controller, self.scene, self.view)
        self.editor.snap_enabled = self.settings.snap
        self.interactions = Interactions(self.view, self.editor)
        self._quick_add: QuickAdd | None = None  # (the Tab popup: built when first opened)
        self.files = FileController(self, self.controller, self.settings, self._store_viewport)
        self.validator = LiveValidator(self.controller, expressions=engine.expressions)
        self.autosave = Autosave(
            self.controller,
            recovery_folder or default_folder(),
            **({"interval_ms": autosave_ms} if autosave_ms else {}),
        )
        self.node_palette = Palette(registry)
        self.inspector = Inspector(self.controller)
        self.palette_dock = self._dock(
            "paletteDock", "Nodes", self.node_palette, Qt.DockWidgetArea.LeftDockWidgetArea
        )
        self.inspector_dock = self._dock(
            "inspectorDock", "Inspector", self.inspector, Qt.DockWidgetArea.RightDockWidgetArea
        )
        self.resizeDocks(
            [self.palette_dock, self.inspector_dock], [212, 310], Qt.Orientation.Horizontal
        )
        # Side panels run full height; the run docks sit under the canvas only.
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.ui_actions = Actions(self, self.controller.stack)
        self.bridge = EngineBridge(engine, history, self)
        self.bridge.known_issues = self.validator.current_issues
        self.run = RunWorkspace(
            self, self.controller, self.scene, self.bridge, self.ui_actions, self._dock
        )
        self.central_layout.insertWidget(0, self.run.banner)
        self.credentials = CredentialsUi(self, secret_store)
        self.central_layout.insertWidget(1, self.credentials.bar)
        self.run.overlay.visible = self.view.visible_rect
        self.view.viewport_changed.connect(self.run.overlay.catch_up)
        from flowdesk.editor.sources.panel import install as install_sources

        self.sources = install_sources(self, secret_store)
        from flowdesk.editor.planner.panel import install as install_describe

        self.describe = install_describe(self, secret_store)  # Ctrl+K (issue 18)
        self.inspector.assist.runs = self.run.runs
        self.run.runs.shown_changed.connect(lambda _s: self.inspector.assist.refresh())
        self.bridge.run_finished.connect(lambda _r: self.inspector.assist.refresh())
        self.ui_actions.build_menus(
            [
                self.palette_dock.toggleViewAction(),
                self.sources.dock.toggleViewAction(),
                self.inspector_dock.toggleViewAction(),
            ]
            + [dock.toggleViewAction() for dock in self.run.docks]
        )
        self.sources.add_menu_entries()
        from flowdesk.editor.canvas.arrange import Arranger
        from flowdesk.editor.file_menu import FileMenu
        from flowdesk.editor.recovery import RecoveryOffer

        self.file_menu = FileMenu(self)  # Close, Examples, Documentation, Open Recent
        self.arranger = Arranger(self.editor, self.ui_actions)  # Arrange ▸ Align, Distribute
        self.recovery = RecoveryOffer(self)  # journaled work of a file, when it opens
        self.toolbar = self.ui_actions.build_toolbar()
        self.ui_actions.attach_canvas(self.view)
        self._build_status_bar()
        self._wire()
        self.setAcceptDrops(True)
        self.resize(1440, 900)
        self._show_document(self.controller.document)
        self._update_title()
        self.opened_at_start = True
        if flow is not None and loaded is not None:
            self.opened_at_start = self.files.open_at_start(flow, loaded)

    @property
    def quick_add(self) -> QuickAdd:
        """The quick-add popup (Tab, double-click, a wire dropped on the canvas)."""
        if self._quick_add is None:
            popup = self._quick_add = QuickAdd(self.registry, self)
            popup.chosen.connect(lambda t, pos, pending: self.editor.add_node(t, pos, pending))
            popup.closed.connect(self.interactions.drop_dangling)
        return self._quick_add

    # -------------------------------------------------------------- building
    def _dock(self, name: str, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setAccessibleName(title)
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        self.addDockWidget(area, dock)
        return dock

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        bar.setObjectName("statusBar")
        bar.setAccessibleName("Status bar")
        bar.setSizeGripEnabled(False)
        self.problems = ProblemsUi(self)
        self.problems_label = self.problems.button  # "⚠ 2 problems": click for the list
        self.count_label = QLabel()
        self.count_label.setObjectName("countLabel")
        self.count_label.setAccessibleName("Node and edge count")
        self.zoom_label = QLabel("100 %")
        self.zoom_label.setObjectName("zoomLabel")
        self.zoom_label.setAccessibleName("Zoom")
        for label in (self.problems_label, self.count_label, self.zoom_label):
            bar.addPermanentWidget(label)

    def _wire(self) -> None:
        a, c, ed = self.ui_actions, self.controller, self.editor
        a.connect_slots(
            {
                "new": self.files.new,
                "open": self.files.open_dialog,
                "save": self.files.save,
                "save_as": self.files.save_as,
                "quit": self.close,
                "cut": ed.cut_selection,
                "copy": ed.copy_selection,
                "paste": self._paste,
                "duplicate": ed.duplicate_selection,
                "delete": ed.delete_selection,
                "select_all": ed.select_all,
                "add_node": self._quick_add_at_cursor,
                "add_note": lambda: ed.add_note(self._cursor_scene_pos()),
                "auto_layout": lambda: ed.auto_layout(),
                "fit": self.view.fit_selection,
                "zoom_in": self.view.zoom_in,
                "zoom_out": self.view.zoom_out,
                "zoom_reset": lambda: self.view.set_zoom(1.0),
                "credentials": lambda: self.credentials.open_dialog(),
                "shortcuts": self._show_shortcuts,
                "about": self._about,
            }
        )
        a["snap"].setChecked(self.settings.snap)
        a["snap"].toggled.connect(self._set_snap)
        a["minimap"].setChecked(self.settings.minimap)
        a["minimap"].toggled.connect(self._set_minimap)
        self.view.minimap.set_visible(self.settings.minimap)
        a[f"theme_{self.settings.theme}"].setChecked(True)
        for choice in ("system", "dark", "light"):
            a[f"theme_{choice}"].triggered.connect(lambda _c=False, t=choice: self.set_theme(t))
        app = QApplication.instance()
        if isinstance(app, QApplication):  # follow the OS when it switches light/dark
            app.styleHints().colorSchemeChanged.connect(self._os_scheme_changed)
        c.document_replaced.connect(self._show_document)
        c.modified_changed.connect(lambda _m: self._update_title())
        c.path_changed.connect(lambda _p: self._update_title())
        c.edited.connect(self._update_counts)
        c.edited.connect(self.credentials.refresh_badges)
        self.files.status_message.connect(self.show_message)
        self.files.recent_changed.connect(self.file_menu.fill_recent)
        self.files.opened.connect(self._after_open)
        self.interactions.status_message.connect(self.show_message)
        self.interactions.quick_add_requested.connect(
            lambda at, pos, pending: self.quick_add.open_at(at, pos, pending)
        )
        self.interactions.node_activated.connect(lambda _n: self.inspector_dock.raise_())
        self.interactions.context_menu_requested.connect(self._context_menu)
        self.node_palette.activated.connect(lambda t: ed.add_node(t, self.view.center_scene()))
        self.scene.selectionChanged.connect(self._selection_changed)
        self.scene.note_text_edited.connect(self._note_edited)
        self.validator.problems_changed.connect(self._problems_changed)
        self.run.runs.problems_shown.connect(self.problems.jump_to_issues)
        self.run.output.field_requested.connect(self.problems.jump)
        self.view.zoom_changed.connect(lambda z: self.zoom_label.setText(f"{round(z * 100)} %"))
        self.file_menu.fill_recent()

    # ------------------------------------------------------------- document
    def _show_document(self, document: Document) -> None:
        self.scene.set_document(document)
        self.run.overlay.refresh()
        self.inspector.base_dir = str(self.run.runs.data_root())
        # (the inspector shows the new document's workflow page by itself)
        self._update_counts()
        self.credentials.document_shown()

    def _after_open(self) -> None:
        """Restore the saved viewport, or fit everything; check the secrets of
        the declared credentials (the answer arrives later)."""
        self.credentials.check_on_open()
        self.inspector.base_dir = str(self.run.runs.data_root())
        if self.isVisible():  # (else the window shows it once it has its size)
            self.show_start_view()

    def show_start_view(self) -> None:
        """The saved viewport, or everything fitted at a readable zoom (again
        after the window got its size)."""
        restored = self.view.restore_viewport(self.controller.document.workflow.ui.get("viewport"))
        if not restored:
            self.view.open_view()
        self.view.user_moved = False

    def _store_viewport(self) -> None:
        """Write ``ui.viewport`` on save — only when the user moved the view or
        the file already had one, so that open → save leaves a file unchanged."""
        doc = self.controller.document
        if self.view.user_moved or "viewport" in doc.workflow.ui:
            doc.set_ui_value("viewport", self.view.viewport_state())

    def _note_edited(self, note_id: str, text: str) -> None:
        self.controller.push(EditNote(note_id, {"text": text}))

    def _selection_changed(self) -> None:
        self.controller.break_merge()
        self.inspector.show_nodes(self.scene.selected_node_ids())
        self.run.selection_changed()

    def _problems_changed(self, issues: list) -> None:  # type: ignore[type-arg]
        self.scene.set_problems(problems_by_node(issues, self.controller.document))
        self.inspector.set_issues(issues)
        self.problems.set_issues(issues)
        self.run.set_problems(len(issues))

    def _update_counts(self) -> None:
        wf = self.controller.document.workflow
        self.count_label.setText(counts_text(len(wf.nodes), len(wf.edges)))

    def _update_title(self) -> None:
        # Qt shows "[*]" as "*" while modified (and the macOS close-button dot).
        self.setWindowTitle(f"{self.controller.title_name}[*] — Flowdesk")
        self.setWindowModified(self.controller.is_modified)

    # --------------------------------------------------------------- helpers
    def show_message(self, text: str) -> None:
        if text:
            self.statusBar().showMessage(text, 6000)
        else:
            self.statusBar().clearMessage()

    def _cursor_scene_pos(self) -> QPointF | None:
        local = self.view.viewport().mapFromGlobal(self.view.cursor().pos())
        if self.view.viewport().rect().contains(local):
            return self.view.mapToScene(local)
        return None

    def _paste(self) -> None:
        self.editor.paste(self._cursor_scene_pos())

    def _quick_add_at_cursor(self) -> None:
        pos = self._cursor_scene_pos() or self.view.center_scene()
        global_pos = self.view.viewport().mapToGlobal(self.view.mapFromScene(pos))
        self.quick_add.open_at(QPoint(global_pos), pos, None)

    def _context_menu(self, global_pos: QPoint, scene_pos: QPointF, node_id: str) -> None:
        canvas_menu(self, global_pos, scene_pos, node_id).popup(global_pos)

    def _set_snap(self, on: bool) -> None:
        self.editor.snap_enabled = on
        self.settings.snap = on

    def _set_minimap(self, on: bool) -> None:
        self.view.minimap.set_visible(on)
        self.settings.minimap = on

    def set_theme(self, choice: str) -> None:
        self.settings.theme = choice
        theme = resolve_theme(choice)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, theme)
        self.scene.set_theme(theme)
        self.view.resetCachedContent()
        refresh_icons(self)
        self.inspector.show_nodes(self.scene.selected_node_ids())

    def _os_scheme_changed(self, _scheme: object) -> None:
        if self.settings.theme == "system":
            self.set_theme("system")

    def _show_shortcuts(self) -> None:
        QMessageBox.information(self, "Keyboard shortcuts", SHORTCUTS_HTML)

    def _about(self) -> None:
        QMessageBox.about(
            self, "About Flowdesk", "<b>Flowdesk</b><br>A desktop visual flow editor."
        )

    # ---------------------------------------------------------------- events
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if not self.files.confirm_discard():
            event.ignore()
            return
        self.autosave.close()
        self.bridge.close()
        self.sources.close_sessions()  # no MCP server outlives its window
        self.settings.save_window_state(self.saveGeometry(), self.saveState())
        event.accept()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        if any(
            u.isLocalFile() and u.toLocalFile().endswith(".json") for u in event.mimeData().urls()
        ):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        for url in event.mimeData().urls():
            if url.isLocalFile() and url.toLocalFile().endswith(".json"):
                event.acceptProposedAction()
                self.files.open_path(Path(url.toLocalFile()))
                return
