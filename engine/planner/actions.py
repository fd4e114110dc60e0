"""Applying a plan's actions to a copy of a workflow, checking each one."""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

from ..errors import Issue, WorkflowLoadError
from ..io import parse_workflow
from ..registry import NodeRegistry
from ..validate import validate
from .allow import is_allowed

#: node types that send something: they get an idempotency key
SENDING_TYPES = {"email.send", "gmail.send", "outlook.send"}
_SENDING_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
CREDENTIAL_KINDS = {"bearer", "basic", "api_key", "oauth2_client_credentials", "custom"}


class ActionError(Exception):
    """A problem of one action: ``code`` is PERMISSION_DENIED or INVALID_ACTION."""

    def __init__(self, message: str, code: str = "INVALID_ACTION", index: int | None = None):
        super().__init__(message)
        self.code = code
        self.index = index

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": str(self), "action": self.index}


def _config(value: Any) -> dict[str, Any]:
    """A config given as an object or as JSON text (strict schema mode)."""
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as error:
            raise ActionError(f"config is not a JSON object ({error})") from None
    if not isinstance(value, dict):
        raise ActionError("config must be a JSON object")
    return value


def _value(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _ref(value: Any) -> tuple[str, str | None]:
    """``"node"`` or ``"node.port"`` or ``{"node", "port"}``."""
    if isinstance(value, dict):
        return str(value.get("node", "")), value.get("port")
    text = str(value)
    if "." in text:
        node, port = text.split(".", 1)
        return node, port
    return text, None


def idempotency_key(prompt: str, node_id: str, node_type: str) -> str:
    digest = hashlib.sha256(f"{prompt}\0{node_id}\0{node_type}".encode()).hexdigest()
    return f"plan-{digest[:24]}"


def _add_idempotency(node: dict[str, Any], prompt: str, read_only: set[str]) -> None:
    """A key on every node that sends: e-mail, HTTP POST/PUT/PATCH/DELETE, and
    a ``tool.call`` of a tool not known to be read-only."""
    config = node.setdefault("config", {})
    key = idempotency_key(prompt, node["id"], node["type"])
    if node["type"] in SENDING_TYPES:
        config.setdefault("client_request_id", key)
    elif node["type"] == "tool.call":
        if f"{config.get('source', '')}__{config.get('tool', '')}" not in read_only:
            config.setdefault("client_request_id", key)
    elif node["type"] == "http.request":
        if str(config.get("method", "GET")).upper() in _SENDING_METHODS:
            config.setdefault("idempotency_key", key)


def _check_allowed(
    node_type: str,
    config: dict[str, Any],
    allow: list[str],
    allow_source: str,
    tools: set[str] | None,
) -> None:
    """``PERMISSION_DENIED`` for a type (or a ``tool.call``'s tool) that is not
    in the allow-list, or a tool the workflow's sources do not have."""
    shown_allow = ", ".join(allow) if allow else "(empty)"
    name = node_type
    if node_type == "tool.call":
        name = f"{config.get('source', '')}__{config.get('tool', '')}"
    if name != node_type and tools is not None and name not in tools:
        known = ", ".join(sorted(tools)) or "none"
        raise ActionError(
            f"unknown tool {name!r} (the workflow's sources have: {known})",
            "PERMISSION_DENIED",
        )
    if not (is_allowed(node_type, allow) or is_allowed(name, allow)):
        what = "tool" if name != node_type else "node type"
        raise ActionError(
            f"{what} {name!r} is not in the allow-list ({allow_source}: {shown_allow})",
            "PERMISSION_DENIED",
        )


def apply_actions(
    workflow: dict[str, Any],
    actions: list[dict[str, Any]],
    registry: NodeRegistry,
    allow: list[str],
    *,
    prompt: str = "",
    allow_source: str = "",
    tools: set[str] | None = None,
    read_only: set[str] | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The new workflow document and its problems (empty: the plan is sound).

    ``tools``: the sources' tools (``source__tool``) a ``tool.call`` may name
    (None: not checked); ``read_only``: those of them that only read (their
    calls get no idempotency key).

    The input is never modified: on any problem the caller keeps its workflow.
    """
    doc = copy.deepcopy(workflow)
    doc.setdefault("format", "flowdesk/workflow")
    doc.setdefault("version", 1)
    doc.setdefault("name", "untitled")
    nodes: list[dict[str, Any]] = doc.setdefault("nodes", [])
    edges: list[dict[str, Any]] = doc.setdefault("edges", [])
    problems: list[dict[str, Any]] = []
    shown_allow = ", ".join(allow) if allow else "(empty)"

    def node_by_id(node_id: str) -> dict[str, Any] | None:
        return next((n for n in nodes if n.get("id") == node_id), None)

    #: tool.call nodes whose source or tool a set_config changed → that action
    retooled: dict[str, int] = {}
    for index, action in enumerate(actions):
        try:
            if not isinstance(action, dict):
                raise ActionError("an action must be an object")
            kind = action.get("action") or action.get("type_of_action") or action.get("op")
            if kind == "add_node":
                node_type = str(action.get("type", ""))
                node_id = str(action.get("id") or "")
                if not node_id:
                    raise ActionError("add_node needs an id")
                if node_by_id(node_id) is not None:
                    raise ActionError(f"a node {node_id!r} exists already")
                if node_type not in registry:
                    raise ActionError(
                        f"unknown node type {node_type!r}; allowed: {shown_allow}",
                        "PERMISSION_DENIED",
                    )
                config = _config(action.get("config"))
                _check_allowed(node_type, config, allow, allow_source, tools)
                node: dict[str, Any] = {"id": node_id, "type": node_type, "config": config}
                if action.get("title"):
                    node["title"] = str(action["title"])
                position = action.get("position")
                if isinstance(position, list | tuple) and len(position) == 2:
                    node["position"] = [position[0], position[1]]
                else:
                    node["position"] = [80 + 240 * len(nodes), 120]
                _add_idempotency(node, prompt, read_only or set())
                nodes.append(node)
            elif kind in ("connect", "disconnect"):
                source, source_port = _ref(action.get("from"))
                target, target_port = _ref(action.get("to"))
                for end in (source, target):
                    if node_by_id(end) is None:
                        raise ActionError(f"{kind}: no node {end!r}")
                edge = {
                    "from": {"node": source, "port": source_port or "out"},
                    "to": {"node": target, "port": target_port or "in"},
                }
                same = [
                    e
                    for e in edges
                    if e["from"]["node"] == source
                    and e["to"]["node"] == target
                    and e["from"].get("port", "out") == edge["from"]["port"]
                    and e["to"].get("port", "in") == edge["to"]["port"]
                ]
                if kind == "connect":
                    if not same:
                        edges.append(edge)
                else:
                    if not same:
                        raise ActionError(f"disconnect: no edge {source} → {target}")
                    for e in same:
                        edges.remove(e)
            elif kind == "set_config":
                node_id = str(action.get("node", ""))
                target_node = node_by_id(node_id)
                if target_node is None:
                    raise ActionError(f"set_config: no node {node_id!r}")
                path = [p for p in str(action.get("path", "")).split(".") if p]
                if not path:
                    raise ActionError("set_config needs a path")
                holder = target_node.setdefault("config", {})
                for part in path[:-1]:
                    holder = holder.setdefault(part, {})
                    if not isinstance(holder, dict):
                        raise ActionError(f"set_config: {'.'.join(path)} is not an object path")
                holder[path[-1]] = _value(action.get("value"))
                node_type = str(target_node.get("type", ""))
                if node_type == "tool.call" and path[0] in ("source", "tool"):
                    retooled[node_id] = index  # checked once every action is applied
                elif node_type == "http.request" and path[0] == "method":
                    _add_idempotency(target_node, prompt, read_only or set())
            elif kind == "remove_node":
                node_id = str(action.get("node", ""))
                target_node = node_by_id(node_id)
                if target_node is None:
                    raise ActionError(f"remove_node: no node {node_id!r}")
                nodes.remove(target_node)
                edges[:] = [e for e in edges if node_id not in (e["from"]["node"], e["to"]["node"])]
            elif kind == "set_variable":
                name = str(action.get("name", ""))
                if not name:
                    raise ActionError("set_variable needs a name")
                doc.setdefault("variables", {})[name] = _value(action.get("value"))
            elif kind == "add_credential":
                name = str(action.get("name", ""))
                kind_ = str(action.get("kind", ""))
                if not name or kind_ not in CREDENTIAL_KINDS:
                    raise ActionError(
                        f"add_credential needs a name and a kind among "
                        f"{', '.join(sorted(CREDENTIAL_KINDS))} (never a secret)"
                    )
                fields = _config(action.get("fields"))
                lowered = {k.lower() for k in fields}
                if lowered & {"secret", "password", "token", "api_key_value", "value"}:
                    raise ActionError("add_credential: secrets never go in the workflow file")
                doc.setdefault("credentials", {})[name] = {"type": kind_, **fields}
            else:
                raise ActionError(f"unknown action {kind!r}")
        except ActionError as error:
            error.index = index
            problems.append(error.to_dict())
    for node_id, index in retooled.items():
        # another tool: the same checks as a new node, and its key
        changed = node_by_id(node_id)
        if changed is None:
            continue  # removed by a later action
        try:
            _check_allowed("tool.call", changed.get("config", {}), allow, allow_source, tools)
        except ActionError as error:
            error.index = index
            problems.append(error.to_dict())
            continue
        _add_idempotency(changed, prompt, read_only or set())
    if problems:
        return doc, problems
    try:
        parsed = parse_workflow(doc, registry)
        issues: list[Issue] = validate(parsed, registry)
    except WorkflowLoadError as error:
        issues = list(error.issues)
    problems.extend(
        {"code": "INVALID_WORKFLOW", "message": str(issue), "action": None}
        for issue in issues
        if issue.severity == "error"
    )
    return doc, problems
