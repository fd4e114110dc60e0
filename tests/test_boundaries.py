"""Import boundaries: the engine and the editor's document core must not pull
in Qt (they run headless and in the CLI). Checked in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import importlib, pkgutil, sys
import flowdesk.engine, flowdesk.editor.document
for package in (flowdesk.engine, flowdesk.editor.document):
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        importlib.import_module(info.name)
bad = sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "shiboken6", "qasync"))
print(",".join(bad))
"""


def test_engine_and_document_do_not_import_qt() -> None:
    result = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"Qt imported: {result.stdout.strip()}"
