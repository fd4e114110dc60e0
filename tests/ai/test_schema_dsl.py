"""The output-schema DSL: what it turns into (strict-mode JSON Schema), the
errors it gives with their columns, JSON Schema made strict, the validator's
issue list, and property-based round trips (tree → text → tree → schema)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flowdesk.engine.schema_dsl import (
    Arr,
    Lit,
    Obj,
    Prim,
    Prop,
    SchemaError,
    SchemaSyntaxError,
    TypeExpr,
    Union,
    dsl_to_json_schema,
    parse_dsl,
    render_dsl,
    to_json_schema,
    to_strict_schema,
    validate_value,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


def obj(**props: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": props,
        "required": list(props),
        "additionalProperties": False,
    }


STR = {"type": "string"}

# ------------------------------------------------------------------ valid


def test_the_issue_example() -> None:
    schema = dsl_to_json_schema(
        '{name: string, age: number, tags: string[], meta?: {ok: boolean}, kind: "a" | "b", '
        "n: integer | null}"
    )
    assert schema == obj(
        name=STR,
        age={"type": "number"},
        tags={"type": "array", "items": STR},
        meta={"anyOf": [obj(ok={"type": "boolean"}), {"type": "null"}]},
        kind={"type": "string", "enum": ["a", "b"]},
        n={"type": ["integer", "null"]},
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("string", STR),
        ("string[]", {"type": "array", "items": STR}),
        ("Array<integer>", {"type": "array", "items": {"type": "integer"}}),
        ("string[][]", {"type": "array", "items": {"type": "array", "items": STR}}),
        ("{a: string}[]", {"type": "array", "items": obj(a=STR)}),
        ("(string | number)[]", {"type": "array", "items": {"type": ["string", "number"]}}),
        # without parentheses, [] binds to number only
        (
            "string | number[]",
            {"anyOf": [STR, {"type": "array", "items": {"type": "number"}}]},
        ),
        ("{}", obj()),
        ("{a?: string}", obj(a={"type": ["string", "null"]})),
        ("{a?: string | null}", obj(a={"type": ["string", "null"]})),
        ('{a?: "x" | "y"}', obj(a={"type": ["string", "null"], "enum": ["x", "y", None]})),
        ("{a?: string[]}", obj(a={"anyOf": [{"type": "array", "items": STR}, {"type": "null"}]})),
        ("1 | 2 | 3", {"type": "integer", "enum": [1, 2, 3]}),
        ("1 | 2.5", {"type": "number", "enum": [1, 2.5]}),
        ("true", {"type": "boolean", "enum": [True]}),
        ("-4", {"type": "integer", "enum": [-4]}),
        ('"a" | string', STR),  # a literal adds nothing to its whole type
        ("integer | number", {"type": "number"}),
        ('"a" | "a" | "b"', {"type": "string", "enum": ["a", "b"]}),
        ("null", {"type": "null"}),
        (
            '"a" | 1',
            {"anyOf": [{"type": "string", "enum": ["a"]}, {"type": "integer", "enum": [1]}]},
        ),
        ("{a: string} | null", {"anyOf": [obj(a=STR), {"type": "null"}]}),
        ("'single' | \"double\"", {"type": "string", "enum": ["single", "double"]}),
        (
            '{"first name": string, $id: integer}',
            obj(**{"first name": STR, "$id": {"type": "integer"}}),
        ),
        ('"tab\\there \\u00e9"', {"type": "string", "enum": ["tab\there é"]}),
        ("{a: string; b: number;}", obj(a=STR, b={"type": "number"})),
        ("{a: string,}", obj(a=STR)),
        ("| 'x' | 'y'", {"type": "string", "enum": ["x", "y"]}),
    ],
)
def test_valid_schemas(text: str, expected: dict[str, Any]) -> None:
    assert dsl_to_json_schema(text) == expected


def test_multi_line_schema_with_comments_and_doc_comments() -> None:
    text = """{
      /** The customer's full name */
      name: string
      // plain comments are ignored
      age: integer  /* so are these */
      tags: string[]
    }"""
    assert dsl_to_json_schema(text) == obj(
        name={"type": "string", "description": "The customer's full name"},
        age={"type": "integer"},
        tags={"type": "array", "items": STR},
    )


# ---------------------------------------------------------------- invalid


@pytest.mark.parametrize(
    ("text", "column", "message"),
    [
        (
            "{name: string, age number}",
            20,
            "expected ':' after property name 'age', found 'number'",
        ),
        ("{a: strin}", 5, "unknown type 'strin' (did you mean 'string'?)"),
        ("{a: String}", 5, "unknown type 'String' (did you mean 'string'?)"),
        ("{a: any}", 5, "'any' is not supported"),
        ("{a: Date}", 5, "'Date' is not a JSON type"),
        ("{a: string b: number}", 12, "expected ',' or '}' after property 'a', found 'b'"),
        ("{a: string", 11, "expected '}' to close the object opened at column 1"),
        ("{a: string, a: number}", 13, "duplicate property 'a' (first defined at column 2)"),
        ('{a: "open}', 5, "unterminated string literal"),
        ("{a: [string]}", 5, "tuples are not supported"),
        ("{a: string[}", 12, "expected ']' after '['"),
        ("{a: string}}", 12, "unexpected '}' after the end of the type"),
        ("", 1, "the schema is empty"),
        ("   ", 1, "the schema is empty"),
        ("{a: }", 5, "expected a type"),
        ("{a:", 4, "expected a type, but the schema ends here"),
        ("{: string}", 2, "expected a property name or '}', found ':'"),
        ("{a: (string | number}", 21, "expected ')' to close the '(' at column 5"),
        ("{a: Array<string}", 17, "expected '>' to close Array<…>"),
        ("{a: string | }", 14, "expected a type"),
        ("{a: string @}", 12, "unexpected character '@'"),
        ('{a: "x\\q"}', 7, "unknown escape '\\q'"),
        ("{a: string /* never closed", 12, "unterminated comment"),
    ],
)
def test_invalid_schemas_point_at_the_column(text: str, column: int, message: str) -> None:
    with pytest.raises(SchemaSyntaxError) as caught:
        dsl_to_json_schema(text)
    error = caught.value
    assert error.column == column, str(error)
    assert message in error.message
    assert str(error).startswith(f"column {column}: ")


def test_error_in_a_multi_line_schema_names_line_and_column_with_a_caret() -> None:
    text = "{\n  name: string,\n  age number\n}"
    with pytest.raises(SchemaSyntaxError) as caught:
        parse_dsl(text)
    error = caught.value
    assert (error.line, error.column, error.offset) == (3, 7, text.index("number"))
    assert str(error) == "line 3, column 7: expected ':' after property name 'age', found 'number'"
    assert error.pretty().splitlines()[1:] == ["  age number", "      ^"]
    assert error.to_dict()["column"] == 7


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    with pytest.raises(SchemaSyntaxError, match="nested too deeply"):
        parse_dsl("(" * 500 + "string" + ")" * 500)


# -------------------------------------------------- JSON Schema made strict


def test_json_schema_is_made_strict() -> None:
    user = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "description": "full name"},
            "address": {"properties": {"city": {"type": "string"}}},
            "kind": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["name", "address"],
        "additionalProperties": True,
    }
    assert to_strict_schema(user) == {
        "type": "object",
        "properties": {
            "name": {"type": "string", "description": "full name"},
            "address": {
                "type": "object",
                "properties": {"city": {"type": ["string", "null"]}},
                "required": ["city"],
                "additionalProperties": False,
            },
            "kind": {"anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}]},
            "tags": {"anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "null"}]},
        },
        "required": ["name", "address", "kind", "tags"],
        "additionalProperties": False,
    }
    assert user["additionalProperties"] is True  # the caller's object is left alone


@pytest.mark.parametrize(
    ("schema", "path", "message"),
    [
        ({"type": "object"}, "$", "needs its fields listed"),
        (
            {
                "type": "object",
                "properties": {"m": {"type": "object", "additionalProperties": STR}},
            },
            "$.m",
            "free-form map",
        ),
        ({"type": "object", "properties": {"xs": {"type": "array"}}}, "$.xs", "needs an items"),
        ({"type": "object", "properties": {"x": {}}}, "$.x", "accepts any value"),
        ({"type": "object", "properties": {"x": {"type": "date"}}}, "$.x", "unknown type 'date'"),
        ({"type": "object", "properties": {}, "required": ["x"]}, "$", "not in properties"),
        ({"allOf": [{"type": "string"}, {"minLength": 1}]}, "$", "allOf with several"),
    ],
)
def test_json_schema_that_cannot_be_strict_names_the_place(
    schema: dict[str, Any], path: str, message: str
) -> None:
    with pytest.raises(SchemaError) as caught:
        to_strict_schema(schema)
    assert caught.value.path == path
    assert message in caught.value.message


# ---------------------------------------------------------------- validator


def issues_of(value: Any, dsl: str) -> list[tuple[str, str, str]]:
    return [
        (i.path, i.expected, i.received) for i in validate_value(value, dsl_to_json_schema(dsl))
    ]


def test_validator_lists_issues_with_paths() -> None:
    dsl = (
        '{id: integer, who: {name: string, "e-mail"?: string}, '
        "items: {sku: string, qty: integer}[]}"
    )
    value = {
        "id": 3.5,
        "who": {"name": None, "e-mail": 7},
        "items": [{"sku": "a", "qty": 1}, {"sku": "b"}, {"sku": 1, "qty": "2", "x": True}],
        "extra": [],
    }
    assert issues_of(value, dsl) == [
        ("$.id", "integer", "3.5"),
        ("$.who.name", "string", "null"),
        ('$.who["e-mail"]', "string or null", "7"),
        ("$.items[1].qty", "integer", "nothing"),
        ("$.items[2].sku", "string", "1"),
        ("$.items[2].qty", "integer", '"2"'),
        ("$.items[2].x", "no such field", "true"),
        ("$.extra", "no such field", "an array of 0 items"),
    ]


def test_validator_messages_read_well() -> None:
    schema = dsl_to_json_schema('{kind: "a" | "b", n: integer}')
    messages = [i.message for i in validate_value({"kind": "c"}, schema)]
    assert messages == [
        "$.n: missing required field 'n' (expected integer)",
        '$.kind: expected one of "a", "b", received "c"',
    ]
    assert validate_value("x", schema)[0].message == '$: expected object, received "x"'


def test_validator_reports_inside_the_alternative_that_has_the_right_shape() -> None:
    schema = dsl_to_json_schema("{a: string} | string[] | null")
    assert issues_of({"a": 1}, "{a: string} | string[] | null") == [("$.a", "string", "1")]
    assert [i.expected for i in validate_value(5, schema)] == ["object or array of string or null"]


def test_validator_counts_3_0_as_an_integer_but_not_true() -> None:
    schema = dsl_to_json_schema("integer[]")
    assert validate_value([1, 3.0], schema) == []
    assert [i.received for i in validate_value([True], schema)] == ["true"]


def test_validator_follows_local_refs_and_keyword_bounds() -> None:
    schema = {
        "$defs": {"Tag": {"type": "string", "minLength": 2, "pattern": "^[a-z]+$"}},
        "type": "object",
        "properties": {
            "tags": {"type": "array", "items": {"$ref": "#/$defs/Tag"}, "maxItems": 2},
            "score": {"type": "number", "minimum": 0, "maximum": 1},
        },
        "required": ["tags", "score"],
        "additionalProperties": False,
    }
    issues = validate_value({"tags": ["ok", "X", "abc"], "score": 1.5}, schema)
    assert [(i.path, i.expected) for i in issues] == [
        ("$.tags", "an array of at most 2 items"),
        ("$.tags[1]", "a string of at least 2 characters"),
        ("$.tags[1]", "a string matching '^[a-z]+$'"),
        ("$.score", "a number ≤ 1"),
    ]


# ------------------------------------------------------ property-based tests

_names = st.one_of(
    st.from_regex(r"[A-Za-z_$][A-Za-z0-9_$]{0,8}", fullmatch=True),
    st.text(min_size=1, max_size=8),
)
_descriptions = st.none() | st.text(
    alphabet=st.characters(whitelist_categories=("L", "N"), whitelist_characters=" .,'-"),
    min_size=1,
    max_size=20,
).map(str.strip).filter(bool)
_literals = st.one_of(
    st.text(max_size=10),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
).map(Lit)
_leaves = st.one_of(
    st.sampled_from([Prim(p) for p in ("string", "number", "integer", "boolean", "null")]),
    _literals,
)


def _extend(children: st.SearchStrategy[TypeExpr]) -> st.SearchStrategy[TypeExpr]:
    props = st.lists(
        st.tuples(_names, children, st.booleans(), _descriptions),
        max_size=4,
        unique_by=lambda p: p[0],
    ).map(lambda items: Obj(tuple(Prop(n, t, o, d) for n, t, o, d in items)))
    return st.one_of(
        children.map(Arr),
        st.lists(children, min_size=2, max_size=4).map(lambda ms: Union(tuple(ms))),
        props,
    )


type_trees = st.recursive(_leaves, _extend, max_leaves=12)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(type_trees)
def test_round_trip_tree_text_tree_schema(tree: TypeExpr) -> None:
    text = render_dsl(tree)
    parsed = parse_dsl(text)
    assert parsed == tree
    assert to_json_schema(parsed) == to_json_schema(tree)
    schema = to_json_schema(tree)
    # plain JSON, and already strict: making it strict changes nothing
    assert json.loads(json.dumps(schema)) == schema
    assert to_strict_schema(schema) == schema


def _values(tree: TypeExpr) -> st.SearchStrategy[Any]:
    """Values that conform to ``tree``."""
    if isinstance(tree, Prim):
        return {
            "string": st.text(max_size=5),
            "number": st.floats(allow_nan=False, allow_infinity=False) | st.integers(),
            "integer": st.integers(),
            "boolean": st.booleans(),
            "null": st.none(),
        }[tree.name]
    if isinstance(tree, Lit):
        return st.just(tree.value)
    if isinstance(tree, Arr):
        return st.lists(_values(tree.item), max_size=3)
    if isinstance(tree, Union):
        return st.one_of([_values(m) for m in tree.members])
    return st.fixed_dictionaries(
        {
            p.name: (_values(p.type) | st.none()) if p.optional else _values(p.type)
            for p in tree.props
        }
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_every_value_built_from_a_schema_validates(data: st.DataObject) -> None:
    tree = data.draw(type_trees)
    value = data.draw(_values(tree))
    assert validate_value(value, to_json_schema(tree)) == []


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_a_wrong_field_is_reported_at_its_path(data: st.DataObject) -> None:
    tree = data.draw(
        st.lists(
            st.tuples(_names, type_trees), min_size=1, max_size=4, unique_by=lambda p: p[0]
        ).map(lambda items: Obj(tuple(Prop(n, t) for n, t in items)))
    )
    value = data.draw(_values(tree))
    victim = data.draw(st.sampled_from([p.name for p in tree.props]))
    # No schema the DSL makes accepts an object with this key.
    value[victim] = {"\x00unexpected": 1}
    where = (
        f"$.{victim}"
        if re.fullmatch(r"[A-Za-z_$][A-Za-z0-9_$]*", victim)
        else (f"$[{json.dumps(victim, ensure_ascii=False)}]")
    )
    paths = [i.path for i in validate_value(value, to_json_schema(tree))]
    assert paths
    assert all(p == where or p.startswith((where + ".", where + "[")) for p in paths), paths
