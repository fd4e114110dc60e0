"""editor/pyside_compat.py: PySide's per-import "does this module use
PySide?" check is where it expects, and the faster one gives PySide's answers
(the editor starts as before, 30–50 ms sooner)."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import PySide6
from flowdesk.editor import pyside_compat, theme

CHECKED = "editor/pyside_compat.py (checked against PySide6 6.8-6.11)"


def test_the_private_parts_are_there() -> None:
    feature = sys.modules.get(pyside_compat.FEATURE_MODULE)
    assert feature is not None, (
        f"PySide6 {PySide6.__version__} has no module {pyside_compat.FEATURE_MODULE!r}; "
        f"update {CHECKED}"
    )
    assert callable(getattr(feature, pyside_compat.CHECK, None)), (
        f"PySide6 {PySide6.__version__}: {pyside_compat.FEATURE_MODULE} has no "
        f"{pyside_compat.CHECK!r}; update {CHECKED}"
    )
    assert pyside_compat.fast_feature_check() is True
    assert pyside_compat.fast_feature_check() is True  # (twice: wrapped once)
    check = getattr(feature, pyside_compat.CHECK)
    assert check._flowdesk_fast is True
    assert not getattr(check.__wrapped__, "_flowdesk_fast", False)


def test_the_fast_check_answers_as_pysides_own(tmp_path: Path) -> None:
    assert pyside_compat.fast_feature_check()
    check = getattr(sys.modules[pyside_compat.FEATURE_MODULE], pyside_compat.CHECK)
    uses = tmp_path / "uses_qt.py"
    uses.write_text("# a module of the editor's kind\nimport PySide6.QtCore\n", encoding="utf-8")
    plain = tmp_path / "plain.py"
    plain.write_text("VALUE = 'no Qt here: é'\n", encoding="utf-8")
    modules = [theme, json, sys, types.ModuleType("no_file")]
    for path in (uses, plain):
        module = types.ModuleType(path.stem)
        module.__file__ = str(path)
        modules.append(module)
    answers = {m.__name__: (bool(check(m)), bool(check.__wrapped__(m))) for m in modules}
    assert answers == {
        "flowdesk.editor.theme": (True, True),
        "json": (False, False),
        "sys": (False, False),
        "no_file": (False, False),
        "uses_qt": (True, True),
        "plain": (False, False),
    }
