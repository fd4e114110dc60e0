"""Input schemas of tools: normalised for forms and validation, and arguments
coerced and validated against them.

``normalise(schema) -> (schema, warnings)`` makes the messy schemas of real
documents readable: a missing ``type`` is inferred (object from
``properties``, array from ``items``), informal types are mapped ("int" →
integer, "float" → number, "bool" → boolean) and unknown ones dropped,
``required`` names that are not properties are dropped (with a warning),
``allOf`` members are merged into one schema, OpenAPI 3.0's ``nullable``
becomes a ``null`` in ``type`` (``nullable`` is kept for forms), boolean
``exclusiveMinimum``/``exclusiveMaximum`` become numbers, and a tool input
gets ``type: object`` and ``additionalProperties`` true unless it says
otherwise. ``oneOf``/``anyOf``/``enum`` are kept as they are. ``$ref``s are
resolved by the source (``engine.sources.openapi.refs``) before this runs;
those left (cycles, as ``#/$defs/...``) stay. Depth is bounded: no recursion
blow-up on deep or generated schemas.

``validate_arguments(schema, args) -> args`` coerces where the schema is clear
("42" → 42 for an integer, "true" → true for a boolean, "1.5" → 1.5 for a
number), then validates with ``jsonschema`` (Draft 2020-12) and raises one
``INVALID_PARAMS`` (VALIDATION) error listing every issue with its path.
May import: jsonschema, engine.errors, stdlib.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from ..errors import INVALID_PARAMS, FlowdeskError

log = logging.getLogger(__name__)

MAX_DEPTH = 64
JSON_TYPES = frozenset({"object", "array", "string", "number", "integer", "boolean", "null"})
_TYPE_ALIASES = {
    "int": "integer",
    "int32": "integer",
    "int64": "integer",
    "long": "integer",
    "float": "number",
    "double": "number",
    "decimal": "number",
    "bool": "boolean",
    "str": "string",
    "text": "string",
    "file": "string",  # Swagger 2.0 form uploads: the file's content as text
    "dict": "object",
    "map": "object",
    "list": "array",
}
_INTEGER = re.compile(r"^[+-]?\d+$")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def normalise(
    schema: Any, *, tool_input: bool = True, memo: dict[int, Any] | None = None
) -> tuple[dict[str, Any], list[str]]:
    """The normalised schema (a new object) and warnings naming their paths."""
    warnings: list[str] = []
    out = _Normaliser(warnings, memo).run(schema, "", 0)
    if not isinstance(out, dict):
        out = {} if out is True else {"not": {}}
    if tool_input:
        out = dict(out)
        if out.get("type") is None:
            out["type"] = "object"
        elif out.get("type") != "object":
            warnings.append(f"the input schema is of type {out.get('type')!r}, not object")
            out = {"type": "object", "properties": {"value": out}, "required": ["value"]}
        out.setdefault("properties", {})
        out.setdefault("additionalProperties", True)
    return out, warnings


class _Normaliser:
    def __init__(self, warnings: list[str], memo: dict[int, Any] | None) -> None:
        self.warnings = warnings
        self.memo = memo

    def run(self, schema: Any, path: str, depth: int) -> Any:
        if isinstance(schema, bool):
            return schema
        if not isinstance(schema, dict):
            self.warnings.append(f"{path or 'schema'}: not a schema ({type(schema).__name__})")
            return {}
        if depth > MAX_DEPTH:
            self.warnings.append(f"{path}: nested deeper than {MAX_DEPTH} levels; left as is")
            return {}
        if self.memo is not None:
            cached = self.memo.get(id(schema))
            if cached is not None:
                return cached[1]
        out = self._normalise(schema, path, depth)
        if self.memo is not None:
            # (the source kept alive beside the result: its id stays unique;
            # a normalised schema normalises to itself)
            self.memo[id(schema)] = (schema, out)
            self.memo[id(out)] = (out, out)
        return out

    def _normalise(self, schema: dict[str, Any], path: str, depth: int) -> dict[str, Any]:
        out = dict(schema)
        here = path or "schema"
        sub = depth + 1
        if "allOf" in out and isinstance(out["allOf"], list):
            out = self._merge_all_of(out, path, depth)
        for key in ("oneOf", "anyOf"):
            members = out.get(key)
            if isinstance(members, list):
                out[key] = [
                    self.run(m, f"{path}.{key}[{i}]" if path else f"{key}[{i}]", sub)
                    for i, m in enumerate(members)
                ]
        if isinstance(out.get("not"), dict):
            out["not"] = self.run(out["not"], f"{path}.not", sub)
        props = out.get("properties")
        if isinstance(props, dict):
            out["properties"] = {
                name: self.run(value, f"{path}.{name}" if path else name, sub)
                for name, value in props.items()
            }
        elif props is not None:
            self.warnings.append(f"{here}: 'properties' is not an object; dropped")
            del out["properties"]
        items = out.get("items")
        if isinstance(items, dict | bool):
            out["items"] = self.run(items, f"{path}[]", sub)
        elif isinstance(items, list):  # draft 4 tuple form
            out["prefixItems"] = [self.run(m, f"{path}[{i}]", sub) for i, m in enumerate(items)]
            del out["items"]
        extra = out.get("additionalProperties")
        if isinstance(extra, dict):
            out["additionalProperties"] = self.run(extra, f"{path}.*", sub)
        defs = out.get("$defs")
        if isinstance(defs, dict):
            out["$defs"] = {k: self.run(v, f"$defs.{k}", sub) for k, v in defs.items()}
        self._fix_type(out, here)
        self._fix_required(out, here)
        self._fix_exclusive(out)
        return out

    def _fix_type(self, out: dict[str, Any], here: str) -> None:
        kind = out.get("type")
        if kind is None:
            if "$ref" in out or "oneOf" in out or "anyOf" in out:
                pass
            elif "properties" in out or "additionalProperties" in out or "required" in out:
                out["type"] = "object"
            elif "items" in out or "prefixItems" in out:
                out["type"] = "array"
        else:
            kinds = kind if isinstance(kind, list) else [kind]
            fixed: list[str] = []
            for one in kinds:
                name = _TYPE_ALIASES.get(one, one) if isinstance(one, str) else one
                if name in JSON_TYPES:
                    if name not in fixed:
                        fixed.append(name)
                else:
                    self.warnings.append(f"{here}: unknown type {one!r} dropped")
            if not fixed:
                del out["type"]
            else:
                out["type"] = fixed if isinstance(kind, list) or len(fixed) > 1 else fixed[0]
        if out.get("nullable") is True:
            kind = out.get("type")
            if isinstance(kind, str) and kind != "null":
                out["type"] = [kind, "null"]
            elif isinstance(kind, list) and "null" not in kind:
                out["type"] = [*kind, "null"]
            enum = out.get("enum")
            if isinstance(enum, list) and None not in enum:
                out["enum"] = [*enum, None]
            if kind is None:
                for key in ("oneOf", "anyOf"):
                    members = out.get(key)
                    if isinstance(members, list) and {"type": "null"} not in members:
                        out[key] = [*members, {"type": "null"}]

    def _fix_required(self, out: dict[str, Any], here: str) -> None:
        required = out.get("required")
        if required is None:
            return
        if not isinstance(required, list):
            self.warnings.append(f"{here}: 'required' is not a list; dropped")
            del out["required"]
            return
        props = out.get("properties")
        names = [n for n in dict.fromkeys(required) if isinstance(n, str)]
        if isinstance(props, dict):
            missing = [n for n in names if n not in props]
            if missing:
                self.warnings.append(
                    f"{here}: required {', '.join(map(repr, missing))} "
                    "not among the properties; dropped"
                )
                names = [n for n in names if n in props]
        if names:
            out["required"] = names
        else:
            del out["required"]

    @staticmethod
    def _fix_exclusive(out: dict[str, Any]) -> None:
        for flag, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
            value = out.get(flag)
            if isinstance(value, bool):
                if value and isinstance(out.get(bound), int | float):
                    out[flag] = out.pop(bound)
                else:
                    del out[flag]

    def _merge_all_of(self, out: dict[str, Any], path: str, depth: int) -> dict[str, Any]:
        members = out.pop("allOf")
        merged: dict[str, Any] = {}
        kept: list[Any] = []
        for i, member in enumerate(members):
            norm = self.run(member, f"{path}.allOf[{i}]" if path else f"allOf[{i}]", depth + 1)
            if not isinstance(norm, dict) or "$ref" in norm:
                kept.append(norm)
                continue
            _merge_into(merged, norm)
        _merge_into(merged, out)
        if kept:
            merged["allOf"] = kept
        return merged


def _merge_into(target: dict[str, Any], source: dict[str, Any]) -> None:
    for key, value in source.items():
        if key == "properties" and isinstance(value, dict):
            props = target.setdefault("properties", {})
            for name, schema in value.items():
                if name in props and isinstance(props[name], dict) and isinstance(schema, dict):
                    both = dict(props[name])
                    _merge_into(both, schema)
                    props[name] = both
                else:
                    props[name] = schema
        elif key == "required" and isinstance(value, list):
            required = target.setdefault("required", [])
            required.extend(n for n in value if n not in required)
        elif key in ("description", "title") and key in target:
            continue
        elif key not in target:
            target[key] = value


# ------------------------------------------------------------- arguments
def _types(schema: Any) -> list[str]:
    if not isinstance(schema, dict):
        return []
    kind = schema.get("type")
    if isinstance(kind, str):
        return [kind]
    if isinstance(kind, list):
        return [k for k in kind if isinstance(k, str)]
    return []


def coerce(schema: Any, value: Any, depth: int = 0) -> Any:
    """``value`` with text turned into the number/boolean its schema clearly wants."""
    if depth > MAX_DEPTH or not isinstance(schema, dict):
        return value
    kinds = [k for k in _types(schema) if k != "null"]
    if isinstance(value, str):
        if len(kinds) != 1 or ("enum" in schema and value in schema["enum"]):
            return value
        kind, text = kinds[0], value.strip()
        if kind == "integer" and _INTEGER.match(text):
            return int(text)
        if kind == "number" and _NUMBER.match(text):
            number = float(text)
            return (
                int(number)
                if number.is_integer() and "." not in text and "e" not in text.lower()
                else number
            )
        if kind == "boolean" and text.lower() in ("true", "false"):
            return text.lower() == "true"
        return value
    if isinstance(value, dict):
        props = schema.get("properties")
        if isinstance(props, dict):
            return {
                key: coerce(props[key], item, depth + 1) if key in props else item
                for key, item in value.items()
            }
        return value
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [coerce(schema["items"], item, depth + 1) for item in value]
    return value


def schema_validator(schema: dict[str, Any]) -> Any:
    """A ``jsonschema`` validator of ``schema`` (Draft 2020-12). Building one
    costs more than a check: a tool keeps its own (``ToolInfo.validator``)."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema)


def _location(error: Any) -> str:
    out = ""
    for part in error.absolute_path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def argument_issues(
    schema: dict[str, Any], arguments: Any, *, validator: Any = None
) -> list[dict[str, str]]:
    """Every problem of ``arguments`` as ``{"path", "message"}``, sorted by path.
    ``validator``: ``schema``'s, built before (``ToolInfo.validator``)."""
    from jsonschema.exceptions import SchemaError

    try:
        if validator is None:
            validator = schema_validator(schema)
        errors = list(validator.iter_errors(arguments))
    except (SchemaError, Exception) as exc:  # noqa: BLE001 - a broken schema must not fail calls
        log.warning("input schema cannot be used for validation: %s", exc)
        return []
    issues: list[dict[str, str]] = []
    for error in errors:
        path = _location(error)
        message = error.message
        if error.validator == "required" and isinstance(error.instance, dict):
            missing = [n for n in error.validator_value if n not in error.instance]
            for name in missing:
                issues.append({"path": f"{path}.{name}" if path else name, "message": "required"})
            continue
        if error.validator == "additionalProperties":
            message = message.replace("Additional properties are not allowed", "unknown argument")
        issues.append({"path": path or "(arguments)", "message": message})
    issues.sort(key=lambda issue: issue["path"])
    return issues


def validate_arguments(
    schema: dict[str, Any], arguments: Any, *, tool: str = "", validator: Any = None
) -> Any:
    """The coerced arguments; ``INVALID_PARAMS`` listing every issue when they do not fit.
    ``validator``: ``schema``'s, built before (``ToolInfo.validator``)."""
    if arguments is None:
        arguments = {}
    value = coerce(schema, arguments)
    issues = argument_issues(schema, value, validator=validator)
    if issues:
        listed = "; ".join(f"{issue['path']}: {issue['message']}" for issue in issues)
        who = f"tool {tool!r}: " if tool else ""
        count = len(issues)
        raise FlowdeskError(
            f"{who}{count} invalid argument{'s' if count != 1 else ''}: {listed}",
            code=INVALID_PARAMS,
            category="VALIDATION",
            details={"issues": issues, **({"tool": tool} if tool else {})},
        )
    return value
