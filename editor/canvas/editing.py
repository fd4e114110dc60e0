"""``CanvasEditor``: the canvas's edit operations — add a node (and connect a
pending wire), delete, duplicate, cut/copy/paste through the system clipboard
as JSON text, select all, notes, auto-layout and keyboard nudges. Each one
pushes exactly one command. Gestures and menu actions both call these.
May import: PySide6, editor.document, editor.undo, editor.canvas, engine (public API).
"""

from __future__ import annotations

import logging

from flowdesk.editor.canvas.scene import CanvasScene
from flowdesk.editor.canvas.style import BODY_PADDING, GRID, HEADER_HEIGHT, NODE_WIDTH, ROW_HEIGHT
from flowdesk.editor.canvas.view import CanvasView
from flowdesk.editor.document import Document, DocumentError
from flowdesk.editor.document.clipboard import (
    FragmentError,
    fragment_text,
    new_node_json,
    parse_fragment,
    plan_paste,
)
from flowdesk.editor.document.commands import (
    AddEdge,
    AddNode,
    AddNote,
    Command,
    Composite,
    MoveNodes,
    RemoveItems,
)
from flowdesk.editor.document.layout import layered_layout
from flowdesk.editor.text import plural
from flowdesk.editor.undo import DocumentController
from PySide6.QtCore import QMimeData, QObject, QPointF, QRectF, Signal
from PySide6.QtGui import QGuiApplication

log = logging.getLogger(__name__)

FRAGMENT_MIME = "application/x-flowdesk-fragment+json"
#: a wire left dangling on empty canvas: (node id, port, True if the node's output)
PendingWire = tuple[str, str, bool]
#: from a node's top to the middle of its first port row
FIRST_PORT_Y = HEADER_HEIGHT + BODY_PADDING + ROW_HEIGHT / 2


class CanvasEditor(QObject):
    """Edit operations on the open document, in canvas terms (selection, cursor)."""

    status_message = Signal(str)

    def __init__(
        self, controller: DocumentController, scene: CanvasScene, view: CanvasView
    ) -> None:
        super().__init__(view)
        self.controller = controller
        self.scene = scene
        self.view = view
        self.snap_enabled = True

    @property
    def doc(self) -> Document:
        return self.controller.document

    def snap(self, x: float, y: float) -> tuple[float, float]:
        if not self.snap_enabled:
            return round(x), round(y)
        return round(x / GRID) * GRID, round(y / GRID) * GRID

    def push(self, command: Command) -> bool:
        """Push one command; a refused edit becomes a status message."""
        try:
            self.controller.push(command)
        except DocumentError as exc:
            self.status_message.emit(str(exc))
            return False
        return True

    # ---------------------------------------------------------------- add
    def add_node(
        self, type_name: str, scene_pos: QPointF, pending: PendingWire | None = None
    ) -> str | None:
        """Add a node centred on ``scene_pos``; with ``pending``, also connect
        the dangling wire to the new node's first compatible port (one step),
        the node beside the wire's node (its port at the wire's end, never on
        top of that node or another). The node is scrolled into view."""
        node_type = self.doc.registry.find(type_name)
        if pending is not None and node_type is not None:
            x, y = self._beside(pending, node_type.title or type_name, scene_pos)
        else:
            x, y = self.snap(scene_pos.x() - NODE_WIDTH / 2, scene_pos.y() - HEADER_HEIGHT / 2)
        data = new_node_json(self.doc, type_name, (x, y))
        add = AddNode(data, text=f"Add {node_type.title if node_type else type_name}")
        children: list[Command] = [add]
        if pending is not None and node_type is not None:
            node_id, port, is_output = pending
            if is_output:
                target = next((p.name for p in node_type.inputs), None)
                if target is not None:
                    children.append(AddEdge(node_id, port, data["id"], target))
            else:
                source = next((p.name for p in node_type.outputs), None)
                if source is not None:
                    children.append(AddEdge(data["id"], source, node_id, port))
            if len(children) == 1:
                self.status_message.emit(f"{node_type.title} has no port to connect to.")
        command = add if len(children) == 1 else Composite(add.text, children)
        if not self.push(command):
            return None
        self.scene.select([data["id"]])
        item = self.scene.nodes.get(data["id"])
        if item is not None:
            self.keep_in_view(item.sceneBoundingRect())
        return str(data["id"])

    def _beside(self, pending: PendingWire, title: str, end: QPointF) -> tuple[float, float]:
        """Where a node added from a dangling wire goes: its port at the wire's
        end, right of the wire's node (left of it for an input's wire), then
        moved down past any node it would cover."""
        node_id, _, is_output = pending
        width = self.scene.canvas_style.node_width(title)
        source = self.scene.nodes.get(node_id)
        gap = GRID * 2
        if is_output:
            x = end.x()
            if source is not None:
                x = max(x, source.sceneBoundingRect().right() + gap)
        else:
            x = end.x() - width
            if source is not None:
                x = min(x, source.sceneBoundingRect().left() - gap - width)
        x, y = self.snap(x, end.y() - FIRST_PORT_Y)
        height = HEADER_HEIGHT + BODY_PADDING * 2 + ROW_HEIGHT * 2
        for _ in range(40):
            if not self.scene.node_in(QRectF(x - 8, y - 8, width + 16, height + 16)):
                break
            y += GRID
        return x, y

    def keep_in_view(self, rect: QRectF) -> None:
        """Scroll (zoom out only if it cannot fit) so that ``rect`` is on
        screen, clear of the minimap."""
        self.view.keep_in_view(rect)

    def add_note(self, scene_pos: QPointF | None = None) -> None:
        pos = scene_pos or self.view.center_scene()
        x, y = self.snap(pos.x() - 120, pos.y() - 70)
        note_id = self.doc.unique_note_id()
        if self.push(AddNote({"id": note_id, "text": "", "position": [x, y], "size": [240, 140]})):
            self.scene.select(note_ids=[note_id])
            self.scene.notes[note_id].start_editing()

    # ------------------------------------------------------------ delete
    def delete_selection(self) -> None:
        nodes = self.scene.selected_node_ids()
        edges = self.scene.selected_edge_keys()
        notes = self.scene.selected_note_ids()
        if not (nodes or edges or notes):
            return
        self.push(RemoveItems(nodes, edges, notes))

    def select_all(self) -> None:
        self.scene.select(self.scene.nodes, self.scene.notes)

    # --------------------------------------------------------- clipboard
    def copy_selection(self) -> bool:
        nodes, notes = self.scene.selected_node_ids(), self.scene.selected_note_ids()
        if not (nodes or notes):
            self.status_message.emit("Nothing selected to copy.")
            return False
        text = fragment_text(self.doc, nodes, notes)
        mime = QMimeData()
        mime.setText(text)
        mime.setData(FRAGMENT_MIME, text.encode("utf-8"))
        QGuiApplication.clipboard().setMimeData(mime)
        self.status_message.emit(f"Copied {plural(len(nodes), 'node')} as JSON.")
        return True

    def cut_selection(self) -> None:
        if self.copy_selection():
            nodes, notes = self.scene.selected_node_ids(), self.scene.selected_note_ids()
            command = RemoveItems(nodes, (), notes)
            command.text = command.text.replace("Delete", "Cut", 1)
            self.push(command)

    def paste(self, at: QPointF | None = None) -> None:
        """Paste the clipboard's fragment at ``at`` (else shifted from where it
        was copied). Any JSON in the workflow format works, typed or copied."""
        mime = QGuiApplication.clipboard().mimeData()
        text = ""
        if mime is not None:
            raw = mime.data(FRAGMENT_MIME)
            text = bytes(raw.data()).decode("utf-8") if raw.size() else mime.text()
        if not text.strip():
            self.status_message.emit("The clipboard is empty.")
            return
        try:
            fragment = parse_fragment(text)
        except FragmentError as exc:
            self.status_message.emit("Cannot paste: " + "; ".join(exc.problems[:3]))
            return
        anchor = None
        if at is not None:
            anchor = self.snap(at.x(), at.y())
        command, ids, notes = plan_paste(self.doc, fragment, anchor=anchor)
        if self.push(command):
            self.scene.select(ids, notes)
            self._show_selection()

    def duplicate_selection(self) -> None:
        nodes, notes = self.scene.selected_node_ids(), self.scene.selected_note_ids()
        if not (nodes or notes):
            return
        fragment = parse_fragment(fragment_text(self.doc, nodes, notes))
        command, ids, new_notes = plan_paste(
            self.doc, fragment, offset=(GRID * 2, GRID * 2), verb="Duplicate"
        )
        if self.push(command):
            self.scene.select(ids, new_notes)
            self._show_selection()

    # ------------------------------------------------------------ arrange
    def auto_layout(self, selection_only: bool | None = None) -> None:
        """Lay out the selection (two or more nodes) or else the whole graph."""
        selected = self.scene.selected_node_ids()
        if selection_only is None:
            selection_only = len(selected) > 1
        ids = selected if selection_only else self.doc.node_ids()
        if not ids:
            return
        if selection_only:
            left = min(self.scene.nodes[i].pos().x() for i in ids)
            top = min(self.scene.nodes[i].pos().y() for i in ids)
            origin = (left, top)
        else:
            origin = (0.0, 0.0)
        sizes = self.scene.node_sizes()
        edges = [(k[0], k[2]) for k in self.doc.edge_keys()]
        positions = layered_layout(
            ids, edges, sizes, origin=self.snap(*origin), column_gap=GRID * 4, row_gap=GRID * 2
        )
        moves = {}
        for node_id, (x, y) in positions.items():
            new = self.snap(x, y)
            old = self.doc.node(node_id).position
            if old is None or (float(old[0]), float(old[1])) != new:
                moves[node_id] = (old, new)
        if not moves:
            self.status_message.emit("Already laid out.")
            return
        label = "Auto-layout selection" if selection_only else "Auto-layout"
        if self.push(MoveNodes(moves, text=label)):
            rect = QRectF()
            for node_id in ids:
                rect = rect.united(self.scene.nodes[node_id].sceneBoundingRect())
            self.keep_in_view(rect)

    def _show_selection(self) -> None:
        rect = QRectF()
        for item in self.scene.selectedItems():
            rect = rect.united(item.sceneBoundingRect())
        self.keep_in_view(rect)

    def nudge(self, dx: float, dy: float) -> None:
        """Arrow keys: consecutive nudges of the same selection are one step."""
        nodes, notes = self.scene.selected_node_ids(), self.scene.selected_note_ids()
        if not (nodes or notes):
            return
        moves = {}
        for node_id in nodes:
            x, y = self.scene.node_position(node_id)
            moves[node_id] = (self.doc.node(node_id).position, (x + dx, y + dy))
        note_moves = {}
        for note_id in notes:
            pos = self.scene.notes[note_id].pos()
            old = self.doc.note(note_id).get("position")
            note_moves[note_id] = (old, (pos.x() + dx, pos.y() + dy))
        self.push(MoveNodes(moves, note_moves, mergeable=True))
