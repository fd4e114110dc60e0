"""PySide6's private ``__feature__`` machinery, in one file: the check it runs
on every module imported after it, made cheap.

Once PySide6 is imported, its ``__import__`` hook asks, for every module
imported afterwards (the editor's, the stdlib's, the engine's lazy ones —
some 220 at start-up), whether the module "uses PySide": it reads the module's
source with ``inspect.getsource`` (``linecache``: a stat per path tried, the
decoded text split into lines and kept) and looks for the word ``PySide6``.
That is 40–60 ms of a start that takes about 0.5 s. ``fast_feature_check()``
keeps the question and the answer — the word ``PySide6`` in the module's
source file — and reads the file's bytes directly; modules without a ``.py``
file still go through PySide's own check.

Checked against PySide6 6.8–6.11 on CPython 3.11: it relies on the module
``shibokensupport.feature`` (PySide's ``__feature__``) and its function
``_mod_uses_pyside(module) -> bool``. When an upgrade moves either, nothing
is replaced (the start is as slow as before, never wrong) and
tests/editor/test_pyside_compat.py fails, naming the attribute.

May import: PySide6, stdlib.
Main function: ``fast_feature_check``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

#: the module (PySide's ``__feature__``, embedded in shiboken) and its check
FEATURE_MODULE = "shibokensupport.feature"
CHECK = "_mod_uses_pyside"
#: what PySide's check looks for in a module's source
WORD = b"PySide6"


def fast_feature_check() -> bool:
    """Make PySide's per-import "does this module use PySide?" check read the
    module's source file directly. Call it once PySide6 is imported; calling it
    again does nothing. False when PySide's internals are not as expected
    (nothing was changed)."""
    import PySide6  # noqa: F401  (loads shiboken, which installs the hook)

    feature = sys.modules.get(FEATURE_MODULE)
    original = getattr(feature, CHECK, None)
    if feature is None or not callable(original):
        return False
    if getattr(original, "_flowdesk_fast", False):
        return True
    setattr(feature, CHECK, _fast_check(original))
    return True


def _fast_check(original: Callable[[ModuleType], Any]) -> Callable[[ModuleType], Any]:
    def uses_pyside(module: ModuleType) -> Any:
        path = getattr(module, "__file__", None)
        if isinstance(path, str) and path.endswith(".py"):
            try:
                with open(path, "rb") as source:
                    return WORD in source.read()
            except OSError:
                pass
        return original(module)

    uses_pyside._flowdesk_fast = True  # type: ignore[attr-defined]
    uses_pyside.__wrapped__ = original  # type: ignore[attr-defined]
    return uses_pyside
