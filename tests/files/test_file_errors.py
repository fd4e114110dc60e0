"""File errors a user meets — FILE_NOT_FOUND, IS_A_DIRECTORY,
PERMISSION_DENIED, NOT_A_FILE, NOT_A_DIRECTORY — each naming the path as
written, relative to the data root; parent folders created on write; and
overwrites that are atomic (a reader never sees half a file)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
import threading
from pathlib import Path

import pytest


@pytest.mark.parametrize("path", ["missing.txt", "nowhere/missing.txt", "hello.txt/below"])
async def test_a_missing_file_is_file_not_found_naming_the_path(read, root: Path, path):
    error = (await read(path)).error("read")
    assert (error["code"], error["category"]) == ("FILE_NOT_FOUND", "EXECUTION")
    assert error["details"]["path"] == path
    assert repr(path) in error["message"]
    assert str(root) not in error["message"]  # relative to the root, not absolute


@pytest.mark.parametrize("path", ["sub", "sub/", ".", "sub/.."])
async def test_reading_a_folder_is_is_a_directory(read, path):
    error = (await read(path)).error("read")
    assert error["code"] == "IS_A_DIRECTORY"
    assert error["details"]["path"] == path


@pytest.mark.parametrize("path", ["sub", "sub/", "new-folder/"])
async def test_writing_onto_a_folder_is_is_a_directory(write, root: Path, path):
    error = (await write(path, {"a": 1})).error("write")
    assert error["code"] == "IS_A_DIRECTORY"
    assert (root / "sub" / "inner.txt").read_text() == "inner\n"
    assert not (root / "new-folder").exists()


async def test_writing_below_a_file_is_not_a_directory(write, root: Path):
    error = (await write("hello.txt/x.json", {"a": 1})).error("write")
    assert error["code"] == "NOT_A_DIRECTORY"
    assert "'hello.txt/x.json'" in error["message"]
    assert (root / "hello.txt").read_text() == "hello\n"


async def test_write_creates_parent_folders_inside_the_root(write, root: Path):
    run = await write("a/b/c/d.json", [1, 2])
    assert run.output("write") == {"path": "a/b/c/d.json", "bytes": len("[\n  1,\n  2\n]\n")}
    assert json.loads((root / "a/b/c/d.json").read_text()) == [1, 2]


async def test_a_symbolic_link_inside_the_root_is_followed(read, write, root: Path):
    assert (await read("link_inside")).output("read") == "inner\n"
    run = await write("link_inside", "changed", "text")
    # The output names the real file that was written.
    assert run.output("write")["path"] == "sub/inner.txt"
    assert (root / "sub/inner.txt").read_text() == "changed"


async def test_a_symbolic_link_loop_is_a_clear_error(read):
    error = (await read("link_loop")).error("read")
    assert error["code"] == "FILE_ERROR"
    assert "symbolic links" in error["message"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX-only")
@pytest.mark.timeout(10)
async def test_a_named_pipe_is_refused_instead_of_hanging(read, write, root: Path):
    os.mkfifo(root / "pipe")
    assert (await read("pipe")).error("read")["code"] == "NOT_A_FILE"
    assert (await write("pipe", "x", "text", "append")).error("write")["code"] == "NOT_A_FILE"


async def test_overwrite_is_atomic_for_a_concurrent_reader(write, root: Path):
    # A reader polling the file while it is rewritten sees either the whole
    # old content or the whole new one, never a mix or an empty file.
    old, new = "A" * 2_000_000, "B" * 3_000_000
    target = root / "big.txt"
    target.write_text(old)
    seen: set[tuple[str, int]] = set()
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            data = target.read_text()
            seen.add((data[:1], len(data)))

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for i in range(6):
            content = new if i % 2 == 0 else old
            assert (await write("big.txt", content, "text")).status == "succeeded"
    finally:
        stop.set()
        thread.join()
    assert seen <= {("A", len(old)), ("B", len(new))}
    assert ("B", len(new)) in seen  # the reader did watch the rewrites
    # No temporary file is left beside the target.
    assert sorted(p.name for p in root.iterdir() if p.name.startswith(".")) == []


async def test_overwrite_keeps_the_file_mode(write, root: Path):
    target = root / "script.sh"
    target.write_text("old")
    target.chmod(0o750)
    await write("script.sh", "new", "text")
    assert target.stat().st_mode & 0o777 == 0o750


# ------------------------------------------------------- permission denied
# chmod does not stop root, and tests may run as root: then the flow runs in a
# child process that first drops to the unprivileged user "nobody".

_CHILD = textwrap.dedent(
    """
    import asyncio, concurrent.futures.thread, json, os, sys
    from flowdesk.engine import Engine, EnvSecretStore, NodeRegistry, loads_workflow
    registry = NodeRegistry.default(plugins=False)
    workflow = loads_workflow(sys.stdin.read(), registry)
    engine = Engine(registry, secrets=EnvSecretStore({}))
    # Everything is imported: drop to "nobody" (whose reach may stop short of
    # the interpreter's own folders) before the flow runs.
    if os.getuid() == 0:
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)
    result = asyncio.run(engine.run(workflow, data_root=sys.argv[1]))
    print(json.dumps(result.to_json()))
    """
)


def _run_unprivileged(doc: dict[str, object], data_root: Path) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWDESK_SECRET_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    env["FLOWDESK_DATA_DIR"] = str(data_root / ".flowdesk-data")
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(data_root)],
        input=json.dumps(doc),
        capture_output=True,
        text=True,
        env=env,
        cwd=data_root,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


@pytest.fixture
def locked_root() -> object:
    """A data root the test user (or 'nobody', under root) can enter but where
    ``locked.txt`` cannot be read and ``ro/`` cannot be written."""
    if os.name != "posix":
        pytest.skip("POSIX permissions")
    # Under /tmp (not pytest's private tmp folder) so that "nobody" can reach it.
    base = Path(tempfile.mkdtemp(prefix="flowdesk-perm-"))
    base.chmod(0o755)
    (base / "locked.txt").write_text("private")
    (base / "locked.txt").chmod(0o000)
    (base / "ro").mkdir()
    (base / "ro" / "existing.txt").write_text("keep")
    (base / "ro").chmod(0o555)
    (base / ".flowdesk-data").mkdir(mode=0o777)
    (base / ".flowdesk-data").chmod(0o777)
    yield base
    (base / "ro").chmod(0o755)
    (base / "locked.txt").chmod(0o644)
    for path in sorted(base.rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    base.rmdir()


def test_unreadable_and_unwritable_paths_are_permission_denied(locked_root: Path):
    doc = {
        "format": "flowdesk/workflow",
        "version": 1,
        "name": "permissions",
        "nodes": [
            {
                "id": "read",
                "type": "file.read",
                "config": {"path": "locked.txt"},
                "on_error": "continue",
            },
            {
                "id": "write",
                "type": "file.write",
                "config": {"path": "ro/new.txt", "format": "text", "content": "x"},
                "on_error": "continue",
            },
            {
                "id": "append",
                "type": "file.write",
                "config": {
                    "path": "ro/existing.txt",
                    "format": "text",
                    "content": "x",
                    "mode": "overwrite",
                },
                "on_error": "continue",
            },
        ],
        "edges": [],
    }
    result = _run_unprivileged(doc, locked_root)
    nodes = result["nodes"]
    assert isinstance(nodes, dict)
    for node_id, path in (
        ("read", "locked.txt"),
        ("write", "ro/new.txt"),
        ("append", "ro/existing.txt"),
    ):
        error = nodes[node_id]["error"]
        assert error["code"] == "PERMISSION_DENIED", (node_id, error)
        assert error["details"]["path"] == path
        assert repr(path) in error["message"]
    assert not (locked_root / "ro" / "new.txt").exists()
    assert (locked_root / "ro" / "existing.txt").read_text() == "keep"
