"""Take docs/screenshots/sources.png: a workflow with an OpenAPI source (the
tests' petstore document), the palette filtered on "pet" (the source's tools
by tag), and a ``tool.call`` node selected, its form built from the tool's
input schema. No network: the source is a local file.

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/sources_screenshot.py [OUT.png]
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from flowdesk.editor.app import build_window  # noqa: E402
from flowdesk.editor.run.qasync_compat import install_loop  # noqa: E402
from flowdesk.editor.theme import DARK, apply_theme  # noqa: E402
from flowdesk.engine import NodeRegistry  # noqa: E402
from PySide6.QtCore import QPoint  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

FLOW = {
    "format": "flowdesk/workflow",
    "version": 1,
    "name": "Pets",
    "sources": {
        "pets": {
            "type": "openapi",
            "spec": "specs/petstore30.yaml",
            "base_url": "http://127.0.0.1:9",
        }
    },
    "nodes": [
        {
            "id": "createpet",
            "type": "tool.call",
            "title": "Create a pet",
            "position": [0, 0],
            "config": {
                "source": "pets",
                "tool": "createPet",
                "arguments": {"name": "Rex", "kind": "dog"},
            },
        }
    ],
    "edges": [],
}


def main() -> int:
    default = ROOT / "docs" / "screenshots" / "sources.png"
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    app = QApplication([])
    apply_theme(app, DARK)
    install_loop(app)
    tmp = Path(tempfile.mkdtemp())
    shutil.copytree(ROOT / "tests" / "sources" / "specs", tmp / "specs")
    path = tmp / "pets.flow.json"
    path.write_text(json.dumps(FLOW), encoding="utf-8")
    window = build_window(NodeRegistry.default(plugins=False), scratch=tmp)
    window.resize(1440, 900)
    window.show()
    window.files.open_path(path, confirm=False)
    deadline = time.monotonic() + 20
    while "pets" not in window.sources.catalogue.tools and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.02)
    window.node_palette.filter.setText("pet")
    window.scene.select(["createpet"])
    window.show_start_view()
    window.validator.run()  # (problems come a moment after opening: now)
    for _ in range(20):
        app.processEvents()
        time.sleep(0.02)
    area = window.inspector.scroll_area
    first = area.widget().findChild(QWidget, "arg_name")  # the tool's own form
    if first is not None:
        top = first.mapTo(area.widget(), QPoint(0, 0)).y()
        area.verticalScrollBar().setValue(top - 160)  # from its "Arguments" heading
    for _ in range(5):
        app.processEvents()
    window.grab().save(str(out))
    sys.stdout.write(f"wrote {out}\n")
    window.controller.mark_saved()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
