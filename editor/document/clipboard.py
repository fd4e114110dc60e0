"""Copy, paste and duplicate as JSON fragments in the workflow format.

A copied selection is a complete workflow file (``format``, ``version``,
``name``, ``nodes``, the edges *between* copied nodes, notes under ``ui``), so
it pastes into another window or a text editor. Paste accepts that, a bare
``{"nodes": [...], "edges": [...]}``, one node object or a list of nodes (ids
may be left out), makes ids unique (``fetch_2``), keeps internal edges and
rewrites ``nodes.OLD`` references between pasted nodes.
May import: engine (public API), editor.document, stdlib. No Qt.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flowdesk.editor.document.commands import (
    AddEdge,
    AddNode,
    AddNote,
    Command,
    Composite,
    SetWorkflowField,
    plural,
)
from flowdesk.editor.document.document import Document, JsonDict, edge_json, node_json, sanitize_id
from flowdesk.editor.document.events import EdgeKey, Point
from flowdesk.editor.document.refs import rewrite_references
from flowdesk.engine import Edge, Node, issues_from_validation_error
from pydantic import ValidationError

FORMAT = "flowdesk/workflow"


class FragmentError(ValueError):
    """The text is not a fragment that can be pasted; ``problems`` says why."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class Fragment:
    nodes: list[JsonDict]
    edges: list[JsonDict] = field(default_factory=list)
    notes: list[JsonDict] = field(default_factory=list)
    credentials: dict[str, Any] = field(default_factory=dict)


def copy_fragment(doc: Document, node_ids: Iterable[str], note_ids: Iterable[str] = ()) -> JsonDict:
    """The selection as a workflow file's JSON (document order kept)."""
    node_ids, note_ids = set(node_ids), set(note_ids)
    wf = doc.workflow
    nodes = [node_json(n) for n in wf.nodes if n.id in node_ids]
    edges = [
        edge_json(e) for e in wf.edges if e.source.node in node_ids and e.target.node in node_ids
    ]
    out: JsonDict = {"format": FORMAT, "version": 1, "name": wf.name}
    used = {n.get("config", {}).get("credential") for n in nodes}
    creds = wf.to_json_dict().get("credentials", {})
    picked = {k: v for k, v in creds.items() if k in used}
    if picked:
        out["credentials"] = picked
    out["nodes"] = nodes
    out["edges"] = edges
    notes = [
        copy.deepcopy(n) for n in doc.notes() if isinstance(n, dict) and n.get("id") in note_ids
    ]
    if notes:
        out["ui"] = {"notes": notes}
    return out


def fragment_text(doc: Document, node_ids: Iterable[str], note_ids: Iterable[str] = ()) -> str:
    return json.dumps(copy_fragment(doc, node_ids, note_ids), indent=2, ensure_ascii=False) + "\n"


def parse_fragment(text: str) -> Fragment:
    """Read pasted text; raise ``FragmentError`` listing every problem."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FragmentError(
            [f"not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"]
        ) from None
    notes: list[Any] = []
    credentials: Any = {}
    if isinstance(raw, dict) and "nodes" in raw:
        nodes, edges = raw.get("nodes"), raw.get("edges", [])
        ui = raw.get("ui")
        notes = ui.get("notes", []) if isinstance(ui, dict) else []
        credentials = raw.get("credentials", {})
    elif isinstance(raw, dict) and "type" in raw:
        nodes, edges = [raw], []
    elif isinstance(raw, list):
        nodes, edges = raw, []
    else:
        raise FragmentError(['expected a workflow, {"nodes": [...]}, a node or a list of nodes'])
    problems: list[str] = []
    if not isinstance(nodes, list) or not isinstance(edges, list):
        raise FragmentError(["'nodes' and 'edges' must be lists"])
    good_nodes: list[JsonDict] = []
    for i, data in enumerate(nodes):
        if not isinstance(data, dict):
            problems.append(f"nodes[{i}]: not an object")
            continue
        probe = data if "id" in data else {**data, "id": "probe"}
        try:
            Node.model_validate(probe)
        except ValidationError as exc:
            problems.extend(str(p) for p in issues_from_validation_error(exc, ("nodes", i)))
            continue
        good_nodes.append(copy.deepcopy(data))
    good_edges: list[JsonDict] = []
    for i, data in enumerate(edges):
        try:
            good_edges.append(edge_json(Edge.model_validate(data)))
        except ValidationError as exc:
            problems.append(str(issues_from_validation_error(exc, ("edges", i))[0]))
    if problems:
        raise FragmentError(problems)
    if not good_nodes and not notes:
        raise FragmentError(["the fragment holds no nodes"])
    good_notes = [copy.deepcopy(n) for n in notes if isinstance(n, dict)]
    return Fragment(
        good_nodes, good_edges, good_notes, credentials if isinstance(credentials, dict) else {}
    )


def new_node_json(
    doc: Document, type_name: str, position: Point, title: str | None = None
) -> JsonDict:
    """A fresh node of ``type_name``; its id comes from the type's title
    (``Transform`` → ``transform``, then ``transform_2``…)."""
    node_type = doc.registry.find(type_name)
    base = (node_type.title if node_type else "") or type_name.rsplit(".", 1)[-1]
    data: JsonDict = {"id": doc.unique_id(sanitize_id(base)), "type": type_name}
    if title:
        data["title"] = title
    data["position"] = [round(position[0]), round(position[1])]
    preset = getattr(node_type, "default_retry", None) if node_type else None
    if preset:
        # network types start with the type's retry preset: transient
        # failures are retried (files read before it keep what they say)
        data["retry"] = {"preset": preset}
    return data


def plan_paste(
    doc: Document,
    fragment: Fragment,
    anchor: Point | None = None,
    offset: Point = (40.0, 40.0),
    verb: str = "Paste",
) -> tuple[Command, list[str], list[str]]:
    """The command that pastes ``fragment``: placed with its top-left corner at
    ``anchor`` (the cursor), or shifted by ``offset`` from where it was copied.
    Returns ``(command, new node ids, new note ids)``."""
    points = [n["position"] for n in fragment.nodes if n.get("position")]
    points += [n["position"] for n in fragment.notes if n.get("position")]
    left = min((p[0] for p in points), default=0.0)
    top = min((p[1] for p in points), default=0.0)
    dx, dy = (anchor[0] - left, anchor[1] - top) if anchor is not None else offset
    base_x, base_y = anchor if anchor is not None else (left + dx, top + dy)

    mapping: dict[str, str] = {}
    taken: list[str] = []
    for data in fragment.nodes:
        old = data.get("id") or sanitize_id(str(data["type"]).rsplit(".", 1)[-1])
        new = doc.unique_id(old, taken)
        taken.append(new)
        if "id" in data:
            mapping[data["id"]] = new
    renamed = {old: new for old, new in mapping.items() if old != new}

    children: list[Command] = []
    new_ids: list[str] = []
    for i, (data, new_id) in enumerate(zip(fragment.nodes, taken, strict=True)):
        node = copy.deepcopy(data)
        node["id"] = new_id
        pos = node.get("position")
        node["position"] = (
            [_num(pos[0] + dx), _num(pos[1] + dy)] if pos else [_num(base_x + 40 * i), _num(base_y)]
        )
        for key in ("config", "for_each"):
            if key in node and renamed:
                node[key] = rewrite_references(node[key], renamed)
        children.append(AddNode(node))
        new_ids.append(node["id"])
    seen: set[EdgeKey] = set()
    for data in fragment.edges:
        src, dst = data["from"]["node"], data["to"]["node"]
        if src not in mapping or dst not in mapping:
            continue  # only edges between pasted nodes are kept
        edge: EdgeKey = (
            mapping[src],
            data["from"].get("port", "out"),
            mapping[dst],
            data["to"].get("port", "in"),
        )
        if edge not in seen:
            seen.add(edge)
            children.append(AddEdge(*edge))
    new_notes: list[str] = []
    for data in fragment.notes:
        note = copy.deepcopy(data)
        note["id"] = _unique_note_id(doc, new_notes)
        pos = note.get("position") or [0, 0]
        note["position"] = [_num(pos[0] + dx), _num(pos[1] + dy)]
        children.append(AddNote(note))
        new_notes.append(note["id"])
    children.extend(_credential_commands(doc, fragment))
    what = plural(len(new_ids), "node") if new_ids else plural(len(new_notes), "note")
    return Composite(f"{verb} {what}", children), new_ids, new_notes


def _credential_commands(doc: Document, fragment: Fragment) -> list[Command]:
    """Declare credentials the pasted nodes name and this workflow lacks (the
    references only: secrets are never in a fragment)."""
    current = doc.workflow.to_json_dict().get("credentials", {})
    missing = {k: v for k, v in fragment.credentials.items() if k not in current}
    if not missing:
        return []
    return [SetWorkflowField("credentials", {**current, **missing}, text="Add credentials")]


def _unique_note_id(doc: Document, taken: list[str]) -> str:
    existing = {n.get("id") for n in doc.notes() if isinstance(n, dict)} | set(taken)
    n = len(existing) + 1
    while f"note_{n}" in existing:
        n += 1
    return f"note_{n}"


def _num(value: float) -> float | int:
    value = round(float(value), 1)
    return int(value) if value.is_integer() else value
