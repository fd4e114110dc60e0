"""The difference between two workflow documents: nodes and edges added,
removed, and config fields changed; and a readable rendering of it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


def _edge_key(edge: dict[str, Any]) -> str:
    source, target = edge.get("from", {}), edge.get("to", {})
    return (
        f"{source.get('node')}.{source.get('port', 'out')} -> "
        f"{target.get('node')}.{target.get('port', 'in')}"
    )


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: value}


@dataclass
class WorkflowDiff:
    added_nodes: list[str] = field(default_factory=list)
    removed_nodes: list[str] = field(default_factory=list)
    #: node id → config paths whose value changed (added or removed too)
    changed_nodes: dict[str, list[str]] = field(default_factory=dict)
    added_edges: list[str] = field(default_factory=list)
    removed_edges: list[str] = field(default_factory=list)
    changed_variables: list[str] = field(default_factory=list)
    added_credentials: list[str] = field(default_factory=list)

    def is_empty(self) -> bool:
        return not any(asdict(self).values())

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def diff_workflows(old: dict[str, Any], new: dict[str, Any]) -> WorkflowDiff:
    before = {n["id"]: n for n in old.get("nodes", [])}
    after = {n["id"]: n for n in new.get("nodes", [])}
    result = WorkflowDiff(
        added_nodes=[i for i in after if i not in before],
        removed_nodes=[i for i in before if i not in after],
    )
    for node_id in after:
        if node_id in before:
            a = _flatten(before[node_id].get("config", {}))
            b = _flatten(after[node_id].get("config", {}))
            changed = sorted(k for k in set(a) | set(b) if a.get(k, ...) != b.get(k, ...))
            if before[node_id].get("type") != after[node_id].get("type"):
                changed.insert(0, "type")
            if changed:
                result.changed_nodes[node_id] = changed
    old_edges = {_edge_key(e) for e in old.get("edges", [])}
    new_edges = {_edge_key(e) for e in new.get("edges", [])}
    result.added_edges = sorted(new_edges - old_edges)
    result.removed_edges = sorted(old_edges - new_edges)
    old_vars, new_vars = old.get("variables", {}) or {}, new.get("variables", {}) or {}
    result.changed_variables = sorted(
        k for k in set(old_vars) | set(new_vars) if old_vars.get(k, ...) != new_vars.get(k, ...)
    )
    old_creds = old.get("credentials", {}) or {}
    result.added_credentials = sorted(
        k for k in new.get("credentials", {}) or {} if k not in old_creds
    )
    return result


#: the value of a path a config does not have
ABSENT: Any = ...


def changed_fields(
    old: dict[str, Any], new: dict[str, Any], node_id: str
) -> list[tuple[str, Any, Any]]:
    """``(config path, old value, new value)`` of each field the new document
    changes in node ``node_id`` (``ABSENT`` where a side has no value)."""
    before = next((n for n in old.get("nodes", []) if n.get("id") == node_id), None)
    after = next((n for n in new.get("nodes", []) if n.get("id") == node_id), None)
    if before is None or after is None:
        return []
    a = _flatten(before.get("config", {}))
    b = _flatten(after.get("config", {}))
    return [
        (key, a.get(key, ABSENT), b.get(key, ABSENT))
        for key in sorted(set(a) | set(b))
        if key and a.get(key, ABSENT) != b.get(key, ABSENT)
    ]


def format_diff(diff: WorkflowDiff, new: dict[str, Any]) -> str:
    """The diff as lines a person reads: ``+`` added, ``-`` removed, ``~`` changed."""
    nodes = {n["id"]: n for n in new.get("nodes", [])}
    lines: list[str] = []
    for node_id in diff.added_nodes:
        node = nodes[node_id]
        title = f' "{node["title"]}"' if node.get("title") else ""
        lines.append(f"+ node {node_id} ({node['type']}){title}")
        for key, value in _flatten(node.get("config", {})).items():
            if key:
                lines.append(f"    {key} = {value!r}")
    for node_id in diff.removed_nodes:
        lines.append(f"- node {node_id}")
    for node_id, paths in diff.changed_nodes.items():
        config = _flatten(nodes[node_id].get("config", {}))
        lines.append(f"~ node {node_id}")
        for path in paths:
            shown = repr(config[path]) if path in config else "(removed)"
            lines.append(f"    {path} = {shown}")
    lines += [f"+ edge {e}" for e in diff.added_edges]
    lines += [f"- edge {e}" for e in diff.removed_edges]
    lines += [f"~ variable {v}" for v in diff.changed_variables]
    lines += [
        f"+ credential {c} (no secret: add it with flowdesk credentials)"
        for c in diff.added_credentials
    ]
    return "\n".join(lines) if lines else "(no change)"
