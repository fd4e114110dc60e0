"""A tiny synchronous observer, the Qt-free stand-in for a Qt signal.

The document announces its changes through it; Qt adapters (scene, inspector,
undo controller) subscribe. May import: stdlib only. Main class: ``Signal``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Generic, ParamSpec

log = logging.getLogger(__name__)

P = ParamSpec("P")


class Signal(Generic[P]):
    """Call every connected slot, in connection order, on ``emit``.

    Slots are called synchronously: when ``emit`` returns, every observer has
    seen the change. A slot that raises is logged and the others still run, so
    one broken observer cannot leave the rest of the UI out of date.
    """

    #: tests set this so that a failing observer fails the test instead of a log line
    strict = False

    def __init__(self) -> None:
        self._slots: list[Callable[P, object]] = []

    def connect(self, slot: Callable[P, object]) -> None:
        if slot not in self._slots:
            self._slots.append(slot)

    def disconnect(self, slot: Callable[P, object]) -> None:
        try:
            self._slots.remove(slot)
        except ValueError:
            pass

    def emit(self, *args: P.args, **kwargs: P.kwargs) -> None:
        # Copy: a slot may connect or disconnect while we iterate.
        for slot in list(self._slots):
            try:
                slot(*args, **kwargs)
            except Exception:
                if Signal.strict:
                    raise
                log.exception("observer %r failed", slot)

    def __len__(self) -> int:
        return len(self._slots)
