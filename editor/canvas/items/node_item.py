"""``NodeItem``: one node drawn as a single item — header in its category's
colour with icon and title, a summary line, ports (inputs left, outputs right,
named when there are several), a status badge slot and a problem marker.

Ports are painted and hit-tested here rather than being child items: at
thousands of nodes every extra item costs index time and memory.
May import: PySide6, editor.canvas.style, editor.document (PortInfo), editor.theme.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flowdesk.editor.canvas.items.status_paint import (
    STATUS_LINE_HEIGHT,
    paint_status_glyph,
    paint_status_line,
    pin_glyph,
)
from flowdesk.editor.canvas.style import (
    BODY_PADDING,
    CORNER,
    HEADER_HEIGHT,
    NODE_WIDTH,
    PORT_HIT_RADIUS,
    PORT_RADIUS,
    ROW_HEIGHT,
    TEXT_ZOOM,
    CanvasStyle,
)
from flowdesk.editor.document import PortInfo
from flowdesk.editor.theme import icon_pixmap
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

#: highlight states of a port while a wire is being drawn (DENIED: the wire is
#: over a port that refuses it)
PORT_OK, PORT_REFUSED, PORT_DENIED = 1, 2, 3


@dataclass
class NodeVisual:
    """What a node item shows; built by the scene from the document."""

    title: str
    subtitle: str
    color: QColor
    icon: str
    inputs: list[PortInfo] = field(default_factory=list)
    outputs: list[PortInfo] = field(default_factory=list)
    placeholder: bool = False
    disabled: bool = False
    #: the node has a pinned output (document state, shown with a pin)
    pinned: bool = False
    #: grows with the title (``CanvasStyle.node_width``)
    width: float = NODE_WIDTH


@dataclass(frozen=True)
class _Geometry:
    """Shapes shared by every node with the same ports (most nodes of a graph
    share a handful): computing them once keeps building 5,000 items cheap."""

    rect: QRectF
    bounds: QRectF
    body: QPainterPath
    header: QPainterPath
    shape: QPainterPath
    ports: dict[tuple[str, bool], QPointF]
    summary: QRectF
    named: bool


#: geometry by what it depends on (process-wide: a pure function of ports,
#: subtitle and width; nothing of a document or window)
_GEOMETRIES: dict[tuple[object, ...], _Geometry] = {}
#: the same lists of ports (shared by the document per node type) → geometry,
#: without hashing every port of every node while building
_BY_IDENTITY: dict[tuple[int, int, bool, float], tuple[object, object, _Geometry]] = {}


def geometry_of(visual: NodeVisual) -> _Geometry:
    """The shapes of a node with ``visual`` (``rect``: where it lies, at the
    origin), as its item will have them, without building the item."""
    quick = (id(visual.inputs), id(visual.outputs), bool(visual.subtitle), visual.width)
    hit = _BY_IDENTITY.get(quick)
    if hit is not None and hit[0] is visual.inputs and hit[1] is visual.outputs:
        return hit[2]
    key = (tuple(visual.inputs), tuple(visual.outputs), bool(visual.subtitle), visual.width)
    found = _GEOMETRIES.get(key)
    if found is None:
        found = _GEOMETRIES[key] = _build_geometry(visual)
    _BY_IDENTITY[quick] = (visual.inputs, visual.outputs, found)
    return found


def port_offset(geo: _Geometry, name: str, is_output: bool) -> QPointF:
    """Where a port of a node with geometry ``geo`` sits, relative to the node."""
    local = geo.ports.get((name, is_output))
    if local is None:  # an edge to a port that vanished: attach at the side
        local = QPointF(geo.rect.width() if is_output else 0.0, HEADER_HEIGHT / 2)
    return local


def _build_geometry(visual: NodeVisual) -> _Geometry:
    named = (
        len(visual.inputs) > 1
        or len(visual.outputs) > 1
        or any(not p.declared for p in (*visual.inputs, *visual.outputs))
    )
    rows = max(len(visual.inputs), len(visual.outputs), 1) if named else 1
    summary_rows = 1 if (visual.subtitle or not named) else 0
    body = BODY_PADDING * 2 + ROW_HEIGHT * (rows + summary_rows if named else 1)
    width = visual.width
    rect = QRectF(0, 0, width, HEADER_HEIGHT + body)
    first_row = HEADER_HEIGHT + BODY_PADDING + ROW_HEIGHT * summary_rows
    ports: dict[tuple[str, bool], QPointF] = {}
    for is_output, column, x in ((False, visual.inputs, 0.0), (True, visual.outputs, width)):
        for i, port in enumerate(column):
            y = first_row + ROW_HEIGHT * (i + 0.5) if named else HEADER_HEIGHT + body / 2
            ports[(port.name, is_output)] = QPointF(x, y)
    body_path = QPainterPath()
    body_path.addRoundedRect(rect, CORNER, CORNER)
    header = QPainterPath()
    header.addRoundedRect(QRectF(0, 0, width, HEADER_HEIGHT + CORNER), CORNER, CORNER)
    clip = QPainterPath()
    clip.addRect(QRectF(0, 0, width, HEADER_HEIGHT))
    shape = QPainterPath()
    shape.addRect(rect.adjusted(-PORT_RADIUS, 0, PORT_RADIUS, 0))
    return _Geometry(
        rect=rect,
        # below the node: room for the run status line
        bounds=rect.adjusted(-PORT_HIT_RADIUS, -3, PORT_HIT_RADIUS, 3 + STATUS_LINE_HEIGHT),
        body=body_path,
        header=header.intersected(clip),
        shape=shape,
        ports=ports,
        summary=QRectF(
            12,
            HEADER_HEIGHT + BODY_PADDING,
            width - 24,
            ROW_HEIGHT if named else body - 2 * BODY_PADDING,
        ),
        named=named,
    )


_FLAGS = (
    QGraphicsItem.GraphicsItemFlag.ItemIsSelectable | QGraphicsItem.GraphicsItemFlag.ItemIsFocusable
)


class NodeItem(QGraphicsItem):
    """A node of the canvas, identified by ``node_id``."""

    def __init__(self, node_id: str, visual: NodeVisual, style: CanvasStyle) -> None:
        super().__init__()
        self.node_id = node_id
        self.style = style
        self.problems: list[str] = []
        #: why the node's credential cannot be used (no secret stored); "" when fine
        self.credential_warning = ""
        #: why the node's tool source cannot be used (an MCP server failed); "" when fine
        self.source_warning = ""
        self.status: tuple[str, str] | None = None
        #: the run status comes from an earlier run (drawn faded)
        self.stale = False
        self.status_tip = ""
        #: spinner angle of a running node (degrees)
        self.spin = 0.0
        self.port_states: dict[tuple[str, bool], int] = {}
        self.connected: set[tuple[str, bool]] = set()
        self.setFlags(_FLAGS)
        # Painted text and ports are cached as a pixmap at the current zoom:
        # panning and dragging then blit instead of calling Python per frame.
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self._geo = geometry_of(visual)
        self.visual = visual
        self._texts: tuple[str, str] | None = None
        self._status_text: str | None = None

    # ------------------------------------------------------------ geometry
    def set_visual(self, visual: NodeVisual) -> None:
        geometry = geometry_of(visual)
        if geometry is not self._geo:
            self.prepareGeometryChange()
            self._geo = geometry
        self.visual = visual
        self._texts = None
        self._update_tooltip()
        self.update()

    def _elided(self) -> tuple[str, str]:
        """Title and summary elided to fit; computed at first paint, not per build."""
        if self._texts is None:
            s = self.style
            # right of the title: a margin, and room for each badge shown
            reserve = 8 + 18 * (
                bool(self.problems)
                + bool(self.status)
                + bool(self.visual.pinned)
                + bool(self.credential_warning)
                + bool(self.source_warning)
            )
            self._texts = (
                s.title_metrics.elidedText(
                    self.visual.title,
                    Qt.TextElideMode.ElideRight,
                    self._geo.rect.width() - 32 - reserve,
                ),
                s.text_metrics.elidedText(
                    self.visual.subtitle, Qt.TextElideMode.ElideRight, self._geo.summary.width()
                ),
            )
        return self._texts

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        return self._geo.bounds

    def shape(self) -> QPainterPath:
        return self._geo.shape

    @property
    def size(self) -> tuple[float, float]:
        return self._geo.rect.width(), self._geo.rect.height()

    def scene_rect(self) -> QRectF:
        return self._geo.rect.translated(self.pos())

    def port_scene_pos(self, name: str, is_output: bool) -> QPointF:
        return self.pos() + port_offset(self._geo, name, is_output)

    def port_at(self, scene_pos: QPointF) -> tuple[str, bool] | None:
        """The port under ``scene_pos`` (a generous radius: ports are small)."""
        local = scene_pos - self.pos()
        best, best_d = None, PORT_HIT_RADIUS**2
        for key, center in self._geo.ports.items():
            d = (center.x() - local.x()) ** 2 + (center.y() - local.y()) ** 2
            if d <= best_d:
                best, best_d = key, d
        return best

    # -------------------------------------------------------------- state
    def set_problems(self, problems: list[str]) -> None:
        if problems != self.problems:
            self.problems = problems
            self._texts = None
            self._update_tooltip()
            self.update()

    def set_credential_warning(self, text: str) -> None:
        """Badge the node when its credential has no secret (``text`` says which
        and how to set it; "" clears the badge)."""
        if text != self.credential_warning:
            self.credential_warning = text
            self._texts = None
            self._update_tooltip()
            self.update()

    def set_source_warning(self, text: str) -> None:
        """Badge the node when its tool source failed (``text``: the reason;
        "" clears the badge)."""
        if text != self.source_warning:
            self.source_warning = text
            self._texts = None
            self._update_tooltip()
            self.update()

    def set_status(
        self, status: str | None, text: str = "", tip: str = "", stale: bool = False
    ) -> None:
        """Run status (``succeeded``, ``failed``, ``running``…): a glyph in the
        header and ``text`` under the node ("12 ms", "retry 2/3 in 1.2 s")."""
        new = (status, text) if status else None
        if new == self.status and stale == self.stale and tip == self.status_tip:
            return
        if (new is None) != (self.status is None):
            self._texts = None  # the title's room changes
        self.status = new
        self.stale = stale
        self.status_tip = tip
        self._status_text = None
        self._update_tooltip()
        self.update()

    def _update_tooltip(self) -> None:
        lines = [f"• {p}" for p in self.problems]
        if self.credential_warning:
            lines.insert(0, self.credential_warning)
        if self.source_warning:
            lines.insert(0, self.source_warning)
        if self.status is not None:
            head = self.status_tip or self.status[0].capitalize()
            detail = f": {self.status[1]}" if self.status[1] and not self.status_tip else ""
            lines.insert(0, head + detail)
        if self.visual.pinned:
            lines.insert(0, "Pinned output: the node is not run, its pinned value is used")
        self.setToolTip("\n".join(lines))

    def set_port_states(self, states: dict[tuple[str, bool], int]) -> None:
        if states != self.port_states:
            self.port_states = states
            self.update()

    def set_port_state(self, port: tuple[str, bool], state: int) -> None:
        """One port's highlight state (0: none)."""
        states = dict(self.port_states)
        if state:
            states[port] = state
        else:
            states.pop(port, None)
        self.set_port_states(states)

    def set_connected(self, connected: set[tuple[str, bool]]) -> None:
        if connected != self.connected:
            self.connected = connected
            self.update()

    # -------------------------------------------------------------- paint
    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        s, v = self.style, self.visual
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        if v.disabled:
            painter.setOpacity(0.55)
        geo = self._geo
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(s.body)
        painter.drawPath(geo.body)
        painter.setBrush(v.color)
        painter.drawPath(geo.header)
        selected = self.isSelected()
        painter.setBrush(Qt.BrushStyle.NoBrush)
        status = self.status[0] if self.status and not self.stale else None
        painter.setPen(
            s.selected_pen
            if selected
            else s.problem_pen
            if self.problems
            else s.status_pens.get(status, s.border_pen)
            if status
            else s.border_pen
        )
        painter.drawPath(geo.body)
        if lod >= TEXT_ZOOM:
            self._paint_text(painter, lod)
            if self.status:
                if self._status_text is None:
                    self._status_text = s.small_metrics.elidedText(
                        self.status[1], Qt.TextElideMode.ElideRight, geo.rect.width() - 28
                    )
                paint_status_line(
                    painter,
                    s,
                    self.status[0],
                    self._status_text,
                    geo.rect.bottom(),
                    self.stale,
                    geo.rect.width(),
                )
        self._paint_ports(painter, lod)
        if v.disabled:
            painter.setOpacity(1.0)  # the view does not save painter state per item

    def _paint_text(self, painter: QPainter, lod: float) -> None:
        s, v, geo = self.style, self.visual, self._geo
        title, subtitle = self._elided()
        dpr = max(1.0, min(4.0, lod * painter.device().devicePixelRatioF()))
        painter.drawPixmap(QPointF(9, 7), icon_pixmap(v.icon, 16, "#ffffff", round(dpr * 2) / 2))
        painter.setFont(s.title_font)
        painter.setPen(s.header_text)
        painter.drawText(
            QRectF(32, 0, geo.rect.width() - 40, HEADER_HEIGHT),
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
            title,
        )
        x = geo.rect.width() - 10
        if self.status:
            x -= 16
            paint_status_glyph(
                painter, s, self.status[0], QRectF(x, 8, 14, 14), self.spin, self.stale
            )
        if v.pinned:
            x -= 18
            painter.drawPixmap(QPointF(x, 7), pin_glyph(round(dpr * 2) / 2))
        if self.problems:
            x -= 20
            painter.drawPixmap(
                QPointF(x, 7), icon_pixmap("warning", 16, "#ffd54f", round(dpr * 2) / 2)
            )
        if self.credential_warning:
            x -= 20
            painter.drawPixmap(QPointF(x, 7), icon_pixmap("key", 16, "#ffb74d", round(dpr * 2) / 2))
        if self.source_warning:
            x -= 20
            painter.drawPixmap(
                QPointF(x, 7), icon_pixmap("warning", 16, "#ff8a65", round(dpr * 2) / 2)
            )
        painter.setFont(s.text_font)
        painter.setPen(s.problem if v.placeholder else s.muted)
        align = Qt.AlignmentFlag.AlignVCenter | (
            Qt.AlignmentFlag.AlignLeft if geo.named else Qt.AlignmentFlag.AlignHCenter
        )
        painter.drawText(geo.summary, align, subtitle)
        if geo.named:
            painter.setPen(s.text)
            for (name, is_output), center in geo.ports.items():
                rect = QRectF(
                    center.x() - 90 if is_output else 12,
                    center.y() - ROW_HEIGHT / 2,
                    78,
                    ROW_HEIGHT,
                )
                flag = Qt.AlignmentFlag.AlignRight if is_output else Qt.AlignmentFlag.AlignLeft
                painter.drawText(rect, Qt.AlignmentFlag.AlignVCenter | flag, name)

    def _paint_ports(self, painter: QPainter, lod: float) -> None:
        s = self.style
        states = self.port_states
        painter.setPen(s.port_pen)
        undeclared = (
            {
                (p.name, p.is_output)
                for p in (*self.visual.inputs, *self.visual.outputs)
                if not p.declared
            }
            if self._geo.named
            else ()
        )
        for key, center in self._geo.ports.items():
            state = states.get(key, 0)
            radius = PORT_RADIUS
            if state == PORT_OK:
                painter.setPen(s.highlight_pen)
                painter.setBrush(s.accent)
                radius += 1.5
            elif state == PORT_REFUSED:
                painter.setPen(s.port_pen)
                painter.setBrush(QBrush(s.muted.darker(160)))
            elif state == PORT_DENIED:
                radius += 1.5
                painter.setPen(QPen(s.problem, 2.0))
                painter.setBrush(s.body)
                painter.drawEllipse(center, radius, radius)
                d = radius * 0.55
                painter.drawLine(center + QPointF(-d, -d), center + QPointF(d, d))
                painter.drawLine(center + QPointF(-d, d), center + QPointF(d, -d))
                continue
            else:
                painter.setPen(s.port_pen)
                color = s.problem if key in undeclared else s.port
                painter.setBrush(color if key in self.connected else s.body)
                if key not in self.connected:
                    painter.setPen(QPen(color, 1.6))
            painter.drawEllipse(center, radius, radius)
