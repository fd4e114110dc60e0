"""``Minimap``: the whole graph in the bottom-right corner of the canvas, with
the visible area outlined; click or drag in it to move there.

It is painted by the view into its own viewport, not a child widget: a widget
on top of the viewport stops Qt from scrolling the viewport by blitting, which
made every pan frame a full repaint. It draws the scene's overview (rectangles
and lines), never the items, and keeps that in a pixmap: panning only moves
the frame, and graph changes redraw it at most a dozen times a second.
May import: PySide6, editor.canvas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import QPointF, QRect, QRectF, QTimer
from PySide6.QtGui import QColor, QPainter, QPen, QPixmap, QTransform

if TYPE_CHECKING:
    from flowdesk.editor.canvas.scene import CanvasScene


class MinimapHost(Protocol):
    """The view a minimap sits on (``editor.canvas.view.CanvasView``, which
    creates it: a protocol, so that this module does not import it back)."""

    user_moved: bool

    def canvas(self) -> CanvasScene: ...

    def minimap_dragging(self) -> bool: ...

    def viewport(self) -> Any: ...

    def centerOn(self, pos: QPointF) -> None: ...  # noqa: N802 - Qt's name

    def mapToScene(self, *args: Any) -> Any: ...  # noqa: N802 - Qt's name


SIZE = (210, 132)
CORNERS = ("bottom-right", "bottom-left", "top-right", "top-left")
MARGIN = 12
#: viewport pixels under a node that its status line may take
STATUS_LINE = 18
INSET = 8


class Minimap:
    def __init__(self, view: MinimapHost) -> None:
        self.view = view
        #: the user's choice (View ▸ Minimap)
        self.visible = True
        #: shown right now: only while part of the graph is out of view
        self.shown = False
        #: the corner it sits in (``CORNERS``): bottom-right, or the first one
        #: that covers no node when a node would be under it
        self.corner = CORNERS[0]
        self._to_scene = QTransform()
        self._to_widget = QTransform()
        self._cache: QPixmap | None = None
        self._cache_world = QRectF()
        self._timer = QTimer(view)
        self._timer.setSingleShot(True)
        self._timer.setInterval(80)
        self._timer.timeout.connect(self.invalidate)

    def rect(self) -> QRect:
        """Where it sits, in viewport coordinates (empty when hidden)."""
        if not self.shown:
            return QRect()
        return self._place()

    def _place(self, corner: str = "") -> QRect:
        area = self.view.viewport().rect()
        where = corner or self.corner
        left = (
            area.left() + MARGIN if where.endswith("left") else area.right() - SIZE[0] - MARGIN + 1
        )
        top = (
            area.top() + MARGIN if where.startswith("top") else area.bottom() - SIZE[1] - MARGIN + 1
        )
        return QRect(left, top, *SIZE)

    def covers_node(self, corner: str = "") -> bool:
        """Whether a node lies (partly) under the minimap in ``corner`` — or
        the status line drawn just under a node (its time, "skipped")."""
        place = self._place(corner).adjusted(-4, -4 - STATUS_LINE, 4, 4)
        scene_rect = self.view.mapToScene(place).boundingRect()
        return self.view.canvas().node_in(scene_rect)

    def reset_corner(self) -> None:
        """A new view (opened, fitted): back to the bottom-right corner unless
        it covers a node. (While panning the corner only changes to uncover one.)"""
        if self.corner != CORNERS[0] and not self.covers_node(CORNERS[0]):
            self.view.viewport().update(self._place())
            self.corner = CORNERS[0]
        self.sync()

    def _choose_corner(self) -> None:
        """Never cover a node while a corner is clear (bottom ones first)."""
        if self.view.minimap_dragging() or not self.covers_node():
            return
        for corner in CORNERS:
            if corner != self.corner and not self.covers_node(corner):
                self.view.viewport().update(self._place())
                self.corner = corner
                self.view.viewport().update(self._place())
                return

    def sync(self) -> None:
        """Show it while part of the graph is out of view: a minimap of a graph
        that is all on screen would only hide some of it."""
        bounds = self.view.canvas().overview.bounds()
        wanted = self.visible and not bounds.isNull() and not self._visible_scene().contains(bounds)
        if wanted:
            self._choose_corner()
        if wanted != self.shown:
            self.shown = wanted
            self.view.viewport().update(self._place())

    def contains(self, pos: QPointF) -> bool:
        return self.rect().contains(pos.toPoint())

    def set_visible(self, visible: bool) -> None:
        self.visible = visible
        self.sync()

    def update(self) -> None:
        rect = self.rect()
        if not rect.isNull():
            self.view.viewport().update(rect)

    def schedule(self) -> None:
        """The graph changed: redraw soon (coalescing bursts such as drags)."""
        if not self._timer.isActive():
            self._timer.start()

    def invalidate(self) -> None:
        self._cache = None
        self.sync()
        self.update()

    def _visible_scene(self) -> QRectF:
        return self.view.mapToScene(self.view.viewport().rect()).boundingRect()

    def _world(self) -> QRectF:
        bounds = self.view.canvas().overview.bounds()
        visible = self._visible_scene()
        if bounds.isNull():
            return visible
        return bounds.adjusted(-80, -80, 80, 80).united(visible)

    def _render(self, world: QRectF, dpr: float) -> None:
        scene = self.view.canvas()
        style = scene.canvas_style
        pixmap = QPixmap(round(SIZE[0] * dpr), round(SIZE[1] * dpr))
        pixmap.setDevicePixelRatio(dpr)
        pixmap.fill(style.canvas)  # opaque: nothing under it needs painting
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(style.border, 1))
        painter.setBrush(style.body)
        painter.drawRoundedRect(QRectF(0.5, 0.5, SIZE[0] - 1, SIZE[1] - 1), 7, 7)
        inner = QRectF(INSET, INSET, SIZE[0] - 2 * INSET, SIZE[1] - 2 * INSET)
        scale = min(inner.width() / world.width(), inner.height() / world.height())
        dx = inner.left() + (inner.width() - world.width() * scale) / 2 - world.left() * scale
        dy = inner.top() + (inner.height() - world.height() * scale) / 2 - world.top() * scale
        self._to_widget = QTransform(scale, 0, 0, scale, dx, dy)
        self._to_scene, _ = self._to_widget.inverted()
        painter.setClipRect(inner.adjusted(-4, -4, 4, 4))
        painter.setTransform(self._to_widget)
        ov = scene.overview
        ov.paint(painter, style)
        if ov.selected:
            painter.setBrush(style.selection)
            painter.drawRects(ov.rects_of(ov.selected))
        painter.end()
        self._cache = pixmap
        self._cache_world = world

    def paint(self, painter: QPainter) -> None:
        """Draw into the viewport (device coordinates)."""
        rect = self.rect()
        if rect.isNull():
            return
        world = self._world()
        if self._cache is None or world != self._cache_world:
            self._render(world, painter.device().devicePixelRatioF())
        assert self._cache is not None
        painter.save()
        painter.resetTransform()
        painter.translate(rect.topLeft())
        painter.drawPixmap(0, 0, self._cache)
        painter.setClipRect(
            QRectF(INSET - 4, INSET - 4, SIZE[0] - 2 * INSET + 8, SIZE[1] - 2 * INSET + 8)
        )
        painter.setTransform(self._to_widget, combine=True)
        style = self.view.canvas().canvas_style
        pen = QPen(style.accent, 1.5)
        pen.setCosmetic(True)
        painter.setPen(pen)
        fill = QColor(style.accent)
        fill.setAlpha(28)
        painter.setBrush(fill)
        painter.drawRect(self._visible_scene())
        painter.restore()

    def jump(self, pos: QPointF) -> None:
        """Centre the view on the scene point under ``pos`` (viewport coordinates)."""
        local = pos - QPointF(self.rect().topLeft())
        self.view.centerOn(self._to_scene.map(local))
        self.view.user_moved = True
