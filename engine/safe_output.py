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
