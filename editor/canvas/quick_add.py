"""The quick-add popup: opened at the cursor by double-click or Tab on the
canvas, or by dropping a wire on empty canvas. Type to fuzzy-search node types
by title, type name and description; Up/Down choose, Enter adds, Esc closes.
May import: PySide6, engine (public API), editor.palette, editor.fuzzy.
"""

from __future__ import annotations

from flowdesk.editor.fuzzy import rank
from flowdesk.editor.palette import SEARCH_ROLE, TYPE_ROLE, NodeTypeDelegate, type_item
from flowdesk.editor.theme import icon, set_icon
from flowdesk.engine import NodeRegistry, NodeType
from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, Qt, Signal
from PySide6.QtGui import QKeyEvent, QStandardItemModel
from PySide6.QtWidgets import QFrame, QLabel, QLineEdit, QListView, QVBoxLayout, QWidget


class QuickAdd(QFrame):
    """``chosen(type_name, scene_pos, pending)`` when the user picks a type."""

    chosen = Signal(str, QPointF, object)

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
        self.list.clicked.connect(lambda _index: self.accept_current())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(6)
        layout.addWidget(self.search)
        layout.addWidget(self.list)
        layout.addWidget(self.hint)
        self.resize(340, 380)

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
        screen = self.screen().availableGeometry() if self.screen() else None
        pos = QPoint(global_pos.x() - 20, global_pos.y() - 20)
        if screen is not None:
            pos.setX(max(screen.left(), min(pos.x(), screen.right() - self.width())))
            pos.setY(max(screen.top(), min(pos.y(), screen.bottom() - self.height())))
        self.move(pos)
        self.show()
        self.search.setFocus()

    def _refilter(self, text: str) -> None:
        self.model.clear()
        entries = [(t, (t.title or t.type_name, t.type_name, t.description)) for t in self._types()]
        for node_type in rank(text, entries):
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
