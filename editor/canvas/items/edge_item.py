"""``EdgeItem``: a cubic Bézier from an output port to an input port.

It paints little in Python on purpose: a long edge (a wire across the graph)
is split into pieces and only the pieces inside the exposed area are stroked —
antialiased stroking costs time in proportion to the whole path, clip or not,
so a band of long wires otherwise dominates every frame. Hit testing is
stroke-shaped (``contains``), and there is no ``itemChange`` or ``shape``
override: Qt computes a path item's bounding rect from ``shape()``, and every
change of every edge would go through Python (the scene restyles selection).
May import: PySide6, editor.canvas.style.
"""

from __future__ import annotations

from flowdesk.editor.canvas.style import CanvasStyle
from flowdesk.editor.document.events import EdgeKey
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QPainter, QPainterPath, QPainterPathStroker
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QStyleOptionGraphicsItem, QWidget

HIT_WIDTH = 10.0
#: edges longer than this (scene units) are stroked piece by piece
PIECE = 400.0
#: the least a wire leaves its port horizontally before curving
CURVE_MIN = 40.0
_FLAGS = (
    QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
    | QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption
)

Cubic = tuple[QPointF, QPointF, QPointF, QPointF]


def reach(x1: float, x2: float) -> float:
    """How far a wire from x1 to x2 runs horizontally out of each port before
    it curves (its control points' offset)."""
    return max(abs(x2 - x1) * 0.5, CURVE_MIN)


def controls(p1: QPointF, p2: QPointF) -> Cubic:
    """The wire shape: leaves the output to the right, enters the input from
    the left; backwards wires loop round instead of cutting through nodes."""
    dx = reach(p1.x(), p2.x())
    return p1, QPointF(p1.x() + dx, p1.y()), QPointF(p2.x() - dx, p2.y()), p2


def bezier(p1: QPointF, p2: QPointF) -> QPainterPath:
    a, b, c, d = controls(p1, p2)
    path = QPainterPath(a)
    path.cubicTo(b, c, d)
    return path


def split(curve: Cubic, pieces: int) -> list[QPainterPath]:
    """The curve cut into ``pieces`` sub-curves (de Casteljau), each a path."""
    out = []
    rest = curve
    for i in range(pieces, 0, -1):
        if i == 1:
            head = rest
        else:
            t = 1.0 / i
            a, b, c, d = rest
            ab, bc, cd = a + (b - a) * t, b + (c - b) * t, c + (d - c) * t
            abc, bcd = ab + (bc - ab) * t, bc + (cd - bc) * t
            mid = abc + (bcd - abc) * t
            head, rest = (a, ab, abc, mid), (mid, bcd, cd, d)
        path = QPainterPath(head[0])
        path.cubicTo(head[1], head[2], head[3])
        out.append(path)
    return out


class EdgeItem(QGraphicsPathItem):
    def __init__(self, key: EdgeKey, style: CanvasStyle) -> None:
        super().__init__()
        self.key = key
        self.style = style
        self._shape: QPainterPath | None = None
        self._curve: Cubic | None = None
        self._pieces: list[tuple[QRectF, QPainterPath]] | None = None
        self.line = QLineF()
        self.setPen(style.edge_pen)
        self.setZValue(-1)
        self.setFlags(_FLAGS)
        self.setAcceptHoverEvents(True)
        self._hover = False
        #: the run shown: "carried" (data went along), "idle" (its source
        #: finished without sending on this port), or None (no run)
        self.flow: str | None = None

    def set_flow(self, flow: str | None) -> None:
        if flow != self.flow:
            self.flow = flow
            self.refresh_pen()

    def set_ends(self, p1: QPointF, p2: QPointF) -> None:
        self.line = QLineF(p1, p2)
        self._shape = None
        self._pieces = None
        self._curve = controls(p1, p2)
        path = QPainterPath(p1)
        path.cubicTo(self._curve[1], self._curve[2], p2)
        self.setPath(path)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        painter.setPen(self.pen())
        painter.setBrush(Qt.BrushStyle.NoBrush)
        if self._pieces is None:
            self._pieces = self._cut()
        if not self._pieces:
            painter.drawPath(self.path())
            return
        exposed = option.exposedRect.adjusted(-4, -4, 4, 4)
        for rect, piece in self._pieces:
            if rect.intersects(exposed):
                painter.drawPath(piece)

    def _cut(self) -> list[tuple[QRectF, QPainterPath]]:
        rect = self.path().controlPointRect()
        length = max(rect.width(), rect.height())
        if length <= PIECE or self._curve is None:
            return []
        pieces = split(self._curve, min(64, int(length / PIECE) + 1))
        return [(p.controlPointRect(), p) for p in pieces]

    def contains(self, point: QPointF) -> bool:  # type: ignore[override]
        """Hit only near the wire (the default shape fills the curve's belly)."""
        if self._shape is None:
            stroker = QPainterPathStroker()
            stroker.setWidth(HIT_WIDTH)
            stroker.setCapStyle(Qt.PenCapStyle.RoundCap)
            self._shape = stroker.createStroke(self.path())
        return self._shape.contains(point)

    def refresh_pen(self) -> None:
        s = self.style
        self.setPen(
            s.edge_selected_pen
            if self.isSelected()
            else s.edge_hover_pen
            if self._hover
            else s.edge_carried_pen
            if self.flow == "carried"
            else s.edge_idle_pen
            if self.flow == "idle"
            else s.edge_pen
        )

    def hoverEnterEvent(self, event: object) -> None:  # noqa: N802 - Qt override
        self._hover = True
        self.refresh_pen()

    def hoverLeaveEvent(self, event: object) -> None:  # noqa: N802 - Qt override
        self._hover = False
        self.refresh_pen()
