"""Rewriting ``nodes.ID`` references inside expressions when a node's id changes
(rename, or ids made unique on paste), so that a rename does not silently break
the expressions that name the node. May import: stdlib only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any


def _pattern(ids: Iterable[str]) -> re.Pattern[str]:
    names = "|".join(sorted((re.escape(i) for i in ids), key=len, reverse=True))
    # nodes.ID  or  nodes['ID'] / nodes["ID"], with ID not part of a longer name
    return re.compile(
        rf"(?<![A-Za-z0-9_])nodes(?:\.(?P<dot>{names})(?![A-Za-z0-9_])"
        rf"|\[(?P<q>['\"])(?P<sub>{names})(?P=q)\])"
    )


def rewrite_text(text: str, mapping: Mapping[str, str], pattern: re.Pattern[str]) -> str:
    def repl(match: re.Match[str]) -> str:
        if match.group("dot"):
            return f"nodes.{mapping[match.group('dot')]}"
        quote = match.group("q")
        return f"nodes[{quote}{mapping[match.group('sub')]}{quote}]"

    return pattern.sub(repl, text)


def rewrite_references(value: Any, mapping: Mapping[str, str]) -> Any:
    """A copy of a JSON value with ``nodes.OLD`` → ``nodes.NEW`` in every string."""
    if not mapping:
        return value
    pattern = _pattern(mapping)

    def walk(item: Any) -> Any:
        if isinstance(item, str):
            return rewrite_text(item, mapping, pattern) if "nodes" in item else item
        if isinstance(item, list):
            return [walk(v) for v in item]
        if isinstance(item, dict):
            return {k: walk(v) for k, v in item.items()}
        return item

    return walk(value)


def rename_references(
    node: dict[str, Any], old: str, new: str, keys: Iterable[str] = ("config", "for_each")
) -> dict[str, Any]:
    """A copy of a node's JSON with references to ``old`` renamed in ``keys``."""
    out = dict(node)
    for key in keys:
        if key in out:
            out[key] = rewrite_references(out[key], {old: new})
    return out
