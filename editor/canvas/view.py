"""``CanvasView``: the window onto the scene — wheel zoom around the cursor
(bounded), fit all / selection, middle-drag and Space+drag pan, a dot grid,
the rubber band, and the overview. Mouse gestures are delegated to
``editor.canvas.interactions.Interactions``.

Below ``OVERVIEW_ZOOM`` nothing on a node is legible, so the view shows an
empty scene and draws the canvas scene's overview (a rectangle per node, a
line per edge) in a few batched calls: the cost of a frame no longer grows
with per-item painting, and switching costs nothing per item. Gestures keep
working: they hit-test the canvas scene, not the one on screen.
May import: PySide6, editor.canvas.
"""

from __future__ import annotations

import math
from typing import Protocol

from flowdesk.editor.canvas.minimap import Minimap
from flowdesk.editor.canvas.scene import CanvasScene
from flowdesk.editor.canvas.style import GRID, NODE_WIDTH, OVERVIEW_ZOOM
from PySide6.QtCore import QPointF, QRect, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QRegion,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QFrame, QGraphicsScene, QGraphicsView, QWidget


class Gestures(Protocol):
    """What the view hands its input to first (``editor.canvas.interactions.
    Interactions``, attached by the window): each returns whether it took the
    event. A protocol, so that this module does not import the ones that use it."""

    def key_press(self, event: QKeyEvent) -> bool: ...

    def key_release(self, event: QKeyEvent) -> bool: ...

    def press(self, event: QMouseEvent) -> bool: ...

    def move(self, event: QMouseEvent) -> bool: ...

    def release(self, event: QMouseEvent) -> bool: ...

    def double_click(self, event: QMouseEvent) -> bool: ...

    def drag_enter(self, event: QDragEnterEvent | QDragMoveEvent) -> bool: ...


MIN_ZOOM = 0.02
#: a workflow opens at least this large (node titles read at 80 %)
READABLE_ZOOM = 0.8
MAX_ZOOM = 4.0
WORLD = QRectF(-500_000, -500_000, 1_000_000, 1_000_000)


def _clusters(region: QRegion) -> list[QRegion]:
    """Group a region's rectangles so that each group's bounding rect is not
    much larger than the group itself."""
    groups: list[tuple[QRect, int, QRegion]] = []
    for rect in region:  # type: ignore[attr-defined]  # QRegion iterates its rects
        area = rect.width() * rect.height()
        for i, (bounds, total, part) in enumerate(groups):
            united = bounds.united(rect)
            if united.width() * united.height() <= 1.5 * (total + area):
                groups[i] = (united, total + area, part.united(rect))
                break
        else:
            groups.append((rect, area, QRegion(rect)))
    return [part for _, _, part in groups]


class CanvasView(QGraphicsView):
    """The canvas widget. ``viewport_changed`` fires after pan or zoom."""

    viewport_changed = Signal()
    zoom_changed = Signal(float)

    def __init__(self, scene: CanvasScene, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # The view's scene rect first: set before the scene, the scene never
        # has to measure all its items just to size the scroll range.
        self.setSceneRect(WORLD)
        self._canvas = scene
        self._blank = QGraphicsScene(self)
        self.setObjectName("canvasView")
        self.setAccessibleName("Canvas")
        self.setFrameShape(QFrame.Shape.NoFrame)
        self._emit_timer = QTimer(self)
        self._emit_timer.setSingleShot(True)
        self._emit_timer.setInterval(30)
        self._emit_timer.timeout.connect(self.viewport_changed.emit)
        self.minimap = Minimap(self)
        self._minimap_drag = False
        self._minimap_dirty = QRect()
        self._minimap_timer = QTimer(self)
        self._minimap_timer.setSingleShot(True)
        self._minimap_timer.setInterval(0)
        self._minimap_timer.timeout.connect(self._repaint_minimap)
        self._was_empty = True
        scene.overview_changed.connect(self._overview_changed)
        #: builds the items a big document left for after the first paint
        self._complete_timer = QTimer(self)
        self._complete_timer.setSingleShot(True)
        self._complete_timer.setInterval(0)
        self._complete_timer.timeout.connect(scene.complete)
        self.setRenderHints(
            QPainter.RenderHint.Antialiasing
            | QPainter.RenderHint.TextAntialiasing
            | QPainter.RenderHint.SmoothPixmapTransform
        )
        # The view's scene rect (WORLD), not the scene's: the BSP index stays
        # sized to the items while the user may still pan far beyond them.
        self.setScene(scene)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        # No background cache: the dot grid is cheap to draw for the exposed
        # strips, and a cached background costs a full-viewport blit per pass.
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheNone)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontSavePainterState, True)
        self.setMouseTracking(True)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.interactions: Gestures | None = None
        self.rubber_band: QRectF | None = None
        self.space_down = False
        #: the user panned or zoomed since the document was shown
        self.user_moved = False
        #: a new view is being set (``_show_at``): the minimap follows at its end
        self._moving = False

    def canvas(self) -> CanvasScene:
        """The scene being edited (also while the overview is on screen)."""
        return self._canvas

    def _overview_changed(self) -> None:
        self.minimap.schedule()
        empty = self._canvas.is_empty()
        if empty != self._was_empty:
            # The "empty workflow" hint is painted over the whole viewport: the
            # first node (or the last one deleted) repaints all of it, not
            # only the node's area.
            self._was_empty = empty
            self.viewport().update()
        elif not self._canvas.detail:
            self.viewport().update()

    def _set_overview(self, on: bool) -> None:
        if on == (not self._canvas.detail):
            return
        center = self.center_scene()
        self._canvas.detail = not on
        self._canvas.detail_changed.emit(not on)
        self.setScene(self._blank if on else self._canvas)
        self.centerOn(center)
        self.viewport().update()

    # ------------------------------------------------------------- zoom
    @property
    def zoom(self) -> float:
        return self.transform().m11()

    def set_zoom(self, zoom: float, anchor_under_mouse: bool = False) -> None:
        zoom = max(MIN_ZOOM, min(MAX_ZOOM, zoom))
        factor = zoom / self.zoom
        if abs(factor - 1.0) < 1e-9:
            return
        if not anchor_under_mouse:
            self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.scale(factor, factor)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self._after_transform()

    def zoom_in(self) -> None:
        self.set_zoom(self.zoom * 1.25)

    def zoom_out(self) -> None:
        self.set_zoom(self.zoom / 1.25)

    def _fit_zoom(self, rect: QRectF, max_zoom: float, margin: float) -> tuple[QRectF, float]:
        """The rect ``fit_rect`` shows and its zoom."""
        if rect.isNull() or rect.isEmpty():
            rect = QRectF(-200, -150, 400, 300)
        area = self.viewport().rect()
        width = max(area.width() - 2 * margin, 50)
        height = max(area.height() - 2 * margin, 50)
        return rect, max(MIN_ZOOM, min(width / rect.width(), height / rect.height(), max_zoom))

    def fit_rect(self, rect: QRectF, max_zoom: float = 1.0, margin: float = 48.0) -> None:
        """Show ``rect`` whole with ``margin`` view pixels around it, never
        zoomed in beyond ``max_zoom``."""
        rect, zoom = self._fit_zoom(rect, max_zoom, margin)
        self._show_at(zoom, rect.center())

    def _show_at(self, zoom: float, center: QPointF) -> None:
        """A new view: ``zoom`` around ``center``; the minimap placed once,
        at the end (not at every scroll step on the way)."""
        self._moving = True
        try:
            self.resetTransform()
            self.scale(zoom, zoom)
            self.centerOn(center)
        finally:
            self._moving = False
        self._after_transform()
        self.minimap.reset_corner()

    def fit_all(self) -> None:
        self.fit_rect(self.canvas().items_rect())

    def open_view(self, readable: float = READABLE_ZOOM, margin: float = 48.0) -> None:
        """How a workflow opens: everything fitted, unless that is too small to
        read — then its start (the left-most nodes) at a readable zoom."""
        rect = self.canvas().items_rect()
        if rect.isNull() or self._fit_zoom(rect, 1.0, margin)[1] >= readable:
            self.fit_rect(rect, margin=margin)
            return
        area = self.viewport().rect()
        seen_w, seen_h = area.width() / readable, area.height() / readable
        pad = margin / readable
        start = QRectF()
        for node_rect in self.canvas().overview.rects.values():
            if node_rect.left() <= rect.left() + 1.5 * NODE_WIDTH:
                start = start.united(node_rect)
        x = rect.left() - pad + seen_w / 2
        if rect.height() + 2 * pad <= seen_h or start.isNull():
            y = rect.center().y()
        else:  # taller than the view: the start's rows, not above the top
            y = max(start.center().y(), rect.top() - pad + seen_h / 2)
        self._show_at(readable, QPointF(x, y))

    def keep_in_view(self, rect: QRectF, margin: float = 32.0) -> None:
        """Scroll the least that shows ``rect`` whole, ``margin`` pixels from
        the edges and not under the minimap; zoom out (never in) only when it
        cannot fit at the current zoom."""
        if rect.isNull() or rect.isEmpty():
            return
        area = QRectF(self.viewport().rect()).adjusted(margin, margin, -margin, -margin)
        if rect.width() * self.zoom > area.width() or rect.height() * self.zoom > area.height():
            fit = min(area.width() / rect.width(), area.height() / rect.height())
            self.set_zoom(max(MIN_ZOOM, fit))
        self._scroll_into(rect, area)
        self.minimap.sync()
        corner = QRectF(self.minimap.rect())
        shown = QRectF(self.mapFromScene(rect).boundingRect())
        if not corner.isNull() and shown.intersects(corner.adjusted(-8, -8, 8, 8)):
            # (every corner covers a node) beside the minimap if there is room
            clear = QRectF(area)
            if self.minimap.corner.startswith("bottom"):
                clear.setBottom(corner.top() - 8)
            else:
                clear.setTop(corner.bottom() + 8)
            if shown.height() <= clear.height():
                self._scroll_into(rect, clear)
                self.minimap.sync()

    def _scroll_into(self, rect: QRectF, area: QRectF) -> None:
        shown = QRectF(self.mapFromScene(rect).boundingRect())
        dx = dy = 0.0
        if shown.left() < area.left():
            dx = shown.left() - area.left()
        elif shown.right() > area.right():
            dx = shown.right() - area.right()
        if shown.top() < area.top():
            dy = shown.top() - area.top()
        elif shown.bottom() > area.bottom():
            dy = shown.bottom() - area.bottom()
        if dx or dy:
            zoom = self.zoom
            self.centerOn(self.center_scene() + QPointF(dx / zoom, dy / zoom))
            self._after_transform()

    def fit_selection(self) -> None:
        scene = self.canvas()
        rect = QRectF()
        for item in scene.selectedItems():
            rect = rect.united(item.sceneBoundingRect())
        if rect.isNull():
            self.fit_all()
        else:
            self.fit_rect(rect, max_zoom=1.5)

    def visible_rect(self) -> QRectF:
        """The part of the scene on screen."""
        return self.mapToScene(self.viewport().rect()).boundingRect()

    def center_scene(self) -> QPointF:
        return self.mapToScene(self.viewport().rect().center())

    def viewport_state(self) -> dict[str, float]:
        """What ``ui.viewport`` stores: the centre and the zoom."""
        c = self.center_scene()
        return {"x": round(c.x(), 1), "y": round(c.y(), 1), "zoom": round(self.zoom, 4)}

    def restore_viewport(self, state: object) -> bool:
        if not isinstance(state, dict):
            return False
        try:
            x, y, zoom = float(state["x"]), float(state["y"]), float(state["zoom"])
        except (KeyError, TypeError, ValueError):
            return False
        if not all(math.isfinite(v) for v in (x, y, zoom)) or zoom <= 0:
            return False
        self._show_at(max(MIN_ZOOM, min(MAX_ZOOM, zoom)), QPointF(x, y))
        return True

    def _after_transform(self) -> None:
        self._set_overview(self.zoom < OVERVIEW_ZOOM)
        self.zoom_changed.emit(self.zoom)
        self._emit_timer.start()
        self.minimap.sync()
        self.minimap.update()

    def scrollContentsBy(self, dx: int, dy: int) -> None:  # noqa: N802 - Qt override
        if self._moving:
            super().scrollContentsBy(dx, dy)
            return
        rect = self.minimap.rect()
        super().scrollContentsBy(dx, dy)
        self._emit_timer.start()
        if not rect.isNull():
            self._minimap_dirty = self._minimap_dirty.united(rect.united(rect.translated(dx, dy)))
            if not self._minimap_timer.isActive():
                self._minimap_timer.start()
        self.minimap.sync()

    def minimap_dragging(self) -> bool:
        return self._minimap_drag

    def _repaint_minimap(self) -> None:
        """The blit moved the minimap's pixels too: repaint it and the sliver of
        canvas its old pixels landed on, in a paint of its own. Folded into the
        exposed strip's paint, the update region would have several rectangles,
        and Qt draws everything in that paint far slower through such a clip."""
        dirty, self._minimap_dirty = self._minimap_dirty, QRect()
        if not dirty.isNull():
            self.viewport().repaint(dirty)

    def pan_by(self, dx: float, dy: float) -> None:
        """Pan by a distance in viewport pixels."""
        h, v = self.horizontalScrollBar(), self.verticalScrollBar()
        h.setValue(h.value() + round(dx))
        v.setValue(v.value() + round(dy))

    # ------------------------------------------------------------- events
    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt override
        delta = event.angleDelta().y() or event.pixelDelta().y()
        if not delta:
            return
        self.user_moved = True
        self.set_zoom(self.zoom * math.pow(1.0015, delta), anchor_under_mouse=True)
        event.accept()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self.minimap.sync()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        canvas = self._canvas
        if canvas.pending:
            # A big document opening: its items on screen now, the others
            # right after this paint.
            if canvas.detail:
                canvas.build_in(self.mapToScene(event.rect()).boundingRect())
            if not self._complete_timer.isActive():  # (not put off by every paint)
                self._complete_timer.start()
        rect = self.minimap.rect()
        if rect.isNull():
            super().paintEvent(event)
            return
        region = event.region()
        rest = region.subtracted(QRegion(rect))  # the opaque minimap hides what is under it
        # QGraphicsView draws every item under the region's *bounding* rect: a
        # pan strip on the left plus the sliver beside the minimap on the right
        # would repaint the whole width. Paint far-apart parts separately.
        for part in _clusters(rest):
            super().paintEvent(QPaintEvent(part))
        if region.intersects(rect):
            painter = QPainter(self.viewport())
            self.minimap.paint(painter)
            painter.end()

    def focusNextPrevChild(self, next: bool) -> bool:  # noqa: N802 - Qt override
        return False  # Tab opens quick-add instead of moving focus

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        if self.interactions is not None and self.interactions.key_press(event):
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        if self.interactions is not None and self.interactions.key_release(event):
            return
        super().keyReleaseEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if event.button() == Qt.MouseButton.LeftButton and self.minimap.contains(event.position()):
            self._minimap_drag = True
            self.minimap.jump(event.position())
            return
        if self.interactions is not None and self.interactions.press(event):
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if self._minimap_drag:
            self.minimap.jump(event.position())
            return
        if self.interactions is not None and self.interactions.move(event):
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if self._minimap_drag:
            self._minimap_drag = False
            return
        if self.interactions is not None and self.interactions.release(event):
            return
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if self.interactions is not None and self.interactions.double_click(event):
            return
        super().mouseDoubleClickEvent(event)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        if self.interactions is not None and self.interactions.drag_enter(event):
            return
        event.ignore()  # e.g. files: the window opens them

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:  # noqa: N802 - Qt override
        if self.interactions is not None and self.interactions.drag_enter(event):
            return
        event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        if self.interactions is not None and self.interactions.drop(event):
            return
        event.ignore()

    # ------------------------------------------------------------ painting
    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:  # type: ignore[override]  # noqa: N802
        style = self.canvas().canvas_style
        painter.fillRect(rect, style.canvas)
        zoom = self.zoom
        step = GRID
        while step * zoom < 9:
            step *= 5
        major = step * 5
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        for spacing, color, width in (
            (step, style.grid, 1.5),
            (major, style.grid.lighter(125), 2.5),
        ):
            if spacing == step and step * zoom < 14:
                color = QColor(color)
                color.setAlphaF(0.6)
            # Each row of dots is one dotted line (a dash pattern of dots one
            # grid step apart): a few dozen calls per frame instead of building
            # thousands of points in Python.
            pen = QPen(color, width)
            pen.setCosmetic(True)
            pen.setCapStyle(Qt.PenCapStyle.SquareCap)
            pen.setDashPattern([0.001, spacing * zoom / width - 0.001])
            painter.setPen(pen)
            left = math.floor(rect.left() / spacing) * spacing
            top = math.floor(rect.top() / spacing) * spacing
            right = rect.right() + spacing
            y = top
            while y <= rect.bottom() + spacing:
                painter.drawLine(QPointF(left, y), QPointF(right, y))
                y += spacing
        painter.restore()

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:  # type: ignore[override]  # noqa: N802
        scene = self.canvas()
        if not scene.detail:
            self._draw_overview(painter, rect)
        if scene.is_empty():
            self._draw_empty_hint(painter)
        if self.rubber_band is not None:
            style = scene.canvas_style
            color = QColor(style.accent)
            color.setAlpha(40)
            pen = QPen(style.accent, 1)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.setBrush(color)
            painter.drawRect(self.rubber_band)

    def _draw_empty_hint(self, painter: QPainter) -> None:
        """A blank canvas says how to start."""
        style = self.canvas().canvas_style
        painter.save()
        painter.resetTransform()
        area = QRectF(self.viewport().rect())
        font = painter.font()
        font.setPointSizeF(13)
        painter.setFont(font)
        painter.setPen(style.muted)
        painter.drawText(
            area.adjusted(0, -24, 0, -24), Qt.AlignmentFlag.AlignCenter, "An empty workflow"
        )
        font.setPointSizeF(10)
        painter.setFont(font)
        painter.drawText(
            area.adjusted(0, 16, 0, 16),
            Qt.AlignmentFlag.AlignCenter,
            "Drag a node from the palette, or press Tab or double-click here to add one.",
        )
        painter.restore()

    def _draw_overview(self, painter: QPainter, rect: QRectF) -> None:
        """Every node as a rectangle and every edge as a line, in a few calls:
        at this zoom nothing else would be legible anyway."""
        scene = self.canvas()
        ov = scene.overview
        style = scene.canvas_style
        painter.save()
        ov.paint(painter, style)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for ids, color in ((ov.problems, style.problem), (ov.selected, style.selection)):
            if ids:
                pen = QPen(color, 2)
                pen.setCosmetic(True)
                painter.setPen(pen)
                painter.drawRects(ov.rects_of(ids))
        painter.restore()
