"""``CanvasScene``: mirrors the ``Document`` as graphics items and never
changes it. It builds items on ``set_document`` and then follows the document's
events (node/edge/note added, removed, moved, changed, renamed).

It also keeps the *overview* — every node as a rectangle, every edge as a line —
which the view draws in one batch below a zoom threshold instead of painting
thousands of items, and which the minimap draws too.

A big document is shown in two steps: ``set_document`` computes every node's
place and look (the overview is complete at once), the view builds the items
of what it is about to paint (``build_in``), and the rest are built right after
that first paint (``complete``). Whatever asks for the items before then —
``nodes``, ``edges``, a document edit, a selection — completes the build first,
so nobody ever sees a partial scene.
May import: PySide6, editor.document, editor.canvas, editor.theme, engine (public API).
"""

from __future__ import annotations

import logging
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from operator import itemgetter
from typing import Any

from flowdesk.editor.canvas.items.edge_item import EdgeItem, reach
from flowdesk.editor.canvas.items.node_item import (
    NodeItem,
    NodeVisual,
    geometry_of,
    port_offset,
)
from flowdesk.editor.canvas.items.note_item import NoteItem
from flowdesk.editor.canvas.style import NODE_WIDTH, CanvasStyle
from flowdesk.editor.document import Document
from flowdesk.editor.document.events import (
    DocumentEvent,
    EdgeAdded,
    EdgeKey,
    EdgeRemoved,
    NodeAdded,
    NodeChanged,
    NodeRemoved,
    NodeRenamed,
    NodesMoved,
    NoteAdded,
    NoteChanged,
    NoteRemoved,
)
from flowdesk.editor.document.layout import layered_layout
from flowdesk.editor.text import plural
from flowdesk.editor.theme import PLACEHOLDER_COLOR, Theme, category_color, icon_name
from flowdesk.engine import Node, NodeType, paused_gc
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QGraphicsScene

log = logging.getLogger(__name__)

#: documents with more nodes than this build the items off screen after the
#: first paint (``CanvasScene.complete``); smaller ones build all at once
DEFER_NODES = 300
#: items this far (scene units) outside the painted area are built with it
BUILD_MARGIN = 160.0
#: nodes (and edges, below them) are stacked by a tiny step of their z value
#: in the order they were added — the document's order for a document opened —
#: whichever were built first
STACK_STEP = 1e-7


def summarize(node: Node, node_type: type[NodeType] | None) -> str:
    """The node's one-line summary (the most telling config value)."""
    if node_type is None:
        return f"Missing type {node.type}"
    config = node.config
    for key in ("url", "path", "condition", "model", "value", "mode", "content"):
        if key not in config:
            continue
        value = config[key]
        if key == "url" and isinstance(config.get("method"), str):
            return f"{config['method']} {value}"
        if isinstance(value, dict):
            keys = list(value)
            return "{" + ", ".join(keys[:4]) + (", …" if len(keys) > 4 else "") + "}"
        if isinstance(value, list):
            return f"[{plural(len(value), 'item')}]"
        return f"{key}: {value}" if key == "mode" else str(value).replace("\n", " ")
    return node_type.title or node_type.type_name


_CATEGORY_COLORS: dict[str, QColor] = {}


def _rekey(table: dict[str, Any], old: str, new: str) -> None:
    if old in table:
        table[new] = table.pop(old)


#: a rectangle as (left, top, right, bottom): ``QRectF.getCoords()``
Coords = tuple[float, float, float, float]
_top, _right, _bottom = itemgetter(1), itemgetter(2), itemgetter(3)


class Overview:
    """Rectangles and lines for batched drawing at low zoom and in the minimap."""

    def __init__(self) -> None:
        self.rects: dict[str, QRectF] = {}
        self.colors: dict[str, QColor] = {}
        #: run status colours, drawn over the category colour; kept grouped by
        #: colour as they change, so that a frame of a 10,000-node run does
        #: not regroup every node
        self.status: dict[str, QColor] = {}
        self._status_groups: dict[int, tuple[QColor, set[str]]] = {}
        self.lines: dict[EdgeKey, QLineF] = {}
        self.notes: dict[str, tuple[QRectF, QColor]] = {}
        self.selected: set[str] = set()
        self.problems: set[str] = set()
        self._groups: list[tuple[QColor, list[QRectF]]] | None = None
        self._lines: list[QLineF] | None = None
        self._bounds: QRectF | None = None
        #: the nodes' tops sorted, their (left, top, right, bottom) in that
        #: order, and the tallest node's height: "is a node here?" without a
        #: scan. Rebuilt after each change (a drag: every minimap frame), so
        #: read with ``getCoords`` and sorted by key (10,000 nodes: 4× faster
        #: than four getters a rectangle)
        self._by_top: tuple[list[float], list[Coords], float] | None = None

    def invalidate(self) -> None:
        self._groups = None
        self._lines = None
        self._bounds = None
        self._by_top = None

    def any_in(self, rect: QRectF) -> bool:
        """Whether a node's rectangle overlaps ``rect`` (an area in common,
        as ``QRectF.intersects``)."""
        tops, coords, tallest = self._index()
        left, top, right, bottom = rect.getCoords()
        if right <= left or bottom <= top:
            return False
        # only nodes whose top lies within a node's height above ``rect``'s
        for n_left, n_top, n_right, n_bottom in coords[
            bisect_left(tops, top - tallest) : bisect_right(tops, bottom)
        ]:
            if n_top < bottom and n_bottom > top and n_left < right and n_right > left:
                return True
        return False

    def _index(self) -> tuple[list[float], list[Coords], float]:
        if self._by_top is None:
            coords = sorted((r.getCoords() for r in self.rects.values()), key=_top)
            tallest = max((bottom - top for _, top, _, bottom in coords), default=0.0)
            self._by_top = ([c[1] for c in coords], coords, tallest)
        return self._by_top

    def set_status(self, node_id: str, color: QColor | None) -> None:
        """A node's run status colour (None: its category colour again)."""
        old = self.status.pop(node_id, None)
        if old is not None:
            group = self._status_groups.get(old.rgba())
            if group is not None:
                group[1].discard(node_id)
        if color is not None:
            self.status[node_id] = color
            self._status_groups.setdefault(color.rgba(), (color, set()))[1].add(node_id)

    def clear_status(self) -> None:
        self.status.clear()
        self._status_groups.clear()

    def status_groups(self) -> list[tuple[QColor, list[QRectF]]]:
        rects = self.rects
        return [
            (color, [rects[i] for i in ids if i in rects])
            for color, ids in self._status_groups.values()
            if ids
        ]

    def groups(self) -> list[tuple[QColor, list[QRectF]]]:
        if self._groups is None:
            by_color: dict[int, tuple[QColor, list[QRectF]]] = {}
            # (most nodes share a few colour objects: each one's rgba once)
            by_object: dict[int, tuple[QColor, list[QRectF]]] = {}
            colors = self.colors
            for node_id, rect in self.rects.items():
                color = colors[node_id]
                entry = by_object.get(id(color))
                if entry is None:
                    entry = by_object[id(color)] = by_color.setdefault(color.rgba(), (color, []))
                entry[1].append(rect)
            self._groups = list(by_color.values())
        return self._groups

    def line_list(self) -> list[QLineF]:
        if self._lines is None:
            self._lines = list(self.lines.values())
        return self._lines

    def paint(self, painter: QPainter, style: CanvasStyle) -> None:
        """Notes, then edges as lines, then nodes as rectangles (the canvas at
        low zoom and the minimap share this)."""
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        painter.setPen(Qt.PenStyle.NoPen)
        for rect, color in self.notes.values():
            painter.setBrush(color)
            painter.drawRect(rect)
        pen = QPen(style.edge, 1)
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.drawLines(self.line_list())
        painter.setPen(Qt.PenStyle.NoPen)
        if len(self.status) < len(self.rects):  # else every node has a status colour
            for color, rects in self.groups():
                painter.setBrush(color)
                painter.drawRects(rects)
        for color, rects in self.status_groups():
            painter.setBrush(color)
            painter.drawRects(rects)

    def rects_of(self, ids: set[str]) -> list[QRectF]:
        return [self.rects[i] for i in ids if i in self.rects]

    def bounds(self) -> QRectF:
        if self._bounds is None:
            coords = self._index()[1]  # (sorted by top)
            if coords:
                left, top = min(coords)[0], coords[0][1]
                right, bottom = max(coords, key=_right)[2], max(coords, key=_bottom)[3]
                self._bounds = QRectF(left, top, right - left, bottom - top)
            else:
                self._bounds = QRectF()
        return QRectF(self._bounds)


class CanvasScene(QGraphicsScene):
    """The document drawn. ``overview_changed`` tells the minimap to repaint."""

    overview_changed = Signal()
    #: the view switched between items (True) and the batched overview (False)
    detail_changed = Signal(bool)
    #: inline editing of a sticky note ended: (note id, new text)
    note_text_edited = Signal(str, str)

    def __init__(self, theme: Theme, parent: Any = None) -> None:
        super().__init__(parent)
        self.setObjectName("canvasScene")
        self.canvas_style = CanvasStyle(theme)
        self.document: Document | None = None
        #: the items built so far (``nodes`` and ``edges`` complete them)
        self._nodes: dict[str, NodeItem] = {}
        self._edges: dict[EdgeKey, EdgeItem] = {}
        #: nodes whose items are not built yet (the overview already has
        #: them): the node's look, place, geometry and place in the stack
        self._pending_nodes: dict[str, tuple[NodeVisual, QPointF, Any, int]] = {}
        #: (an edge's curve: its ends' x and y and how far it bulges out; its
        #: place in the stack)
        self._pending_edges: dict[EdgeKey, tuple[float, float, float, float, float, int]] = {}
        #: the places in the stack of the next node and edge added
        self._stack = [0, 0]
        self.notes: dict[str, NoteItem] = {}
        self.overview = Overview()
        #: False while the view shows the batched overview (low zoom)
        self.detail = True
        self._problems: dict[str, list[str]] = {}
        self._credential_warnings: dict[str, str] = {}
        self._source_warnings: dict[str, str] = {}
        self._selected_edges: set[EdgeKey] = set()
        #: where nodes without a saved position are shown (not written unless moved)
        self._fallback: dict[str, tuple[float, float]] = {}
        self.selectionChanged.connect(self._selection_changed)

    @property
    def nodes(self) -> dict[str, NodeItem]:
        """Every node's item (completes a build left for after the first paint)."""
        if self._pending_nodes:
            self.complete()
        return self._nodes

    @property
    def edges(self) -> dict[EdgeKey, EdgeItem]:
        """Every edge's item (completes a build left for after the first paint)."""
        if self._pending_edges:
            self.complete()
        return self._edges

    @property
    def pending(self) -> bool:
        """Whether some items are left to build (``build_in``, ``complete``)."""
        return bool(self._pending_nodes or self._pending_edges)

    def is_empty(self) -> bool:
        """No node and no note (built or not)."""
        return not self.overview.rects and not self.notes

    # ------------------------------------------------------------ building
    def set_document(self, document: Document) -> None:
        with paused_gc():
            self._build(document)
        self.overview_changed.emit()

    def _build(self, document: Document) -> None:
        if self.document is not None:
            self.document.changed.disconnect(self._on_event)
        self._pending_nodes.clear()
        self._pending_edges.clear()
        self.clear()
        self._nodes.clear()
        self._edges.clear()
        self.notes.clear()
        self.overview = Overview()
        self._problems = {}
        self._credential_warnings = {}
        self._source_warnings = {}
        self._selected_edges = set()
        self.document = document
        self._fallback = self._fallback_positions(document)
        for node in document.workflow.nodes:
            self._place_node(node)
        lines = self.overview.lines
        placed = self._pending_nodes
        pending = self._pending_edges
        for key in document.edge_keys():
            _, pos, geo, _ = placed[key[0]]
            offset = port_offset(geo, key[1], True)
            x1, y1 = pos.x() + offset.x(), pos.y() + offset.y()
            _, pos, geo, _ = placed[key[2]]
            offset = port_offset(geo, key[3], False)
            x2, y2 = pos.x() + offset.x(), pos.y() + offset.y()
            lines[key] = QLineF(x1, y1, x2, y2)
            pending[key] = (x1, y1, x2, y2, reach(x1, x2), len(pending))
        for note in document.notes():
            if isinstance(note, dict) and isinstance(note.get("id"), str):
                self._add_note(note["id"])
        self._stack = [len(self._pending_nodes), len(self._pending_edges)]
        document.changed.connect(self._on_event)
        if len(self._pending_nodes) <= DEFER_NODES:
            self._build_items(list(self._pending_nodes), list(self._pending_edges))

    def _place_node(self, node: Node) -> None:
        """A node's look and place, in the overview; its item comes later."""
        node_id = node.id
        visual = self._visual(node_id, node)
        geo = geometry_of(visual)
        x, y = node.position or self._fallback.get(node_id, (0.0, 0.0))
        pos = QPointF(float(x), float(y))
        self._pending_nodes[node_id] = (visual, pos, geo, len(self._pending_nodes))
        self.overview.colors[node_id] = visual.color
        self.overview.rects[node_id] = geo.rect.translated(pos)

    def build_in(self, rect: QRectF) -> None:
        """Build the items of the nodes and edges in (or near) ``rect`` — what
        the view is about to paint — if they are not built yet."""
        if not self.pending:
            return
        area = rect.adjusted(-BUILD_MARGIN, -BUILD_MARGIN, BUILD_MARGIN, BUILD_MARGIN)
        rects = self.overview.rects
        nodes = [n for n in self._pending_nodes if area.intersects(rects[n])]
        left, top, right, bottom = area.left(), area.top(), area.right(), area.bottom()
        # an edge's curve lies within its control points' rectangle
        edges = [
            key
            for key, (x1, y1, x2, y2, dx, _) in self._pending_edges.items()
            if min(y1, y2) <= bottom
            and max(y1, y2) >= top
            and min(x1, x2 - dx) <= right
            and max(x2, x1 + dx) >= left
        ]
        self._build_items(nodes, edges)

    def complete(self) -> None:
        """Build every item still left to build (after the first paint, or
        when anything needs them all)."""
        if not self.pending:
            return
        self._build_items(list(self._pending_nodes), list(self._pending_edges))
        # Qt sized the scene's index (and its growing bounds) when only the
        # items on screen were there: both made afresh for all of them, else
        # every frame asks thousands of items for their bounds.
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.BspTreeIndex)
        self.sceneRect()  # (after the index: it marks the bounds stale again)

    def _build_items(self, node_ids: list[str], edge_keys: list[EdgeKey]) -> None:
        if not node_ids and not edge_keys:
            return
        assert self.document is not None
        with paused_gc():
            for node_id in node_ids:
                visual, pos, _, order = self._pending_nodes.pop(node_id)
                self._add_node(node_id, visual, pos, order)
            lines = self.overview.lines
            for key in edge_keys:
                item = self._edge_item(key, self._pending_edges.pop(key)[5])
                line = lines[key]
                item.set_ends(line.p1(), line.p2())
            for node_id in node_ids:
                self._refresh_connected(node_id, check_ports=False)

    def set_theme(self, theme: Theme) -> None:
        self.complete()
        self.canvas_style = CanvasStyle(theme)
        for item in self.nodes.values():
            item.style = self.canvas_style
            item.set_visual(self._visual(item.node_id))
        for edge in self.edges.values():
            edge.style = self.canvas_style
            edge.refresh_pen()
        for note in self.notes.values():
            note.style = self.canvas_style
            note.update()
        self.update()

    def _fallback_positions(self, doc: Document) -> dict[str, tuple[float, float]]:
        missing = [n.id for n in doc.workflow.nodes if n.position is None]
        if not missing:
            return {}
        placed = [n.position for n in doc.workflow.nodes if n.position is not None]
        top = max((p[1] for p in placed), default=-200.0) + 200.0
        edges = [(k[0], k[2]) for k in doc.edge_keys()]
        return layered_layout(missing, edges, origin=(0.0, top))

    def _visual(self, node_id: str, node: Node | None = None) -> NodeVisual:
        assert self.document is not None
        if node is None:
            node = self.document.node(node_id)
        node_type = self.document.registry.find(node.type)
        inputs, outputs = self.document.ports(node_id)
        if node_type is None:
            title = node.title or node.type
            return NodeVisual(
                title,
                summarize(node, None),
                QColor(PLACEHOLDER_COLOR),
                "puzzle",
                inputs,
                outputs,
                placeholder=True,
                disabled=node.disabled,
                pinned=node.pinned is not None,
                width=self.canvas_style.node_width(title),
            )
        subtitle = summarize(node, node_type)
        if node.disabled:
            subtitle = "Disabled · " + subtitle
        color = _CATEGORY_COLORS.get(node_type.category)
        if color is None:  # (one colour object per category, read only)
            color = _CATEGORY_COLORS[node_type.category] = category_color(node_type.category)
        title = node.title or node_type.title or node_type.type_name
        return NodeVisual(
            title,
            subtitle,
            color,
            icon_name(node_type.icon, node_type.category),
            inputs,
            outputs,
            disabled=node.disabled,
            pinned=node.pinned is not None,
            width=self.canvas_style.node_width(title),
        )

    def _add_node(
        self,
        node_id: str,
        visual: NodeVisual | None = None,
        pos: QPointF | None = None,
        order: int | None = None,
    ) -> None:
        assert self.document is not None
        item = NodeItem(node_id, visual or self._visual(node_id), self.canvas_style)
        if order is None:  # added now: on top
            order = self._stack[0]
            self._stack[0] += 1
        item.setZValue(order * STACK_STEP)
        if pos is None:
            x, y = self.document.node(node_id).position or self._fallback.get(node_id, (0.0, 0.0))
            item.setPos(float(x), float(y))
        else:
            item.setPos(pos)
        self.addItem(item)
        self._nodes[node_id] = item
        self.overview.colors[node_id] = item.visual.color
        self._sync_overview_node(item)
        if node_id in self._problems:
            item.set_problems(self._problems[node_id])
        if node_id in self._credential_warnings:
            item.set_credential_warning(self._credential_warnings[node_id])
        if node_id in self._source_warnings:
            item.set_source_warning(self._source_warnings[node_id])

    def _add_edge(self, key: EdgeKey) -> None:
        item = self._edge_item(key, self._stack[1])  # added now: on top
        self._stack[1] += 1
        self._route(item)
        for node_id in (key[0], key[2]):
            self._refresh_connected(node_id)

    def _edge_item(self, key: EdgeKey, order: int) -> EdgeItem:
        """The item of edge ``key``, stacked ``order``-th among the edges."""
        item = EdgeItem(key, self.canvas_style)
        item.setZValue(item.zValue() + order * STACK_STEP)
        self.addItem(item)
        self._edges[key] = item
        return item

    def _add_note(self, note_id: str) -> None:
        assert self.document is not None
        item = NoteItem(note_id, self.canvas_style)
        item.set_data(self.document.note(note_id))
        item.on_text_edited = self.note_text_edited.emit
        self.addItem(item)
        self.notes[note_id] = item
        self._sync_overview_note(item)

    # -------------------------------------------------------------- events
    def _on_event(self, event: DocumentEvent) -> None:
        assert self.document is not None
        self.complete()
        if isinstance(event, NodeAdded):
            self._add_node(event.node_id)
        elif isinstance(event, NodeRemoved):
            item = self.nodes.pop(event.node_id)
            self.removeItem(item)
            self.overview.rects.pop(event.node_id, None)
            self.overview.colors.pop(event.node_id, None)
            self.overview.set_status(event.node_id, None)
            self.overview.selected.discard(event.node_id)
            self._fallback.pop(event.node_id, None)
        elif isinstance(event, NodesMoved):
            for node_id in event.node_ids:
                item = self.nodes[node_id]
                pos = self.document.node(node_id).position or self._fallback.get(
                    node_id, (0.0, 0.0)
                )
                item.setPos(float(pos[0]), float(pos[1]))
                self._sync_overview_node(item)
            self.update_edges_of(event.node_ids)
        elif isinstance(event, NodeChanged):
            self._refresh_node(event.node_id)
        elif isinstance(event, NodeRenamed):
            item = self.nodes.pop(event.old_id)
            item.node_id = event.new_id
            self.nodes[event.new_id] = item
            _rekey(self.overview.rects, event.old_id, event.new_id)
            _rekey(self.overview.colors, event.old_id, event.new_id)
            color = self.overview.status.get(event.old_id)
            self.overview.set_status(event.old_id, None)
            self.overview.set_status(event.new_id, color)
            _rekey(self._problems, event.old_id, event.new_id)
            _rekey(self._fallback, event.old_id, event.new_id)
            if event.old_id in self.overview.selected:
                self.overview.selected.discard(event.old_id)
                self.overview.selected.add(event.new_id)
        elif isinstance(event, EdgeAdded):
            self._add_edge(event.key)
        elif isinstance(event, EdgeRemoved):
            self.removeItem(self.edges.pop(event.key))
            self._selected_edges.discard(event.key)
            self.overview.lines.pop(event.key, None)
            for node_id in (event.key[0], event.key[2]):
                if node_id in self.nodes:
                    self._refresh_connected(node_id)
        elif isinstance(event, NoteAdded):
            self._add_note(event.note_id)
        elif isinstance(event, NoteRemoved):
            self.removeItem(self.notes.pop(event.note_id))
            self.overview.notes.pop(event.note_id, None)
        elif isinstance(event, NoteChanged):
            self.notes[event.note_id].set_data(self.document.note(event.note_id))
            self._sync_overview_note(self.notes[event.note_id])
        self.overview.invalidate()
        self.overview_changed.emit()

    def _refresh_node(self, node_id: str) -> None:
        item = self._nodes[node_id]
        visual = self._visual(node_id)
        ports_changed = (visual.inputs, visual.outputs, visual.width) != (
            item.visual.inputs,
            item.visual.outputs,
            item.visual.width,
        )
        item.set_visual(visual)
        self.overview.colors[node_id] = visual.color
        self._sync_overview_node(item)
        if ports_changed:
            self.update_edges_of([node_id])

    def _refresh_connected(self, node_id: str, check_ports: bool = True) -> None:
        """Filled port circles for connected ports; undeclared ports may come or go."""
        assert self.document is not None
        item = self._nodes[node_id]
        if check_ports:
            inputs, outputs = self.document.ports(node_id)
            if (inputs, outputs) != (item.visual.inputs, item.visual.outputs):
                self._refresh_node(node_id)
        connected = {(k[1], True) for k in self.document.edges_from(node_id)}
        connected |= {(k[3], False) for k in self.document.edges_into(node_id)}
        item.set_connected(connected)

    # ------------------------------------------------------------ geometry
    def _route(self, edge: EdgeItem) -> None:
        key = edge.key
        edge.set_ends(
            self.nodes[key[0]].port_scene_pos(key[1], True),
            self.nodes[key[2]].port_scene_pos(key[3], False),
        )
        self.overview.lines[key] = edge.line

    def update_edges_of(self, node_ids: Iterable[str]) -> None:
        """Re-route the edges of these nodes (after a move or during a drag)."""
        assert self.document is not None
        done: set[EdgeKey] = set()
        for node_id in node_ids:
            for key in self.document.edges_of(node_id):
                if key not in done and key in self.edges:
                    done.add(key)
                    self._route(self.edges[key])
        self.overview.invalidate()

    def _sync_overview_node(self, item: NodeItem) -> None:
        rect = item.scene_rect()
        rects = self.overview.rects
        if rects.get(item.node_id) != rect:  # (an item built where its node was placed: no change)
            rects[item.node_id] = rect
            self.overview.invalidate()

    def _sync_overview_note(self, item: NoteItem) -> None:
        rect = item.boundingRect().adjusted(2, 2, -2, -2).translated(item.pos())
        self.overview.notes[item.note_id] = (rect, item.color or self.canvas_style.note)

    def preview_move(self, offsets: dict[str, QPointF], note_offsets: dict[str, QPointF]) -> None:
        """Move items during a drag, without touching the document."""
        for node_id, pos in offsets.items():
            item = self.nodes[node_id]
            item.setPos(pos)
            self._sync_overview_node(item)
        for note_id, pos in note_offsets.items():
            self.notes[note_id].setPos(pos)
            self._sync_overview_note(self.notes[note_id])
        self.update_edges_of(offsets)
        self.overview_changed.emit()

    def node_position(self, node_id: str) -> tuple[float, float]:
        pos = self.nodes[node_id].pos()
        return pos.x(), pos.y()

    def node_sizes(self) -> dict[str, tuple[float, float]]:
        return {node_id: item.size for node_id, item in self.nodes.items()}

    def port_at(self, scene_pos: QPointF) -> tuple[str, str, bool] | None:
        """``(node_id, port, is_output)`` under the cursor, if any."""
        probe = QRectF(scene_pos.x() - 12, scene_pos.y() - 12, 24, 24)
        for item in self.items(probe):
            if isinstance(item, NodeItem):
                hit = item.port_at(scene_pos)
                if hit is not None:
                    return item.node_id, hit[0], hit[1]
        return None

    def node_at(self, scene_pos: QPointF) -> NodeItem | None:
        for item in self.items(scene_pos):
            if isinstance(item, NodeItem):
                return item
        return None

    def node_in(self, rect: QRectF) -> bool:
        """Whether a node lies (partly) in ``rect``. The nodes' rectangles, not
        ``items(rect)``: at a low zoom that wrapped thousands of items for
        Python at every scroll (the minimap asks), 1 s on opening 5,000 nodes;
        without a BSP index even a small area asked every item's bounds. And
        not a scan of them either: the overview keeps them sorted by top."""
        return self.overview.any_in(rect)

    def items_rect(self) -> QRectF:
        rect = self.overview.bounds()
        for note in self.notes.values():
            rect = rect.united(note.sceneBoundingRect())
        return rect

    # -------------------------------------------------------- problems
    def set_problems(self, problems: dict[str, list[str]]) -> None:
        self._problems = problems
        for node_id, item in self._nodes.items():  # (items built later get theirs then)
            item.set_problems(problems.get(node_id, []))
        self.overview.problems = set(problems)
        self.overview_changed.emit()

    def set_credential_warnings(self, warnings: dict[str, str]) -> None:
        """Badge nodes whose credential has no secret (node id → tooltip text)."""
        self._credential_warnings = warnings
        for node_id, item in self._nodes.items():
            item.set_credential_warning(warnings.get(node_id, ""))

    def set_source_warnings(self, warnings: dict[str, str]) -> None:
        """Badge tool nodes whose source failed (node id → the reason)."""
        self._source_warnings = warnings
        for node_id, item in self._nodes.items():
            item.set_source_warning(warnings.get(node_id, ""))

    # ---------------------------------------------------------- run status
    def set_status(self, node_id: str, status: str | None, text: str = "") -> None:
        """Badge a node with its run status (``succeeded``, ``failed``,
        ``running``…; None clears it). Run state is not document state."""
        item = self.nodes.get(node_id)
        if item is not None:
            item.set_status(status, text)

    def clear_statuses(self) -> None:
        for item in self._nodes.values():  # (items not built yet have no status)
            if item.status is not None:
                item.set_status(None)
        for edge in self._edges.values():
            edge.set_flow(None)
        self.set_overview_status({}, replace=True)

    def set_overview_status(self, colors: dict[str, QColor | None], replace: bool = False) -> None:
        """Run status colours of the overview (low zoom) and the minimap."""
        if replace:
            self.overview.clear_status()
        for node_id, color in colors.items():
            self.overview.set_status(node_id, color)
        self.overview_changed.emit()

    # -------------------------------------------------------- selection
    def selected_node_ids(self) -> list[str]:
        return [i.node_id for i in self.selectedItems() if isinstance(i, NodeItem)]

    def selected_note_ids(self) -> list[str]:
        return [i.note_id for i in self.selectedItems() if isinstance(i, NoteItem)]

    def selected_edge_keys(self) -> list[EdgeKey]:
        return [i.key for i in self.selectedItems() if isinstance(i, EdgeItem)]

    def select(
        self,
        node_ids: Iterable[str] = (),
        note_ids: Iterable[str] = (),
        edge_keys: Iterable[EdgeKey] = (),
    ) -> None:
        """Replace the selection (one ``selectionChanged``, not one per item)."""
        self.complete()
        self.blockSignals(True)
        try:
            self.clearSelection()
            for node_id in node_ids:
                if node_id in self.nodes:
                    self.nodes[node_id].setSelected(True)
            for note_id in note_ids:
                if note_id in self.notes:
                    self.notes[note_id].setSelected(True)
            for key in edge_keys:
                if key in self.edges:
                    self.edges[key].setSelected(True)
        finally:
            self.blockSignals(False)
        self.selectionChanged.emit()

    def _selection_changed(self) -> None:
        selected = self.selectedItems()
        self.overview.selected = {i.node_id for i in selected if isinstance(i, NodeItem)}
        edges = {i.key for i in selected if isinstance(i, EdgeItem)}
        for key in edges ^ self._selected_edges:
            if key in self._edges:  # (an edge not built yet is not selected)
                self._edges[key].refresh_pen()
        self._selected_edges = edges
        self.overview_changed.emit()

    def center_of(self, node_ids: Iterable[str]) -> QPointF:
        rect = QRectF()
        for node_id in node_ids:
            rect = rect.united(self.nodes[node_id].scene_rect())
        return rect.center() if not rect.isNull() else QPointF(NODE_WIDTH / 2, 0)
