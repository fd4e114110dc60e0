"""The schema DSL's syntax tree (``Prim``, ``Lit``, ``Arr``, ``Obj``, ``Union``),
its errors, and the small JSON helpers the parser, the strict-schema converter
and the validator share.

May import: stdlib only.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from ..errors import json_kind as json_kind  # (re-exported: its old home)

# --------------------------------------------------------------------------- AST

PrimName = Literal["string", "number", "integer", "boolean", "null"]
PRIMITIVES: tuple[PrimName, ...] = ("string", "number", "integer", "boolean", "null")


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


# ------------------------------------------------------------------ shared helpers

#: a name that needs no quotes (in DSL text and in an issue's path)
IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")


def path_part(key: str) -> str:
    return f".{key}" if IDENT.fullmatch(key) else f"[{json.dumps(key, ensure_ascii=False)}]"
