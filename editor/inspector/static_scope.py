"""What an expression can be known to see before any run: each upstream
node's output as far as the document says — a pinned output, a constant
``data.transform`` value (its expressions left unknown), the keys an
``ai.transform`` output schema declares, the ``{status, headers, body}`` a
node type's output port describes; ``flow.if`` passes its input on and
``flow.merge`` lists (or names) its inputs. Values nobody can know yet are
``UNKNOWN``. The inspector completes ``input.`` and ``nodes.x.`` from it, and
previews ``vars.*`` without a run.
May import: editor.document, engine (public API), stdlib.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flowdesk.editor.document import Document


class _Unknown:
    """A value known to exist whose content is not known before a run: an
    expression that uses it (prints, compares, tests it) fails, so that a
    preview says "not known yet" instead of a made-up value."""

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return "UNKNOWN"

    def _refuse(self, *_args: object) -> Any:
        raise TypeError("not known before a run")

    __str__ = __format__ = __bool__ = __len__ = __iter__ = _refuse
    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = _refuse  # type: ignore[assignment]
    __add__ = __radd__ = __sub__ = __mul__ = __truediv__ = _refuse


UNKNOWN: Any = _Unknown()
#: a port description naming the keys of its value: ``{status, headers, body}``
_KEYS = re.compile(r"^\s*\{([A-Za-z_][\w]*(?:\s*,\s*[A-Za-z_][\w]*)*)\}")
_DEPTH = 30


def has_unknown(value: Any) -> bool:
    if value is UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(has_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(has_unknown(v) for v in value)
    return False


def _shape(value: Any) -> Any:
    """A constant value with each string holding an expression unknown."""
    if isinstance(value, str):
        return UNKNOWN if "{{" in value else value
    if isinstance(value, dict):
        return {str(k): _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value]
    return value


def _from_schema(schema: Any, depth: int = 0) -> Any:
    """The skeleton of values a JSON schema allows: objects by their keys."""
    if not isinstance(schema, Mapping) or depth > 8:
        return UNKNOWN
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    if "object" in kinds and isinstance(schema.get("properties"), Mapping):
        return {str(k): _from_schema(v, depth + 1) for k, v in schema["properties"].items()}
    if "array" in kinds:
        return [_from_schema(schema.get("items"), depth + 1)]
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list):
            for option in options:
                found = _from_schema(option, depth + 1)
                if found is not UNKNOWN:
                    return found
    return UNKNOWN


class StaticScope:
    """Static outputs of one document's nodes (memoised per instance: make a
    new one after an edit)."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self._outputs: dict[str, Any] = {}

    def output(self, node_id: str, depth: int = 0) -> Any:
        if node_id not in self._outputs:
            self._outputs[node_id] = UNKNOWN  # (a cycle reads as unknown)
            self._outputs[node_id] = self._output(node_id, depth)
        return self._outputs[node_id]

    def _output(self, node_id: str, depth: int) -> Any:
        doc = self.doc
        if not doc.has_node(node_id) or depth > _DEPTH:
            return UNKNOWN
        node = doc.node(node_id)
        if node.pinned is not None:
            return node.pinned
        config = node.config if isinstance(node.config, dict) else {}
        if node.type == "data.transform" and "value" in config:
            return _shape(config["value"])
        if node.type == "ai.transform" and config.get("output_schema"):
            try:
                from flowdesk.engine import to_validation_schema  # (loads the schema DSL)

                return _from_schema(to_validation_schema(config["output_schema"]))
            except Exception:  # noqa: BLE001 - a schema being typed
                return UNKNOWN
        if node.type == "flow.if":
            return self.input_of(node_id, depth + 1)
        if node.type == "flow.merge":
            values = [self.output(k[0], depth + 1) for k in doc.edges_into(node_id)]
            if config.get("mode") == "object":
                return {k[0]: v for k, v in zip(doc.edges_into(node_id), values, strict=True)}
            return values
        node_type = doc.registry.find(node.type)
        if node_type is not None and node_type.outputs:
            match = _KEYS.match(node_type.outputs[0].description)
            if match:
                return {key.strip(): UNKNOWN for key in match.group(1).split(",")}
        return UNKNOWN

    def input_of(self, node_id: str, depth: int = 0) -> Any:
        """What arrives on ``in`` (the first edge into it)."""
        edges = self.doc.edges_into(node_id, "in") if self.doc.has_node(node_id) else []
        if not edges:
            return UNKNOWN
        port = self.doc.port(node_id, "in", is_output=False)
        values = [self.output(k[0], depth + 1) for k in edges]
        if port is not None and port.multiple:
            return values
        return values[0]

    def scope(self, node_id: str, variables: Mapping[str, Any]) -> dict[str, Any]:
        """The names an expression of ``node_id`` sees, as far as known."""
        doc = self.doc
        inputs: dict[str, Any] = {}
        for _, _, _, port in doc.edges_into(node_id):
            inputs.setdefault(port, UNKNOWN)
        if "in" in inputs:
            inputs["in"] = self.input_of(node_id)
        return {
            "input": inputs.get("in", UNKNOWN),
            "inputs": inputs,
            "nodes": {u: self.output(u) for u in doc.upstream(node_id)},
            "vars": dict(variables),
            "env": {name: os.environ.get(name) for name in doc.workflow.env},
            "run": {"id": UNKNOWN, "started_at": UNKNOWN},
        }


def keys_at(scopes: list[dict[str, Any]], parts: list[str]) -> list[str]:
    """The keys of the value at ``parts`` in the first scope that has one
    (the run's values before the static ones), merged in order."""
    keys: list[str] = []
    for scope in scopes:
        value: Any = scope
        for part in parts:
            if isinstance(value, dict) and part in value:
                value = value[part]
            elif isinstance(value, list) and value and part.isdigit():
                value = value[min(int(part), len(value) - 1)]
            else:
                value = None
                break
        if isinstance(value, dict):
            keys += [str(k) for k in value if str(k) not in keys]
    return keys
