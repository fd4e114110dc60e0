"""Text the command line prints from data it does not control (workflow
names, messages, node outputs): never a terminal escape, a bidirectional
override or a bare ``NaN``.
May import: stdlib only. Main functions: ``printable``, ``json_text``.
"""

from __future__ import annotations

import json
import math
import unicodedata
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


def structural_size(value: Any, cap: int) -> int:
    """A lower bound of the length of ``value``'s JSON text (characters of
    strings plus one per item, key and scalar), counting shared parts each
    time they appear; stops counting past ``cap``. Costs at most ``cap`` steps."""
    total = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item) + 2
        elif isinstance(item, dict):
            total += 2
            for key, sub in item.items():
                stack.append(key)
                stack.append(sub)
        elif isinstance(item, list | tuple):
            total += 2
            stack.extend(item)
        else:
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
