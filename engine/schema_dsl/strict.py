"""Schemas in OpenAI strict-mode shape: the JSON Schema of a DSL syntax tree
(``to_json_schema``, ``dsl_to_json_schema``) and a user's JSON Schema made
strict where its meaning allows (``to_strict_schema``, ``to_validation_schema``).

May import: stdlib, ``.tree`` and ``.parser``.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterator, Mapping
from typing import Any

from .parser import parse_dsl
from .tree import (
    PRIMITIVES,
    Arr,
    Lit,
    Obj,
    Prim,
    SchemaError,
    TypeExpr,
    Union,
    json_kind,
    path_part,
)

# ----------------------------------------------------------- AST → JSON Schema

_PRIM_ORDER: dict[str, int] = {name: i for i, name in enumerate(PRIMITIVES)}
_NULL: dict[str, Any] = {"type": "null"}


def to_json_schema(node: TypeExpr, *, keep_optional: bool = False) -> dict[str, Any]:
    """The strict-mode JSON Schema of a syntax tree.

    Every object has ``additionalProperties: false`` and lists every property
    in ``required``; an optional property (``name?: T``) is required but
    nullable, which is how strict mode spells "may be absent".
    ``keep_optional``: the schema an answer is checked against instead, where
    an optional property may be absent or null (servers that ignore strict
    mode leave it out).
    """
    if isinstance(node, Prim):
        return {"type": node.name}
    if isinstance(node, Lit):
        return {"type": node.kind, "enum": [node.value]}
    if isinstance(node, Arr):
        return {"type": "array", "items": to_json_schema(node.item, keep_optional=keep_optional)}
    if isinstance(node, Obj):
        properties: dict[str, Any] = {}
        required: list[str] = []
        for prop in node.props:
            target = Union((prop.type, Prim("null"))) if prop.optional else prop.type
            schema = to_json_schema(target, keep_optional=keep_optional)
            if prop.description:
                schema["description"] = prop.description
            properties[prop.name] = schema
            if not (keep_optional and prop.optional):
                required.append(prop.name)
        return {
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": False,
        }
    return _union_schema(node, keep_optional)


def _flatten(node: TypeExpr) -> Iterator[TypeExpr]:
    if isinstance(node, Union):
        for member in node.members:
            yield from _flatten(member)
    else:
        yield node


def _lit_key(value: Any) -> str:
    # json text tells true from 1 and 1 from 1.0, which == does not
    return json.dumps(value, sort_keys=True)


def _union_schema(node: Union, keep_optional: bool = False) -> dict[str, Any]:
    nullable = False
    prims: set[str] = set()
    literals: dict[str, list[Any]] = {}
    literal_keys: set[str] = set()
    complex_parts: list[dict[str, Any]] = []
    complex_keys: set[str] = set()
    for member in _flatten(node):
        if isinstance(member, Prim):
            if member.name == "null":
                nullable = True
            else:
                prims.add(member.name)
        elif isinstance(member, Lit):
            key = _lit_key(member.value)
            if key not in literal_keys:
                literal_keys.add(key)
                literals.setdefault(member.kind, []).append(member.value)
        else:
            schema = to_json_schema(member, keep_optional=keep_optional)
            key = json.dumps(schema, sort_keys=True)
            if key not in complex_keys:
                complex_keys.add(key)
                complex_parts.append(schema)
    if "number" in prims:
        prims.discard("integer")  # every integer is a number
    # Literals of a kind that is present as a whole type add nothing.
    for kind in list(literals):
        if kind in prims or (kind == "integer" and "number" in prims):
            del literals[kind]
    if "integer" in literals and "number" in literals:
        literals["number"] = literals.pop("integer") + literals["number"]
    ordered = sorted(prims, key=lambda name: _PRIM_ORDER[name])

    if not complex_parts and not literals:
        types = [*ordered, "null"] if nullable else ordered
        if not types:
            return dict(_NULL)
        return {"type": types[0] if len(types) == 1 else types}
    if not complex_parts and not prims and len(literals) == 1:
        ((kind, values),) = literals.items()
        if nullable:
            return {"type": [kind, "null"], "enum": [*values, None]}
        return {"type": kind, "enum": list(values)}
    parts: list[dict[str, Any]] = []
    if ordered:
        parts.append({"type": ordered[0] if len(ordered) == 1 else ordered})
    for kind in sorted(literals, key=lambda name: _PRIM_ORDER[name]):
        parts.append({"type": kind, "enum": literals[kind]})
    parts.extend(complex_parts)
    if nullable:
        parts.append(dict(_NULL))
    return parts[0] if len(parts) == 1 else {"anyOf": parts}


def dsl_to_json_schema(source: str) -> dict[str, Any]:
    """DSL text → strict JSON Schema; ``SchemaSyntaxError`` with the column."""
    return to_json_schema(parse_dsl(source))


# ------------------------------------------------- JSON Schema → strict schema


def to_strict_schema(spec: str | Mapping[str, Any]) -> dict[str, Any]:
    """A strict-mode JSON Schema from DSL text or a JSON Schema object.

    A user's JSON Schema is made strict where the meaning allows it: objects
    get ``additionalProperties: false`` and every property in ``required``
    (the ones that were not required become nullable), ``oneOf`` becomes
    ``anyOf``, a lone ``allOf`` member is merged. What strict mode cannot
    express (free-form objects and maps, arrays without ``items``, tuples,
    schemas without a type) is a ``SchemaError`` naming the place.
    """
    return _schema_of(spec, keep_optional=False)


def to_validation_schema(spec: str | Mapping[str, Any]) -> dict[str, Any]:
    """The schema an answer is checked against: ``to_strict_schema``'s, except
    that optional properties (``name?: T``, or not in a JSON Schema's
    ``required``) may be absent as well as null. The strict schema is what a
    server is asked for; many OpenAI-compatible servers ignore strict mode and
    leave optional keys out, which is a valid answer to what the user wrote."""
    return _schema_of(spec, keep_optional=True)


def _schema_of(spec: str | Mapping[str, Any], *, keep_optional: bool) -> dict[str, Any]:
    if isinstance(spec, str):
        return copy.deepcopy(_dsl_schema(spec, keep_optional))
    if not isinstance(spec, Mapping):
        raise SchemaError("an output schema is DSL text or a JSON Schema object")
    return _strict(copy.deepcopy(dict(spec)), "$", keep_optional)


# Process-wide on purpose: a pure function of a string and a flag (DSL text
# parsed and converted), handed out as deep copies; a for_each converts the
# same schema per item. Nothing of an engine or a run is in it.
@functools.lru_cache(maxsize=1024)
def _dsl_schema(spec: str, keep_optional: bool) -> dict[str, Any]:
    return to_json_schema(parse_dsl(spec), keep_optional=keep_optional)


def _strict(schema: Any, path: str, keep: bool = False) -> dict[str, Any]:
    if schema is True or (isinstance(schema, dict) and not schema):
        raise SchemaError("accepts any value; structured output needs a type here", path)
    if not isinstance(schema, dict):
        raise SchemaError(f"a schema must be an object, found {json_kind(schema)}", path)
    result: dict[str, Any] = dict(schema)
    for key in ("$defs", "definitions"):
        if key in result:
            defs = result[key]
            if not isinstance(defs, dict):
                raise SchemaError(f"{key} must be an object", path)
            result[key] = {
                name: _strict(sub, f"{path}.{key}.{name}", keep) for name, sub in defs.items()
            }
    if "allOf" in result:
        members = result.pop("allOf")
        if not isinstance(members, list) or len(members) != 1:
            raise SchemaError(
                "allOf with several schemas is not supported by strict structured output: "
                "write one object schema",
                path,
            )
        merged = {**members[0], **result}
        return _strict(merged, path, keep)
    if "oneOf" in result:
        result["anyOf"] = result.pop("oneOf")  # strict mode knows only anyOf
    if "anyOf" in result:
        options = result["anyOf"]
        if not isinstance(options, list) or not options:
            raise SchemaError("anyOf must be a non-empty list of schemas", path)
        result["anyOf"] = [
            _strict(sub, f"{path}.anyOf[{i}]", keep) for i, sub in enumerate(options)
        ]
        return result
    if "$ref" in result:
        return result
    types = result.get("type")
    if types is None:
        if "properties" in result:
            result["type"] = types = "object"
        elif "items" in result:
            result["type"] = types = "array"
        elif "enum" in result or "const" in result:
            return result
        else:
            raise SchemaError("has no type; structured output needs one", path)
    type_list = types if isinstance(types, list) else [types]
    for name in type_list:
        if name not in PRIMITIVES and name not in ("object", "array"):
            raise SchemaError(f"unknown type {name!r}", path)
    if "object" in type_list:
        _strict_object(result, path, keep)
    if "array" in type_list:
        if "prefixItems" in result or isinstance(result.get("items"), list):
            raise SchemaError(
                "tuples (prefixItems) are not supported by strict structured output", path
            )
        if "items" not in result:
            raise SchemaError("an array needs an items schema (what its elements are)", path)
        result["items"] = _strict(result["items"], f"{path}[]", keep)
    return result


def _strict_object(result: dict[str, Any], path: str, keep: bool = False) -> None:
    properties = result.get("properties")
    extra = result.get("additionalProperties")
    if properties is None or not isinstance(properties, dict):
        if isinstance(extra, dict):
            raise SchemaError(
                "a free-form map (additionalProperties with a schema) is not supported by "
                "strict structured output: list the fields, or use an array of "
                "{key, value} objects",
                path,
            )
        raise SchemaError(
            "an object needs its fields listed in properties for strict structured output",
            path,
        )
    if isinstance(extra, dict):
        raise SchemaError(
            "additionalProperties with a schema is not supported by strict structured "
            "output: list every field in properties",
            path,
        )
    required = result.get("required") or []
    if not isinstance(required, list):
        raise SchemaError("required must be a list of property names", path)
    missing = [name for name in required if name not in properties]
    if missing:
        raise SchemaError(
            f"required names {', '.join(map(repr, missing))}, which are not in properties", path
        )
    new_props: dict[str, Any] = {}
    for name, sub in properties.items():
        child_path = f"{path}{path_part(name)}"
        strict_sub = _strict(sub, child_path, keep)
        new_props[name] = strict_sub if name in required else _nullable(strict_sub)
    result["properties"] = new_props
    # (``keep``: the answer's schema, where a property not required may be absent)
    result["required"] = [n for n in new_props if n in required] if keep else list(new_props)
    # extra fields (additionalProperties: true) are simply never produced in strict mode
    result["additionalProperties"] = False


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` or null, in the shape strict mode accepts."""
    if "anyOf" in schema:
        if not any(_accepts_only_null(s) for s in schema["anyOf"]):
            schema["anyOf"] = [*schema["anyOf"], dict(_NULL)]
        return schema
    types = schema.get("type")
    if types is None or "$ref" in schema or "const" in schema:
        return {"anyOf": [schema, dict(_NULL)]}
    type_list = types if isinstance(types, list) else [types]
    if "null" in type_list:
        return schema
    if "object" in type_list or "array" in type_list:
        description = schema.pop("description", None)
        wrapped: dict[str, Any] = {"anyOf": [schema, dict(_NULL)]}
        if description is not None:
            wrapped["description"] = description
        return wrapped
    schema["type"] = [*type_list, "null"]
    if "enum" in schema and None not in schema["enum"]:
        schema["enum"] = [*schema["enum"], None]
    return schema


def _accepts_only_null(schema: Any) -> bool:
    return isinstance(schema, dict) and schema.get("type") == "null"
