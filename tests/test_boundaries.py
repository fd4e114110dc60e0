"""Import boundaries: the engine and the editor's document core must not pull
in Qt (they run headless and in the CLI). Checked in a fresh interpreter."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

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


REPO = Path(__file__).resolve().parents[1]
GENERIC = {"engine", "editor", "resources"}


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in a file; relative imports
    resolved against the file's package under its installed name."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    rel = path.relative_to(REPO).with_suffix("").parts
    package = ["flowdesk", *rel[:-1]] if rel[0] in GENERIC else list(rel[:-1])
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                found.append((node.lineno, ".".join([*base, *filter(None, [node.module])])))
            elif node.module:
                found.append((node.lineno, node.module))
    return found


def _sources(*folders: str) -> list[Path]:
    return [p for folder in folders for p in sorted((REPO / folder).rglob("*.py"))]


def test_nothing_imports_a_generic_top_level_name() -> None:
    """Installed, the code is flowdesk.engine / flowdesk.editor: an import of a
    top-level 'engine' would load a second copy from the source tree (or
    another distribution's package)."""
    bad = [
        f"{path.relative_to(REPO)}:{line} imports {name}"
        for path in _sources("engine", "editor", "flowdesk", "tests", "bench", "packaging")
        for line, name in _imports(path)
        if name.split(".")[0] in GENERIC
    ]
    assert bad == []


def test_engine_never_imports_the_editor_or_the_command_line_above_it() -> None:
    bad = [
        f"{path.relative_to(REPO)}:{line} imports {name}"
        for path in _sources("engine")
        for line, name in _imports(path)
        if name.startswith(("flowdesk.editor", "flowdesk.cli", "PySide6", "qasync"))
        or name == "flowdesk"
    ]
    assert bad == []


def test_python_dash_m_flowdesk_is_the_flowdesk_command(tmp_path: Path) -> None:
    from flowdesk import __version__

    done = subprocess.run(
        [sys.executable, "-m", "flowdesk", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,  # not the repository: the installed package answers
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"flowdesk {__version__}"
    helped = subprocess.run(
        [sys.executable, "-m", "flowdesk", "--help"], capture_output=True, text=True, timeout=60
    )
    assert "edit" in helped.stdout and "run" in helped.stdout
