"""Documents a source reads from files (OpenAPI) belong to an engine, not to
the process: a second engine reads a changed document even when the file's
size and modification time did not change (a copy with the same stamp, a
coarse file system), the first keeps its own until it is told to read again
(the editor's Refresh: ``engine.documents.clear()``), and a catalogue listed
without a cache reads the file every time."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from flowdesk.engine import Engine, NodeRegistry, Workflow, list_catalogue, loads_workflow

from tests.workflows import flow

from .conftest import tool

SPECS = Path(__file__).parent / "specs"


def store_flow(folder: Path, registry: NodeRegistry, *nodes: dict[str, Any]) -> Workflow:
    if not (folder / "store.json").exists():
        shutil.copy(SPECS / "petstore31.json", folder / "store.json")
    # (a closed port: a call that gets as far as the network fails at once)
    source = {"type": "openapi", "spec": "store.json", "base_url": "http://127.0.0.1:9"}
    return loads_workflow(json.dumps(flow(list(nodes), sources={"store": source})), registry)


def rename_in_place(path: Path, old: str, new: str) -> None:
    """Change the document keeping its size and modification time."""
    assert len(old) == len(new)
    stat = path.stat()
    path.write_text(path.read_text().replace(old, new))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size


async def tool_names(workflow: Workflow, folder: Path, engine: Engine | None) -> set[str]:
    documents = engine.documents if engine is not None else None
    found = await list_catalogue(workflow, workflow_dir=folder, documents=documents)
    return {tool.name for tool in found["store"]}


async def test_two_engines_do_not_share_documents(registry: NodeRegistry, tmp_path: Path) -> None:
    workflow = store_flow(tmp_path, registry)
    first = Engine(registry)
    assert "placeOrder" in await tool_names(workflow, tmp_path, first)
    rename_in_place(tmp_path / "store.json", "placeOrder", "orderPlace")

    second = Engine(registry)
    assert "orderPlace" in await tool_names(workflow, tmp_path, second)
    # the first engine keeps the document it read until told to read again
    assert "placeOrder" in await tool_names(workflow, tmp_path, first)
    first.documents.clear()
    assert "orderPlace" in await tool_names(workflow, tmp_path, first)


async def test_a_run_uses_its_engines_documents(registry: NodeRegistry, tmp_path: Path) -> None:
    """The palette's listing and the runs of one engine share the document;
    another engine's run reads the file as it is now."""
    listed = store_flow(tmp_path, registry)
    first = Engine(registry)
    assert "placeOrder" in await tool_names(listed, tmp_path, first)
    rename_in_place(tmp_path / "store.json", "placeOrder", "orderPlace")
    workflow = store_flow(tmp_path, registry, tool("call", "store", "placeOrder", quantity=1))

    kept = await first.run(workflow, data_root=tmp_path)
    # (the tool is known: the call went out, to a closed port)
    assert kept.nodes["call"].error is not None
    assert kept.nodes["call"].error["category"] == "TRANSPORT"
    fresh = await Engine(registry).run(workflow, data_root=tmp_path)
    assert fresh.nodes["call"].error is not None
    assert fresh.nodes["call"].error["code"] == "TOOL_NOT_FOUND"
    assert "orderPlace" in fresh.nodes["call"].error["message"]


async def test_without_a_cache_every_listing_reads_the_file(
    registry: NodeRegistry, tmp_path: Path
) -> None:
    workflow = store_flow(tmp_path, registry)
    assert "placeOrder" in await tool_names(workflow, tmp_path, None)
    rename_in_place(tmp_path / "store.json", "placeOrder", "orderPlace")
    assert "orderPlace" in await tool_names(workflow, tmp_path, None)
