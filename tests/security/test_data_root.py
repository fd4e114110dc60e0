"""Items 3, 7 and 11 of issue 22: the data root under attack from the
filesystem — a folder swapped for a link to outside while files are read and
written (``renameat2`` exchange), hard links to outside files, a cancelled or
killed write, and parallel appends to a new CSV file."""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import errno
import json
import os
import threading
import time
from pathlib import Path

import pytest
from flowdesk.engine import Engine, NodeRegistry, loads_workflow
from flowdesk.engine.datafiles import read_file, write_file
from flowdesk.engine.errors import FlowdeskError

from .conftest import edge, flow_json, node

RENAME_EXCHANGE = 2
AT_FDCWD = -100


def _renameat2():
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    function = getattr(libc, "renameat2", None)
    if function is None:
        pytest.skip("renameat2 is not available")
    function.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    return function


@pytest.fixture
def arena(tmp_path: Path):
    """root/a: a real folder; root/b: a link to the outside folder."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "file.txt").write_text("OUTSIDE")
    root = tmp_path / "root"
    (root / "a").mkdir(parents=True)
    (root / "a" / "file.txt").write_text("inside")
    (root / "b").symlink_to(outside)
    exchange = _renameat2()
    a, b = os.fsencode(root / "a"), os.fsencode(root / "b")
    if exchange(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) != 0:
        pytest.skip(f"RENAME_EXCHANGE refused here: {os.strerror(ctypes.get_errno())}")
    exchange(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE)  # back
    stop = threading.Event()

    def swap() -> None:
        while not stop.is_set():
            exchange(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE)

    thread = threading.Thread(target=swap, daemon=True)
    yield root, outside, thread
    stop.set()
    if thread.is_alive():
        thread.join()


def test_reads_never_leave_the_root_while_a_folder_is_swapped_for_a_link(arena):
    root, _, swapper = arena
    swapper.start()
    seen: dict[str, int] = {}
    deadline = time.monotonic() + 1.5
    reads = 0
    while time.monotonic() < deadline and reads < 3000:
        reads += 1
        try:
            value = read_file(root, "a/file.txt", "text")
        except FlowdeskError as error:
            value = error.code
        seen[value] = seen.get(value, 0) + 1
    assert "OUTSIDE" not in seen, seen
    assert seen.get("inside", 0) > 0, seen
    assert set(seen) <= {"inside", "PATH_TRAVERSAL", "FILE_NOT_FOUND", "FILE_ERROR"}, seen


def test_writes_never_land_outside_while_a_folder_is_swapped_for_a_link(arena):
    root, outside, swapper = arena
    swapper.start()
    deadline = time.monotonic() + 1.5
    writes = 0
    while time.monotonic() < deadline and writes < 1500:
        for mode in ("overwrite", "append"):
            try:
                write_file(root, f"a/new-{writes % 7}.txt", "text", "x", mode)
            except FlowdeskError:
                pass
        writes += 1
    assert sorted(p.name for p in outside.iterdir()) == ["file.txt"]
    assert (outside / "file.txt").read_text() == "OUTSIDE"


def test_hard_links_to_outside_files_are_refused(tmp_path: Path):
    outside = tmp_path / "outside.txt"
    outside.write_text("OUTSIDE")
    root = tmp_path / "root"
    root.mkdir()
    os.link(outside, root / "hard.txt")
    for fmt in ("text", "bytes", "csv"):
        with pytest.raises(FlowdeskError) as caught:
            read_file(root, "hard.txt", fmt)
        assert caught.value.code == "PATH_TRAVERSAL"
        assert "hard link" in caught.value.message
    with pytest.raises(FlowdeskError) as caught:
        write_file(root, "hard.txt", "text", "PWNED", "append")
    assert caught.value.code == "PATH_TRAVERSAL"
    assert outside.read_text() == "OUTSIDE"
    # overwriting replaces the name inside the root, never the outside file
    write_file(root, "hard.txt", "text", "mine", "overwrite")
    assert outside.read_text() == "OUTSIDE"
    assert (root / "hard.txt").read_text() == "mine"


def test_a_write_cancelled_before_the_rename_changes_nothing(tmp_path: Path):
    (tmp_path / "out.txt").write_text("before")
    asked = []

    def cancelled() -> bool:
        asked.append(1)
        return len(asked) > 1  # cancelled while the content is being written

    result = write_file(tmp_path, "out.txt", "text", "x" * (3 << 20), "overwrite", cancelled)
    assert result["cancelled"] is True
    assert (tmp_path / "out.txt").read_text() == "before"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


async def test_a_cancelled_file_write_node_leaves_the_file_alone(tmp_path: Path):
    (tmp_path / "out.txt").write_text("before")
    registry = NodeRegistry.default(plugins=False)
    workflow = loads_workflow(
        json.dumps(
            flow_json(
                [
                    node(
                        "write",
                        "file.write",
                        config={
                            "path": "out.txt",
                            "format": "text",
                            "content": "{{ 'y' * 20000000 }}",
                        },
                    )
                ]
            )
        ),
        registry,
    )
    for _ in range(3):
        engine = Engine(registry)
        handle = engine.start(workflow, data_root=tmp_path)
        await asyncio.sleep(0.01)
        handle.cancel()
        result = await handle.wait()
        status = result.nodes["write"].status
        await asyncio.sleep(0.3)  # a write still going on would land by now
        content = (tmp_path / "out.txt").read_text()
        if status == "cancelled":
            assert content == "before"
        else:
            assert status == "succeeded"
            assert len(content) == 20_000_000
            (tmp_path / "out.txt").write_text("before")
        assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_temporary_files_of_a_killed_write_are_cleaned(tmp_path: Path):
    dead = 2**22 + 12345  # above pid_max's default: no such process
    stale = tmp_path / f".out.txt.{dead}.abcd1234.tmp"
    stale.write_bytes(b"x" * 1000)
    mine = tmp_path / f".other.txt.{dead}.abcd1234.tmp"
    mine.write_bytes(b"x")
    write_file(tmp_path, "out.txt", "text", "new", "overwrite")
    assert not stale.exists()
    assert mine.exists()  # another file's temporaries are its own business
    assert (tmp_path / "out.txt").read_text() == "new"


async def test_parallel_appends_to_a_new_csv_write_one_header(tmp_path: Path):
    registry = NodeRegistry.default(plugins=False)
    workflow = loads_workflow(
        json.dumps(
            flow_json(
                [
                    node("items", config={"value": "{{ range(64)|list }}"}),
                    node(
                        "append",
                        "file.write",
                        for_each="{{ input }}",
                        concurrency=16,
                        config={
                            "path": "rows.csv",
                            "format": "csv",
                            "mode": "append",
                            "content": {"n": "{{ item }}", "name": "row {{ item }}"},
                        },
                    ),
                ],
                [edge("items", "append")],
                settings={"max_concurrency": 16},
            )
        ),
        registry,
    )
    for attempt in range(3):
        target = tmp_path / f"try{attempt}"
        target.mkdir()
        result = await Engine(registry).run(workflow, data_root=target)
        assert result.status == "succeeded", result.nodes["append"].error
        lines = (target / "rows.csv").read_text().splitlines()
        assert lines.count("n,name") == 1, lines[:5]
        assert len(lines) == 65


def test_errno_of_a_loop_is_a_file_error(tmp_path: Path):
    (tmp_path / "loop").symlink_to("loop")
    with pytest.raises(FlowdeskError) as caught:
        read_file(tmp_path, "loop", "text")
    assert caught.value.code == "FILE_ERROR"
    assert caught.value.details.get("errno") == errno.ELOOP
