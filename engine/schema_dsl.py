"""Output schemas of AI nodes: a TypeScript-like DSL parsed into JSON Schema in
OpenAI strict-mode shape, a converter that makes a user's JSON Schema strict,
and a validator that lists every place a value departs from a schema.

May import: stdlib only (the editor uses this module for live schema feedback).
Main API: ``parse_dsl``, ``dsl_to_json_schema``, ``to_strict_schema``,
``validate_value``, ``SchemaSyntaxError``, ``SchemaError``, ``SchemaIssue``.
"""

from __future__ import annotations

import copy
import difflib
import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

# --------------------------------------------------------------------------- AST

PrimName = Literal["string", "number", "integer", "boolean", "null"]
PRIMITIVES: tuple[PrimName, ...] = ("string", "number", "integer", "boolean", "null")
#: DSL words that TypeScript knows but a strict JSON Schema cannot express
_UNSUPPORTED_WORDS = {
    "any": "'any' is not supported: structured output needs a concrete type for every "
    "value (use string, a union such as string | number, or an object with named fields)",
    "unknown": "'unknown' is not supported: structured output needs a concrete type "
    "(use string, a union, or an object with named fields)",
    "object": "'object' is not supported: list the fields, e.g. {name: string}",
    "Object": "'Object' is not supported: list the fields, e.g. {name: string}",
    "Record": "'Record' (a free-form map) is not supported by strict structured output: "
    "list the fields, or use an array of {key: string, value: …}",
    "undefined": "'undefined' is not a JSON value: mark the field optional (name?: T) or use null",
    "Date": "'Date' is not a JSON type: use string (e.g. an ISO 8601 date)",
}


@dataclass(frozen=True, slots=True)
class Prim:
    """``string``, ``number``, ``integer``, ``boolean`` or ``null``."""

    name: PrimName


@dataclass(frozen=True, slots=True)
class Lit:
    """A literal type: ``"a"``, ``3``, ``2.5``, ``true``."""

    value: str | int | float | bool

    @property
    def kind(self) -> str:
        if isinstance(self.value, bool):
            return "boolean"
        if isinstance(self.value, int):
            return "integer"
        if isinstance(self.value, float):
            return "number"
        return "string"


@dataclass(frozen=True, slots=True)
class Arr:
    """``T[]`` (also written ``Array<T>``)."""

    item: TypeExpr


@dataclass(frozen=True, slots=True)
class Prop:
    name: str
    type: TypeExpr
    optional: bool = False
    #: from a ``/** doc comment */`` before the property
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Obj:
    props: tuple[Prop, ...] = ()


@dataclass(frozen=True, slots=True)
class Union:
    """``A | B | …`` (two or more members)."""

    members: tuple[TypeExpr, ...]


TypeExpr: TypeAlias = Prim | Lit | Arr | Obj | Union


# ------------------------------------------------------------------------ errors


class SchemaError(ValueError):
    """A schema that cannot be used; ``path`` locates it inside a JSON Schema."""

    def __init__(self, message: str, path: str = "") -> None:
        self.message = message
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


class SchemaSyntaxError(SchemaError):
    """A DSL text that does not parse. ``offset`` is 0-based, ``line`` and
    ``column`` are 1-based (characters, as an editor counts them)."""

    def __init__(self, message: str, source: str, offset: int) -> None:
        self.source = source
        self.offset = max(0, min(offset, len(source)))
        self.line = source.count("\n", 0, self.offset) + 1
        line_start = source.rfind("\n", 0, self.offset) + 1
        self.column = self.offset - line_start + 1
        position = (
            f"column {self.column}"
            if "\n" not in source
            else f"line {self.line}, column {self.column}"
        )
        self.position = position
        super().__init__(message)
        self.args = (f"{position}: {message}",)

    def __str__(self) -> str:
        return str(self.args[0])

    def source_line(self) -> str:
        start = self.source.rfind("\n", 0, self.offset) + 1
        end = self.source.find("\n", self.offset)
        return self.source[start : end if end >= 0 else len(self.source)]

    def caret(self) -> str:
        """The offending source line and a caret under the column."""
        line = self.source_line()
        # Tabs stay tabs so that the caret lines up in any terminal.
        pad = "".join("\t" if ch == "\t" else " " for ch in line[: self.column - 1])
        return f"{line}\n{pad}^"

    def pretty(self) -> str:
        """``column 14: expected …`` followed by the source line and the caret."""
        return f"{self}\n{self.caret()}"

    def to_dict(self) -> dict[str, Any]:
        """For the editor: where to put the squiggle."""
        return {
            "message": self.message,
            "line": self.line,
            "column": self.column,
            "offset": self.offset,
            "text": str(self),
        }


# ------------------------------------------------------------------------- lexer


@dataclass(slots=True)
class _Token:
    kind: str  # "ident" | "string" | "number" | "eof" | one of the punctuation characters
    value: Any
    start: int
    end: int
    newline_before: bool = False
    doc: str | None = None


_PUNCT = "{}[]():?,;|<>"
_IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_ESCAPES = {
    '"': '"',
    "'": "'",
    "\\": "\\",
    "/": "/",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
}


def _tokenize(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos, size = 0, len(source)
    newline = False
    doc: str | None = None
    while True:
        # Whitespace and comments; a /** doc */ comment is kept for the next token.
        while pos < size:
            ch = source[pos]
            if ch in " \t\r\n":
                newline = newline or ch == "\n"
                pos += 1
            elif source.startswith("//", pos):
                end = source.find("\n", pos)
                pos = size if end < 0 else end
            elif source.startswith("/*", pos):
                end = source.find("*/", pos + 2)
                if end < 0:
                    raise SchemaSyntaxError("unterminated comment (missing '*/')", source, pos)
                if source.startswith("/**", pos) and end >= pos + 3:
                    doc = _doc_text(source[pos + 3 : end])
                pos = end + 2
            else:
                break
        if pos >= size:
            tokens.append(_Token("eof", None, size, size, newline, doc))
            return tokens
        ch = source[pos]
        start = pos
        if ch in _PUNCT:
            token = _Token(ch, ch, start, pos + 1)
            pos += 1
        elif ch in "\"'":
            value, pos = _read_string(source, pos)
            token = _Token("string", value, start, pos)
        elif "0" <= ch <= "9" or (ch == "-" and "0" <= source[pos + 1 : pos + 2] <= "9"):
            match = _NUMBER.match(source, pos)
            assert match is not None
            text = match.group()
            number: int | float = float(text) if any(c in text for c in ".eE") else int(text)
            if isinstance(number, float) and not math.isfinite(number):
                raise SchemaSyntaxError(f"number {text} is too large", source, start)
            pos = match.end()
            token = _Token("number", number, start, pos)
        elif _IDENT.match(source, pos):
            match = _IDENT.match(source, pos)
            assert match is not None
            pos = match.end()
            token = _Token("ident", match.group(), start, pos)
        else:
            raise SchemaSyntaxError(f"unexpected character {ch!r}", source, start)
        token.newline_before = newline
        token.doc = doc
        newline, doc = False, None
        tokens.append(token)


def _doc_text(raw: str) -> str | None:
    lines = [re.sub(r"^\s*\*?\s?", "", line).rstrip() for line in raw.split("\n")]
    text = "\n".join(lines).strip()
    return text or None


def _read_string(source: str, pos: int) -> tuple[str, int]:
    quote = source[pos]
    start = pos
    pos += 1
    out: list[str] = []
    while True:
        if pos >= len(source) or source[pos] == "\n":
            raise SchemaSyntaxError(
                f"unterminated string literal (missing closing {quote})", source, start
            )
        ch = source[pos]
        if ch == quote:
            return "".join(out), pos + 1
        if ch == "\\":
            if pos + 1 >= len(source):
                raise SchemaSyntaxError("unterminated string literal", source, start)
            esc = source[pos + 1]
            if esc in _ESCAPES:
                out.append(_ESCAPES[esc])
                pos += 2
            elif esc == "u":
                digits = source[pos + 2 : pos + 6]
                if not re.fullmatch(r"[0-9A-Fa-f]{4}", digits):
                    raise SchemaSyntaxError("\\u must be followed by 4 hex digits", source, pos)
                code = int(digits, 16)
                pos += 6
                # A surrogate pair written as two \u escapes (as json.dumps does).
                if 0xD800 <= code < 0xDC00 and re.fullmatch(
                    r"\\u[Dd][C-Fc-f][0-9A-Fa-f]{2}", source[pos : pos + 6]
                ):
                    low = int(source[pos + 2 : pos + 6], 16)
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    pos += 6
                out.append(chr(code))
            else:
                raise SchemaSyntaxError(f"unknown escape '\\{esc}' in string literal", source, pos)
        else:
            out.append(ch)
            pos += 1


# ------------------------------------------------------------------------ parser

MAX_DEPTH = 32


def _describe_token(token: _Token) -> str:
    if token.kind == "eof":
        return "the end of the schema"
    if token.kind == "string":
        return f"string literal {json.dumps(token.value, ensure_ascii=False)}"
    if token.kind == "number":
        return f"number {token.value}"
    return repr(token.value)


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = _tokenize(source)
        self.index = 0
        self.depth = 0

    @property
    def peek(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        if token.kind != "eof":
            self.index += 1
        return token

    def error(self, message: str, token: _Token | None = None) -> SchemaSyntaxError:
        token = token or self.peek
        return SchemaSyntaxError(message, self.source, token.start)

    def where(self, token: _Token) -> str:
        """``column 3``, or ``line 2, column 3`` in a multi-line schema."""
        return SchemaSyntaxError("", self.source, token.start).position

    def parse(self) -> TypeExpr:
        if self.peek.kind == "eof":
            raise SchemaSyntaxError(
                "the schema is empty: write a type such as {name: string}", self.source, 0
            )
        result = self.parse_type()
        if self.peek.kind != "eof":
            raise self.error(f"unexpected {_describe_token(self.peek)} after the end of the type")
        return result

    def parse_type(self) -> TypeExpr:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"the schema is nested too deeply (more than {MAX_DEPTH} levels)")
        if self.peek.kind == "|":  # TypeScript allows a leading '|' in multi-line unions
            self.advance()
        members = [self.parse_postfix()]
        while self.peek.kind == "|":
            self.advance()
            members.append(self.parse_postfix())
        self.depth -= 1
        return members[0] if len(members) == 1 else Union(tuple(members))

    def parse_postfix(self) -> TypeExpr:
        result = self.parse_primary()
        while self.peek.kind == "[":
            self.advance()
            if self.peek.kind != "]":
                raise self.error(
                    f"expected ']' after '[' (an array is written T[]), "
                    f"found {_describe_token(self.peek)}"
                )
            self.advance()
            result = Arr(result)
        return result

    def parse_primary(self) -> TypeExpr:
        token = self.peek
        kind = token.kind
        if kind == "{":
            return self.parse_object()
        if kind == "(":
            self.advance()
            inner = self.parse_type()
            if self.peek.kind != ")":
                raise self.error(
                    f"expected ')' to close the '(' at {self.where(token)}, "
                    f"found {_describe_token(self.peek)}"
                )
            self.advance()
            return inner
        if kind in ("string", "number"):
            self.advance()
            return Lit(token.value)
        if kind == "ident":
            word = token.value
            if word in PRIMITIVES:
                self.advance()
                return Prim(word)
            if word in ("true", "false"):
                self.advance()
                return Lit(word == "true")
            if word == "Array" and self.tokens[self.index + 1].kind == "<":
                self.advance()
                self.advance()
                inner = self.parse_type()
                if self.peek.kind != ">":
                    raise self.error(
                        f"expected '>' to close Array<…>, found {_describe_token(self.peek)}"
                    )
                self.advance()
                return Arr(inner)
            if word in _UNSUPPORTED_WORDS:
                raise self.error(_UNSUPPORTED_WORDS[word])
            known = [*PRIMITIVES, "true", "false", "Array"]
            close = difflib.get_close_matches(word, known, n=1, cutoff=0.6) or (
                difflib.get_close_matches(word.lower(), known, n=1, cutoff=0.6)
            )
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise self.error(
                f"unknown type '{word}'{hint}; types are string, number, integer, boolean, "
                f"null, string literals, {{…}} objects, T[] arrays and A | B unions"
            )
        if kind == "[":
            raise self.error(
                "tuples are not supported by strict structured output: "
                "use an array T[] or an object with named fields"
            )
        if kind == "eof":
            raise self.error("expected a type, but the schema ends here")
        raise self.error(
            f"expected a type (string, number, integer, boolean, null, a literal, "
            f"{{…}} or (…)), found {_describe_token(token)}"
        )

    def parse_object(self) -> Obj:
        opening = self.advance()
        props: list[Prop] = []
        seen: dict[str, _Token] = {}
        while True:
            token = self.peek
            if token.kind == "}":
                self.advance()
                return Obj(tuple(props))
            if token.kind == "eof":
                raise self.error(
                    f"expected '}}' to close the object opened at {self.where(opening)}, "
                    f"but the schema ends here"
                )
            if token.kind not in ("ident", "string"):
                raise self.error(
                    f"expected a property name or '}}', found {_describe_token(token)}"
                )
            name_token = self.advance()
            name = str(name_token.value)
            optional = False
            if self.peek.kind == "?":
                self.advance()
                optional = True
            if self.peek.kind != ":":
                raise self.error(
                    f"expected ':' after property name '{name}', found {_describe_token(self.peek)}"
                )
            self.advance()
            if name in seen:
                raise self.error(
                    f"duplicate property '{name}' (first defined at {self.where(seen[name])})",
                    name_token,
                )
            seen[name] = name_token
            prop_type = self.parse_type()
            props.append(Prop(name, prop_type, optional, name_token.doc))
            following = self.peek
            if following.kind in (",", ";"):
                self.advance()
            elif following.kind == "}":
                continue
            elif following.newline_before and following.kind in ("ident", "string"):
                continue  # members on separate lines need no comma, as in TypeScript
            elif following.kind == "eof":
                raise self.error(
                    f"expected '}}' to close the object opened at {self.where(opening)}, "
                    f"but the schema ends here"
                )
            else:
                raise self.error(
                    f"expected ',' or '}}' after property '{name}', "
                    f"found {_describe_token(following)}"
                )


def parse_dsl(source: str) -> TypeExpr:
    """Parse DSL text into its syntax tree; ``SchemaSyntaxError`` on bad input."""
    if not isinstance(source, str):
        raise TypeError("the schema DSL must be text")
    return _Parser(source).parse()


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


# ----------------------------------------------------------- AST → DSL text


def _name_text(name: str) -> str:
    if _IDENT.fullmatch(name):
        return name
    return json.dumps(name, ensure_ascii=False)


def render_dsl(node: TypeExpr) -> str:
    """DSL text of a syntax tree (``parse_dsl(render_dsl(t))`` gives ``t`` back)."""
    if isinstance(node, Prim):
        return node.name
    if isinstance(node, Lit):
        if isinstance(node.value, bool):
            return "true" if node.value else "false"
        if isinstance(node.value, float):
            return repr(node.value)
        if isinstance(node.value, int):
            return str(node.value)
        return json.dumps(node.value, ensure_ascii=False)
    if isinstance(node, Arr):
        inner = render_dsl(node.item)
        return f"({inner})[]" if isinstance(node.item, Union) else f"{inner}[]"
    if isinstance(node, Obj):
        parts = []
        for prop in node.props:
            doc = f"/** {prop.description} */ " if prop.description else ""
            mark = "?" if prop.optional else ""
            parts.append(f"{doc}{_name_text(prop.name)}{mark}: {render_dsl(prop.type)}")
        return "{" + ", ".join(parts) + "}"
    return " | ".join(
        f"({render_dsl(m)})" if isinstance(m, Union) else render_dsl(m) for m in node.members
    )


# ------------------------------------------------- JSON Schema → strict schema

_DSL_CACHE: dict[tuple[str, bool], dict[str, Any]] = {}


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
        key = (spec, keep_optional)
        cached = _DSL_CACHE.get(key)
        if cached is None:
            cached = to_json_schema(parse_dsl(spec), keep_optional=keep_optional)
            if len(_DSL_CACHE) > 1000:
                _DSL_CACHE.clear()
            _DSL_CACHE[key] = cached
        return copy.deepcopy(cached)
    if not isinstance(spec, Mapping):
        raise SchemaError("an output schema is DSL text or a JSON Schema object")
    return _strict(copy.deepcopy(dict(spec)), "$", keep_optional)


def _strict(schema: Any, path: str, keep: bool = False) -> dict[str, Any]:
    if schema is True or (isinstance(schema, dict) and not schema):
        raise SchemaError("accepts any value; structured output needs a type here", path)
    if not isinstance(schema, dict):
        raise SchemaError(f"a schema must be an object, found {_json_kind(schema)}", path)
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
        child_path = f"{path}{_path_part(name)}"
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


def _path_part(key: str) -> str:
    return f".{key}" if _IDENT.fullmatch(key) else f"[{json.dumps(key, ensure_ascii=False)}]"


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


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
                f"{path}{_path_part(name)}",
                expected,
                "nothing",
                f"missing required field {name!r} (expected {expected})",
            )
    extra = schema.get("additionalProperties", True)
    for name, element in value.items():
        child = f"{path}{_path_part(name)}"
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
