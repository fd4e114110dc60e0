"""Text the command line prints from data it does not control (workflow
names, messages, node outputs): never a terminal escape, a bidirectional
override or a bare ``NaN``.
May import: stdlib only. Main functions: ``printable``, ``json_text``.
"""

from __future__ import annotations

import json
import math
import unicodedata
from collections.abc import Mapping
from typing import Any

#: at most this many characters of one message are printed
MAX_PRINTED_CHARS = 2_000


def printable(text: str, limit: int = MAX_PRINTED_CHARS) -> str:
    """``text`` with control and format characters (ANSI escapes, RTL
    overrides, …) shown as ``\\x1b`` / ``\\u202e``; cut at ``limit``."""
    if len(text) > limit:
        text = f"{text[:limit]}… ({len(text):,} characters)"
    if text.isprintable():
        return text
    out = []
    for char in text:
        if char.isprintable() or char == " ":
            out.append(char)
        elif unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp", "Co", "Cn", "Cs"):
            out.append(char.encode("unicode_escape").decode("ascii"))
        else:
            out.append(char)
    return "".join(out)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def json_text(value: Any, **options: Any) -> str:
    """Standard JSON: NaN and Infinity (which JSON lacks) become null."""
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False, default=str, **options)
    except ValueError:
        return json.dumps(
            _finite(value), ensure_ascii=False, allow_nan=False, default=str, **options
        )


#: the kinds ``structural_size`` tells apart, as tuples made once (scalars
#: before ``Mapping``, whose abstract check is the slowest; ``dict`` first)
_SEQUENCES = (list, tuple)
_SCALARS = (int, float, type(None))
_MAPPINGS = (dict, Mapping)


def structural_size(
    value: Any, cap: int, *, overhead: int = 2, undefined: type | tuple[type, ...] = ()
) -> int:
    """The structural size of ``value``: the characters of its strings plus
    ``overhead`` per string, list and object and one per other scalar, keys
    included, counting shared parts each time they appear (a list repeating
    one big list counts every repetition: that is what JSON would write);
    stops counting past ``cap``, so it costs at most ``cap`` steps.

    With ``overhead=2`` (quotes, brackets) it is a lower bound of the length
    of ``value``'s JSON text (the run history's output limit); the expression
    limits count ``overhead=1``. A value of an ``undefined`` type is turned
    into text (Jinja's ``Undefined`` raises its hint there)."""
    total = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item) + overhead
        elif isinstance(item, _SEQUENCES):
            total += overhead
            stack.extend(item)
        elif isinstance(item, _SCALARS):
            total += 1
        elif isinstance(item, _MAPPINGS):
            total += overhead
            for key, sub in item.items():
                stack.append(key)
                stack.append(sub)
        else:
            if undefined and isinstance(item, undefined):
                str(item)
            total += 1
        if total > cap:
            break
    return total


def json_prefix(value: Any, chars: int) -> str:
    """The first ``chars`` characters of ``value``'s JSON text, without
    writing the rest (a huge value costs what its prefix does)."""
    encoder = json.JSONEncoder(ensure_ascii=False, default=str)
    parts: list[str] = []
    length = 0
    for chunk in encoder.iterencode(value):
        parts.append(chunk)
        length += len(chunk)
        if length >= chars:
            break
    return "".join(parts)[:chars]
