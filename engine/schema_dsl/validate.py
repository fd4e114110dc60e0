"""The validator: every place a value departs from a JSON Schema, each as a
``SchemaIssue`` with a ``$.items[2].name`` path and what was expected and
received in words (``validate_value``, ``describe_value``, ``describe_schema``).

May import: stdlib and ``.tree``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .tree import SchemaError, path_part

# ------------------------------------------------------------------- validator


@dataclass(frozen=True, slots=True)
class SchemaIssue:
    """One way a value departs from its schema."""

    path: str
    expected: str
    received: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {
            "path": self.path,
            "expected": self.expected,
            "received": self.received,
            "message": self.message,
        }


def describe_value(value: Any, limit: int = 60) -> str:
    """How a received value reads in an issue: ``"forty"``, ``3.5``, ``an object``."""
    if isinstance(value, dict):
        return "an object" if value else "an empty object"
    if isinstance(value, list):
        count = len(value)
        return f"an array of {count} item{'s' if count != 1 else ''}"
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def describe_schema(schema: Any, root: Mapping[str, Any] | None = None, depth: int = 0) -> str:
    """A schema in a few words: ``string or null``, ``one of "a", "b"``."""
    if schema is True or schema == {}:
        return "any value"
    if schema is False:
        return "nothing"
    if not isinstance(schema, Mapping):
        return "a valid value"
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in schema or "oneOf" in schema:
        options = schema.get("anyOf") or schema.get("oneOf") or []
        if depth > 1:
            return "one of several types"
        return " or ".join(describe_schema(o, root, depth + 1) for o in options)
    if "const" in schema:
        return json.dumps(schema["const"], ensure_ascii=False)
    if "enum" in schema:
        values = [json.dumps(v, ensure_ascii=False) for v in schema["enum"]]
        if len(values) == 1:
            return values[0]
        shown = ", ".join(values[:8]) + (", …" if len(values) > 8 else "")
        return f"one of {shown}"
    types = schema.get("type")
    if types is None:
        return "object" if "properties" in schema else "any value"
    type_list = types if isinstance(types, list) else [types]
    words = []
    for name in type_list:
        if name == "array" and isinstance(schema.get("items"), Mapping) and depth < 2:
            words.append(f"array of {describe_schema(schema['items'], root, depth + 1)}")
        else:
            words.append(str(name))
    return " or ".join(words)


@dataclass(slots=True)
class _Validation:
    root: Mapping[str, Any]
    limit: int
    issues: list[SchemaIssue] = field(default_factory=list)

    def add(self, path: str, expected: str, received: str, message: str | None = None) -> None:
        if len(self.issues) < self.limit:
            text = message or f"expected {expected}, received {received}"
            self.issues.append(SchemaIssue(path, expected, received, f"{path}: {text}"))

    def resolve(self, ref: str, path: str) -> Any:
        if not ref.startswith("#"):
            raise SchemaError(f"only local $ref are supported, found {ref!r}", path)
        target: Any = self.root
        for part in ref.lstrip("#").strip("/").split("/") if ref != "#" else []:
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, Mapping) or part not in target:
                raise SchemaError(f"$ref {ref!r} points to nothing", path)
            target = target[part]
        return target


def validate_value(
    value: Any, schema: Mapping[str, Any], *, max_issues: int = 50
) -> list[SchemaIssue]:
    """Every place ``value`` departs from ``schema`` (empty when it conforms).

    Paths read ``$.items[2].name``. Covers the keywords structured output
    uses: type, enum, const, properties, required, additionalProperties,
    items, anyOf/oneOf, $ref, min/max length, items and values, pattern.
    """
    state = _Validation(schema, max_issues)
    _check(value, schema, "$", state, 0)
    return state.issues


def _is_type(value: Any, name: str) -> bool:
    if name == "null":
        return value is None
    if name == "boolean":
        return isinstance(value, bool)
    if name == "integer":
        if isinstance(value, bool):
            return False
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if name == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if name == "string":
        return isinstance(value, str)
    if name == "array":
        return isinstance(value, list)
    if name == "object":
        return isinstance(value, dict)
    return False


def _json_equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def _type_fits(value: Any, schema: Any, state: _Validation, depth: int) -> bool:
    """Does the value's JSON type fit this alternative (ignoring the details)?"""
    if not isinstance(schema, Mapping):
        return schema is True
    if "$ref" in schema and depth < 50:
        try:
            return _type_fits(value, state.resolve(schema["$ref"], "$"), state, depth + 1)
        except SchemaError:
            return False
    if "anyOf" in schema or "oneOf" in schema:
        options = schema.get("anyOf") or schema.get("oneOf") or []
        return any(_type_fits(value, o, state, depth + 1) for o in options)
    types = schema.get("type")
    if types is None:
        if "enum" in schema:
            return any(_json_equal(value, v) for v in schema["enum"])
        return True
    type_list = types if isinstance(types, list) else [types]
    return any(_is_type(value, t) for t in type_list)


def _check(value: Any, schema: Any, path: str, state: _Validation, depth: int) -> None:
    if depth > 200:
        raise SchemaError("the schema refers to itself without end", path)
    if schema is True or not isinstance(schema, Mapping) or not schema:
        if schema is False:
            state.add(path, "nothing", describe_value(value), "no value is allowed here")
        return
    if "$ref" in schema:
        _check(value, state.resolve(str(schema["$ref"]), path), path, state, depth + 1)
        return
    options = schema.get("anyOf") or schema.get("oneOf")
    if options:
        trials = []
        for option in options:
            trial = _Validation(state.root, state.limit)
            _check(value, option, path, trial, depth + 1)
            if not trial.issues:
                return
            trials.append((option, trial.issues))
        fitting = [issues for option, issues in trials if _type_fits(value, option, state, 0)]
        if len(fitting) == 1:
            # One alternative has the right shape: its details are the useful ones.
            for issue in fitting[0]:
                if len(state.issues) < state.limit:
                    state.issues.append(issue)
        else:
            state.add(path, describe_schema(schema, state.root), describe_value(value))
        return
    types = schema.get("type")
    if types is not None:
        type_list = types if isinstance(types, list) else [types]
        if not any(_is_type(value, t) for t in type_list):
            state.add(path, describe_schema(schema, state.root), describe_value(value))
            return
    if "enum" in schema and not any(_json_equal(value, v) for v in schema["enum"]):
        state.add(path, describe_schema(schema, state.root), describe_value(value))
        return
    if "const" in schema and not _json_equal(value, schema["const"]):
        state.add(path, describe_schema(schema, state.root), describe_value(value))
        return
    if isinstance(value, str):
        _check_string(value, schema, path, state)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        _check_number(value, schema, path, state)
    elif isinstance(value, list):
        _check_array(value, schema, path, state, depth)
    elif isinstance(value, dict):
        _check_object(value, schema, path, state, depth)


def _check_string(value: str, schema: Mapping[str, Any], path: str, state: _Validation) -> None:
    received = describe_value(value)
    low, high = schema.get("minLength"), schema.get("maxLength")
    if isinstance(low, int) and len(value) < low:
        state.add(path, f"a string of at least {low} characters", received)
    if isinstance(high, int) and len(value) > high:
        state.add(path, f"a string of at most {high} characters", received)
    pattern = schema.get("pattern")
    if isinstance(pattern, str):
        try:
            matched = re.search(pattern, value) is not None
        except re.error:
            matched = True  # a pattern Python cannot read is not the value's fault
        if not matched:
            state.add(path, f"a string matching {pattern!r}", received)


def _check_number(value: float, schema: Mapping[str, Any], path: str, state: _Validation) -> None:
    received = describe_value(value)
    for key, sign in (
        ("minimum", "≥"),
        ("maximum", "≤"),
        ("exclusiveMinimum", ">"),
        ("exclusiveMaximum", "<"),
    ):
        bound = schema.get(key)
        if not isinstance(bound, int | float) or isinstance(bound, bool):
            continue
        ok = {
            "≥": value >= bound,
            "≤": value <= bound,
            ">": value > bound,
            "<": value < bound,
        }[sign]
        if not ok:
            state.add(path, f"a number {sign} {bound}", received)
    step = schema.get("multipleOf")
    if isinstance(step, int | float) and step > 0:
        quotient = value / step
        if not math.isclose(quotient, round(quotient), rel_tol=0, abs_tol=1e-9):
            state.add(path, f"a multiple of {step}", received)


def _check_array(
    value: list[Any], schema: Mapping[str, Any], path: str, state: _Validation, depth: int
) -> None:
    received = describe_value(value)
    low, high = schema.get("minItems"), schema.get("maxItems")
    if isinstance(low, int) and len(value) < low:
        state.add(path, f"an array of at least {low} items", received)
    if isinstance(high, int) and len(value) > high:
        state.add(path, f"an array of at most {high} items", received)
    items = schema.get("items")
    if isinstance(items, Mapping | bool):
        for index, element in enumerate(value):
            if len(state.issues) >= state.limit:
                return
            _check(element, items, f"{path}[{index}]", state, depth + 1)


def _check_object(
    value: dict[str, Any], schema: Mapping[str, Any], path: str, state: _Validation, depth: int
) -> None:
    properties = schema.get("properties")
    properties = properties if isinstance(properties, Mapping) else {}
    for name in schema.get("required") or ():
        if name not in value:
            expected = describe_schema(properties.get(name, True), state.root)
            state.add(
                f"{path}{path_part(name)}",
                expected,
                "nothing",
                f"missing required field {name!r} (expected {expected})",
            )
    extra = schema.get("additionalProperties", True)
    for name, element in value.items():
        child = f"{path}{path_part(name)}"
        if name in properties:
            _check(element, properties[name], child, state, depth + 1)
        elif extra is False:
            known = ", ".join(properties) or "none"
            state.add(
                child,
                "no such field",
                describe_value(element),
                f"unexpected field {name!r} (fields: {known})",
            )
        elif isinstance(extra, Mapping):
            _check(element, extra, child, state, depth + 1)
