"""Output schemas of AI nodes: a TypeScript-like DSL parsed into JSON Schema in
OpenAI strict-mode shape, a converter that makes a user's JSON Schema strict,
and a validator that lists every place a value departs from a schema.

The package is split along those seams:

- ``tree``: the syntax tree (``Prim``, ``Lit``, ``Arr``, ``Obj``, ``Union``)
  and the errors (``SchemaError``, ``SchemaSyntaxError``);
- ``parser``: DSL text → tree (``parse_dsl``) and back (``render_dsl``);
- ``strict``: tree → strict JSON Schema, and a user's JSON Schema made strict
  (``to_strict_schema``, ``to_validation_schema``);
- ``validate``: a value against a schema → ``SchemaIssue`` list.

Import from ``flowdesk.engine.schema_dsl`` (this module); the submodules are
the layout, not the API.

May import: stdlib only (the editor uses this package for live schema feedback).
Main API: ``parse_dsl``, ``dsl_to_json_schema``, ``to_strict_schema``,
``validate_value``, ``SchemaSyntaxError``, ``SchemaError``, ``SchemaIssue``.
"""

from __future__ import annotations

from .parser import MAX_DEPTH, parse_dsl, render_dsl
from .strict import dsl_to_json_schema, to_json_schema, to_strict_schema, to_validation_schema
from .tree import (
    PRIMITIVES,
    Arr,
    Lit,
    Obj,
    Prim,
    PrimName,
    Prop,
    SchemaError,
    SchemaSyntaxError,
    TypeExpr,
    Union,
)
from .validate import SchemaIssue, describe_schema, describe_value, validate_value

__all__ = [
    "MAX_DEPTH",
    "PRIMITIVES",
    "Arr",
    "Lit",
    "Obj",
    "Prim",
    "PrimName",
    "Prop",
    "SchemaError",
    "SchemaIssue",
    "SchemaSyntaxError",
    "TypeExpr",
    "Union",
    "describe_schema",
    "describe_value",
    "dsl_to_json_schema",
    "parse_dsl",
    "render_dsl",
    "to_json_schema",
    "to_strict_schema",
    "to_validation_schema",
    "validate_value",
]
