"""``RunWorkspace``: the run side of the main window, assembled in one place —
the Output, Log, History and Variables docks, the canvas overlay, the run
progress in the status bar, the banner shown over the canvas while a stored
run is displayed, and the Run menu's actions wired to the ``RunController``.
The window only creates it (keeping ``main_window.py`` small).
May import: PySide6, editor.*, engine (public API).
"""

from __future__ import annotations

import time
from typing import Any

from flowdesk.editor.actions import Actions
from flowdesk.editor.canvas.run_overlay import RunOverlay
from flowdesk.editor.canvas.scene import CanvasScene
from flowdesk.editor.outputs.panel import OutputPanel
from flowdesk.editor.problems import error_place
from flowdesk.editor.run.controller import RunController
from flowdesk.editor.run.engine_bridge import EngineBridge
from flowdesk.editor.run.history_panel import HistoryPanel
from flowdesk.editor.run.log_panel import LogPanel
from flowdesk.editor.run.run_state import RunChange, RunState, format_ms
from flowdesk.editor.run.variables_panel import VariablesPanel
from flowdesk.editor.text import plural
from flowdesk.editor.theme import set_style_state
from flowdesk.editor.undo import DocumentController
from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import (
    QDockWidget,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QProgressBar,
    QPushButton,
)

RUN_ACTIONS = ("run", "run_node", "run_up_to")
MARKS = {"succeeded": "✓", "failed": "✗", "cancelled": "⊘"}


class RunWorkspace(QObject):
    """See the module docstring. ``runs`` is the controller; ``bridge`` the engine side."""

    def __init__(
        self,
        window: QMainWindow,
        controller: DocumentController,
        scene: CanvasScene,
        bridge: EngineBridge,
        actions: Actions,
        dock: Any,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.controller = controller
        self.scene = scene
        self.bridge = bridge
        self.actions = actions
        self.runs = RunController(window, controller, bridge)
        self.overlay = RunOverlay(scene, self)
        self.output = OutputPanel(controller)
        self.log = LogPanel()
        self.history = HistoryPanel()
        self.variables = VariablesPanel()
        bottom = Qt.DockWidgetArea.BottomDockWidgetArea
        self.output_dock: QDockWidget = dock("outputDock", "Output", self.output, bottom)
        self.log_dock: QDockWidget = dock("logDock", "Log", self.log, bottom)
        self.history_dock: QDockWidget = dock("historyDock", "Run History", self.history, bottom)
        self.variables_dock: QDockWidget = dock(
            "variablesDock", "Variables", self.variables, bottom
        )
        window.splitDockWidget(self.output_dock, self.log_dock, Qt.Orientation.Horizontal)
        window.tabifyDockWidget(self.log_dock, self.history_dock)
        window.tabifyDockWidget(self.history_dock, self.variables_dock)
        self.log_dock.raise_()
        window.resizeDocks([self.output_dock, self.log_dock], [640, 300], Qt.Orientation.Horizontal)
        window.resizeDocks([self.output_dock], [300], Qt.Orientation.Vertical)
        #: problems the live validator found (a run would be refused)
        self.problem_count = 0
        self._build_status()
        self.banner = self._build_banner()
        self._clock = QTimer(self)
        self._clock.setInterval(100)
        self._clock.timeout.connect(self._update_progress)
        self._wire()
        self._show(self.runs.shown)
        self._variables_changed()  # (with the path's: caption, data root, its runs)

    @property
    def docks(self) -> list[QDockWidget]:
        return [self.output_dock, self.log_dock, self.history_dock, self.variables_dock]

    # ------------------------------------------------------------ building
    def _build_status(self) -> None:
        self.progress = QProgressBar()
        self.progress.setObjectName("runProgress")
        self.progress.setAccessibleName("Run progress")
        self.progress.setTextVisible(False)
        self.progress.setFixedSize(110, 8)
        self.progress.hide()
        self.run_label = QLabel()
        self.run_label.setObjectName("runStatusLabel")
        self.run_label.setAccessibleName("Run status")
        bar = self.window.statusBar()
        bar.insertPermanentWidget(0, self.progress)
        bar.insertPermanentWidget(1, self.run_label)

    def _build_banner(self) -> QFrame:
        banner = QFrame()
        banner.setObjectName("historyBanner")
        row = QHBoxLayout(banner)
        row.setContentsMargins(12, 6, 8, 6)
        self.banner_label = QLabel(banner)
        self.banner_label.setObjectName("historyBannerLabel")
        back = QPushButton("Back to live", banner)
        back.setObjectName("historyBannerBack")
        back.clicked.connect(self.runs.show_live)
        row.addWidget(self.banner_label, 1)
        row.addWidget(back)
        banner.hide()
        return banner

    def _wire(self) -> None:
        runs, a = self.runs, self.actions
        a.connect_slots(
            {
                "run": runs.run_all,
                "run_node": lambda: runs.run_node(self._single_selection()),
                "run_up_to": lambda: runs.run_up_to(self._single_selection()),
                "stop": runs.stop,
                "pin_output": self._toggle_pin,
                "live_view": runs.show_live,
            }
        )
        runs.shown_changed.connect(self._show)
        show_message = getattr(self.window, "show_message", None)
        if show_message is not None:
            runs.message.connect(show_message)
        runs.variables_changed.connect(self._variables_changed)
        self.bridge.run_started.connect(lambda _id: self._running_changed())
        self.bridge.run_finished.connect(lambda _r: self._running_changed())
        self.bridge.run_finished.connect(self._show_failure)
        self.bridge.history_changed.connect(self.refresh_history)
        self.bridge.runs_listed.connect(self.history.set_runs)
        self.bridge.state.changed.connect(self._live_changed)
        self.history.run_chosen.connect(runs.show_history)
        self.history.live_requested.connect(runs.show_live)
        self.history.refresh_requested.connect(self.refresh_history)
        self.output.pin_toggled.connect(runs.pin)
        self.log.node_activated.connect(self._select_node)
        self.variables.overrides_changed.connect(self._set_overrides)
        self.controller.path_changed.connect(lambda _p: self._path_changed())
        self.controller.edited.connect(self._update_actions)
        self._update_actions()

    # ------------------------------------------------------------- showing
    def _show(self, state: RunState) -> None:
        """Point every view at ``state`` (live or stored)."""
        self.overlay.show(state)
        self.output.set_state(state)
        self.log.set_state(state)
        history = self.runs.viewing_history
        self.banner.setVisible(history)
        if history:
            self.banner_label.setText(
                f"Showing the run of {state.label} — read-only. Outputs and states are "
                "those of that run."
            )
        self.history.set_viewing(state.run_id if history else None)
        self._update_progress()
        self._update_actions()

    def _show_failure(self, result: Any) -> None:
        """A failed run with nothing selected: show the first failed node, on
        its Error tab."""
        if self.runs.viewing_history or self.scene.selected_node_ids():
            return
        failed = [
            i for i, n in result.nodes.items() if n.status == "failed" and i in self.scene.nodes
        ]
        if failed:
            doc = self.controller.document
            self.scene.select([min(failed, key=doc.node_index)])
            self.output_dock.raise_()

    def _live_changed(self, change: RunChange) -> None:
        if change.run:
            self._update_progress()
            self._update_actions()

    def _running_changed(self) -> None:
        self._update_actions()
        self._update_progress()

    def _update_progress(self) -> None:
        state = self.runs.shown
        active = state.active and not self.runs.viewing_history
        if active and not self._clock.isActive():
            self._clock.start()
        elif not active:
            self._clock.stop()
        self.progress.setVisible(active)
        total = state.total
        if active:
            self.progress.setMaximum(max(total, 1))
            self.progress.setValue(state.done)
        elapsed = format_ms(state.elapsed_ms(time.monotonic()))
        if state.status == "starting":
            text = "Checking the workflow…"
        elif state.status == "running":
            text = f"Running · {state.done}/{plural(total, 'node')} · {elapsed}"
        elif state.status in MARKS:
            counts = state.counts()
            failed = counts.get("failed", 0)
            extra = f" · {failed} failed" if failed and state.status != "failed" else ""
            where = " (stored run)" if self.runs.viewing_history else ""
            text = (
                f"{MARKS[state.status]} {state.status.capitalize()} · {state.done}/"
                f"{plural(total, 'node')}"
                f" · {elapsed}{extra}{where}"
            )
        elif self.problem_count:
            # (Run would refuse: say so here rather than "Ready")
            text = f"Fix {plural(self.problem_count, 'problem')} to run"
        else:
            text = "Ready to run (Ctrl+R)"
        self.run_label.setText(text)
        set_style_state(self.run_label, "status", state.status)

    def set_problems(self, count: int) -> None:
        """The live validator's count: the idle status says whether Run can start."""
        if count != self.problem_count:
            self.problem_count = count
            self._update_progress()

    def _update_actions(self) -> None:
        running = self.bridge.running
        has_nodes = bool(self.controller.document.workflow.nodes)
        single = self._single_selection() is not None
        self.actions["run"].setEnabled(not running and has_nodes)
        self.actions["run_node"].setEnabled(not running and single)
        self.actions["run_up_to"].setEnabled(not running and single)
        self.actions["stop"].setEnabled(running)
        self.actions["pin_output"].setEnabled(single)
        self.actions["live_view"].setEnabled(self.runs.viewing_history)

    # ----------------------------------------------------------- selection
    def _single_selection(self) -> str | None:
        ids = self.scene.selected_node_ids()
        return ids[0] if len(ids) == 1 else None

    def selection_changed(self) -> None:
        """The window forwards the scene's selection (its own connection ends
        before its children are destroyed; a child's would outlive the scene)."""
        ids = self.scene.selected_node_ids()
        self.output.show_node(ids[0] if len(ids) == 1 else None)
        self._update_actions()

    def _select_node(self, node_id: str) -> None:
        """A log line chosen: its node, and the field its error names."""
        if node_id in self.scene.nodes:
            self.scene.select([node_id])
            self.output_dock.raise_()
            run = self.runs.shown.nodes.get(node_id)
            place = error_place(run.error, node_id) if run is not None and run.error else None
            if place is not None and place.key:
                self.output.field_requested.emit(place)

    def select(self, node_id: str) -> bool:
        """Select a node and show its output (``--select``)."""
        if node_id not in self.scene.nodes:
            return False
        self.scene.select([node_id])
        return True

    def _toggle_pin(self) -> None:
        node_id = self._single_selection()
        if node_id is not None:
            pinned = self.controller.document.node(node_id).pinned is not None
            self.runs.pin(node_id, not pinned)

    # ----------------------------------------------------- document / vars
    def _variables_changed(self) -> None:
        self.variables.set_variables(self.controller.document.workflow.variables)
        self.runs.overrides = dict(self.variables.overrides)
        self._path_changed()
        doc = self.controller.document
        self.log.set_nodes(doc.node_ids(), lambda i: doc.shown_title(i) if doc.has_node(i) else i)
        self._update_actions()

    def _set_overrides(self, overrides: dict[str, Any]) -> None:
        self.runs.overrides = overrides

    def _path_changed(self) -> None:
        path = self.controller.path
        self.variables.set_data_root(str(self.runs.data_root()), path is not None)
        self.history.set_caption(
            f"Runs of {path.name}" if path is not None else "Runs of this unsaved workflow"
        )
        self.refresh_history()

    def refresh_history(self) -> None:
        doc = self.controller.document
        self.bridge.list_runs(self.controller.path, doc.workflow.name)
