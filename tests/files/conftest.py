"""Fixtures of the file tests: a data root with a sibling ``outside`` folder
holding files that must never be read or changed, a snapshot of everything
outside the root, and ``run_flow`` / ``read`` / ``write`` helpers that run
workflow documents through the engine as a user would."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest
from flowdesk.engine import Engine, EnvSecretStore, NodeRegistry, loads_workflow

from tests.run_view import Run
from tests.workflows import flow

OUTSIDE_SECRET = "TOP-SECRET-OUTSIDE-THE-ROOT"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the data root, with files a flow must never touch."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_text(OUTSIDE_SECRET + "\n")
    (folder / "secret.csv").write_text(f"a,b\n{OUTSIDE_SECRET},1\n")
    (folder / "secret.json").write_text(json.dumps({"secret": OUTSIDE_SECRET}))
    (folder / "sub").mkdir()
    (folder / "sub" / "deep.txt").write_text(OUTSIDE_SECRET)
    return folder


@pytest.fixture
def root(tmp_path: Path, outside: Path) -> Path:
    """The data root, with a few files and links (some pointing outside)."""
    data = tmp_path / "root"
    data.mkdir()
    (data / "hello.txt").write_text("hello\n")
    (data / "sub").mkdir()
    (data / "sub" / "inner.txt").write_text("inner\n")
    (data / "link_out").symlink_to(outside)  # a folder link leading out
    (data / "link_secret").symlink_to(outside / "secret.txt")  # a file link leading out
    (data / "link_dangling").symlink_to(outside / "created-through-link.txt")
    (data / "sub" / "link_up").symlink_to("../..")  # relative link to the parent of root
    (data / "link_inside").symlink_to("sub/inner.txt")  # a link that stays inside
    (data / "link_loop").symlink_to("link_loop")
    return data


def snapshot(folder: Path) -> dict[str, str]:
    """Every path under ``folder`` (links not followed) with a digest of its content."""
    state: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = path.relative_to(folder).as_posix()
            if path.is_symlink():
                state[rel] = "link:" + os.readlink(path)
            elif path.is_file():
                stat = path.stat()
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                state[rel] = f"{digest}:{stat.st_mtime_ns}:{stat.st_mode}"
            else:
                state[rel] = "dir"
    return state


@pytest.fixture
def run_flow(registry: NodeRegistry, root: Path) -> Any:
    """``await run_flow(nodes, edges, root=..., **top) -> Run`` with the data root."""

    async def run(
        nodes: list[dict[str, Any]],
        edges: Any = (),
        *,
        data_root: Path | None = None,
        **top: Any,
    ) -> Run:
        workflow = loads_workflow(
            json.dumps(flow(nodes, edges, name="files test", **top)), registry
        )
        engine = Engine(registry, secrets=EnvSecretStore({}))
        return Run(await engine.run(workflow, data_root=data_root or root))

    return run


@pytest.fixture
def read(run_flow: Any) -> Any:
    """``await read(path, fmt) -> Run`` — one ``file.read`` node with id ``read``."""

    async def go(path: str, fmt: str = "text", **top: Any) -> Run:
        node = {"id": "read", "type": "file.read", "config": {"path": path, "format": fmt}}
        result: Run = await run_flow([node], **top)
        return result

    return go


@pytest.fixture
def write(run_flow: Any) -> Any:
    """``await write(path, content, fmt, mode) -> Run`` — a value through ``file.write``.

    The content travels the way it does in a flow: out of a ``data.transform``
    node into the write node's input.
    """

    async def go(
        path: str, content: Any, fmt: str = "json", mode: str = "overwrite", **top: Any
    ) -> Run:
        nodes = [
            {"id": "value", "type": "data.transform", "config": {"value": "{{ vars.content }}"}},
            {
                "id": "write",
                "type": "file.write",
                "config": {"path": path, "format": fmt, "mode": mode},
            },
        ]
        variables = {"content": content}
        result: Run = await run_flow(nodes, [("value", "write")], variables=variables, **top)
        return result

    return go
