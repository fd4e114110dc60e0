"""Pure undoable commands: each changes the ``Document`` through its mutators only.

A command has ``redo(doc)``, ``undo(doc)``, a ``text`` for the Edit menu and an
optional ``merge_key``: consecutive commands with the same key merge (keystrokes
in one field, arrow-key nudges). Redo captures what undo needs each time it
runs, so redo → undo → redo always reproduces the same JSON. ``editor.undo``
adapts them to ``QUndoCommand``. May import: editor.document, stdlib. No Qt.
"""

from __future__ import annotations

import copy
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any

from flowdesk.editor.document.document import UNSET, Document, JsonDict, node_json
from flowdesk.editor.document.events import EdgeKey, Point
from flowdesk.editor.document.refs import rename_references


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


class Command:
    """Base class. Subclasses set ``text`` and implement ``redo`` / ``undo``."""

    text: str = ""
    merge_key: Hashable | None = None

    def redo(self, doc: Document) -> None:
        raise NotImplementedError

    def undo(self, doc: Document) -> None:
        raise NotImplementedError

    def merge(self, other: Command) -> bool:
        """Absorb ``other`` (pushed right after, same ``merge_key``)."""
        return False

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.text!r}>"


class Composite(Command):
    """Several commands as one undo step (paste, quick-add and connect, …)."""

    def __init__(self, text: str, children: Sequence[Command]) -> None:
        self.text = text
        self.children = list(children)

    def redo(self, doc: Document) -> None:
        done: list[Command] = []
        try:
            for child in self.children:
                child.redo(doc)
                done.append(child)
        except Exception:
            # All or nothing: a refused child leaves the document as it was.
            for child in reversed(done):
                child.undo(doc)
            raise

    def undo(self, doc: Document) -> None:
        for child in reversed(self.children):
            child.undo(doc)


class AddNode(Command):
    def __init__(self, data: JsonDict, index: int | None = None, text: str | None = None) -> None:
        self.data = copy.deepcopy(data)
        self.index = index
        self.text = text or f"Add {data.get('title') or data['type']}"

    @property
    def node_id(self) -> str:
        return str(self.data["id"])

    def redo(self, doc: Document) -> None:
        doc.insert_nodes([(self.index, self.data)])

    def undo(self, doc: Document) -> None:
        doc.remove_nodes([self.node_id])


class RemoveItems(Command):
    """Delete nodes (with their edges), edges and notes: one step."""

    def __init__(
        self,
        node_ids: Iterable[str] = (),
        edge_keys: Iterable[EdgeKey] = (),
        note_ids: Iterable[str] = (),
    ) -> None:
        self.node_ids = list(node_ids)
        self.note_ids = list(note_ids)
        gone = set(self.node_ids)
        # Edges of deleted nodes go with them; listing them twice would fail.
        self.edge_keys = [k for k in edge_keys if k[0] not in gone and k[2] not in gone]
        self._edges: list[tuple[int, JsonDict]] = []
        self._nodes: list[tuple[int, JsonDict]] = []
        self._node_edges: list[tuple[int, JsonDict]] = []
        self._notes: list[tuple[int, JsonDict]] = []
        parts = []
        if self.node_ids:
            parts.append(plural(len(self.node_ids), "node"))
        if self.edge_keys:
            parts.append(plural(len(self.edge_keys), "edge"))
        if self.note_ids:
            parts.append(plural(len(self.note_ids), "note"))
        self.text = "Delete " + " and ".join(parts)
        #: name the one node or edge by its title at the first redo
        self.auto_text = True

    def _name_one(self, doc: Document) -> None:
        self.auto_text = False
        if len(self.node_ids) == 1 and not self.edge_keys and not self.note_ids:
            verb = self.text.split(" ", 1)[0]  # Delete, Cut
            self.text = f"{verb} {doc.label(self.node_ids[0])}"
        elif len(self.edge_keys) == 1 and not self.node_ids and not self.note_ids:
            source, _, target, _ = self.edge_keys[0]
            self.text = f"Disconnect {doc.label(source)} from {doc.label(target)}"

    def redo(self, doc: Document) -> None:
        if self.auto_text:
            self._name_one(doc)
        self._edges = doc.remove_edges(self.edge_keys)
        self._nodes, self._node_edges = doc.remove_nodes(self.node_ids)
        self._notes = doc.remove_notes(self.note_ids)

    def undo(self, doc: Document) -> None:
        doc.insert_notes(self._notes)
        doc.insert_nodes(self._nodes)
        doc.insert_edges(self._node_edges)
        doc.insert_edges(self._edges)


class MoveNodes(Command):
    """Move nodes and notes: ``{id: (old, new)}``; ``old`` None = had no position."""

    def __init__(
        self,
        nodes: Mapping[str, tuple[Point | None, Point]],
        notes: Mapping[str, tuple[Point | None, Point]] | None = None,
        text: str | None = None,
        mergeable: bool = False,
    ) -> None:
        self.nodes = dict(nodes)
        self.notes = dict(notes or {})
        parts = []
        if self.nodes:
            parts.append(plural(len(self.nodes), "node"))
        if self.notes:
            parts.append(plural(len(self.notes), "note"))
        self.text = text or "Move " + " and ".join(parts)
        self._auto_text = text is None and len(self.nodes) == 1 and not self.notes
        if mergeable:
            self.merge_key = ("move", frozenset(self.nodes), frozenset(self.notes))

    def redo(self, doc: Document) -> None:
        if self._auto_text:  # one node: by its title ("Move “Fetch orders”")
            self._auto_text = False
            self.text = f"Move {doc.label(next(iter(self.nodes)))}"
        self._apply(doc, 1)

    def undo(self, doc: Document) -> None:
        self._apply(doc, 0)

    def _apply(self, doc: Document, which: int) -> None:
        if self.nodes:
            doc.move_nodes({k: v[which] for k, v in self.nodes.items()})
        for note_id, ends in self.notes.items():
            pos = ends[which]
            doc.update_note(note_id, {"position": UNSET if pos is None else list(pos)})

    def merge(self, other: Command) -> bool:
        if not isinstance(other, MoveNodes):
            return False
        for table, theirs in ((self.nodes, other.nodes), (self.notes, other.notes)):
            for key, (_, new) in theirs.items():
                table[key] = (table[key][0], new)
        return True


class SetConfig(Command):
    """Set one config key of a node (``UNSET`` removes it). Keystrokes in the
    same field merge into one step."""

    def __init__(self, node_id: str, key: str, value: Any, text: str | None = None) -> None:
        self.node_id = node_id
        self.key = key
        self.value = copy.deepcopy(value)
        self.text = text or f"Edit {key}"
        self.merge_key = ("config", node_id, key)
        self._old: JsonDict = {}
        self._was_set = True

    def redo(self, doc: Document) -> None:
        node = doc.node(self.node_id)
        self._old = copy.deepcopy(node.config)
        self._was_set = "config" in node.model_fields_set
        doc.set_config_value(self.node_id, self.key, self.value)

    def undo(self, doc: Document) -> None:
        doc.set_config(self.node_id, self._old, keep_unset=not self._was_set)

    def merge(self, other: Command) -> bool:
        assert isinstance(other, SetConfig)
        self.value = other.value
        return True


class SetNodeField(Command):
    """Set a common field of a node (title, disabled, retry, …; ``UNSET`` removes it)."""

    def __init__(self, node_id: str, field: str, value: Any, text: str | None = None) -> None:
        self.node_id = node_id
        self.field = field
        self.value = copy.deepcopy(value)
        self.text = text or f"Edit {field.replace('_', ' ')}"
        self.merge_key = ("field", node_id, field)
        self._old: JsonDict = {}

    def redo(self, doc: Document) -> None:
        self._old = node_json(doc.node(self.node_id))
        doc.set_node_field(self.node_id, self.field, self.value)

    def undo(self, doc: Document) -> None:
        doc.replace_node(self.node_id, self._old)

    def merge(self, other: Command) -> bool:
        assert isinstance(other, SetNodeField)
        self.value = other.value
        return True


class SetPinned(Command):
    """Pin a node's output (``UNSET`` unpins) — one undo step. Values are
    shared, not copied: run outputs are never mutated (see ``set_pinned``)."""

    def __init__(self, node_id: str, value: Any) -> None:
        self.node_id = node_id
        self.value = value
        self.text = "Unpin output" if value is UNSET else "Pin output"
        self._old: Any = UNSET

    def redo(self, doc: Document) -> None:
        node = doc.node(self.node_id)
        self._old = node.pinned if "pinned" in node.model_fields_set else UNSET
        doc.set_pinned(self.node_id, self.value)

    def undo(self, doc: Document) -> None:
        doc.set_pinned(self.node_id, self._old)


class RenameNode(Command):
    """Change a node's id: its edges follow, and ``nodes.OLD`` in other nodes'
    expressions becomes ``nodes.NEW``."""

    def __init__(self, old_id: str, new_id: str) -> None:
        self.old_id = old_id
        self.new_id = new_id
        self.text = f"Rename {old_id} to {new_id}"
        self._old_nodes: list[JsonDict] = []
        self._named = False

    def redo(self, doc: Document) -> None:
        if not self._named:
            self._named = True
            self.text = f"Change the id of {doc.label(self.old_id)} to {self.new_id}"
        doc.rename_node(self.old_id, self.new_id)
        self._old_nodes = []
        for node_id in doc.node_ids():
            node = doc.node(node_id)
            data = node_json(node)
            changed = rename_references(data, self.old_id, self.new_id, keys=("config", "for_each"))
            if changed != data:
                self._old_nodes.append(data)
                doc.replace_node(node_id, changed)

    def undo(self, doc: Document) -> None:
        for data in self._old_nodes:
            doc.replace_node(data["id"], data)
        doc.rename_node(self.new_id, self.old_id)


class AddEdge(Command):
    """Connect two ports; an edge already into a single input is replaced."""

    def __init__(self, source: str, source_port: str, target: str, target_port: str) -> None:
        self.key: EdgeKey = (source, source_port, target, target_port)
        self.text = f"Connect {source} to {target}"
        self._replaced: list[tuple[int, JsonDict]] = []
        self._named = False

    def redo(self, doc: Document) -> None:
        if not self._named:  # by title, as the canvas shows them
            self._named = True
            self.text = f"Connect {doc.label(self.key[0])} to {doc.label(self.key[2])}"
        self._replaced = []
        port = doc.port(self.key[2], self.key[3], is_output=False)
        if port is not None and port.declared and not port.multiple:
            existing = doc.edges_into(self.key[2], self.key[3])
            if existing:
                self._replaced = doc.remove_edges(existing)
        doc.insert_edges(
            [
                (
                    None,
                    {
                        "from": {"node": self.key[0], "port": self.key[1]},
                        "to": {"node": self.key[2], "port": self.key[3]},
                    },
                )
            ]
        )

    def undo(self, doc: Document) -> None:
        doc.remove_edges([self.key])
        doc.insert_edges(self._replaced)


class RemoveEdges(RemoveItems):
    def __init__(self, keys: Iterable[EdgeKey], text: str | None = None) -> None:
        super().__init__(edge_keys=keys)
        if text:
            self.text = text
            self.auto_text = False


class AddNote(Command):
    def __init__(self, data: JsonDict) -> None:
        self.data = copy.deepcopy(data)
        self.text = "Add note"
        self._ui_state = (True, True)

    def redo(self, doc: Document) -> None:
        self._ui_state = doc.ui_state()
        doc.insert_notes([(None, self.data)])

    def undo(self, doc: Document) -> None:
        doc.remove_notes([self.data["id"]])
        doc.restore_ui_state(self._ui_state)


class EditNote(Command):
    """Change keys of a note (text, size, colour); typing merges."""

    def __init__(self, note_id: str, changes: Mapping[str, Any], text: str = "Edit note") -> None:
        self.note_id = note_id
        self.changes = copy.deepcopy(dict(changes))
        self.text = text
        self.merge_key = ("note", note_id, tuple(sorted(self.changes)))
        self._old: dict[str, Any] = {}

    def redo(self, doc: Document) -> None:
        note = doc.note(self.note_id)
        self._old = {k: copy.deepcopy(note.get(k, UNSET)) for k in self.changes}
        doc.update_note(self.note_id, self.changes)

    def undo(self, doc: Document) -> None:
        doc.update_note(self.note_id, self._old)

    def merge(self, other: Command) -> bool:
        assert isinstance(other, EditNote)
        self.changes = other.changes
        return True


class SetWorkflowField(Command):
    """Set a top-level field (name, description, variables, …)."""

    def __init__(self, field: str, value: Any, text: str | None = None) -> None:
        self.field = field
        self.value = copy.deepcopy(value)
        self.text = text or f"Edit workflow {field}"
        self.merge_key = ("workflow", field)
        self._old: Any = UNSET

    def redo(self, doc: Document) -> None:
        wf = doc.workflow
        was_set = self.field in wf.model_fields_set
        self._old = copy.deepcopy(wf.to_json_dict().get(self.field)) if was_set else UNSET
        doc.set_workflow_field(self.field, self.value)

    def undo(self, doc: Document) -> None:
        doc.set_workflow_field(self.field, self._old)

    def merge(self, other: Command) -> bool:
        assert isinstance(other, SetWorkflowField)
        self.value = other.value
        return True
