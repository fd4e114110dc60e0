"""Plain values and helpers of the document: the ``UNSET`` marker, ``PortInfo``,
JSON views of nodes and edges, id rules, and the integrity check that decides
whether a workflow can be opened at all. May import: engine (public API),
pydantic, stdlib. No Qt.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Annotated, Any

from flowdesk.editor.document.events import EdgeKey
from flowdesk.engine import Edge, Issue, Node, Workflow, issues_from_validation_error
from pydantic import TypeAdapter, ValidationError

NODE_ID_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
JsonDict = dict[str, Any]


class _Unset:
    """Marks a key that is absent from the file (not the same as ``null``)."""

    _instance: _Unset | None = None

    def __new__(cls) -> _Unset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"

    def __deepcopy__(self, memo: dict[int, Any]) -> _Unset:
        return self


UNSET: Any = _Unset()


@dataclass(frozen=True, slots=True)
class PortInfo:
    """A port as the canvas draws it. ``declared`` is false for a port that only
    an edge names (placeholder nodes, or a port the type does not have)."""

    name: str
    is_output: bool
    multiple: bool = False
    type: str = "any"
    description: str = ""
    declared: bool = True


def node_json(node: Node) -> JsonDict:
    """The node's JSON object as the file holds it (unset keys left out)."""
    return node.model_dump(by_alias=True, exclude_unset=True, mode="json")


def edge_json(edge: Edge) -> JsonDict:
    return edge.model_dump(by_alias=True, exclude_unset=True, mode="json")


def make_edge(source: str, source_port: str, target: str, target_port: str) -> Edge:
    return Edge.model_validate(
        {"from": {"node": source, "port": source_port}, "to": {"node": target, "port": target_port}}
    )


def edge_key_text(key: EdgeKey) -> str:
    return f"{key[0]}.{key[1]} → {key[2]}.{key[3]}"


def error_text(exc: ValidationError, at: tuple[str, ...] = ()) -> str:
    """The errors of ``exc`` as ``place: message``, in the words of the engine
    (``issues_from_validation_error``); ``at``: where the value sits."""
    return "; ".join(str(issue) for issue in issues_from_validation_error(exc, at))


# Process-wide on purpose: a pure function of the file format's (immutable)
# ``Workflow`` class; building an adapter costs milliseconds, checking with it
# microseconds.
@functools.cache
def workflow_field_adapter(field: str) -> TypeAdapter[Any]:
    """The file format's check of one top-level key of a workflow: the field's
    type with its constraints (``name``'s minimum length…). ``KeyError`` for a
    key the format does not have."""
    info = Workflow.model_fields[field]
    kind = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
    return TypeAdapter(kind)


def integrity_issues(workflow: Workflow) -> list[Issue]:
    """Problems that stop the editor from opening a workflow at all: duplicate
    node ids or edges, and edges naming nodes that do not exist. (Everything
    else — unknown types and ports, cycles, bad configs — opens and is marked.)"""
    ids = {node.id for node in workflow.nodes}
    keys = {edge.key() for edge in workflow.edges}
    if (
        len(ids) == len(workflow.nodes)
        and len(keys) == len(workflow.edges)
        and all(key[0] in ids and key[2] in ids for key in keys)
    ):
        return []  # (the common case, at a glance; the problems are located below)
    issues: list[Issue] = []
    seen: set[str] = set()
    for i, node in enumerate(workflow.nodes):
        if node.id in seen:
            issues.append(Issue(f"nodes[{i}].id", f"duplicate id {node.id!r}", node.id))
        seen.add(node.id)
    keys: set[EdgeKey] = set()
    for i, edge in enumerate(workflow.edges):
        for end, ref in (("from", edge.source), ("to", edge.target)):
            if ref.node not in seen:
                issues.append(Issue(f"edges[{i}].{end}.node", f"node {ref.node!r} does not exist"))
        if edge.key() in keys:
            issues.append(Issue(f"edges[{i}]", "duplicate edge"))
        keys.add(edge.key())
    return issues


def sanitize_id(text: str) -> str:
    """A valid node id made from any text (``"Read file"`` → ``read_file``)."""
    out = re.sub(r"[^A-Za-z0-9_]+", "_", text.strip()).strip("_").lower()
    if not out:
        out = "node"
    if out[0].isdigit():
        out = "n_" + out
    return out[:64]


def clean_number(value: float) -> float | int:
    """Whole-pixel positions are written as integers: cleaner files and diffs."""
    rounded = round(float(value), 1)
    return int(rounded) if rounded.is_integer() else rounded
