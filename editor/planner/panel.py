"""The Describe panel (Ctrl+K): a request in words → the planner's proposal,
drawn on the canvas as a diff (new nodes and edges in green, removed ones
struck in red, changed nodes outlined in amber) and listed in the panel;
Accept applies it as ONE undo step, Reject leaves the document untouched,
"Accept and run" applies then runs. Planning runs on a worker thread, with
the sources' tools in the catalogue (``tools``); each call's tokens and cost
go to the log dock; the inspector marks the fields the plan changes.
May import: PySide6, editor.*, engine (the facade).
"""

from __future__ import annotations

import asyncio
import os
import threading
from typing import TYPE_CHECKING, Any

import flowdesk.engine as engine  # (the planner loads with the first plan, not the window)
from flowdesk.editor.planner.commands import plan_command
from flowdesk.editor.planner.marks import ProposalMarks
from flowdesk.engine import FlowdeskError
from PySide6.QtCore import QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QKeySequence, QPen, QShortcut
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsLineItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:
    from flowdesk.engine import PlanResult, WorkflowDiff

ADDED = QColor("#2e9d57")
REMOVED = QColor("#d9483b")
CHANGED = QColor("#d99a1e")
GHOST_SIZE = (180.0, 64.0)


class _Relay(QObject):
    done = Signal(object)
    note = Signal(str)


class DiffOverlay:
    """The proposal drawn on the scene, above the document's own items."""

    def __init__(self, scene: QGraphicsScene, node_rects: Any) -> None:
        self.scene = scene
        self.node_rects = node_rects  # node id → QRectF of the item on the canvas
        self.items: list[QGraphicsItem] = []

    def clear(self) -> None:
        for item in self.items:
            self.scene.removeItem(item)
        self.items = []

    def _add(self, item: QGraphicsItem) -> None:
        item.setZValue(1000)
        self.scene.addItem(item)
        self.items.append(item)

    def show(self, diff: WorkflowDiff, new: dict[str, Any]) -> None:
        self.clear()
        rects: dict[str, QRectF] = dict(self.node_rects())
        nodes = {n["id"]: n for n in new.get("nodes", [])}
        for node_id in diff.added_nodes:
            node = nodes[node_id]
            x, y = node.get("position") or (0, 0)
            rect = QRectF(float(x), float(y), *GHOST_SIZE)
            rects[node_id] = rect
            box = QGraphicsRectItem(rect)
            box.setPen(QPen(ADDED, 2.5, Qt.PenStyle.DashLine))
            fill = QColor(ADDED)
            fill.setAlpha(70)
            box.setBrush(QBrush(fill))
            self._add(box)
            label = QGraphicsSimpleTextItem(f"+ {node.get('title') or node_id}\n{node['type']}")
            font = QFont()
            font.setPointSizeF(10)
            font.setBold(True)
            label.setFont(font)
            label.setBrush(QBrush(QColor("#8ee6ad")))
            label.setPos(rect.topLeft() + QPointF(10, 10))
            self._add(label)
        for node_id in diff.removed_nodes:
            if node_id in rects:
                self._strike(rects[node_id])
        for node_id in diff.changed_nodes:
            if node_id in rects:
                box = QGraphicsRectItem(rects[node_id].adjusted(-4, -4, 4, 4))
                box.setPen(QPen(CHANGED, 3))
                self._add(box)
        for text, color, dash in (
            *((e, ADDED, Qt.PenStyle.DashLine) for e in diff.added_edges),
            *((e, REMOVED, Qt.PenStyle.SolidLine) for e in diff.removed_edges),
        ):
            source, target = (part.strip().split(".")[0] for part in text.split("->"))
            if source in rects and target in rects:
                a = rects[source]
                b = rects[target]
                line = QGraphicsLineItem(a.right(), a.center().y(), b.left(), b.center().y())
                line.setPen(QPen(color, 3, dash))
                self._add(line)

    def _strike(self, rect: QRectF) -> None:
        for x1, y1, x2, y2 in (
            (rect.left(), rect.top(), rect.right(), rect.bottom()),
            (rect.left(), rect.bottom(), rect.right(), rect.top()),
        ):
            line = QGraphicsLineItem(x1, y1, x2, y2)
            line.setPen(QPen(REMOVED, 3))
            self._add(line)


class DescribePanel(QWidget):
    """Type a request; review the proposal; Accept / Reject / Accept and run."""

    proposal_ready = Signal(object)

    def __init__(
        self,
        controller: Any,
        scene: QGraphicsScene,
        node_rects: Any,
        *,
        run: Any = None,
        settings: Any = None,
        tools: Any = None,
        log: Any = None,
        select: Any = None,
        marks: ProposalMarks | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("describePanel")
        self.controller = controller
        self.run = run
        #: a dict, or a callable returning one, of plan_request keywords
        self.settings = settings or {}
        #: ``tools()`` → ``{"known", "workflow_dir", "secrets"}`` for the
        #: engine's ``source_tools`` (the sources' tools in the catalogue)
        self.tools = tools
        #: ``log(level, who, message)``: a line in the log dock
        self.log = log
        #: ``select(node_id)``: show a node (a click on its line in the list)
        self.select = select
        self.marks = marks
        self.overlay = DiffOverlay(scene, node_rects)
        self.result: PlanResult | None = None
        self._relay = _Relay(self)
        self._relay.done.connect(self._finished)
        self._relay.note.connect(lambda note: self._log("warning", f"Planner: {note}"))
        self.prompt = QPlainTextEdit()
        self.prompt.setObjectName("describePrompt")
        self.prompt.setPlaceholderText("e.g. “Send email to john@… saying thanks”")
        self.prompt.setMaximumHeight(70)
        self.plan_button = QPushButton("Plan")
        self.plan_button.setObjectName("describePlan")
        self.status = QLabel("Describe what the flow should do.")
        self.status.setObjectName("describeStatus")
        self.status.setWordWrap(True)
        self.changes = QListWidget()
        self.changes.setObjectName("describeChanges")
        self.accept_button = QPushButton("Accept")
        self.accept_button.setObjectName("describeAccept")
        self.reject_button = QPushButton("Reject")
        self.reject_button.setObjectName("describeReject")
        self.accept_run_button = QPushButton("Accept and run")
        self.accept_run_button.setObjectName("describeAcceptRun")
        buttons = QHBoxLayout()
        for button in (self.accept_button, self.accept_run_button, self.reject_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.prompt)
        layout.addWidget(self.plan_button)
        layout.addWidget(self.status)
        layout.addWidget(self.changes, 1)
        layout.addLayout(buttons)
        self.plan_button.clicked.connect(self.start)
        self.accept_button.clicked.connect(lambda: self.accept())
        self.accept_run_button.clicked.connect(lambda: self.accept(run=True))
        self.reject_button.clicked.connect(self.reject)
        self.changes.itemClicked.connect(self._line_clicked)
        self._set_reviewing(False)

    def _set_reviewing(self, on: bool) -> None:
        for button in (self.accept_button, self.accept_run_button, self.reject_button):
            button.setEnabled(on)

    # ---------------------------------------------------------- planning
    def start(self) -> None:
        text = self.prompt.toPlainText().strip()
        if not text:
            self.status.setText("Type a request first.")
            return
        self.reject()
        self.plan_button.setEnabled(False)
        self.status.setText("Planning… (asking the model)")
        workflow = self.controller.document.to_json()
        kwargs = dict(self.settings() if callable(self.settings) else self.settings)
        where = self.tools() if self.tools is not None else None
        registry = self.controller.registry

        async def plan() -> PlanResult:
            if where is not None and "tools" not in kwargs:
                tools, notes = await engine.source_tools(workflow, registry, **where)
                kwargs["tools"] = tools
                for note in notes:
                    self._relay.note.emit(note)
            return await engine.plan_request(text, workflow, registry, **kwargs)

        def work() -> None:
            try:
                result = asyncio.run(plan())
            except Exception as error:  # noqa: BLE001 - shown in plain words, no traceback
                result = error
            self._relay.done.emit(result)

        threading.Thread(target=work, name="flowdesk-planner", daemon=True).start()

    def show_result(self, result: PlanResult) -> None:
        """Show a planner result (also what the worker thread hands back)."""
        self._finished(result)

    def _finished(self, result: Any) -> None:
        self.plan_button.setEnabled(True)
        self.changes.clear()
        if not isinstance(result, engine.PlanResult):
            self.status.setText(f"The planner failed: {result}")
            self._log("error", f"Planning failed: {result}")
            return
        self.result = result
        meta = result.meta
        usage = engine.usage_text(meta).split(": ", 1)[1]
        window = self.window()
        if hasattr(window, "statusBar"):
            window.statusBar().showMessage(f"Planner ({meta['model']}): {usage}", 10_000)
        level = {"planned": "info", "refused": "warning"}.get(result.status, "error")
        self._log(level, f"{result.status.capitalize()}: {usage} · {meta['model']}")
        notes = "".join(f"{note}. " for note in result.messages)
        if result.status != "planned" or result.workflow is None:
            words = "refused" if result.status == "refused" else "could not plan"
            self.status.setText(f"The planner {words}. {notes}({usage})")
            for problem in result.problems:
                item = QListWidgetItem(f"✗ {problem['message']}")
                item.setForeground(REMOVED)
                self.changes.addItem(item)
            self._set_reviewing(False)
            return
        intent = (result.plan or {}).get("intent", "")
        repaired = " (repaired after one round)" if result.repaired else ""
        self.status.setText(f"Proposal{repaired}: {intent} — review it, then Accept. ({usage})")
        diff = engine.WorkflowDiff(**result.diff)
        for line in engine.format_diff(diff, result.workflow).splitlines():
            item = QListWidgetItem(line)
            color = {"+": ADDED, "-": REMOVED, "~": CHANGED}.get(line[:1])
            if color is not None:
                item.setForeground(color)
            if line.startswith("-"):
                font = item.font()
                font.setStrikeOut(True)
                item.setFont(font)
            self.changes.addItem(item)
        self.overlay.show(diff, result.workflow)
        if self.marks is not None:
            self.marks.show(
                self.controller.document.to_json(),
                result.workflow,
                diff.changed_nodes,
                removed=diff.removed_nodes,
            )
        self._set_reviewing(True)
        self.proposal_ready.emit(result)

    # ---------------------------------------------------------- review
    def accept(self, run: bool = False) -> bool:
        result = self.result
        if result is None or result.workflow is None:
            return False
        intent = (result.plan or {}).get("intent", "")
        self.controller.push(plan_command(self.controller.document, result.workflow, intent))
        self._close_review("Accepted: one step in Edit ▸ Undo.")
        if run and self.run is not None:
            self.run()
        return True

    def reject(self) -> None:
        self._close_review("Rejected: the flow is unchanged." if self.result else None)

    def _log(self, level: str, message: str) -> None:
        if self.log is not None:
            self.log(level, "Planner", message)

    def _line_clicked(self, item: QListWidgetItem) -> None:
        """A click on a changed or removed node's line shows it (the inspector
        marks the fields the plan changes)."""
        words = item.text().split()
        if self.select is not None and len(words) >= 3 and words[0] in "~-" and words[1] == "node":
            self.select(words[2])

    def _close_review(self, message: str | None) -> None:
        self.result = None
        if self.marks is not None:
            self.marks.clear()
        self.overlay.clear()
        self.changes.clear()
        self._set_reviewing(False)
        if message:
            self.status.setText(message)


def planner_settings(secret_store: Any = None) -> dict[str, Any]:
    """The editor's planner settings: ``FLOWDESK_PLANNER_BASE_URL``,
    ``FLOWDESK_PLANNER_MODEL`` and the ``openrouter`` credential's secret."""
    out: dict[str, Any] = {}
    if os.environ.get("FLOWDESK_PLANNER_BASE_URL"):
        out["base_url"] = os.environ["FLOWDESK_PLANNER_BASE_URL"]
    if os.environ.get("FLOWDESK_PLANNER_MODEL"):
        out["model"] = os.environ["FLOWDESK_PLANNER_MODEL"]
    if secret_store is not None:
        try:
            out["api_key"] = secret_store.get_secret("openrouter")
        except FlowdeskError:  # a locked keyring: plan without a key (the server says 401)
            pass
    return out


def install(window: Any, secret_store: Any = None) -> DescribePanel:
    """The Describe dock of the main window, toggled by Ctrl+K."""
    scene = window.scene

    def node_rects() -> dict[str, QRectF]:
        return {nid: item.sceneBoundingRect() for nid, item in scene.nodes.items()}

    def tools() -> dict[str, Any]:
        sources = getattr(window, "sources", None)
        return {
            "known": dict(sources.catalogue.tools) if sources is not None else {},
            "workflow_dir": window.run.runs.data_root(),
            "secrets": secret_store,
        }

    def select(node_id: str) -> None:
        if node_id in scene.nodes:
            scene.select([node_id])
            window.inspector_dock.raise_()

    panel = DescribePanel(
        window.controller,
        scene,
        node_rects,
        run=window.run.runs.run_all,
        settings=lambda: planner_settings(secret_store),
        tools=tools,
        log=window.run.log.add_note,
        select=select,
        marks=ProposalMarks(window.inspector),
        parent=window,
    )
    dock = window._dock("describeDock", "Describe", panel, Qt.DockWidgetArea.RightDockWidgetArea)
    dock.hide()

    def toggle() -> None:
        if dock.isVisible():
            dock.hide()
        else:
            dock.show()
            show_tall()
            dock.raise_()
            panel.prompt.setFocus()

    def show_tall() -> None:
        # the proposal needs room: most of the right column's height
        window.resizeDocks([window.inspector_dock, dock], [260, 560], Qt.Orientation.Vertical)

    panel.show_tall = show_tall  # type: ignore[attr-defined]
    shortcut = QShortcut(QKeySequence("Ctrl+K"), window)
    shortcut.activated.connect(toggle)
    panel.dock = dock  # type: ignore[attr-defined]
    return panel
