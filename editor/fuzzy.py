"""Fuzzy matching for the quick-add popup and the palette filter: a query
matches when its letters appear in order; consecutive letters and letters at
word starts score higher, and the title counts more than the type name or the
description. May import: stdlib only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar

T = TypeVar("T")


def score(query: str, text: str) -> float | None:
    """How well ``query`` matches ``text`` (higher is better), or None."""
    query = query.lower().strip()
    text_l = text.lower()
    if not query:
        return 0.0
    if query in text_l:
        start = text_l.index(query)
        at_word = start == 0 or not text_l[start - 1].isalnum()
        return 100.0 + (30.0 if at_word else 0.0) - start * 0.5 - len(text) * 0.05
    total, pos, run = 0.0, 0, 0
    for ch in query:
        if ch == " ":
            continue
        found = text_l.find(ch, pos)
        if found < 0:
            return None
        at_word = found == 0 or not text_l[found - 1].isalnum()
        run = run + 1 if found == pos and pos > 0 else 0
        total += 1.0 + (3.0 if at_word else 0.0) + 2.0 * run - 0.05 * (found - pos)
        pos = found + 1
    return total


def rank(query: str, entries: Iterable[tuple[T, Sequence[str]]]) -> list[T]:
    """Entries whose fields match, best first. Fields are weighted in order
    (title, then type name, then description)."""
    weights = (1.0, 0.8, 0.35)
    scored: list[tuple[float, int, T]] = []
    for index, (value, fields) in enumerate(entries):
        best = None
        for position, (weight, field) in enumerate(zip(weights, fields, strict=False)):
            if position == 2 and query.lower().strip() not in field.lower():
                continue  # descriptions match whole words only: scattered letters are noise
            s = score(query, field)
            if s is not None and (best is None or s * weight > best):
                best = s * weight
        if best is not None:
            scored.append((best, index, value))
    scored.sort(key=lambda t: (-t[0], t[1]))
    return [value for _, _, value in scored]
