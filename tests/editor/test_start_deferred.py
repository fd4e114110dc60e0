"""What the editor's start leaves for later (issue 14 item 27) is not missed:
``flowdesk edit FILE`` in a process of its own paints the canvas without
loading the expression sandbox (Jinja) or the node types' config validators,
and the problems of the file still show right after — an expression's syntax
error, a missing field — located on their nodes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .conftest import write_flow

#: ``flowdesk edit FILE`` up to the canvas's first paint, then what had been
#: loaded by then and the problems the live validation finds after it
EDIT_AND_VALIDATE = """
import sys
import flowdesk.editor.app as app_module
from flowdesk.engine import NodeRegistry

def after_first_paint(app):
    from flowdesk.editor.main_window import MainWindow
    window = next(w for w in app.topLevelWidgets() if isinstance(w, MainWindow))
    app.processEvents()
    window.view.viewport().repaint()
    built = sorted(t.Config.__name__ for t in window.registry._types.values()
                   if t.Config.__pydantic_complete__)
    print("JINJA", "jinja2" in sys.modules, flush=True)
    print("BUILT", ",".join(built), flush=True)
    for issue in window.validator.run():
        print("ISSUE", issue.node_id, str(issue), flush=True)
    print("LABEL", window.problems_label.text(), flush=True)
    window.controller.stack.setClean()
    window.autosave.close()
    return 0

app_module.run_event_loop = after_first_paint
from flowdesk.cli import main
sys.exit(main(["edit", sys.argv[1]]))
"""


def test_a_fresh_editor_shows_expression_problems_after_its_first_paint(tmp_path: Path) -> None:
    flow = write_flow(
        tmp_path / "flows",
        [
            {"id": "shape", "type": "data.transform", "config": {"value": "{{ nodes. }}"}},
            {"id": "save", "type": "file.write", "config": {}},
        ],
        [("shape", "save")],
    )
    data = tmp_path / "data"
    done = subprocess.run(
        [sys.executable, "-c", EDIT_AND_VALIDATE, str(flow)],
        env=dict(
            os.environ,
            FLOWDESK_DATA_DIR=str(data),
            XDG_CONFIG_HOME=str(data / "config"),
            XDG_DATA_HOME=str(data / "share"),
            QT_QPA_PLATFORM="offscreen",
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    # painted without the expression sandbox, nor the validators of node
    # types the file does not use
    assert "JINJA False" in lines, done.stdout
    built = next(line for line in lines if line.startswith("BUILT")).split(" ", 1)[-1]
    assert "HttpRequestConfig" not in built.split(","), built
    assert "ScheduleConfig" not in built.split(","), built
    # ... and the problems are found after it, on their nodes, as ever
    issues = [line for line in lines if line.startswith("ISSUE ")]
    assert any(
        line.startswith("ISSUE shape ") and "syntax error in expression '{{ nodes. }}'" in line
        for line in issues
    ), issues
    assert any(line.startswith("ISSUE save ") and "path" in line for line in issues), issues
    label = next(line for line in lines if line.startswith("LABEL"))
    assert "⚠" in label, label
