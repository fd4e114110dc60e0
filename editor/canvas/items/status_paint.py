"""Painting of a node's run status: the glyph in the header (a spinner while
running, a check, a cross, a pin…) and the status line under the node
("12 ms · 2 attempts", "retry 2/3 in 1.2 s"). Plain functions over a painter,
shared by the node items; glyphs are vector paths, no images.
May import: PySide6, editor.canvas.style, editor.theme.
"""

from __future__ import annotations

from flowdesk.editor.canvas.style import NODE_WIDTH, CanvasStyle
from flowdesk.editor.theme import icon_pixmap
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen, QPixmap

STATUS_LINE_HEIGHT = 20.0
PIN_COLOR = "#b49cf0"


def pin_glyph(dpr: float) -> QPixmap:
    return icon_pixmap("pin", 16, PIN_COLOR, dpr)


def paint_status_glyph(
    painter: QPainter, s: CanvasStyle, status: str, rect: QRectF, spin: float, stale: bool
) -> None:
    """A 14 px status mark in the header."""
    color = QColor(s.status_colors.get(status, s.muted))
    if stale:
        color.setAlpha(120)
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    center = rect.center()
    if status in ("running", "retrying"):
        track = QColor(255, 255, 255, 50)
        painter.setPen(QPen(track, 2.0))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        inner = rect.adjusted(1.5, 1.5, -1.5, -1.5)
        painter.drawEllipse(inner)
        pen = QPen(color.lighter(130), 2.2)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        painter.setPen(pen)
        span = 100 if status == "running" else 250
        painter.drawArc(inner, int(-spin * 16), span * 16)
    elif status == "queued":
        pen = QPen(QColor(255, 255, 255, 150), 1.4, Qt.PenStyle.DotLine)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawEllipse(rect.adjusted(1.5, 1.5, -1.5, -1.5))
    else:
        painter.setPen(QPen(QColor(0, 0, 0, 80), 1))
        painter.setBrush(color)
        painter.drawEllipse(rect)
        mark = QPen(QColor(255, 255, 255, 235), 1.8)
        mark.setCapStyle(Qt.PenCapStyle.RoundCap)
        mark.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.setPen(mark)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        x, y = rect.left(), rect.top()
        if status == "succeeded":
            path = QPainterPath(QPointF(x + 3.8, y + 7.4))
            path.lineTo(x + 6.2, y + 9.8)
            path.lineTo(x + 10.4, y + 4.6)
            painter.drawPath(path)
        elif status == "failed":
            painter.drawLine(QPointF(x + 4.5, y + 4.5), QPointF(x + 9.5, y + 9.5))
            painter.drawLine(QPointF(x + 9.5, y + 4.5), QPointF(x + 4.5, y + 9.5))
        elif status == "skipped":
            painter.drawLine(QPointF(x + 4, center.y()), QPointF(x + 10, center.y()))
        elif status == "cancelled":
            painter.setBrush(QColor(255, 255, 255, 235))
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawRect(QRectF(x + 4.5, y + 4.5, 5, 5))
        elif status == "pinned":
            painter.setBrush(QColor(255, 255, 255, 235))
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawEllipse(center, 2.4, 2.4)
    painter.restore()


def paint_status_line(
    painter: QPainter,
    s: CanvasStyle,
    status: str,
    text: str,
    bottom: float,
    stale: bool,
    node_width: float = NODE_WIDTH,
) -> None:
    """The status text under the node, on a soft pill so that it reads on
    any canvas."""
    if not text:
        return
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setFont(s.small_font)
    width = min(node_width, s.small_metrics.horizontalAdvance(text) + 18)
    pill = QRectF(0, bottom + 4, width, STATUS_LINE_HEIGHT - 5)
    if stale:
        painter.setOpacity(0.55)
    back = QColor(s.canvas)
    back.setAlpha(215)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(back)
    painter.drawRoundedRect(pill, pill.height() / 2, pill.height() / 2)
    dot = QColor(s.status_colors.get(status, s.muted))
    painter.setBrush(dot)
    painter.drawEllipse(QPointF(pill.left() + 7, pill.center().y()), 2.6, 2.6)
    painter.setPen(s.status_text.get(status, s.muted))
    painter.drawText(
        pill.adjusted(13, 0, -4, 0),
        Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
        text,
    )
    painter.restore()
