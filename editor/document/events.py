"""Typed change events the ``Document`` emits after each mutation.

Observers (scene, inspector, controllers) dispatch on the event class. Events
carry ids only; observers read the new state from the document.
May import: stdlib only.
"""

from __future__ import annotations

from dataclasses import dataclass

#: An edge is identified by its two ``(node, port)`` ends: (from, port, to, port).
EdgeKey = tuple[str, str, str, str]
Point = tuple[float, float]


@dataclass(frozen=True, slots=True)
class NodeAdded:
    node_id: str


@dataclass(frozen=True, slots=True)
class NodeRemoved:
    node_id: str


@dataclass(frozen=True, slots=True)
class NodesMoved:
    node_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NodeChanged:
    """Fields of a node other than its id and position changed."""

    node_id: str
    fields: frozenset[str]


@dataclass(frozen=True, slots=True)
class NodeRenamed:
    old_id: str
    new_id: str


@dataclass(frozen=True, slots=True)
class EdgeAdded:
    key: EdgeKey


@dataclass(frozen=True, slots=True)
class EdgeRemoved:
    key: EdgeKey


@dataclass(frozen=True, slots=True)
class NoteAdded:
    note_id: str


@dataclass(frozen=True, slots=True)
class NoteRemoved:
    note_id: str


@dataclass(frozen=True, slots=True)
class NoteChanged:
    note_id: str
    fields: frozenset[str]


@dataclass(frozen=True, slots=True)
class WorkflowChanged:
    """A top-level field (name, description, variables, …) changed."""

    fields: frozenset[str]


DocumentEvent = (
    NodeAdded
    | NodeRemoved
    | NodesMoved
    | NodeChanged
    | NodeRenamed
    | EdgeAdded
    | EdgeRemoved
    | NoteAdded
    | NoteRemoved
    | NoteChanged
    | WorkflowChanged
)
