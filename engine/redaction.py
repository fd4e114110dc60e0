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


class SecretForms:
    """A set of secrets split once into the forms replaced inside text
    (``inside``, longest first: replacing a short form first could leave part
    of a longer one) and those matched as whole values only (``whole``, the
    short ones), for redacting many texts or values with the same secrets."""

    __slots__ = ("inside", "whole")

    def __init__(self, secrets: Iterable[str]) -> None:
        unique = {s for s in secrets if s}
        self.inside = sorted(
            (s for s in unique if len(s) >= MIN_SUBSTRING_CHARS), key=len, reverse=True
        )
        self.whole = frozenset(s for s in unique if len(s) < MIN_SUBSTRING_CHARS)

    def __bool__(self) -> bool:
        return bool(self.inside or self.whole)

    def text(self, text: str, marker: str = MARKER) -> str:
        """``text`` with every secret replaced (short ones only when they are
        the whole text)."""
        if text in self.whole:
            return marker
        for form in self.inside:
            if form in text:
                text = text.replace(form, marker)
        return text

    def value(self, value: Any, marker: str = MARKER) -> Any:
        """``value`` (text, or JSON-like lists/dicts of it, keys included) with
        every secret replaced (short ones only where a string is exactly one)."""
        if isinstance(value, str):
            return self.text(value, marker)
        if isinstance(value, dict):
            return {self.value(k, marker): self.value(v, marker) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(v, marker) for v in value]
        return value


def redact_text(text: str, secrets: Iterable[str], marker: str = MARKER) -> str:
    """``text`` with every secret replaced (short secrets only when they are
    the whole text)."""
    return SecretForms(secrets).text(text, marker)


def redact_value(value: Any, secrets: Iterable[str], marker: str = MARKER) -> Any:
    """``value`` (text, or JSON-like lists/dicts of it, keys included) with
    every secret replaced (short secrets only where a string is exactly one)."""
    forms = SecretForms(secrets)
    return forms.value(value, marker) if forms else value
