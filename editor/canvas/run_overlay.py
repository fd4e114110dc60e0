"""``RunOverlay``: draws the run shown (live or stored) on the canvas — each
node's status glyph and status line, the edges that carried data, and status
colours in the overview and minimap. It follows a ``RunState``'s batched
changes (one per frame), touching only the nodes that changed; a ticker
animates spinners and counts down retries while something runs. While the
view shows the overview (low zoom: no item is drawn), only the overview's
colours follow the run; items catch up when the view zooms in again. Zoomed
in, a big batch updates only the items on screen (and a margin); the others
catch up when the view pans to them (``catch_up``).
May import: PySide6, editor.canvas, editor.run.run_state.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from flowdesk.editor.canvas.scene import CanvasScene
from flowdesk.editor.run.run_state import RETRYING, RUNNING, RunChange, RunState, badge, tooltip
from PySide6.QtCore import QObject, QRectF, QTimer
from PySide6.QtGui import QColor

#: spinner frame interval
TICK_MS = 80
#: batches up to this size are applied whole; bigger ones only where visible
SMALL_BATCH = 200


class RunOverlay(QObject):
    """Keeps the scene's run marks in step with ``state``; see the module docstring."""

    def __init__(
        self,
        scene: CanvasScene,
        parent: QObject | None = None,
        visible: Callable[[], QRectF] | None = None,
    ) -> None:
        super().__init__(parent)
        self.scene = scene
        #: the scene rect on screen (None: treat everything as visible)
        self.visible = visible
        self.state: RunState | None = None
        self._animated: set[str] = set()
        #: nodes whose items are behind the state (updated while zoomed out)
        self._stale_items: set[str] = set()
        self._stale_all = False
        scene.detail_changed.connect(self._detail_changed)
        self._ticker = QTimer(self)
        self._ticker.setInterval(TICK_MS)
        self._ticker.timeout.connect(self._tick)

    def show(self, state: RunState) -> None:
        """Show ``state`` (and follow it) instead of the current one."""
        if self.state is not None:
            self.state.changed.disconnect(self._changed)
        self.state = state
        state.changed.connect(self._changed)
        self.refresh()

    def refresh(self) -> None:
        """Redraw every mark (a new run, another run shown, a new document)."""
        self._animated.clear()
        self._stale_items.clear()
        if not self.scene.detail:
            self._stale_all = True
            self.scene.set_overview_status({}, replace=True)
            if self.state is not None:
                self._apply(self.state.nodes.keys())
            return
        self._stale_all = False
        self.scene.clear_statuses()
        if self.state is None or not self.state.nodes:
            return  # (nothing to mark: every node and edge was just cleared)
        self._apply(self.state.nodes.keys(), all_edges=True)

    def _detail_changed(self, detail: bool) -> None:
        if not detail or self.state is None:
            return
        if self._stale_all:
            self.refresh()
        else:
            self.catch_up()

    def catch_up(self, everything: bool = False) -> None:
        """Bring the items now on screen (or all) up to date with the state."""
        if self.state is None or not self.scene.detail or not self._stale_items:
            return
        if self._stale_all:
            self.refresh()
            return
        stale, self._stale_items = self._stale_items, set()
        self._apply(stale, everywhere=everything)

    def _changed(self, change: RunChange) -> None:
        if change.reset:
            self.refresh()
        elif change.nodes:
            self._apply(change.nodes)

    def _apply(
        self, node_ids: Iterable[str], all_edges: bool = False, everywhere: bool = False
    ) -> None:
        state = self.state
        assert state is not None
        now = time.monotonic()
        scene = self.scene
        colors: dict[str, QColor | None] = {}
        status_colors = scene.canvas_style.status_colors
        if not scene.detail:  # zoomed out: only the overview's colours follow
            self._stale_items.update(self._overview_colors(node_ids, colors))
            scene.set_overview_status(colors)
            return
        ids = all_ids = list(node_ids)
        if len(ids) > SMALL_BATCH and self.visible is not None and not everywhere:
            ids, later = self._split_visible(ids)
            self._stale_items.update(self._overview_colors(later, colors))
        for node_id in ids:
            item = scene.nodes.get(node_id)
            if item is None:
                continue
            run = state.nodes.get(node_id)
            shown = badge(run, now)
            if run is None or shown is None:
                item.set_status(None)
                colors[node_id] = None
                self._animated.discard(node_id)
                continue
            item.set_status(shown[0], shown[1], tooltip(run), run.stale)
            colors[node_id] = None if run.stale else status_colors.get(shown[0])
            if run.status in (RUNNING, RETRYING):
                self._animated.add(node_id)
            else:
                self._animated.discard(node_id)
        scene.set_overview_status(colors)
        # edges of every node of the batch: a wire may cross the screen even
        # when its ends are off it (marking an unchanged edge costs nothing)
        self._mark_edges(scene.edges.keys() if all_edges else self._edges_of(all_ids))
        if self._animated and not self._ticker.isActive():
            self._ticker.start()

    def _overview_colors(
        self, node_ids: Iterable[str], colors: dict[str, QColor | None]
    ) -> dict[str, QColor | None]:
        assert self.state is not None
        nodes = self.state.nodes
        status_colors = self.scene.canvas_style.status_colors
        for node_id in node_ids:
            run = nodes.get(node_id)
            colors[node_id] = None if run is None or run.stale else status_colors.get(run.status)
        return colors

    def _split_visible(self, ids: list[str]) -> tuple[list[str], list[str]]:
        assert self.visible is not None
        area = self.visible().adjusted(-400, -300, 400, 300)
        rects = self.scene.overview.rects
        now: list[str] = []
        later: list[str] = []
        for node_id in ids:
            rect = rects.get(node_id)
            (now if rect is None or rect.intersects(area) else later).append(node_id)
        return now, later

    def _edges_of(self, node_ids: list[str]) -> list[tuple[str, str, str, str]]:
        doc = self.scene.document
        if doc is None:
            return []
        keys = []
        for node_id in node_ids:
            if doc.has_node(node_id):
                keys.extend(doc.edges_from(node_id))
        return keys

    def _mark_edges(self, keys: Iterable[tuple[str, str, str, str]]) -> None:
        state = self.state
        assert state is not None
        for key in keys:
            edge = self.scene.edges.get(key)
            if edge is None:
                continue
            run = state.nodes.get(key[0])
            if run is None or not run.finished:
                edge.set_flow(None)
            else:
                edge.set_flow("carried" if run.carried(key[1]) else "idle")

    def _tick(self) -> None:
        if not self._animated or self.state is None:
            self._ticker.stop()
            return
        now = time.monotonic()
        for node_id in list(self._animated):
            item = self.scene.nodes.get(node_id)
            run = self.state.nodes.get(node_id)
            if item is None or run is None or run.status not in (RUNNING, RETRYING):
                self._animated.discard(node_id)
                continue
            item.spin = (item.spin + 30.0) % 360.0
            shown = badge(run, now)
            if shown is not None:
                item.set_status(shown[0], shown[1], tooltip(run))
            item.update()
