"""Mouse and keyboard gestures on the canvas, as small state machines after
orange-canvas' ``UserInteraction``: drag nodes, draw a wire, rubber band,
pan, resize a note. Items move freely during a gesture; on release exactly one
command is pushed (one ``MoveNodes`` per drag, one ``AddEdge`` per wire).
May import: PySide6, editor.canvas, editor.document, editor.undo.
"""

from __future__ import annotations

from collections.abc import Callable

from flowdesk.editor.canvas.editing import CanvasEditor, PendingWire
from flowdesk.editor.canvas.items.edge_item import EdgeItem, bezier
from flowdesk.editor.canvas.items.node_item import PORT_DENIED, PORT_OK, PORT_REFUSED, NodeItem
from flowdesk.editor.canvas.items.note_item import NoteItem
from flowdesk.editor.canvas.items.wire_hint import WireHint
from flowdesk.editor.canvas.scene import CanvasScene
from flowdesk.editor.canvas.style import GRID
from flowdesk.editor.canvas.view import CanvasView
from flowdesk.editor.document import Document
from flowdesk.editor.document.commands import AddEdge, Composite, EditNote, MoveNodes, RemoveEdges
from flowdesk.editor.document.events import EdgeKey
from PySide6.QtCore import QObject, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QDragMoveEvent, QDropEvent, QKeyEvent, QMouseEvent, QPainterPath
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QGraphicsTextItem

NODE_TYPE_MIME = "application/x-flowdesk-node-type"
TOOL_MIME = "application/x-flowdesk-tool"  # a source's tool (editor.sources)
DRAG_THRESHOLD = 4


class Gesture:
    """One gesture in progress; ``finish`` pushes its command."""

    def move(self, pos: QPointF, event: QMouseEvent) -> None: ...

    def finish(self, pos: QPointF, event: QMouseEvent) -> None: ...

    def cancel(self) -> None: ...


class Interactions(QObject):
    """Routes the view's input events to gestures."""

    status_message = Signal(str)
    #: (global position, scene position, pending wire or None)
    quick_add_requested = Signal(QPoint, QPointF, object)
    node_activated = Signal(str)
    #: right click: (global position, scene position, node id under it or "")
    context_menu_requested = Signal(QPoint, QPointF, str)

    def __init__(self, view: CanvasView, editor: CanvasEditor) -> None:
        super().__init__(view)
        self.view = view
        self.editor = editor
        self.gesture: Gesture | None = None
        #: ``(source__tool, scene position)`` for a tool dropped from the palette
        self.tool_dropped: Callable[[str, QPointF], None] | None = None
        #: a wire dropped on empty canvas, kept in sight while quick-add is open
        self.dangling: QGraphicsPathItem | None = None
        view.interactions = self
        editor.status_message.connect(self.status_message)

    @property
    def scene(self) -> CanvasScene:
        return self.view.canvas()

    def drop_dangling(self) -> None:
        """Quick-add closed: the wire it was opened for goes (its edge, if a
        node was chosen, is drawn by the scene)."""
        wire, self.dangling = self.dangling, None
        try:
            if wire is not None and wire.scene() is not None:
                wire.scene().removeItem(wire)
        except RuntimeError:  # the scene was cleared meanwhile (another document)
            pass

    @property
    def doc(self) -> Document:
        return self.editor.doc

    def scene_pos(self, event: QMouseEvent) -> QPointF:
        return self.view.mapToScene(event.position().toPoint())

    # ------------------------------------------------------------ mouse
    def press(self, event: QMouseEvent) -> bool:
        if self.gesture is not None:
            return True
        pos = self.scene_pos(event)
        button = event.button()
        if button == Qt.MouseButton.MiddleButton or (
            button == Qt.MouseButton.LeftButton and self.view.space_down
        ):
            self.gesture = Pan(self.view, event.position())
            return True
        if button == Qt.MouseButton.RightButton:
            item = self._item_at(pos)
            if item is not None and not item.isSelected():
                self._select_only(item)
            node_id = item.node_id if isinstance(item, NodeItem) else ""
            self.context_menu_requested.emit(event.globalPosition().toPoint(), pos, node_id)
            return True
        if button != Qt.MouseButton.LeftButton:
            return False
        self.view.setFocus(Qt.FocusReason.MouseFocusReason)
        if self.scene.detail:
            port = self.scene.port_at(pos)
            if port is not None:
                self.gesture = self._start_wire(port, pos)
                return True
        item = self._item_at(pos)
        mods = event.modifiers()
        toggle = bool(mods & Qt.KeyboardModifier.ControlModifier)
        add = bool(mods & Qt.KeyboardModifier.ShiftModifier)
        if isinstance(item, NoteItem) and item.grip_contains(pos):
            self.gesture = ResizeNote(self, item, pos)
            return True
        if isinstance(item, NodeItem | NoteItem | EdgeItem):
            if toggle:
                item.setSelected(not item.isSelected())
            elif add:
                item.setSelected(True)
            elif not item.isSelected():
                self._select_only(item)
            if isinstance(item, NodeItem | NoteItem) and item.isSelected():
                self.gesture = DragItems(self, pos, event.position())
            return True
        self.gesture = RubberBand(self, pos, keep=toggle or add)
        return True

    def move(self, event: QMouseEvent) -> bool:
        if self.gesture is None:
            return False
        self.gesture.move(self.scene_pos(event), event)
        return True

    def release(self, event: QMouseEvent) -> bool:
        if self.gesture is None:
            return False
        gesture, self.gesture = self.gesture, None
        gesture.finish(self.scene_pos(event), event)
        return True

    def double_click(self, event: QMouseEvent) -> bool:
        if event.button() != Qt.MouseButton.LeftButton:
            return False
        pos = self.scene_pos(event)
        item = self._item_at(pos)
        if isinstance(item, NoteItem):
            item.start_editing()
        elif isinstance(item, NodeItem):
            self.node_activated.emit(item.node_id)
        elif item is None:
            self.quick_add_requested.emit(event.globalPosition().toPoint(), pos, None)
        return True

    def _item_at(self, pos: QPointF) -> QGraphicsItem | None:
        for item in self.scene.items(pos):
            if isinstance(item, NodeItem | NoteItem | EdgeItem) and item.isVisible():
                return item
        return None

    def _select_only(self, item: QGraphicsItem) -> None:
        if isinstance(item, NodeItem):
            self.scene.select([item.node_id])
        elif isinstance(item, NoteItem):
            self.scene.select(note_ids=[item.note_id])
        elif isinstance(item, EdgeItem):
            self.scene.select(edge_keys=[item.key])

    def _start_wire(self, port: tuple[str, str, bool], pos: QPointF) -> DrawWire:
        node_id, name, is_output = port
        if not is_output:
            existing = self.doc.edges_into(node_id, name)
            if existing:
                # Pick up the edge's loose end: its source stays, this end follows the mouse.
                key = existing[-1]
                return DrawWire(self, (key[0], key[1], True), pos, detached=key)
        return DrawWire(self, (node_id, name, is_output), pos)

    # ------------------------------------------------------------ keys
    def _text_editing(self) -> bool:
        """A text item on the canvas (a sticky note being written) has the
        keyboard: Space, arrows and Tab are its own, not pan, nudge, quick-add."""
        focus = self.scene.focusItem()
        return isinstance(focus, QGraphicsTextItem) and bool(
            focus.textInteractionFlags() & Qt.TextInteractionFlag.TextEditable
        )

    def key_press(self, event: QKeyEvent) -> bool:
        if self._text_editing():
            return False
        key = Qt.Key(event.key())
        if key == Qt.Key.Key_Space and not event.isAutoRepeat():
            self.view.space_down = True
            self.view.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            return True
        if key == Qt.Key.Key_Escape and self.gesture is not None:
            self.gesture.cancel()
            self.gesture = None
            return True
        if key == Qt.Key.Key_Tab:
            local = self.view.viewport().mapFromGlobal(self.view.cursor().pos())
            if not self.view.viewport().rect().contains(local):
                local = self.view.viewport().rect().center()
            self.quick_add_requested.emit(
                self.view.viewport().mapToGlobal(local), self.view.mapToScene(local), None
            )
            return True
        steps = {
            Qt.Key.Key_Left: (-1, 0),
            Qt.Key.Key_Right: (1, 0),
            Qt.Key.Key_Up: (0, -1),
            Qt.Key.Key_Down: (0, 1),
        }
        if key in steps and self.gesture is None:
            step = 1 if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else GRID
            self.editor.nudge(steps[key][0] * step, steps[key][1] * step)
            return True
        return False

    def key_release(self, event: QKeyEvent) -> bool:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat() and self.view.space_down:
            self.view.space_down = False
            self.view.viewport().unsetCursor()
            return True
        return False

    # ------------------------------------------------------------- drops
    def drag_enter(self, event: QDragMoveEvent) -> bool:
        if event.mimeData().hasFormat(NODE_TYPE_MIME) or event.mimeData().hasFormat(TOOL_MIME):
            event.acceptProposedAction()
            return True
        return False

    def drop(self, event: QDropEvent) -> bool:
        mime = event.mimeData()
        if mime.hasFormat(TOOL_MIME) and self.tool_dropped is not None:
            ref = bytes(mime.data(TOOL_MIME).data()).decode("utf-8")
            self.tool_dropped(ref, self.view.mapToScene(event.position().toPoint()))
            event.acceptProposedAction()
            self.view.setFocus()
            return True
        if not mime.hasFormat(NODE_TYPE_MIME):
            return False
        type_name = bytes(mime.data(NODE_TYPE_MIME).data()).decode("utf-8")
        pos = self.view.mapToScene(event.position().toPoint())
        self.editor.add_node(type_name, pos)
        event.acceptProposedAction()
        self.view.setFocus()
        return True


class Pan(Gesture):
    def __init__(self, view: CanvasView, start: QPointF) -> None:
        self.view = view
        self.last = start
        view.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)

    def move(self, pos: QPointF, event: QMouseEvent) -> None:
        delta = event.position() - self.last
        self.last = event.position()
        self.view.pan_by(-delta.x(), -delta.y())
        self.view.user_moved = True

    def finish(self, pos: QPointF, event: QMouseEvent) -> None:
        self.cancel()

    def cancel(self) -> None:
        if self.view.space_down:
            self.view.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
        else:
            self.view.viewport().unsetCursor()


class DragItems(Gesture):
    """Move the selected nodes and notes; one ``MoveNodes`` on release."""

    def __init__(self, owner: Interactions, pos: QPointF, view_pos: QPointF) -> None:
        self.owner = owner
        self.start = pos
        self.view_start = view_pos
        scene = owner.scene
        self.nodes = {i: scene.nodes[i].pos() for i in scene.selected_node_ids()}
        self.notes = {i: scene.notes[i].pos() for i in scene.selected_note_ids()}
        under = scene.node_at(pos)
        self.anchor = under.pos() if under is not None else pos
        self.moved = False

    def _offset(self, pos: QPointF) -> QPointF:
        delta = pos - self.start
        target = self.anchor + delta
        x, y = self.owner.editor.snap(target.x(), target.y())
        return QPointF(x, y) - self.anchor

    def move(self, pos: QPointF, event: QMouseEvent) -> None:
        if not self.moved:
            if (event.position() - self.view_start).manhattanLength() < DRAG_THRESHOLD:
                return
            self.moved = True
        d = self._offset(pos)
        self.owner.scene.preview_move(
            {i: p + d for i, p in self.nodes.items()}, {i: p + d for i, p in self.notes.items()}
        )

    def finish(self, pos: QPointF, event: QMouseEvent) -> None:
        if not self.moved:
            return
        d = self._offset(pos)
        if d.isNull():
            self.cancel()
            return
        doc = self.owner.doc
        nodes = {
            i: (doc.node(i).position, (round(p.x() + d.x()), round(p.y() + d.y())))
            for i, p in self.nodes.items()
        }
        notes = {
            i: (doc.note(i).get("position"), (round(p.x() + d.x()), round(p.y() + d.y())))
            for i, p in self.notes.items()
        }
        self.owner.editor.push(MoveNodes(nodes, notes))

    def cancel(self) -> None:
        self.owner.scene.preview_move(dict(self.nodes), dict(self.notes))


class RubberBand(Gesture):
    def __init__(self, owner: Interactions, pos: QPointF, keep: bool) -> None:
        self.owner = owner
        self.start = pos
        scene = owner.scene
        self.base_nodes = set(scene.selected_node_ids()) if keep else set()
        self.base_notes = set(scene.selected_note_ids()) if keep else set()
        if not keep:
            scene.select()

    def move(self, pos: QPointF, event: QMouseEvent) -> None:
        rect = QRectF(self.start, pos).normalized()
        view = self.owner.view
        view.rubber_band = rect
        nodes, notes = set(self.base_nodes), set(self.base_notes)
        for item in self.owner.scene.items(rect, Qt.ItemSelectionMode.IntersectsItemShape):
            if isinstance(item, NodeItem):
                nodes.add(item.node_id)
            elif isinstance(item, NoteItem):
                notes.add(item.note_id)
        self.owner.scene.select(nodes, notes)
        view.viewport().update()

    def finish(self, pos: QPointF, event: QMouseEvent) -> None:
        self.cancel()

    def cancel(self) -> None:
        self.owner.view.rubber_band = None
        self.owner.view.viewport().update()


class ResizeNote(Gesture):
    def __init__(self, owner: Interactions, item: NoteItem, pos: QPointF) -> None:
        self.owner = owner
        self.item = item
        self.start = pos
        self.size = item.size

    def move(self, pos: QPointF, event: QMouseEvent) -> None:
        d = pos - self.start
        self.item.set_preview_size(self.size[0] + d.x(), self.size[1] + d.y())

    def finish(self, pos: QPointF, event: QMouseEvent) -> None:
        w, h = self.item.size
        if (round(w), round(h)) == (round(self.size[0]), round(self.size[1])):
            return
        self.owner.editor.push(
            EditNote(self.item.note_id, {"size": [round(w), round(h)]}, text="Resize note")
        )

    def cancel(self) -> None:
        self.item.set_preview_size(*self.size)


class DrawWire(Gesture):
    """Drag from a port: compatible ports light up, refusals are explained in
    the status bar, and dropping on empty canvas opens quick-add (or, for an
    edge picked up from its input, disconnects it)."""

    def __init__(
        self, owner: Interactions, fixed: PendingWire, pos: QPointF, detached: EdgeKey | None = None
    ) -> None:
        self.owner = owner
        self.fixed = fixed
        self.detached = detached
        scene = owner.scene
        node_id, port, is_output = fixed
        self.anchor = scene.nodes[node_id].port_scene_pos(port, is_output)
        self.wire = QGraphicsPathItem()
        self.wire.setPen(scene.canvas_style.wire_pen)
        self.wire.setZValue(10)
        scene.addItem(self.wire)
        #: the reason a hovered port refuses the wire, drawn beside the port
        self.hint = WireHint(scene.canvas_style)
        self.hint.hide()
        scene.addItem(self.hint)
        self._refused_port: tuple[str, str, bool] | None = None
        self._port_state_before = 0
        #: a status message about the port under the cursor is showing
        self._said = False
        if detached is not None:
            scene.edges[detached].setVisible(False)
        self._highlight()
        self.move(pos, None)  # type: ignore[arg-type]

    def _ends(self, other: tuple[str, str]) -> tuple[str, str, str, str]:
        node_id, port, is_output = self.fixed
        if is_output:
            return (node_id, port, other[0], other[1])
        return (other[0], other[1], node_id, port)

    def _reason(self, target: tuple[str, str, bool]) -> str | None:
        if target[2] == self.fixed[2]:
            return "Connect an output (right side) to an input (left side)."
        key = self._ends((target[0], target[1]))
        if key == self.detached:
            return None
        return self.owner.doc.can_connect(*key)

    def _highlight(self) -> None:
        doc = self.owner.doc
        node_id, _, is_output = self.fixed
        # One graph walk for all candidates instead of a cycle check per port.
        forbidden = (doc.upstream(node_id) | {node_id}) if is_output else doc.downstream_of(node_id)
        for other_id, item in self.owner.scene.nodes.items():
            states = {}
            known = doc.node_type(other_id) is not None
            for port in item.visual.outputs if not is_output else item.visual.inputs:
                ok = known and port.declared and other_id not in forbidden
                states[(port.name, port.is_output)] = PORT_OK if ok else PORT_REFUSED
            item.set_port_states(states)

    def move(self, pos: QPointF, event: QMouseEvent) -> None:
        end = pos
        hit = self.owner.scene.port_at(pos)
        refused: tuple[tuple[str, str, bool], str] | None = None
        message = ""
        if hit is not None and hit[:2] != self.fixed[:2]:
            reason = self._reason(hit)
            end = self.owner.scene.nodes[hit[0]].port_scene_pos(hit[1], hit[2])
            if reason is None:
                message = self._replace_note(hit)
            else:
                message = reason
                refused = (hit, reason)
        self._show_refusal(refused)
        if message or self._said:
            self.owner.status_message.emit(message)
        self._said = bool(message)
        path: QPainterPath = bezier(self.anchor, end) if self.fixed[2] else bezier(end, self.anchor)
        self.wire.setPath(path)

    def _show_refusal(self, refused: tuple[tuple[str, str, bool], str] | None) -> None:
        """Over a port the wire cannot connect to, the wire turns red and
        dashed, the port is crossed out and the reason shows beside it."""
        target = refused[0] if refused is not None else None
        if target == self._refused_port:
            return
        scene = self.owner.scene
        style = scene.canvas_style
        if self._refused_port is not None and self._refused_port[0] in scene.nodes:
            node_id, port, is_output = self._refused_port
            scene.nodes[node_id].set_port_state((port, is_output), self._port_state_before)
        self._refused_port = target
        if refused is None:
            self.wire.setPen(style.wire_pen)
            self.hint.hide()
            return
        (node_id, port, is_output), reason = refused
        item = scene.nodes[node_id]
        self._port_state_before = item.port_states.get((port, is_output), 0)
        item.set_port_state((port, is_output), PORT_DENIED)
        self.wire.setPen(style.refused_wire_pen)
        self.hint.set_text(reason)
        at = item.port_scene_pos(port, is_output)
        self.hint.place(at, item.scene_rect(), right=is_output)
        self.hint.show()

    def _replace_note(self, hit: tuple[str, str, bool]) -> str:
        key = self._ends((hit[0], hit[1]))
        port = self.owner.doc.port(key[2], key[3], False)
        existing = [k for k in self.owner.doc.edges_into(key[2], key[3]) if k != self.detached]
        doc = self.owner.doc
        if port is not None and not port.multiple and existing:
            return f"Release to connect — replaces the edge from {doc.label(existing[0][0])}."
        return (
            f"Release to connect {doc.label(key[0])} ({key[1]}) → {doc.label(key[2])} ({key[3]})."
        )

    def finish(self, pos: QPointF, event: QMouseEvent) -> None:
        self._cleanup()
        editor = self.owner.editor
        hit = self.owner.scene.port_at(pos)
        if hit is not None and hit[:2] != self.fixed[:2]:
            reason = self._reason(hit)
            if reason is not None:
                self.owner.status_message.emit(reason)
                self._restore()
                return
            key = self._ends((hit[0], hit[1]))
            if key == self.detached:
                self._restore()
                return
            connect = AddEdge(*key)
            if self.detached is not None:
                editor.push(Composite("Reconnect", [RemoveEdges([self.detached]), connect]))
            else:
                editor.push(connect)
            self.owner.status_message.emit("")
            return
        if hit is not None:  # released on the port it started from
            self.owner.status_message.emit("")
            self._restore()
            return
        self.owner.status_message.emit("")  # no "Release to connect …" left behind
        if self.detached is not None:
            editor.push(RemoveEdges([self.detached]))
            return
        self.owner.drop_dangling()
        self.owner.scene.addItem(self.wire)  # stays in sight while quick-add is open
        self.owner.dangling = self.wire
        self.owner.quick_add_requested.emit(event.globalPosition().toPoint(), pos, self.fixed)

    def _restore(self) -> None:
        if self.detached is not None and self.detached in self.owner.scene.edges:
            self.owner.scene.edges[self.detached].setVisible(True)

    def _cleanup(self) -> None:
        scene = self.owner.scene
        scene.removeItem(self.wire)
        scene.removeItem(self.hint)
        for item in scene.nodes.values():
            item.set_port_states({})

    def cancel(self) -> None:
        self._cleanup()
        self._restore()
        self.owner.status_message.emit("")
