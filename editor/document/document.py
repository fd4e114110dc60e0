"""The editor's single source of truth: an observable wrapper around ``Workflow``.

Mutators check the document's invariants (unique node ids, edges between
existing nodes, no duplicate edge), change the workflow and emit a typed event
(``editor.document.events``) through ``Document.changed``; removing nodes emits
``EdgeRemoved`` for their edges first. Commands call these mutators; nothing
else writes to the workflow. May import: engine (public API), stdlib. No Qt.

Why one file of ~600 lines: ``Document`` is one class whose every mutator
keeps the same indexes (nodes by id, edges by key, titles) and emits through
the same signal; split, the parts would share that private state. Its plain
values and checks are in ``values``, its events in ``events``, run copies
in ``snapshot``.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

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
    Point,
    WorkflowChanged,
)
from flowdesk.editor.document.observer import Signal
from flowdesk.editor.document.snapshot import run_copy
from flowdesk.editor.document.values import (
    NODE_ID_RE,
    UNSET,
    JsonDict,
    PortInfo,
    clean_number,
    edge_json,
    edge_key_text,
    error_text,
    integrity_issues,
    make_edge,
    node_json,
    sanitize_id,
    workflow_field_adapter,
)
from flowdesk.engine import (
    Edge,
    Issue,
    Node,
    NodeRegistry,
    NodeType,
    Workflow,
    input_layout,
    reachable,
)
from pydantic import ValidationError

__all__ = [
    "NODE_ID_RE",
    "UNSET",
    "Document",
    "DocumentError",
    "JsonDict",
    "PortInfo",
    "edge_json",
    "edge_key_text",
    "integrity_issues",
    "make_edge",
    "node_json",
    "sanitize_id",
]


class DocumentError(ValueError):
    """A mutation would break an invariant of the document; ``issues``: the
    located problems of a workflow that cannot be a document."""

    def __init__(self, message: str, issues: list[Issue] | None = None) -> None:
        super().__init__(message)
        self.issues = list(issues or [])


class _DeclaredPorts(NamedTuple):
    """A node type's ports as its nodes show them, and their names."""

    inputs: list[PortInfo]
    outputs: list[PortInfo]
    input_names: set[str]
    output_names: set[str]


class Document:
    """An open workflow. ``changed`` emits one event per elementary change."""

    def __init__(self, workflow: Workflow, registry: NodeRegistry) -> None:
        issues = integrity_issues(workflow)
        if issues:
            raise DocumentError("; ".join(str(i) for i in issues), issues)
        self._wf = workflow
        self.registry = registry
        self.changed: Signal[[DocumentEvent]] = Signal()
        #: how many nodes show each title (``label``), until the next change
        self._title_counts: dict[str, int] | None = None
        self.changed.connect(self._forget_titles)  # first: before any observer asks
        #: a type's declared inputs and outputs, and their names
        self._port_cache: dict[str, _DeclaredPorts] = {}
        self._nodes: dict[str, Node] = {n.id: n for n in workflow.nodes}
        self._edges: dict[EdgeKey, Edge] = {e.key(): e for e in workflow.edges}
        self._out: dict[str, list[EdgeKey]] = {n.id: [] for n in workflow.nodes}
        self._in: dict[str, list[EdgeKey]] = {n.id: [] for n in workflow.nodes}
        for key in self._edges:
            self._out[key[0]].append(key)
            self._in[key[2]].append(key)

    @classmethod
    def new(cls, registry: NodeRegistry, name: str = "Untitled") -> Document:
        workflow = Workflow.model_validate(
            {"format": "flowdesk/workflow", "version": 1, "name": name, "nodes": [], "edges": []}
        )
        return cls(workflow, registry)

    # ----------------------------------------------------------------- queries
    @property
    def workflow(self) -> Workflow:
        """The live workflow. Read it; change it only through mutators."""
        return self._wf

    def to_json(self) -> JsonDict:
        return self._wf.to_json_dict()

    def snapshot(self) -> Workflow:
        """An independent copy, e.g. to hand to a run."""
        return self._wf.model_copy(deep=True)

    def node(self, node_id: str) -> Node:
        try:
            return self._nodes[node_id]
        except KeyError:
            raise DocumentError(f"no node {node_id!r}") from None

    def has_node(self, node_id: str) -> bool:
        return node_id in self._nodes

    def node_ids(self) -> list[str]:
        return [n.id for n in self._wf.nodes]

    def node_index(self, node_id: str) -> int:
        for i, node in enumerate(self._wf.nodes):
            if node.id == node_id:
                return i
        raise DocumentError(f"no node {node_id!r}")

    def node_type(self, node_id: str) -> type[NodeType] | None:
        """The node's registered type, or None for a placeholder."""
        return self.registry.find(self.node(node_id).type)

    def edge_keys(self) -> list[EdgeKey]:
        return [e.key() for e in self._wf.edges]

    def has_edge(self, key: EdgeKey) -> bool:
        return key in self._edges

    def edges_of(self, node_id: str) -> list[EdgeKey]:
        return [*self._in.get(node_id, ()), *self._out.get(node_id, ())]

    def edges_into(self, node_id: str, port: str | None = None) -> list[EdgeKey]:
        """The edges into ``node_id`` (into its ``port``), in file order: the
        order a run gathers the node's inputs in."""
        return [k for k in self._in.get(node_id, ()) if port is None or k[3] == port]

    def input_layout(self, node_id: str) -> tuple[tuple[str, bool], ...]:
        """The node's input ports as a run gathers them (``gather_inputs``):
        its type's, in declared order, with whether each takes several edges
        (for a type not installed, the ports its edges name)."""
        node_type = self.node_type(node_id)
        if node_type is not None:
            return input_layout(node_type)
        return tuple((p.name, p.multiple) for p in self.ports(node_id)[0])

    def edges_from(self, node_id: str, port: str | None = None) -> list[EdgeKey]:
        return [k for k in self._out.get(node_id, ()) if port is None or k[1] == port]

    def _declared_ports(self, type_name: str) -> _DeclaredPorts:
        cached = self._port_cache.get(type_name)
        if cached is None:
            node_type = self.registry.find(type_name)
            inputs, outputs = [], []
            if node_type is not None:
                inputs = [
                    PortInfo(p.name, False, p.multiple, p.type, p.description)
                    for p in node_type.inputs
                ]
                outputs = [
                    PortInfo(p.name, True, p.multiple, p.type, p.description)
                    for p in node_type.outputs
                ]
            cached = self._port_cache[type_name] = _DeclaredPorts(
                inputs, outputs, {p.name for p in inputs}, {p.name for p in outputs}
            )
        return cached

    def ports(self, node_id: str) -> tuple[list[PortInfo], list[PortInfo]]:
        """Inputs and outputs: the type's ports, then any port an edge names
        that the type lacks (so such edges still have somewhere to attach).
        The lists may be shared: do not change them."""
        declared_in, declared_out, in_names, out_names = self._declared_ports(
            self.node(node_id).type
        )
        declared = True
        for key in self._in.get(node_id, ()):
            if key[3] not in in_names:
                declared = False
        for key in self._out.get(node_id, ()):
            if key[1] not in out_names:
                declared = False
        if declared:
            return declared_in, declared_out
        known_in, known_out = set(in_names), set(out_names)
        inputs, outputs = list(declared_in), list(declared_out)
        for key in self._in.get(node_id, ()):
            if key[3] not in known_in:
                known_in.add(key[3])
                inputs.append(PortInfo(key[3], False, True, declared=False))
        for key in self._out.get(node_id, ()):
            if key[1] not in known_out:
                known_out.add(key[1])
                outputs.append(PortInfo(key[1], True, declared=False))
        return inputs, outputs

    def port(self, node_id: str, name: str, is_output: bool) -> PortInfo | None:
        inputs, outputs = self.ports(node_id)
        for p in outputs if is_output else inputs:
            if p.name == name:
                return p
        return None

    def upstream(self, node_id: str) -> set[str]:
        """Every node with a path to ``node_id`` (not including itself)."""
        return reachable(node_id, lambda n: (key[0] for key in self._in.get(n, ())))

    def label(self, node_id: str) -> str:
        """How people know a node: its title in quotes (“Summarise”), with its
        id when another node shows the same title; the id of a node that does
        not exist."""
        node = self._nodes.get(node_id)
        if node is None:
            return repr(node_id)
        title = self._shown_title(node)
        if self._title_counts is None:
            counts: dict[str, int] = {}
            for other in self._nodes.values():
                shown = self._shown_title(other)
                counts[shown] = counts.get(shown, 0) + 1
            self._title_counts = counts
        same = self._title_counts.get(title, 0)
        return f"“{title}”" + (f" ({node_id})" if same > 1 else "")

    def _forget_titles(self, _event: object) -> None:
        self._title_counts = None

    def shown_title(self, node_id: str) -> str:
        """The title the canvas shows (the type's title when the node has none)."""
        node = self._nodes.get(node_id)
        return self._shown_title(node) if node is not None else node_id

    def _shown_title(self, node: Node) -> str:
        node_type = self.registry.find(node.type)
        return node.title or (node_type.title if node_type is not None else "") or node.type

    def can_connect(
        self, source: str, source_port: str, target: str, target_port: str
    ) -> str | None:
        """None when the edge may be added (it may replace the edge into a single
        input), else the reason it may not, in words for the status bar."""
        if source == target:
            return "A node cannot connect to itself."
        for node_id in (source, target):
            if node_id not in self._nodes:
                return f"Node {node_id!r} does not exist."
            if self.node_type(node_id) is None:
                missing = self.node(node_id).type
                return f"{self.label(node_id)} is a placeholder: type {missing!r} is not installed."
        out_port = self.port(source, source_port, True)
        in_port = self.port(target, target_port, False)
        if out_port is None or not out_port.declared:
            return f"{self.label(source)} has no output {source_port!r}."
        if in_port is None or not in_port.declared:
            return f"{self.label(target)} has no input {target_port!r}."
        if (source, source_port, target, target_port) in self._edges:
            return "These ports are already connected."
        if "any" not in (out_port.type, in_port.type) and out_port.type != in_port.type:
            return f"Port types differ: {out_port.type} → {in_port.type}."
        if source in self.downstream_of(target):
            return (
                f"This would make a cycle: {self.label(target)} already leads to "
                f"{self.label(source)}."
            )
        return None

    def downstream_of(self, node_id: str) -> set[str]:
        """``node_id`` and every node it has a path to."""
        return {node_id} | reachable(node_id, lambda n: (key[2] for key in self._out.get(n, ())))

    def unique_id(self, base: str, taken: Iterable[str] = ()) -> str:
        """``base`` if free, else ``base_2``, ``base_3``… (ids must stay readable)."""
        used = set(self._nodes) | set(taken)
        base = sanitize_id(base)
        if base not in used:
            return base
        stem = re.sub(r"_\d+$", "", base) or "node"
        n = 2
        while True:
            suffix = f"_{n}"
            candidate = stem[: 64 - len(suffix)] + suffix
            if candidate not in used:
                return candidate
            n += 1

    # ---------------------------------------------------------------- nodes
    def insert_nodes(self, entries: Iterable[tuple[int | None, JsonDict | Node]]) -> list[str]:
        """Insert nodes (JSON or ``Node``) at indices (None: at the end),
        in the given order. Returns their ids."""
        added = []
        for index, data in entries:
            node = data if isinstance(data, Node) else self._validate_node(data)
            if node.id in self._nodes:
                raise DocumentError(f"a node with id {node.id!r} already exists")
            where = len(self._wf.nodes) if index is None else index
            self._wf.nodes.insert(where, node)
            self._nodes[node.id] = node
            self._in[node.id] = []
            self._out[node.id] = []
            added.append(node.id)
            self.changed.emit(NodeAdded(node.id))
        return added

    def remove_nodes(
        self, node_ids: Iterable[str]
    ) -> tuple[list[tuple[int, JsonDict]], list[tuple[int, JsonDict]]]:
        """Remove nodes and their edges; the edges go (and are announced) first.

        Returns ``(nodes, edges)`` as ``(index, json)`` lists in ascending index
        order, which is what ``insert_nodes`` / ``insert_edges`` need to undo."""
        ids = set(node_ids)
        for node_id in ids:
            self.node(node_id)
        doomed = {k for i in ids for k in self.edges_of(i)}
        removed_edges = self._remove_edges_where(lambda key: key in doomed)
        removed_nodes: list[tuple[int, JsonDict]] = []
        kept: list[Node] = []
        for index, node in enumerate(self._wf.nodes):
            if node.id in ids:
                removed_nodes.append((index, node_json(node)))
            else:
                kept.append(node)
        self._wf.nodes[:] = kept
        for _, data in removed_nodes:
            node_id = data["id"]
            del self._nodes[node_id], self._in[node_id], self._out[node_id]
            self.changed.emit(NodeRemoved(node_id))
        return removed_nodes, removed_edges

    def move_nodes(self, positions: Mapping[str, Point | None]) -> None:
        """Set positions (None removes the key: the node had none in the file)."""
        for node_id, pos in positions.items():
            node = self.node(node_id)
            if pos is None:
                node.position = None
                node.model_fields_set.discard("position")
            else:
                node.position = (clean_number(pos[0]), clean_number(pos[1]))
        self.changed.emit(NodesMoved(tuple(positions)))

    def replace_node(self, node_id: str, data: JsonDict) -> None:
        """Replace a node's JSON (same id) — how field edits and their undo work,
        so that keys absent from the file stay absent."""
        if data.get("id") != node_id:
            raise DocumentError("replace_node keeps the id; use rename_node")
        old = self.node(node_id)
        node = self._validate_node(data)
        index = self.node_index(node_id)
        fields = {
            name
            for name in set(node.model_fields_set) | set(old.model_fields_set)
            if getattr(old, name) != getattr(node, name)
            or (name in node.model_fields_set) != (name in old.model_fields_set)
        }
        self._wf.nodes[index] = node
        self._nodes[node_id] = node
        if "position" in fields:
            fields.discard("position")
            self.changed.emit(NodesMoved((node_id,)))
        self.changed.emit(NodeChanged(node_id, frozenset(fields)))

    def set_node_field(self, node_id: str, field: str, value: Any) -> None:
        """Set one field of a node (``UNSET`` removes the key), validated."""
        if field in ("id", "position"):
            raise DocumentError(f"use rename_node / move_nodes for {field!r}")
        data = node_json(self.node(node_id))
        if value is UNSET:
            data.pop(field, None)
        else:
            data[field] = copy.deepcopy(value)
        self.replace_node(node_id, data)

    def set_pinned(self, node_id: str, value: Any) -> None:
        """Pin an output (``UNSET`` unpins). The value is a run's output, which
        nobody mutates, so it is kept as it is: copying a 50 MB output would
        freeze the editor, and JSON values need no validation."""
        node = self.node(node_id)
        if value is UNSET or value is None:
            node.pinned = None
            node.model_fields_set.discard("pinned")
        else:
            node.pinned = value
            node.model_fields_set.add("pinned")
        self.changed.emit(NodeChanged(node_id, frozenset({"pinned"})))

    def run_snapshot(self) -> Workflow:
        """A cheap copy of the workflow for a run (see ``snapshot.run_copy``)."""
        return run_copy(self._wf)

    def set_config_value(self, node_id: str, key: str, value: Any) -> None:
        """Set one config key (``UNSET`` removes it). Any JSON is accepted: the
        type's model is checked by validation, so invalid input is kept and
        shown rather than lost."""
        node = self.node(node_id)
        if value is UNSET:
            node.config.pop(key, None)
        else:
            node.config[key] = copy.deepcopy(value)
        node.model_fields_set.add("config")
        self.changed.emit(NodeChanged(node_id, frozenset({"config"})))

    def set_config(self, node_id: str, config: JsonDict, keep_unset: bool = False) -> None:
        """Replace the whole config (undo of config edits restores it exactly)."""
        node = self.node(node_id)
        node.config = copy.deepcopy(config)
        if keep_unset:
            node.model_fields_set.discard("config")
        self.changed.emit(NodeChanged(node_id, frozenset({"config"})))

    def rename_node(self, old_id: str, new_id: str) -> None:
        """Change a node's id and rewrite its edges (their order is kept)."""
        node = self.node(old_id)
        if old_id == new_id:
            return
        if not NODE_ID_RE.match(new_id):
            raise DocumentError(
                f"invalid id {new_id!r}: use letters, digits and '_', starting with a "
                "letter or '_', at most 64 characters"
            )
        if new_id in self._nodes:
            raise DocumentError(f"a node with id {new_id!r} already exists")
        touched = [e for e in self._wf.edges if old_id in (e.source.node, e.target.node)]
        for edge in touched:
            del self._edges[edge.key()]
        for other in {k[2] for k in self._out[old_id]} | {k[0] for k in self._in[old_id]}:
            self._in[other] = [k for k in self._in[other] if old_id not in (k[0], k[2])]
            self._out[other] = [k for k in self._out[other] if old_id not in (k[0], k[2])]
        self._in[old_id] = []
        self._out[old_id] = []
        for edge in touched:
            self.changed.emit(EdgeRemoved(edge.key()))
        node.id = new_id
        del self._nodes[old_id], self._in[old_id], self._out[old_id]
        self._nodes[new_id] = node
        self._in[new_id] = []
        self._out[new_id] = []
        for edge in touched:
            if edge.source.node == old_id:
                edge.source.node = new_id
            if edge.target.node == old_id:
                edge.target.node = new_id
        self.changed.emit(NodeRenamed(old_id, new_id))
        for edge in touched:
            self._index_edge(edge)
            self.changed.emit(EdgeAdded(edge.key()))
        self._keep_file_order(n for e in touched for n in (e.source.node, e.target.node))

    # ---------------------------------------------------------------- edges
    def insert_edges(self, entries: Iterable[tuple[int | None, JsonDict | Edge]]) -> list[EdgeKey]:
        added = []
        moved: set[str] = set()  # nodes with an edge inserted before the last one
        for index, data in entries:
            edge = data if isinstance(data, Edge) else Edge.model_validate(data)
            key = edge.key()
            for node_id in (key[0], key[2]):
                if node_id not in self._nodes:
                    raise DocumentError(f"edge {edge_key_text(key)}: no node {node_id!r}")
            if key in self._edges:
                raise DocumentError(f"edge {edge_key_text(key)} already exists")
            where = len(self._wf.edges) if index is None else index
            self._wf.edges.insert(where, edge)
            self._index_edge(edge)
            if where < len(self._wf.edges) - 1:
                moved.update((key[0], key[2]))
            added.append(key)
            self.changed.emit(EdgeAdded(key))
        self._keep_file_order(moved)
        return added

    def remove_edges(self, keys: Iterable[EdgeKey]) -> list[tuple[int, JsonDict]]:
        doomed = set(keys)
        for key in doomed:
            if key not in self._edges:
                raise DocumentError(f"no edge {edge_key_text(key)}")
        return self._remove_edges_where(lambda key: key in doomed)

    def _keep_file_order(self, node_ids: Iterable[str]) -> None:
        """Put the edge lists of ``node_ids`` back in file order (after an
        edge was inserted before others — an undone delete — or a node was
        renamed): the order ``edges_into`` promises."""
        ids = set(node_ids)
        if not ids:
            return
        position = {e.key(): i for i, e in enumerate(self._wf.edges)}
        for node_id in ids:
            for keys in (self._in.get(node_id), self._out.get(node_id)):
                if keys is not None and len(keys) > 1:
                    keys.sort(key=position.__getitem__)

    def _index_edge(self, edge: Edge) -> None:
        key = edge.key()
        self._edges[key] = edge
        self._out[key[0]].append(key)
        self._in[key[2]].append(key)

    def _remove_edges_where(self, doomed: Any) -> list[tuple[int, JsonDict]]:
        removed: list[tuple[int, Edge]] = []
        kept: list[Edge] = []
        for index, edge in enumerate(self._wf.edges):
            if doomed(edge.key()):
                removed.append((index, edge))
            else:
                kept.append(edge)
        if removed:
            self._wf.edges[:] = kept
        for _, edge in removed:
            key = edge.key()
            del self._edges[key]
            self._out[key[0]].remove(key)
            self._in[key[2]].remove(key)
        for _, edge in removed:
            self.changed.emit(EdgeRemoved(edge.key()))
        return [(index, edge_json(edge)) for index, edge in removed]

    # ---------------------------------------------------------------- notes
    def notes(self) -> list[JsonDict]:
        """Sticky notes (``ui.notes``): ``{"id", "text", "position", "size", …}``."""
        notes = self._wf.ui.get("notes")
        return notes if isinstance(notes, list) else []

    def note(self, note_id: str) -> JsonDict:
        for note in self.notes():
            if isinstance(note, dict) and note.get("id") == note_id:
                return note
        raise DocumentError(f"no note {note_id!r}")

    def insert_notes(self, entries: Iterable[tuple[int | None, JsonDict]]) -> None:
        for index, data in entries:
            if not isinstance(data.get("id"), str):
                raise DocumentError("a note needs a string id")
            if any(n.get("id") == data["id"] for n in self.notes() if isinstance(n, dict)):
                raise DocumentError(f"a note with id {data['id']!r} already exists")
            if "notes" not in self._wf.ui or not isinstance(self._wf.ui["notes"], list):
                self._wf.ui["notes"] = []
                self._wf.model_fields_set.add("ui")
            notes = self._wf.ui["notes"]
            notes.insert(len(notes) if index is None else index, copy.deepcopy(data))
            self.changed.emit(NoteAdded(data["id"]))

    def remove_notes(self, note_ids: Iterable[str]) -> list[tuple[int, JsonDict]]:
        ids = set(note_ids)
        for note_id in ids:
            self.note(note_id)
        notes = self.notes()
        removed = [
            (i, n) for i, n in enumerate(notes) if isinstance(n, dict) and n.get("id") in ids
        ]
        notes[:] = [n for n in notes if not (isinstance(n, dict) and n.get("id") in ids)]
        for _, note in removed:
            self.changed.emit(NoteRemoved(note["id"]))
        return removed

    def update_note(self, note_id: str, changes: Mapping[str, Any]) -> None:
        """Change keys of a note (``UNSET`` removes one)."""
        note = self.note(note_id)
        for key, value in changes.items():
            if key == "id":
                raise DocumentError("a note keeps its id")
            if value is UNSET:
                note.pop(key, None)
            else:
                note[key] = copy.deepcopy(value)
        self.changed.emit(NoteChanged(note_id, frozenset(changes)))

    def ui_state(self) -> tuple[bool, bool]:
        """(``ui`` in the file, ``ui.notes`` in the file) — so that undoing the
        first note does not leave an empty ``"ui": {"notes": []}`` behind."""
        return "ui" in self._wf.model_fields_set, "notes" in self._wf.ui

    def restore_ui_state(self, state: tuple[bool, bool]) -> None:
        had_ui, had_notes = state
        if not had_notes and self._wf.ui.get("notes") == []:
            del self._wf.ui["notes"]
        if not had_ui and not self._wf.ui:
            self._wf.model_fields_set.discard("ui")

    def unique_note_id(self) -> str:
        taken = {n.get("id") for n in self.notes() if isinstance(n, dict)}
        n = len(taken) + 1
        while f"note_{n}" in taken:
            n += 1
        return f"note_{n}"

    # -------------------------------------------------------- top level / ui
    def set_workflow_field(self, field: str, value: Any) -> None:
        """Set a top-level key (name, description, variables, env, settings…)."""
        if field in ("nodes", "edges", "ui", "format", "version"):
            raise DocumentError(f"{field!r} is not edited this way")
        if value is UNSET:
            if field == "name":
                raise DocumentError("a workflow needs a name")
            default = Workflow.model_fields[field].get_default(call_default_factory=True)
            setattr(self._wf, field, default)
            self._wf.model_fields_set.discard(field)
        else:
            try:
                adapter = workflow_field_adapter(field)
            except KeyError:
                raise DocumentError(f"{field}: not a key of a workflow") from None
            try:
                checked = adapter.validate_python(copy.deepcopy(value))
            except ValidationError as exc:
                raise DocumentError(error_text(exc, (field,))) from None
            setattr(self._wf, field, checked)
        self.changed.emit(WorkflowChanged(frozenset({field})))

    def set_ui_value(self, key: str, value: Any) -> None:
        """Editor state under ``ui`` that is not a document edit (the viewport):
        no event, not undoable."""
        if value is UNSET:
            self._wf.ui.pop(key, None)
        else:
            self._wf.ui[key] = value
            self._wf.model_fields_set.add("ui")

    # ------------------------------------------------------------- helpers
    def _validate_node(self, data: JsonDict) -> Node:
        try:
            return Node.model_validate(copy.deepcopy(data))
        except ValidationError as exc:
            raise DocumentError(error_text(exc)) from None
