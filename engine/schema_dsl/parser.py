"""The schema DSL's text side: a lexer and a recursive-descent parser from
TypeScript-like text to the syntax tree (``parse_dsl``), with located
``SchemaSyntaxError``s, and the way back from a tree to text (``render_dsl``).

May import: stdlib and ``.tree``.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from dataclasses import dataclass
from typing import Any

from .tree import (
    IDENT,
    PRIMITIVES,
    Arr,
    Lit,
    Obj,
    Prim,
    Prop,
    SchemaSyntaxError,
    TypeExpr,
    Union,
)

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
        elif IDENT.match(source, pos):
            match = IDENT.match(source, pos)
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


# ----------------------------------------------------------- AST → DSL text


def _name_text(name: str) -> str:
    if IDENT.fullmatch(name):
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
