"""``WireHint``: why the port under a wire being drawn refuses it, in a small
bubble beside the port (the status bar says it too, but the eyes are on the
wire).
May import: PySide6, editor.canvas.style.
"""

from __future__ import annotations

from flowdesk.editor.canvas.style import CanvasStyle
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

MAX_WIDTH = 260.0
PAD = 7.0


class WireHint(QGraphicsItem):
    def __init__(self, style: CanvasStyle) -> None:
        super().__init__()
        self.style = style
        self.text = ""
        self._rect = QRectF()
        self.setZValue(20)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    def set_text(self, text: str) -> None:
        self.prepareGeometryChange()
        self.text = text
        metrics = self.style.text_metrics
        bounds = metrics.boundingRect(
            QRectF(0, 0, MAX_WIDTH, 1000),
            int(Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignLeft),
            text,
        )
        self._rect = QRectF(0, 0, bounds.width() + 2 * PAD, bounds.height() + 2 * PAD)
        self.update()

    def place(self, port: QPointF, node: QRectF, right: bool) -> None:
        """Above the port's node (the space between rows), starting at the port's
        side: the bubble covers neither the node nor its neighbours."""
        x = port.x() - 10 if not right else port.x() + 10 - self._rect.width()
        self.setPos(x, node.top() - 8 - self._rect.height())

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        return self._rect.adjusted(-1, -1, 1, 1)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        s = self.style
        back = QColor(s.body)
        back.setAlpha(245)
        painter.setPen(QPen(s.problem, 1.4))
        painter.setBrush(back)
        painter.drawRoundedRect(self._rect, 5, 5)
        painter.setFont(s.text_font)
        painter.setPen(s.text)
        painter.drawText(
            self._rect.adjusted(PAD, PAD, -PAD, -PAD),
            int(Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignLeft),
            self.text,
        )
