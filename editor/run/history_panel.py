"""``HistoryPanel``: the runs of the open workflow from the engine's history
store (CLI runs of the same file included) — when, result, duration, nodes,
where from. Choosing one asks to show it on the canvas, read-only; "Live"
returns to the current run. Queries run on the bridge's worker thread.
May import: PySide6, editor.run, editor.theme, engine (the facade: RunSummary, local_time).
"""

from __future__ import annotations

from flowdesk.editor.run.run_state import format_ms
from flowdesk.editor.theme import current_theme, set_icon
from flowdesk.engine import RunSummary, local_time
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

MARKS = {"succeeded": "✓", "failed": "✗", "cancelled": "⊘", "running": "…"}


class HistoryPanel(QWidget):
    """``run_chosen(run_id)``; ``live_requested()``; ``refresh_requested()``."""

    run_chosen = Signal(str)
    live_requested = Signal()
    refresh_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("historyPanel")
        self.setAccessibleName("Run history")
        self.runs: list[RunSummary] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        row = QHBoxLayout()
        self.caption = QLabel(self)
        self.caption.setObjectName("historyCaption")
        self.live_button = QPushButton("Back to live", self)
        self.live_button.setObjectName("historyLiveButton")
        self.live_button.setEnabled(False)
        self.live_button.clicked.connect(self.live_requested)
        refresh = QPushButton(self)
        refresh.setObjectName("historyRefresh")
        set_icon(refresh, "reset")
        refresh.setToolTip("Refresh the list")
        refresh.clicked.connect(self.refresh_requested)
        row.addWidget(self.caption, 1)
        row.addWidget(self.live_button)
        row.addWidget(refresh)
        layout.addLayout(row)
        self.list = QTreeWidget(self)
        self.list.setObjectName("historyList")
        self.list.setAccessibleName("Past runs")
        self.list.setRootIsDecorated(False)
        self.list.setUniformRowHeights(True)
        self.list.setHeaderLabels(["Started", "Result", "Duration", "Nodes", "From"])
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.list.header()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.list.itemClicked.connect(self._chosen)
        self.list.itemActivated.connect(self._chosen)
        layout.addWidget(self.list, 1)

    def set_caption(self, text: str) -> None:
        self.caption.setText(text)

    def set_runs(self, runs: list[RunSummary]) -> None:
        selected = self.selected_run_id()
        self.runs = runs
        self.list.clear()
        theme = current_theme()
        colors = {"succeeded": "#43a047", "failed": theme.problem, "cancelled": theme.muted}
        for summary in runs:
            mark = MARKS.get(summary.status, "")
            item = QTreeWidgetItem(
                [
                    local_time(summary.started_at),
                    f"{mark} {summary.status}",
                    format_ms(summary.duration_ms) if summary.duration_ms is not None else "",
                    str(summary.node_count or ""),
                    summary.source,
                ]
            )
            item.setData(0, Qt.ItemDataRole.UserRole, summary.run_id)
            item.setToolTip(0, f"{summary.started_at}\nrun {summary.run_id}")
            item.setForeground(1, QColor(colors.get(summary.status, theme.text)))
            self.list.addTopLevelItem(item)
            if summary.run_id == selected:
                item.setSelected(True)
        if not runs:
            placeholder = QTreeWidgetItem(["No runs yet", "", "", "", ""])
            placeholder.setFlags(Qt.ItemFlag.NoItemFlags)
            self.list.addTopLevelItem(placeholder)

    def selected_run_id(self) -> str | None:
        items = self.list.selectedItems()
        if not items:
            return None
        value = items[0].data(0, Qt.ItemDataRole.UserRole)
        return str(value) if value else None

    def set_viewing(self, run_id: str | None) -> None:
        """Mark the run shown (None: the live view)."""
        self.live_button.setEnabled(run_id is not None)
        if run_id is None:
            self.list.clearSelection()

    def _chosen(self, item: QTreeWidgetItem) -> None:
        run_id = item.data(0, Qt.ItemDataRole.UserRole)
        if run_id:
            self.run_chosen.emit(str(run_id))
