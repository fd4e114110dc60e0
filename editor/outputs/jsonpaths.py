"""Helpers over JSON values that never walk more than they must: a path as
an expression (``{{ nodes.fetch.body.items[0].id }}``), text capped at a size
(the serializer stops early instead of encoding 50 MB to show 200 KB), short
previews, and an incremental search that can be run a slice at a time.
May import: stdlib only (no Qt).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from flowdesk.engine import json_kind

PathPart = str | int
JsonPath = tuple[PathPart, ...]

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: names jinja2 would read as something else after a dot
_RESERVED = frozenset({"true", "false", "none", "null", "and", "or", "not", "in", "is", "if"})


def path_text(root: str, path: JsonPath) -> str:
    """``root.key[0]["odd key"]`` — how an expression names the value."""
    out = [root]
    for part in path:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _IDENT.match(part) and part.lower() not in _RESERVED:
            out.append(f".{part}")
        else:
            out.append(f"[{json.dumps(part, ensure_ascii=False)}]")
    return "".join(out)


def path_expression(root: str, path: JsonPath) -> str:
    return "{{ " + path_text(root, path) + " }}"


def type_name(value: Any) -> str:
    """The type column: the engine's ``json_kind``, integers shown as numbers."""
    kind = json_kind(value)
    return "number" if kind == "integer" else kind


def count_text(value: Any) -> str:
    if isinstance(value, dict):
        n = len(value)
        return f"{{{n:,} key{'s' if n != 1 else ''}}}"
    n = len(value)
    return f"[{n:,} item{'s' if n != 1 else ''}]"


class _Stop(Exception):
    pass


def capped_json(value: Any, limit: int, indent: int | None = None) -> tuple[str, bool]:
    """``value`` as JSON text, at most ``limit`` characters; True when cut.

    The pure-Python encoder yields pieces lazily, so a huge value costs only
    what is shown. Small values take the fast C encoder."""
    if not isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=False, default=str)
        return (text[:limit], True) if len(text) > limit else (text, False)
    encoder = json.JSONEncoder(ensure_ascii=False, indent=indent, default=str, check_circular=False)
    parts: list[str] = []
    size = 0
    for piece in encoder.iterencode(value):
        parts.append(piece)
        size += len(piece)
        if size > limit:
            return "".join(parts)[:limit], True
    return "".join(parts), False


def preview(value: Any, limit: int = 160) -> str:
    """One line describing a value: scalars as JSON, containers by size."""
    if isinstance(value, str):
        text = value if len(value) <= limit else value[:limit] + "…"
        return text.replace("\n", "⏎ ")
    if isinstance(value, dict | list):
        return count_text(value)
    text, cut = capped_json(value, limit)
    return text + ("…" if cut else "")


def cell_text(value: Any, limit: int = 200) -> str:
    """A table cell: scalars plainly, containers as compact JSON (capped)."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return preview(value, limit)
    if isinstance(value, bool):
        return "true" if value else "false"
    text, cut = capped_json(value, limit)
    return text + ("…" if cut else "")


def value_at(value: Any, path: JsonPath) -> Any:
    for part in path:
        value = value[part]
    return value


def _children(value: Any) -> Iterator[tuple[PathPart, Any]]:
    return iter(value.items()) if isinstance(value, dict) else enumerate(value)


def _scalar_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


_END: tuple[PathPart, Any] = ("", None)


def search(value: Any, needle: str, max_hits: int = 10_000) -> Iterator[JsonPath | None]:
    """Paths whose key or scalar value contains ``needle`` (case-insensitive),
    depth first in display order. Yields None every few hundred steps so that
    the caller can pause (a time-sliced search on the GUI thread)."""
    needle = needle.casefold()
    if not isinstance(value, dict | list):
        if needle in _scalar_text(value).casefold():
            yield ()
        return
    stack: list[tuple[JsonPath, Iterator[tuple[PathPart, Any]]]] = [((), _children(value))]
    steps = hits = 0
    while stack:
        path, children = stack[-1]
        entry = next(children, _END)
        if entry is _END:
            stack.pop()
            continue
        key, child = entry
        child_path: JsonPath = (*path, key)
        steps += 1
        if steps % 512 == 0:
            yield None
        container = isinstance(child, dict | list)
        if (isinstance(key, str) and needle in key.casefold()) or (
            not container and needle in _scalar_text(child).casefold()
        ):
            hits += 1
            yield child_path
            if hits >= max_hits:
                return
        if container and child:
            stack.append((child_path, _children(child)))
