"""Tool sources in the editor, as a user meets them: a workflow's OpenAPI
source read on a worker thread, its tools grouped by tag in the palette and
found by search, a tool dropped as a ``tool.call`` node whose inspector form
comes from the tool's schema (required first, descriptions as help, enums as
choices), adding a document from a file outside the folder (copied next to
the workflow) with the offer of the credential it calls for, refresh, remove,
and a run against a real httpbin with the answer in the output panel."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flowdesk.editor.inspector.widgets import ChoiceField
from flowdesk.editor.main_window import MainWindow
from flowdesk.editor.palette import TOOL_ROLE
from PySide6.QtCore import QModelIndex, QPointF

from tests.http.peer import HttpbinServer

from .conftest import open_flow, run_and_wait, write_flow

SPECS = Path(__file__).parents[1] / "sources" / "specs"


@pytest.fixture(scope="module")
def httpbin_url() -> Iterator[str]:
    server = HttpbinServer().start()
    yield server.url
    server.stop()


def pets_flow(folder: Path, base_url: str = "http://127.0.0.1:9") -> Path:
    shutil.copytree(SPECS, folder / "specs")
    return write_flow(
        folder,
        [],
        sources={
            "pets": {"type": "openapi", "spec": "specs/petstore30.yaml", "base_url": base_url}
        },
    )


def visible_tool_refs(win: MainWindow) -> list[str]:
    palette = win.node_palette
    model = palette.model
    out = []
    for row in range(model.rowCount()):
        heading = model.item(row)
        if palette.tree.isRowHidden(row, QModelIndex()):
            continue
        for child in range(heading.rowCount()):
            ref = heading.child(child).data(TOOL_ROLE)
            if ref and not palette.tree.isRowHidden(child, heading.index()):
                out.append(ref)
    return out


def headings(win: MainWindow) -> list[str]:
    model = win.node_palette.model
    return [model.item(row).text() for row in range(model.rowCount())]


def test_tools_in_the_palette_form_and_credential_offer(
    window: MainWindow, qtbot: Any, tmp_path: Path
) -> None:
    win = window
    open_flow(win, pets_flow(tmp_path))
    catalogue = win.sources.catalogue
    qtbot.waitUntil(lambda: "pets" in catalogue.tools, timeout=10_000)
    # grouped by tag, named source__tool, searchable by summary, path and tags
    assert {"pets · pets", "pets · trees", "pets · forms"} <= set(headings(win))
    assert "pets__createPet" in visible_tool_refs(win)
    win.node_palette.filter.setText("store a tree")
    assert visible_tool_refs(win) == ["pets__putTree"]
    win.node_palette.filter.setText("/anything/form")
    assert visible_tool_refs(win) == ["pets__submitForm"]
    win.node_palette.filter.setText("")
    assert "7 tools" in win.sources.panel.list.item(0).text()

    # a dropped tool is a tool.call node set up for it, with the tool's form
    node_id = win.sources.add_tool_node("pets__createPet", QPointF(200, 100))
    assert node_id == "createpet"
    node = win.controller.document.node(node_id)
    assert node.type == "tool.call"
    assert node.config == {"source": "pets", "tool": "createPet"}
    assert node.title == "Create a pet"
    inspector = win.inspector
    qtbot.waitUntil(lambda: inspector.node_id == node_id)
    editors = [w for w in inspector.findChildren(object) if w.objectName().startswith("arg_")]
    names = [w.objectName()[4:] for w in editors]
    assert names[0] == "name"  # required first
    assert set(names) == {"name", "kind", "tag", "owner"}
    kind = inspector.findChild(ChoiceField, "arg_kind")
    assert kind is not None and [o for o in kind.options if o] == ["cat", "dog", "bird"]
    helps = [w.text() for w in inspector.findChildren(object, "fieldHelp") if hasattr(w, "text")]
    assert "The pet's name" in helps and "What it is" in helps
    name_editor = inspector.findChild(object, "arg_name")
    name_editor.edited.emit("Rex")
    kind.edited.emit("dog")
    assert win.controller.document.node(node_id).config["arguments"] == {
        "name": "Rex",
        "kind": "dog",
    }
    win.ui_actions["undo"].trigger()
    assert win.controller.document.node(node_id).config["arguments"] == {"name": "Rex"}

    # a document from elsewhere is copied next to the workflow; the credential offered
    outside = tmp_path.parent / f"{tmp_path.name}-elsewhere"
    outside.mkdir()
    shutil.copy(SPECS / "petstore31.json", outside / "store.json")
    asked: list[list[str]] = []

    def ask(name: str, suggestions: list[dict[str, Any]]) -> dict[str, Any]:
        asked.append([s["scheme"] for s in suggestions])
        return {"type": "bearer"}

    win.sources.ask_credential = ask
    added = win.sources.add_source(str(SPECS / "petstore30.yaml"), name="shop")
    assert added == "shop"
    assert win.controller.document.workflow.sources["shop"]["spec"] == "specs/petstore30.yaml"
    qtbot.waitUntil(lambda: bool(asked), timeout=10_000)
    assert asked[0] == ["key", "bearer", "basic", "cc"]
    wf = win.controller.document.workflow
    qtbot.waitUntil(lambda: "shop" in win.controller.document.workflow.credentials)
    wf = win.controller.document.workflow
    assert wf.sources["shop"]["credential"] == "shop"
    assert wf.credentials["shop"].type == "bearer"
    store = win.sources.add_source(str(outside / "store.json"))
    assert store == "store"
    assert (tmp_path / "specs" / "store.json").is_file()
    qtbot.waitUntil(lambda: "store" in catalogue.tools, timeout=10_000)
    assert "store__placeOrder" in visible_tool_refs(win)

    # refresh reads a changed document again; remove takes the tools away
    spec = tmp_path / "specs" / "store.json"
    spec.write_text(spec.read_text().replace("placeOrder", "submitOrder"))
    win.sources.refresh("store", force=True)
    qtbot.waitUntil(lambda: "store__submitOrder" in visible_tool_refs(win), timeout=10_000)
    win.sources.remove_source("store")
    qtbot.waitUntil(lambda: "store__submitOrder" not in visible_tool_refs(win))
    assert "store" not in win.controller.document.workflow.sources


def test_a_broken_source_shows_its_error_in_the_panel(
    window: MainWindow, qtbot: Any, tmp_path: Path
) -> None:
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "bad.yaml").write_text("openapi: 9.9\npaths: {}\n")
    path = write_flow(tmp_path, [], sources={"bad": {"type": "openapi", "spec": "specs/bad.yaml"}})
    open_flow(window, path)
    catalogue = window.sources.catalogue
    qtbot.waitUntil(lambda: "bad" in catalogue.errors, timeout=10_000)
    text = window.sources.panel.list.item(0).text()
    assert "openapi '9.9' is not supported" in text


def test_a_tool_node_runs_in_the_editor(
    run_window: MainWindow, qtbot: Any, tmp_path: Path, httpbin_url: str
) -> None:
    win = run_window
    open_flow(win, pets_flow(tmp_path, httpbin_url))
    qtbot.waitUntil(lambda: "pets" in win.sources.catalogue.tools, timeout=10_000)
    node_id = win.sources.add_tool_node("pets__getPet", QPointF(0, 0))
    assert node_id is not None
    qtbot.waitUntil(lambda: win.inspector.findChild(object, "arg_petId") is not None)
    win.inspector.findChild(object, "arg_petId").edited.emit(42)
    result = run_and_wait(qtbot, win)
    assert result.status == "succeeded", result.nodes[node_id].error
    output = result.nodes[node_id].output
    assert output["status"] == 200
    assert output["body"]["url"].endswith("/anything/pets/42")


def test_file_import_api_adds_a_source(
    window: MainWindow, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QFileDialog, QMenu

    path = write_flow(tmp_path, [])
    open_flow(window, path)
    menu = window.menuBar().findChild(QMenu, "menu_file")
    texts = [a.text().replace("&", "") for a in menu.actions()]
    assert texts.index("Import API…") < texts.index("Credentials…")
    chosen = str(SPECS / "petstore31.json")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (chosen, ""))
    window.sources.ask_credential = lambda *_a: None
    window.sources.import_api_action.trigger()
    assert window.controller.document.workflow.sources == {
        "petstore31": {"type": "openapi", "spec": "specs/petstore31.json"}
    }
    qtbot.waitUntil(lambda: "petstore31" in window.sources.catalogue.tools, timeout=10_000)
    assert "petstore31__placeOrder" in visible_tool_refs(window)
    window.ui_actions["undo"].trigger()
    assert "petstore31" not in window.controller.document.workflow.sources


def test_argument_form_kinds_follow_the_schema() -> None:
    from flowdesk.editor.sources.tool_form import argument_specs

    schema = {
        "type": "object",
        "properties": {
            "labels": {"type": "array", "items": {"type": "string"}},
            "title": {"oneOf": [{"type": "string"}, {"type": "integer"}], "description": "T"},
            "state": {"type": "string", "enum": ["open", "closed"]},
            "count": {"type": ["integer", "null"], "minimum": 1},
            "draft": {"type": "boolean"},
        },
        "required": ["title", "state"],
    }
    specs = {s.key: s for s in argument_specs(schema)}
    assert list(specs)[:2] == ["title", "state"]  # required first
    assert specs["title"].kind == "text" and specs["title"].description == "T"
    assert specs["state"].kind == "enum" and specs["state"].options == ["open", "closed"]
    assert specs["count"].kind == "integer" and specs["count"].minimum == 1
    assert specs["draft"].kind == "bool"
    assert specs["labels"].kind == "json"
