"""An accepted plan as one composite undo command. May import: editor.document,
engine (public API), stdlib. No Qt."""

from __future__ import annotations

import copy
from typing import Any

from flowdesk.editor.document import Document
from flowdesk.editor.document.commands import (
    AddEdge,
    AddNode,
    Command,
    Composite,
    RemoveItems,
    SetWorkflowField,
)


class _ReplaceNode(Command):
    def __init__(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        self.old = copy.deepcopy(old)
        self.new = copy.deepcopy(new)
        self.text = f"Edit {new['id']}"

    def redo(self, doc: Document) -> None:
        self.text = f"Edit {doc.label(self.old['id'])}"
        doc.replace_node(self.new["id"], self.new)

    def undo(self, doc: Document) -> None:
        doc.replace_node(self.old["id"], self.old)


def _edge_key(edge: dict[str, Any]) -> tuple[str, str, str, str]:
    return (
        edge["from"]["node"],
        edge["from"].get("port", "out"),
        edge["to"]["node"],
        edge["to"].get("port", "in"),
    )


def plan_command(doc: Document, new: dict[str, Any], intent: str = "") -> Composite:
    """The commands turning ``doc`` into the planned workflow ``new``."""
    old = doc.to_json()
    before = {n["id"]: n for n in old.get("nodes", [])}
    after = {n["id"]: n for n in new.get("nodes", [])}
    old_edges = {_edge_key(e) for e in old.get("edges", [])}
    new_edges = [_edge_key(e) for e in new.get("edges", [])]
    children: list[Command] = []
    removed_nodes = [i for i in before if i not in after]
    removed_edges = [k for k in old_edges if k not in set(new_edges)]
    if removed_nodes or removed_edges:
        children.append(RemoveItems(removed_nodes, removed_edges))
    for node_id, node in after.items():
        if node_id not in before:
            children.append(AddNode(node))
        elif before[node_id] != node:
            children.append(_ReplaceNode(before[node_id], node))
    for key in new_edges:
        if key not in old_edges:
            children.append(AddEdge(*key))
    for field in ("variables", "credentials"):
        if new.get(field, {}) != old.get(field, {}) and new.get(field) is not None:
            children.append(SetWorkflowField(field, new[field]))
    text = f"Apply plan: {intent}" if intent else "Apply plan"
    return Composite(text[:80], children)
