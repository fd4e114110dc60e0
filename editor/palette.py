"""The node palette: every registered node type by category, with icon, title
and description, a filter box, drag onto the canvas (or double-click / Enter
to add at the centre). Built from the registry, so plug-in types appear with
no code change. ``NodeTypeDelegate`` also draws the quick-add list.
May import: PySide6, engine (public API), editor.theme, editor.fuzzy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flowdesk.editor.fuzzy import rank
from flowdesk.editor.theme import (
    category_color,
    current_theme,
    icon,
    icon_name,
    icon_pixmap,
    set_icon,
)
from flowdesk.engine import NodeRegistry, NodeType
from PySide6.QtCore import QMimeData, QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLineEdit,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

NODE_TYPE_MIME = "application/x-flowdesk-node-type"
TYPE_ROLE = Qt.ItemDataRole.UserRole + 1
DESCRIPTION_ROLE = Qt.ItemDataRole.UserRole + 2
COLOR_ROLE = Qt.ItemDataRole.UserRole + 3
ICON_ROLE = Qt.ItemDataRole.UserRole + 4
SEARCH_ROLE = Qt.ItemDataRole.UserRole + 5
#: a source's tool (``source__tool``), on the rows editor.sources.palette_tools adds
TOOL_ROLE = Qt.ItemDataRole.UserRole + 6
TOOL_MIME = "application/x-flowdesk-tool"

ModelIndex = QModelIndex | QPersistentModelIndex


def type_item(node_type: type[NodeType]) -> QStandardItem:
    """A list row for a node type (palette and quick-add)."""
    title = node_type.title or node_type.type_name
    item = QStandardItem(title)
    item.setData(node_type.type_name, TYPE_ROLE)
    item.setData(node_type.description, DESCRIPTION_ROLE)
    item.setData(category_color(node_type.category), COLOR_ROLE)
    item.setData(icon_name(node_type.icon, node_type.category), ICON_ROLE)
    item.setData((title, node_type.type_name, node_type.description), SEARCH_ROLE)
    item.setToolTip(f"<b>{title}</b> <code>{node_type.type_name}</code><br>{node_type.description}")
    item.setAccessibleText(f"{title}: {node_type.description}")
    item.setEditable(False)
    item.setDragEnabled(True)
    return item


class NodeTypeDelegate(QStyledItemDelegate):
    """Coloured icon tile, title, and the description in a muted second line."""

    def sizeHint(self, option: QStyleOptionViewItem, index: ModelIndex) -> QSize:  # noqa: N802
        if index.data(TYPE_ROLE) is None:
            return QSize(option.rect.width(), 30)
        return QSize(option.rect.width(), 46)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: ModelIndex) -> None:
        theme = current_theme()
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect: QRect = option.rect
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        hovered = bool(option.state & QStyle.StateFlag.State_MouseOver)
        if index.data(TYPE_ROLE) is None:  # a category heading
            font = QFont(option.font)
            font.setPointSizeF(font.pointSizeF() * 0.85)
            font.setWeight(QFont.Weight.Bold)
            font.setLetterSpacing(QFont.SpacingType.PercentageSpacing, 108)
            painter.setFont(font)
            painter.setPen(QColor(theme.muted))
            painter.drawText(
                rect.adjusted(6, 8, 0, 0),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                str(index.data()).upper(),
            )
            painter.restore()
            return
        if selected or hovered:
            back = QColor(theme.accent if selected else theme.alt_base)
            if selected:
                back.setAlpha(200)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(back)
            painter.drawRoundedRect(rect.adjusted(2, 1, -4, -1), 6, 6)
        tile = QRect(rect.left() + 8, rect.top() + 8, 30, 30)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(index.data(COLOR_ROLE) or QColor(theme.muted))
        painter.drawRoundedRect(tile, 7, 7)
        dpr = painter.device().devicePixelRatioF()
        painter.drawPixmap(
            tile.left() + 7, tile.top() + 7, icon_pixmap(index.data(ICON_ROLE), 16, "#ffffff", dpr)
        )
        text_left = tile.right() + 10
        width = rect.right() - text_left - 8
        title_font = QFont(option.font)
        title_font.setWeight(QFont.Weight.DemiBold)
        painter.setFont(title_font)
        painter.setPen(QColor("#ffffff") if selected else QColor(theme.text))
        painter.drawText(
            QRect(text_left, rect.top() + 6, width, 18),
            Qt.AlignmentFlag.AlignVCenter,
            painter.fontMetrics().elidedText(str(index.data()), Qt.TextElideMode.ElideRight, width),
        )
        small = QFont(option.font)
        small.setPointSizeF(small.pointSizeF() * 0.88)
        painter.setFont(small)
        painter.setPen(QColor("#e8eefc") if selected else QColor(theme.muted))
        metrics = painter.fontMetrics()
        text = metrics.elidedText(
            str(index.data(DESCRIPTION_ROLE) or ""), Qt.TextElideMode.ElideRight, width
        )
        painter.drawText(
            QRect(text_left, rect.top() + 24, width, 16), Qt.AlignmentFlag.AlignVCenter, text
        )
        painter.restore()


class PaletteModel(QStandardItemModel):
    """Node types grouped by category; dragging a type carries its name."""

    def __init__(self, registry: NodeRegistry) -> None:
        super().__init__()
        for category, types in registry.categories().items():
            heading = QStandardItem(category)
            heading.setEditable(False)
            heading.setDragEnabled(False)
            heading.setSelectable(False)
            for node_type in types:
                heading.appendRow(type_item(node_type))
            self.appendRow(heading)

    def mimeTypes(self) -> list[str]:  # noqa: N802 - Qt override
        return [NODE_TYPE_MIME, TOOL_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:  # noqa: N802 - Qt override
        mime = QMimeData()
        for index in indexes:
            tool = index.data(TOOL_ROLE)
            if tool:  # a source's tool: dropped as a tool.call node set up for it
                mime.setData(TOOL_MIME, str(tool).encode("utf-8"))
                mime.setText(str(tool))
                break
            type_name = index.data(TYPE_ROLE)
            if type_name:
                mime.setData(NODE_TYPE_MIME, str(type_name).encode("utf-8"))
                mime.setText(str(type_name))
                break
        return mime


class Palette(QWidget):
    """Filter box and the tree of node types. ``activated`` gives a type name."""

    activated = Signal(str)
    #: a source's tool chosen (``source__tool``)
    tool_activated = Signal(str)

    def __init__(self, registry: NodeRegistry, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("palette")
        self.setAccessibleName("Node palette")
        self.filter = QLineEdit(self)
        self.filter.setObjectName("paletteFilter")
        self.filter.setAccessibleName("Filter node types")
        self.filter.setPlaceholderText("Search nodes…")
        self.filter.setClearButtonEnabled(True)
        set_icon(
            self.filter.addAction(icon("search"), QLineEdit.ActionPosition.LeadingPosition),
            "search",
        )
        self.filter.textChanged.connect(self.apply_filter)
        self.model = PaletteModel(registry)
        #: search over the sources' tools (editor.sources.palette_tools sets it)
        self.tool_index: Any = None
        self.tree = QTreeView(self)
        self.tree.setObjectName("paletteTree")
        self.tree.setAccessibleName("Node types")
        self.tree.setModel(self.model)
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(False)
        self.tree.setIndentation(0)
        self.tree.setItemDelegate(NodeTypeDelegate(self.tree))
        self.tree.setMouseTracking(True)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.tree.setUniformRowHeights(False)
        self.tree.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.tree.expandAll()
        # ``activated`` alone: it fires for Enter and for a double-click (or a
        # single click where the platform activates on one) — ``doubleClicked``
        # as well would add a second node on every double-click.
        self.tree.activated.connect(self._on_activated)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 6, 4)
        layout.setSpacing(6)
        layout.addWidget(self.filter)
        layout.addWidget(self.tree)

    def _on_activated(self, index: QModelIndex) -> None:
        tool = index.data(TOOL_ROLE)
        if tool:
            self.tool_activated.emit(str(tool))
            return
        type_name = index.data(TYPE_ROLE)
        if type_name:
            self.activated.emit(str(type_name))

    def apply_filter(self, text: str) -> None:
        """Hide types that do not match (fuzzy); hide empty categories."""
        root = self.model.invisibleRootItem()
        tool_hits: set[str] | None = None
        if self.tool_index is not None and text.strip():
            tool_hits = {entry.ref for entry in self.tool_index.search(text)}
        for row in range(root.rowCount()):
            heading = root.child(row)
            shown = 0
            for child_row in range(heading.rowCount()):
                child = heading.child(child_row)
                tool = child.data(TOOL_ROLE)
                if tool and tool_hits is not None:
                    match = tool in tool_hits
                else:
                    fields = child.data(SEARCH_ROLE)
                    match = not text.strip() or bool(rank(text, [(True, fields)]))
                self.tree.setRowHidden(child_row, heading.index(), not match)
                shown += bool(match)
            self.tree.setRowHidden(row, QModelIndex(), shown == 0)
        self.tree.expandAll()

    def visible_types(self) -> list[str]:
        out = []
        root = self.model.invisibleRootItem()
        for row in range(root.rowCount()):
            heading = root.child(row)
            if self.tree.isRowHidden(row, QModelIndex()):
                continue
            for child_row in range(heading.rowCount()):
                if not self.tree.isRowHidden(child_row, heading.index()):
                    out.append(heading.child(child_row).data(TYPE_ROLE))
        return out
