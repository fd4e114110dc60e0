"""``LogPanel``: the run's events as lines (time, level, node, message),
filterable by node, level and text. The model keeps the indices of the lines
that pass the filter and appends a whole frame's worth of new lines at once,
so a 10,000-node run streams into it without slowing the window. The first
columns are as wide as what they show; the message column is as wide as the
longest message (the view scrolls sideways) or fills the rest. Double-click
a line to select its node. Lines of the editor itself (``add_note``: each
planning call's tokens and cost) come first, at their clock time, and stay
across runs.
May import: PySide6, editor.run.run_state, editor.theme.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from flowdesk.editor.run.run_state import LEVELS, LogLine, RunChange, RunState
from flowdesk.editor.theme import current_theme
from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFocusEvent, QKeyEvent, QMouseEvent, QWheelEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

Index = QModelIndex | QPersistentModelIndex
ALL = ""
#: a message wider than this (pixels) is cut; its tooltip has it whole
MAX_MESSAGE_WIDTH = 4000
LEVEL_CHOICES = (
    ("All levels", "debug"),
    ("Info and above", "info"),
    ("Warnings and errors", "warning"),
    ("Errors", "error"),
)


class LogModel(QAbstractTableModel):
    COLUMNS = ("Time", "Level", "Node", "Message")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.state: RunState | None = None
        self.rows: list[int] = []
        #: the editor's own lines (``add_note``), and those passing the filter
        self.notes: list[LogLine] = []
        self.note_rows: list[int] = []
        self.node = ALL
        self.min_level = 1
        self.text = ""
        #: node id → what the Node column shows (its title)
        self.labels: Callable[[str], str] | None = None
        self._scanned = 0
        theme = current_theme()
        self._colors = {
            "debug": QColor(theme.muted),
            "warning": QColor(theme.warning),
            "error": QColor(theme.problem),
        }

    def set_state(self, state: RunState) -> None:
        self.state = state
        self.refilter()

    def set_filter(self, node: str, min_level: int, text: str) -> None:
        self.node, self.min_level, self.text = node, min_level, text.casefold()
        self.refilter()

    def _passes(self, line: LogLine) -> bool:
        if self.node and line.node_id != self.node:
            return False
        if LEVELS.index(line.level) < self.min_level:
            return False
        return not self.text or self.text in line.message.casefold()

    def add_note(self, level: str, who: str, message: str) -> None:
        """A line of the editor itself (``who`` in the Node column), kept above
        the run's lines until the window closes."""
        line = LogLine(time.time(), who, level, message)
        self.notes.append(line)
        if self._note_passes(line):
            row = len(self.note_rows)
            self.beginInsertRows(QModelIndex(), row, row)
            self.note_rows.append(len(self.notes) - 1)
            self.endInsertRows()

    def _note_passes(self, line: LogLine) -> bool:
        if self.node or LEVELS.index(line.level) < self.min_level:
            return False
        return not self.text or self.text in line.message.casefold()

    def is_note(self, row: int) -> bool:
        return 0 <= row < len(self.note_rows)

    def refilter(self) -> None:
        self.beginResetModel()
        self.note_rows = [i for i, line in enumerate(self.notes) if self._note_passes(line)]
        logs = self.state.logs if self.state is not None else []
        self.rows = [i for i, line in enumerate(logs) if self._passes(line)]
        self._scanned = len(logs)
        self.endResetModel()

    def changed(self, change: RunChange) -> None:
        if self.state is None:
            return
        if change.reset or change.logs_from < self._scanned:
            self.refilter()
            return
        logs = self.state.logs
        new = [i for i in range(self._scanned, len(logs)) if self._passes(logs[i])]
        self._scanned = len(logs)
        if new:
            first = len(self.note_rows) + len(self.rows)
            self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
            self.rows.extend(new)
            self.endInsertRows()

    def line(self, row: int) -> LogLine | None:
        if self.is_note(row):
            return self.notes[self.note_rows[row]]
        row -= len(self.note_rows)
        if self.state is None or not 0 <= row < len(self.rows):
            return None
        return self.state.logs[self.rows[row]]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802,B008
        return 0 if parent.isValid() else len(self.note_rows) + len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802,B008
        return 0 if parent.isValid() else 4

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        line = self.line(index.row()) if index.isValid() else None
        if line is None:
            return None
        column = index.column()
        if self.is_note(index.row()):
            return self._note_data(line, column, role)
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                t0 = self.state.t0 if self.state is not None else None
                if t0 is None or not line.time:
                    return ""
                return f"+{line.time - t0:.3f} s"
            if column == 1:
                return line.level
            if column == 2:
                if line.source:
                    return f"{line.source} server"
                return (self.labels(line.node_id) if self.labels else line.node_id) or "run"
            return line.message
        if role == Qt.ItemDataRole.ForegroundRole:
            return self._colors.get(line.level)
        if role == Qt.ItemDataRole.ToolTipRole and column == 3:
            return line.message
        if role == Qt.ItemDataRole.ToolTipRole and column == 2 and line.source:
            return f"The stderr of source “{line.source}”'s MCP server"
        if role == Qt.ItemDataRole.ToolTipRole and column == 2 and line.node_id:
            return f"{line.node_id} — click to go to the node"
        return None

    def _note_data(self, line: LogLine, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return time.strftime("%H:%M:%S", time.localtime(line.time))
            return (line.level, line.node_id, line.message)[column - 1]
        if role == Qt.ItemDataRole.ForegroundRole:
            return self._colors.get(line.level)
        if role == Qt.ItemDataRole.ToolTipRole and column in (0, 3):
            return line.message if column == 3 else "Local time of this editor line"
        return None


class NodeChoice(QComboBox):
    """The node filter: "All nodes", then every node by its title. The list
    of a big document is filled when the user reaches for it (focus, click,
    wheel, keys), not each time the document is shown."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pending: tuple[list[str], Callable[[str], str] | None] | None = None
        self.addItem("All nodes", ALL)

    def set_nodes(self, node_ids: list[str], labels: Callable[[str], str] | None) -> bool:
        """The choices; keeps the current one when it is still a node (False:
        it was not, "All nodes" is chosen). Emits no signal."""
        current = self.currentData()
        self.blockSignals(True)
        self.clear()
        self.addItem("All nodes", ALL)
        kept = not current or current in node_ids
        if kept and current:  # (the rest come with the list)
            self.addItem(labels(current) if labels else current, current)
            self.setCurrentIndex(1)
        self._pending = (node_ids, labels)
        self.blockSignals(False)
        return kept

    def fill(self) -> None:
        """Every node in the list (in document order), the choice kept."""
        if self._pending is None:
            return
        node_ids, labels = self._pending
        self._pending = None
        current = self.currentData()
        self.blockSignals(True)
        while self.count() > 1:
            self.removeItem(1)
        for node_id in node_ids:
            self.addItem(labels(node_id) if labels else node_id, node_id)
        self.setCurrentIndex(max(0, self.findData(current)))
        self.blockSignals(False)

    def showPopup(self) -> None:  # noqa: N802 - Qt override
        self.fill()
        super().showPopup()

    def focusInEvent(self, event: QFocusEvent) -> None:  # noqa: N802 - Qt override
        self.fill()
        super().focusInEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        self.fill()
        super().mousePressEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt override
        self.fill()
        super().wheelEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        self.fill()
        super().keyPressEvent(event)


class LogPanel(QWidget):
    """``node_activated(node_id)`` when a line is double-clicked."""

    node_activated = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("logPanel")
        self.setAccessibleName("Run log")
        self.model = LogModel(self)
        self.state: RunState | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        row = QHBoxLayout()
        self.node_filter = NodeChoice(self)
        self.node_filter.setObjectName("logNodeFilter")
        self.node_filter.setAccessibleName("Filter by node")
        self.node_filter.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.node_filter.setMinimumContentsLength(9)
        self.level_filter = QComboBox(self)
        self.level_filter.setObjectName("logLevelFilter")
        self.level_filter.setAccessibleName("Filter by level")
        for text, level in LEVEL_CHOICES:
            self.level_filter.addItem(text, level)
        self.level_filter.setCurrentIndex(1)
        self.level_filter.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.level_filter.setMinimumContentsLength(9)
        self.text_filter = QLineEdit(self)
        self.text_filter.setObjectName("logTextFilter")
        self.text_filter.setPlaceholderText("Filter messages")
        self.text_filter.setClearButtonEnabled(True)
        self.text_filter.setMinimumWidth(90)
        row.addWidget(self.node_filter)
        row.addWidget(self.level_filter)
        row.addWidget(self.text_filter, 1)
        layout.addLayout(row)
        self.view = QTableView(self)
        self.view.setObjectName("logView")
        self.view.setAccessibleName("Log lines")
        self.view.setModel(self.model)
        self.view.setShowGrid(False)
        self.view.setWordWrap(False)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.verticalHeader().hide()
        vertical = self.view.verticalHeader()
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.view.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)
        header = self.view.horizontalHeader()
        # Time, Level and Node as wide as what they show; the message takes the
        # rest, or the width of the longest message (then the view scrolls)
        metrics = self.view.fontMetrics()
        pad = 8  # (the cell's margins)
        header.resizeSection(0, metrics.horizontalAdvance("+00.000 s") + pad)
        header.resizeSection(1, metrics.horizontalAdvance("warning") + pad)
        header.resizeSection(2, 96)  # (a longer title is cut; its tooltip and a click lead to it)
        header.setStretchLastSection(False)
        # (left: the message column may be far wider than the view, and a
        # centred title would be out of sight)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setMinimumSectionSize(24)
        self._pad = pad
        self._widest = 0  # the longest message's width so far (pixels)
        header.sectionResized.connect(self._resized)
        self.view.viewport().installEventFilter(self)
        self.model.rowsInserted.connect(self._inserted)
        self.model.modelReset.connect(self._reset)
        self.view.doubleClicked.connect(self._activated)
        # a click on a line's node (its title) goes there too, like a link
        self.view.clicked.connect(lambda i: self._activated(i) if i.column() == 2 else None)
        layout.addWidget(self.view, 1)
        self.node_filter.currentIndexChanged.connect(self._filter)
        self.level_filter.currentIndexChanged.connect(self._filter)
        self.text_filter.textChanged.connect(self._filter)

    # ------------------------------------------------------------- widths
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self.view.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_message()
        return super().eventFilter(watched, event)

    def _resized(self, column: int, old: int, new: int) -> None:
        if column != 3:
            self._fit_message()

    def _inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        self._measure(first, last)

    def _reset(self) -> None:
        self._widest = 0
        self._measure(0, self.model.rowCount() - 1)

    def _measure(self, first: int, last: int) -> None:
        """Widen the message column for the longest message of rows
        ``first..last`` (measured once: the one with the most characters)."""
        longest = ""
        for row in range(first, last + 1):
            line = self.model.line(row)
            if line is not None and len(line.message) > len(longest):
                longest = line.message
        if longest:
            shown = longest.split("\n", 1)[0][:1000]
            width = min(MAX_MESSAGE_WIDTH, self.view.fontMetrics().horizontalAdvance(shown))
            self._widest = max(self._widest, width)
        self._fit_message()

    def _fit_message(self) -> None:
        header = self.view.horizontalHeader()
        used = sum(header.sectionSize(c) for c in range(3))
        room = self.view.viewport().width() - used
        width = max(room, self._widest + self._pad, 60)
        if header.sectionSize(3) != width:
            header.resizeSection(3, width)

    def set_state(self, state: RunState) -> None:
        if self.state is not None:
            self.state.changed.disconnect(self._changed)
        self.state = state
        state.changed.connect(self._changed)
        self.model.set_state(state)

    def set_nodes(self, node_ids: list[str], labels: Callable[[str], str] | None = None) -> None:
        """The choices of the node filter (the document's nodes, shown by
        ``labels``: their titles)."""
        self.model.labels = labels
        if not self.node_filter.set_nodes(node_ids, labels):
            self._filter()

    def filter_node(self, node_id: str) -> None:
        self.node_filter.fill()
        index = self.node_filter.findData(node_id)
        if index < 0:
            self.node_filter.addItem(node_id, node_id)
            index = self.node_filter.count() - 1
        self.node_filter.setCurrentIndex(index)

    def _filter(self) -> None:
        level = LEVELS.index(str(self.level_filter.currentData()))
        self.model.set_filter(
            str(self.node_filter.currentData() or ""), level, self.text_filter.text()
        )

    def _changed(self, change: RunChange) -> None:
        bar = self.view.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 2
        self.model.changed(change)
        if at_end:
            self.view.scrollToBottom()

    def add_note(self, level: str, who: str, message: str) -> None:
        """A line of the editor itself, e.g. a planning call's tokens and cost."""
        bar = self.view.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 2
        self.model.add_note(level, who, message)
        if at_end and not self.model.rows:
            self.view.scrollToBottom()

    def _activated(self, index: QModelIndex) -> None:
        if self.model.is_note(index.row()):
            return  # not a node's line
        line = self.model.line(index.row())
        if line is not None and line.node_id:
            self.node_activated.emit(line.node_id)
