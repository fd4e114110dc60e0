"""``NoteItem``: a sticky note (``ui.notes``) behind the nodes, with a resize
grip and an inline text editor opened by double-click. The edit itself is
pushed as a command by the scene's owner when editing finishes.
May import: PySide6, editor.canvas.style.
"""

from __future__ import annotations

from collections.abc import Callable

from flowdesk.editor.canvas.style import CanvasStyle
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFocusEvent, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsTextItem,
    QStyleOptionGraphicsItem,
    QWidget,
)

DEFAULT_SIZE = (240.0, 140.0)
MIN_SIZE = (80.0, 48.0)
GRIP = 14.0
PAD = 10.0


class _Editor(QGraphicsTextItem):
    def __init__(self, on_done: Callable[[str], None]) -> None:
        super().__init__()
        self._on_done = on_done

    def focusOutEvent(self, event: QFocusEvent) -> None:  # noqa: N802 - Qt override
        super().focusOutEvent(event)
        self._on_done(self.toPlainText())

    def keyPressEvent(self, event: object) -> None:  # noqa: N802 - Qt override
        if getattr(event, "key", lambda: None)() == Qt.Key.Key_Escape:
            self.clearFocus()
            return
        super().keyPressEvent(event)  # type: ignore[arg-type]


class NoteItem(QGraphicsItem):
    def __init__(self, note_id: str, style: CanvasStyle) -> None:
        super().__init__()
        self.note_id = note_id
        self.style = style
        self.text = ""
        self.color: QColor | None = None
        self._rect = QRectF(0, 0, *DEFAULT_SIZE)
        self._editor: _Editor | None = None
        #: called with the new text when inline editing ends
        self.on_text_edited: Callable[[str, str], None] | None = None
        self.setZValue(-2)
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)

    def set_data(self, data: dict[str, object]) -> None:
        self.prepareGeometryChange()
        self.text = str(data.get("text", ""))
        size = data.get("size")
        if isinstance(size, list | tuple) and len(size) == 2:
            self._rect = QRectF(
                0, 0, max(float(size[0]), MIN_SIZE[0]), max(float(size[1]), MIN_SIZE[1])
            )
        color = data.get("color")
        self.color = QColor(color) if isinstance(color, str) and QColor(color).isValid() else None
        pos = data.get("position")
        if isinstance(pos, list | tuple) and len(pos) == 2:
            self.setPos(float(pos[0]), float(pos[1]))
        if self._editor is not None and not self._editor.hasFocus():
            self._editor.setPlainText(self.text)
        self.update()

    @property
    def size(self) -> tuple[float, float]:
        return self._rect.width(), self._rect.height()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        return self._rect.adjusted(-2, -2, 2, 2)

    def grip_contains(self, scene_pos: QPointF) -> bool:
        local = self.mapFromScene(scene_pos)
        return local.x() >= self._rect.right() - GRIP and local.y() >= self._rect.bottom() - GRIP

    def set_preview_size(self, width: float, height: float) -> None:
        """Resize while the grip is dragged (no command until release)."""
        self.prepareGeometryChange()
        self._rect = QRectF(0, 0, max(width, MIN_SIZE[0]), max(height, MIN_SIZE[1]))

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        s = self.style
        fill = self.color or s.note
        path = QPainterPath()
        path.addRoundedRect(self._rect, 4, 4)
        painter.setPen(QPen(s.selection, 2) if self.isSelected() else QPen(fill.darker(130), 1))
        painter.setBrush(fill)
        painter.drawPath(path)
        r = self._rect
        painter.setPen(QPen(fill.darker(150), 1.2))
        for i in (4.0, 8.0):
            painter.drawLine(
                QPointF(r.right() - i, r.bottom() - 2), QPointF(r.right() - 2, r.bottom() - i)
            )
        if self._editor is None or not self._editor.isVisible():
            painter.setPen(s.note_text)
            painter.setFont(s.text_font)
            flags = (
                Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft
            )
            painter.drawText(
                r.adjusted(PAD, PAD, -PAD, -PAD), int(flags), self.text or "Double-click to write"
            )

    def start_editing(self) -> None:
        if self._editor is None:
            # Keep a reference: a QGraphicsTextItem child is otherwise collected
            # (platform notes, section 1).
            self._editor = _Editor(self._finish_editing)
            self._editor.setParentItem(self)
            self._editor.setDefaultTextColor(self.style.note_text)
            self._editor.setFont(self.style.text_font)
            self._editor.setTextInteractionFlags(Qt.TextInteractionFlag.TextEditorInteraction)
        self._editor.setPos(PAD - 4, PAD - 4)
        self._editor.setTextWidth(self._rect.width() - 2 * PAD + 8)
        self._editor.setPlainText(self.text)
        self._editor.setVisible(True)
        self._editor.setFocus(Qt.FocusReason.MouseFocusReason)
        self.update()

    def _finish_editing(self, text: str) -> None:
        if self._editor is not None:
            self._editor.setVisible(False)
        self.update()
        if text != self.text and self.on_text_edited is not None:
            self.on_text_edited(self.note_id, text)
