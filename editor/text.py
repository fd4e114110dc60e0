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


#: words a field label writes in capitals ("Url" → "URL")
ACRONYMS = {"url", "urls", "id", "ids", "api", "json", "csv", "http", "https", "ai", "smtp", "ms"}


def field_label(title: str) -> str:
    """A config field's label from its schema title ("Url" → "URL",
    "Max Bytes" → "Max bytes"): sentence case, acronyms in capitals."""
    words = title.replace("_", " ").split()
    out = []
    for i, word in enumerate(words):
        if word.lower() in ACRONYMS:
            out.append(word.upper())
        elif i == 0:
            out.append(word[:1].upper() + word[1:])
        elif word[:1].isupper() and word[1:].islower():
            out.append(word.lower())
        else:
            out.append(word)
    return " ".join(out)
