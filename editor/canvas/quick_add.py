"""The quick-add popup: opened at the cursor by double-click or Tab on the
canvas, or by dropping a wire on empty canvas. Type to fuzzy-search node types
by title, type name and description; Up/Down choose, Enter adds, Esc closes.

From a dropped wire it lists only the types that can take the wire (an input
for an output's wire, an output for an input's), the likeliest next step
first (Transform after an output, Read file before an input), and opens
beside the wire's end so that the wire stays in sight. The list shows whole
rows only: no horizontal scroll bar, no half-cut last entry.
May import: PySide6, engine (public API), editor.palette, editor.fuzzy.
"""

from __future__ import annotations

from flowdesk.editor.fuzzy import rank
from flowdesk.editor.palette import SEARCH_ROLE, TYPE_ROLE, NodeTypeDelegate, type_item
from flowdesk.editor.theme import icon, set_icon
from flowdesk.engine import NodeRegistry, NodeType
from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, Qt, Signal
from PySide6.QtGui import QHideEvent, QKeyEvent, QStandardItemModel
from PySide6.QtWidgets import QFrame, QLabel, QLineEdit, QListView, QVBoxLayout, QWidget

#: rows the list shows before it scrolls
VISIBLE_ROWS = 7
#: what usually follows an output (first = offered first) ...
AFTER_OUTPUT = ("data.transform", "flow.if", "http.request", "file.write", "ai.transform")
#: ... and what usually feeds an input
BEFORE_INPUT = ("file.read", "http.request", "data.transform", "trigger.webhook")


def preferred_order(types: list[type[NodeType]], pending: object) -> list[type[NodeType]]:
    """The types that can take a dangling wire, likeliest first (all types,
    in registry order, without a wire)."""
    if not isinstance(pending, tuple) or len(pending) != 3:
        return types
    from_output = bool(pending[2])
    usable = [t for t in types if (t.inputs if from_output else t.outputs)]
    order = AFTER_OUTPUT if from_output else BEFORE_INPUT

    def key(t: type[NodeType]) -> int:
        return order.index(t.type_name) if t.type_name in order else len(order)

    return sorted(usable, key=key)  # (stable: the rest keep the registry's order)


class QuickAdd(QFrame):
    """``chosen(type_name, scene_pos, pending)`` when the user picks a type."""

    chosen = Signal(str, QPointF, object)
    #: the popup closed (chosen or not): the dangling wire may go
    closed = Signal()

    def __init__(self, registry: NodeRegistry, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setObjectName("quickAddPopup")
        self.setAccessibleName("Add node")
        self.registry = registry
        self.scene_pos = QPointF()
        self.pending: object = None
        self.search = QLineEdit(self)
        self.search.setObjectName("quickAddSearch")
        self.search.setAccessibleName("Search node types")
        self.search.setPlaceholderText("Add node…")
        set_icon(
            self.search.addAction(icon("search"), QLineEdit.ActionPosition.LeadingPosition),
            "search",
        )
        self.search.textChanged.connect(self._refilter)
        self.search.installEventFilter(self)
        self.hint = QLabel(self)
        self.hint.setObjectName("emptyHint")
        self.model = QStandardItemModel(self)
        self.list = QListView(self)
        self.list.setObjectName("quickAddList")
        self.list.setAccessibleName("Matching node types")
        self.list.setModel(self.model)
        self.list.setItemDelegate(NodeTypeDelegate(self.list))
        self.list.setMouseTracking(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.clicked.connect(lambda _index: self.accept_current())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(6)
        layout.addWidget(self.search)
        layout.addWidget(self.list)
        layout.addWidget(self.hint)
        self.hint.setWordWrap(True)
        self.setFixedWidth(340)

    def _types(self) -> list[type[NodeType]]:
        return list(self.registry)

    def open_at(self, global_pos: QPoint, scene_pos: QPointF, pending: object = None) -> None:
        self.scene_pos = scene_pos
        self.pending = pending
        self.search.clear()
        self._refilter("")
        self.hint.setText(
            "Enter adds · connects the dangling wire" if pending else "Enter adds · Esc closes"
        )
        self._fit_rows()
        screen = self.screen().availableGeometry() if self.screen() else None
        if isinstance(pending, tuple) and len(pending) == 3:
            # beside the wire's end, away from the wire: right of it for an
            # output's wire (which comes from the left), left for an input's;
            # the other side when the screen has no room
            right = global_pos.x() + 14
            left = global_pos.x() - self.width() - 14
            first, second = (right, left) if pending[2] else (left, right)
            x = first
            if screen is not None and not (
                screen.left() <= first and first + self.width() <= screen.right()
            ):
                x = second
            pos = QPoint(x, global_pos.y() - 24)
        else:
            pos = QPoint(global_pos.x() - 20, global_pos.y() - 20)
        if screen is not None:
            pos.setX(max(screen.left(), min(pos.x(), screen.right() - self.width())))
            pos.setY(max(screen.top(), min(pos.y(), screen.bottom() - self.height())))
        self.move(pos)
        self.show()
        self.search.setFocus()

    def _fit_rows(self) -> None:
        """As tall as ``VISIBLE_ROWS`` whole rows (fewer when fewer match)."""
        rows = max(1, min(VISIBLE_ROWS, self.model.rowCount()))
        row = self.list.sizeHintForRow(0) if self.model.rowCount() else 46
        self.list.setFixedHeight(rows * max(row, 1) + 2 * self.list.frameWidth())
        self.adjustSize()

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802 - Qt override
        super().hideEvent(event)
        self.closed.emit()

    def _refilter(self, text: str) -> None:
        self.model.clear()
        types = preferred_order(self._types(), self.pending)
        entries = [(t, (t.title or t.type_name, t.type_name, t.description)) for t in types]
        for node_type in rank(text, entries) if text else types:
            item = type_item(node_type)
            item.setData(None, SEARCH_ROLE)
            self.model.appendRow(item)
        if self.model.rowCount():
            self.list.setCurrentIndex(self.model.index(0, 0))

    def matches(self) -> list[str]:
        return [self.model.item(r).data(TYPE_ROLE) for r in range(self.model.rowCount())]

    def accept_current(self) -> None:
        index = self.list.currentIndex()
        if not index.isValid():
            return
        type_name = index.data(TYPE_ROLE)
        self.hide()
        self.chosen.emit(str(type_name), self.scene_pos, self.pending)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if watched is self.search and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            key = event.key()
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.accept_current()
                return True
            if key == Qt.Key.Key_Escape:
                self.hide()
                return True
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                row = self.list.currentIndex().row() + (1 if key == Qt.Key.Key_Down else -1)
                if 0 <= row < self.model.rowCount():
                    self.list.setCurrentIndex(self.model.index(row, 0))
                return True
        return super().eventFilter(watched, event)
