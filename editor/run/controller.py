"""``RunController``: what the Run menu does — run all, run the selected node
(reusing upstream outputs of the last run), run up to it, stop — and which
run the window shows: the live one, or a stored one from the history
(read-only, until "Back to live"). It decides the data root (the workflow's
folder; the home folder while unsaved, which the variables panel explains),
applies the variable overrides, and pins outputs (an undoable edit).
May import: PySide6, editor.*, engine (public API).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flowdesk.editor.document import UNSET
from flowdesk.editor.document.commands import SetPinned
from flowdesk.editor.document.events import DocumentEvent, WorkflowChanged
from flowdesk.editor.errors import show_error
from flowdesk.editor.problems import describe
from flowdesk.editor.run.engine_bridge import EngineBridge
from flowdesk.editor.run.history_panel import local_time
from flowdesk.editor.run.run_state import RunState, format_ms
from flowdesk.editor.text import plural
from flowdesk.editor.undo import DocumentController
from flowdesk.engine import Issue, RunResult, RunSummary, is_truncated
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

log = logging.getLogger(__name__)


class RunController(QObject):
    """See the module docstring.

    ``shown_changed(RunState)``: another run is shown. ``message(text)``: a
    status-bar message. ``variables_changed()``: the workflow's variables."""

    shown_changed = Signal(object)
    message = Signal(str)
    #: a run was refused for these problems (the window goes to the first)
    problems_shown = Signal(list)
    variables_changed = Signal()

    def __init__(
        self, window: QWidget, controller: DocumentController, bridge: EngineBridge
    ) -> None:
        super().__init__(window)
        self.window = window
        self.controller = controller
        self.bridge = bridge
        self.overrides: dict[str, Any] = {}
        self.shown: RunState = bridge.state
        self.history_summary: RunSummary | None = None
        self._doc: Any = None
        bridge.start_refused.connect(self._refused)
        bridge.internal_error.connect(self._internal_error)
        bridge.run_loaded.connect(self._loaded)
        bridge.run_finished.connect(self._finished)
        controller.document_replaced.connect(self._document_replaced)
        self._document_replaced(controller.document, forget=False)

    # ------------------------------------------------------------ queries
    @property
    def viewing_history(self) -> bool:
        return self.shown is not self.bridge.state

    def data_root(self) -> Path:
        path = self.controller.path
        return path.parent if path is not None else Path.home()

    # ---------------------------------------------------------------- runs
    def run_all(self) -> bool:
        return self._start()

    def run_node(self, node_id: str | None) -> bool:
        """Only this node, reusing the upstream outputs of the last run."""
        return node_id is not None and self._start(only=node_id)

    def run_up_to(self, node_id: str | None) -> bool:
        return node_id is not None and self._start(up_to=node_id)

    def stop(self) -> None:
        if self.bridge.running:
            self.bridge.stop()
            self.message.emit("Stopping the run…")

    def _start(self, only: str | None = None, up_to: str | None = None) -> bool:
        if self.bridge.running:
            self.message.emit("A run is already going; stop it first (Shift+F5).")
            return False
        doc = self.controller.document
        if not doc.workflow.nodes:
            self.message.emit("Nothing to run: add a node first.")
            return False
        self.show_live()
        started = self.bridge.start(
            doc.run_snapshot(),
            variables=dict(self.overrides),
            data_root=self.data_root(),
            workflow_path=self.controller.path,
            only=only,
            up_to=up_to,
        )
        if started:
            target = only or up_to
            what = (
                f"Running {target} (upstream outputs reused)"
                if only
                else f"Running up to {target}"
                if up_to
                else "Running the workflow"
            )
            self.message.emit(what + "…")
        return started

    def _refused(self, title: str, text: str, issues: list[Issue]) -> None:
        """No dialog to dismiss: the problems are marked already; say it in the
        status bar and go to the first one (``problems_shown``)."""
        if issues:
            doc = self.controller.document
            first = describe(issues[0], doc)
            more = f" (and {plural(len(issues) - 1, 'more')})" if len(issues) > 1 else ""
            self.message.emit(f"Cannot run yet — fix {first}{more}.")
        else:
            self.message.emit(f"{title}: {text}")
        self.problems_shown.emit(list(issues))

    def _internal_error(self, title: str, details: str) -> None:
        self.message.emit(title)
        show_error(self.window, title, details)

    def _finished(self, result: RunResult) -> None:
        counts = result.counts()
        failed = counts.get("failed", 0)
        tail = f", {failed} failed" if failed else ""
        self.message.emit(f"Run {result.status} in {format_ms(result.duration_ms)}{tail}.")

    # -------------------------------------------------------------- shown
    def show_live(self) -> None:
        if self.viewing_history:
            self.history_summary = None
            self._show(self.bridge.state)

    def show_history(self, run_id: str) -> None:
        """Load a stored run; it is shown when it arrives."""
        self.bridge.load_run(run_id)

    def _loaded(self, summary: RunSummary | None, result: RunResult | None) -> None:
        if summary is None or result is None:
            self.message.emit("That run is no longer in the history.")
            return
        label = f"{local_time(summary.started_at)} · {summary.status}"
        if summary.duration_ms is not None:
            label += f" · {format_ms(summary.duration_ms)}"
        self.history_summary = summary
        self._show(RunState.from_result(result, label=label, source=summary.source))
        truncated = sum(1 for node in result.nodes.values() if is_truncated(node.output))
        if truncated:
            self.message.emit(
                f"{truncated} output{'s are' if truncated != 1 else ' is'} too big for the "
                "history and shown truncated."
            )

    def _show(self, state: RunState) -> None:
        self.shown = state
        state.touch_all()
        self.shown_changed.emit(state)
        state.flush()

    # ---------------------------------------------------------------- pin
    def pin(self, node_id: str, on: bool) -> None:
        """Pin the shown output of ``node_id`` (or unpin): one undo step."""
        doc = self.controller.document
        if not doc.has_node(node_id):
            return
        if not on:
            if doc.node(node_id).pinned is not None:
                self.controller.push(SetPinned(node_id, UNSET))
                self.message.emit(f"Unpinned {node_id}: it runs again next time.")
            return
        run = self.shown.nodes.get(node_id)
        if run is None or not run.has_output or run.output is None:
            self.message.emit(f"{node_id} has no output to pin yet: run it first.")
            return
        if is_truncated(run.output):
            self.message.emit("This output was truncated in the history; run it again to pin it.")
            return
        self.controller.push(SetPinned(node_id, run.output))
        self.message.emit(
            f"Pinned the output of {node_id}: it is not run any more (Ctrl+Z to undo)."
        )

    # ----------------------------------------------------------- document
    def _document_replaced(self, document: Any, forget: bool = True) -> None:
        if self._doc is not None:
            self._doc.changed.disconnect(self._doc_changed)
        self._doc = document
        document.changed.connect(self._doc_changed)
        if forget:
            self.bridge.stop()
            self.bridge.forget()
            self.history_summary = None
            self._show(self.bridge.state)
        self.variables_changed.emit()

    def _doc_changed(self, event: DocumentEvent) -> None:
        if isinstance(event, WorkflowChanged) and "variables" in event.fields:
            self.variables_changed.emit()
