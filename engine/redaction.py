"""Secret values taken out of what is shown or stored (run output, errors,
logs, the history), in one place so that every path follows the same rule.

A secret of at least ``MIN_SUBSTRING_CHARS`` characters is replaced wherever it
appears, inside longer text too. A shorter one (a PIN of ``"7"``, a password
``"ab"``) is replaced only where a whole value *is* that secret: replacing it
inside text would turn every such character of a log or an output into the
marker (``"***"``) — unreadable output that, worse, points at the secret's
characters. Such a secret is weak whatever the output does; docs/security.md
says so. Stdlib only: every layer may use it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

#: secrets shorter than this are redacted only as whole values, not inside text
MIN_SUBSTRING_CHARS = 4
#: what a secret is replaced with
MARKER = "***"


def split_forms(secrets: Iterable[str]) -> tuple[list[str], frozenset[str]]:
    """The forms replaced inside text (longest first: replacing a short form
    first could leave part of a longer one) and those matched as whole values
    only (the short ones)."""
    unique = {s for s in secrets if s}
    inside = sorted((s for s in unique if len(s) >= MIN_SUBSTRING_CHARS), key=len, reverse=True)
    whole = frozenset(s for s in unique if len(s) < MIN_SUBSTRING_CHARS)
    return inside, whole


def redact_text(text: str, secrets: Iterable[str], marker: str = MARKER) -> str:
    """``text`` with every secret replaced (short secrets only when they are
    the whole text)."""
    inside, whole = split_forms(secrets)
    return _text(text, inside, whole, marker)


def redact_value(value: Any, secrets: Iterable[str], marker: str = MARKER) -> Any:
    """``value`` (text, or JSON-like lists/dicts of it, keys included) with
    every secret replaced (short secrets only where a string is exactly one)."""
    inside, whole = split_forms(secrets)
    if not inside and not whole:
        return value
    return _value(value, inside, whole, marker)


def _text(text: str, inside: list[str], whole: frozenset[str], marker: str) -> str:
    if text in whole:
        return marker
    for form in inside:
        if form in text:
            text = text.replace(form, marker)
    return text


def _value(value: Any, inside: list[str], whole: frozenset[str], marker: str) -> Any:
    if isinstance(value, str):
        return _text(value, inside, whole, marker)
    if isinstance(value, dict):
        return {
            _value(k, inside, whole, marker): _value(v, inside, whole, marker)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_value(v, inside, whole, marker) for v in value]
    return value
