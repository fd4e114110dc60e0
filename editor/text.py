"""Wording shared by the editor's panels: counts with the right plural
("1 node", "2 nodes").
May import: stdlib.
"""

from __future__ import annotations


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``"1 node"``, ``"2 nodes"``, ``"0 nodes"`` (``nouns``: an irregular plural)."""
    return f"{count} {noun if count == 1 else (nouns or noun + 's')}"


def counts_text(nodes: int, edges: int) -> str:
    """The header of a workflow: ``"1 node · 2 edges"``."""
    return f"{plural(nodes, 'node')} · {plural(edges, 'edge')}"
