"""Paths that try to leave the data root — ``..``, absolute paths, ``~``,
backslashes, drive letters, percent-encoded and look-alike characters, NUL
bytes, links pointing out and linked parent folders — are ``PATH_TRAVERSAL``
errors for ``file.read`` and ``file.write``, and nothing outside the root is
read or written. Odd-looking paths that stay inside keep working."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import OUTSIDE_SECRET, snapshot

# "{outside}" stands for the absolute path of the folder beside the root.
CORPUS = [
    "../outside/secret.txt",
    "..",
    "../",
    "../outside",
    "sub/../../outside/secret.txt",
    "./../outside/secret.txt",
    "./././../outside/secret.txt",
    "sub/./../.././outside/secret.txt",
    "..//outside//secret.txt",
    "../root/../outside/secret.txt",
    "hello.txt/../../outside/secret.txt",
    "sub/../../../../../../../../outside/secret.txt",
    "{outside}/secret.txt",
    "/{outside}/secret.txt",
    "~/secret.txt",
    "~root/secret.txt",
    "~",
    "..\\outside\\secret.txt",
    "sub\\..\\..\\outside\\secret.txt",
    "\\outside\\secret.txt",
    "C:\\Windows\\win.ini",
    "C:/Windows/win.ini",
    "c:secret.txt",
    "%2e%2e/outside/secret.txt",
    "%2E%2E%2Foutside%2Fsecret.txt",
    "..%2foutside%2fsecret.txt",
    "%252e%252e/outside/secret.txt",
    "..%5coutside%5csecret.txt",
    "\uff0e\uff0e/outside/secret.txt",
    "..\uff0foutside\uff0fsecret.txt",
    "..\u2215outside\u2215secret.txt",
    "..\uff3coutside\uff3csecret.txt",
    "secret.txt\x00.csv",
    "../outside/secret.txt\x00",
    "link_out/secret.txt",
    "link_out/sub/deep.txt",
    "link_out/new-folder/new.txt",
    "link_out",
    "link_secret",
    "link_dangling",
    "sub/link_up/outside/secret.txt",
    "sub/link_up/root/../outside/secret.txt",
    "sub/link_up",
    "link_out/../outside/secret.txt",
]
READ_ONLY_EXTRA = [
    "/etc/passwd",
    "//etc/passwd",
    "../../../../../../../../../../etc/passwd",
    "/proc/self/environ",
]


def test_the_corpus_is_large_enough():
    assert len(CORPUS) >= 30
    assert len(set(CORPUS)) == len(CORPUS)


def _path(template: str, outside: Path) -> str:
    return template.replace("{outside}", str(outside))


@pytest.mark.parametrize("fmt", ["text", "bytes", "csv"])
@pytest.mark.parametrize("template", CORPUS + READ_ONLY_EXTRA)
async def test_reads_that_leave_the_root_are_refused(read, outside, template, fmt):
    path = _path(template, outside)
    run = await read(path, fmt)
    error = run.error("read")
    assert (error["code"], error["category"]) == ("PATH_TRAVERSAL", "SECURITY"), (path, error)
    assert error["details"]["path"] == path
    assert run.output("read") is None
    assert OUTSIDE_SECRET not in run.json_text
    assert "root:" not in run.json_text  # nothing of /etc/passwd either


@pytest.mark.parametrize("mode", ["overwrite", "append"])
@pytest.mark.parametrize("template", CORPUS)
async def test_writes_that_leave_the_root_are_refused_and_change_nothing(
    write, root: Path, outside: Path, template, mode
):
    path = _path(template, outside)
    parent = root.parent
    before_outside, before_root = snapshot(outside), snapshot(root)
    before_parent = sorted(p.name for p in parent.iterdir())
    run = await write(path, "PWNED", "text", mode)
    error = run.error("write")
    assert (error["code"], error["category"]) == ("PATH_TRAVERSAL", "SECURITY"), (path, error)
    assert snapshot(outside) == before_outside
    assert snapshot(root) == before_root
    assert sorted(p.name for p in parent.iterdir()) == before_parent
    assert not (outside / "created-through-link.txt").exists()


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("sub/../hello.txt", "hello\n"),
        ("./hello.txt", "hello\n"),
        ("sub/./inner.txt", "inner\n"),
        ("../root/hello.txt", "hello\n"),  # out and straight back in
        ("link_inside", "inner\n"),
        ("sub/link_up/root/hello.txt", "hello\n"),  # a link out, then back in
        ("odd name %20 (1).txt", "odd\n"),
        ("café ünïcode.txt", "odd\n"),
        ("....", "odd\n"),
        ("..hidden", "odd\n"),
    ],
)
async def test_odd_paths_that_stay_inside_still_work(read, write, root: Path, path, expected):
    if not (root / path).exists():
        (root / path).write_text(expected)
    assert (await read(path)).output("read") == expected
    assert (await write(path, "updated", "text")).status == "succeeded"
    assert (await read(path)).output("read") == "updated"


async def test_a_data_root_that_is_itself_a_link_works(read, root: Path, tmp_path: Path):
    alias = tmp_path / "alias"
    alias.symlink_to(root)
    run = await read("hello.txt", data_root=alias)
    assert run.output("read") == "hello\n"
    refused = await read("../outside/secret.txt", data_root=alias)
    assert refused.error("read")["code"] == "PATH_TRAVERSAL"


async def test_an_empty_path_is_a_config_error(read):
    error = (await read("   ")).error("read")
    assert error["category"] == "CONFIG"
    assert "empty" in error["message"]


async def test_a_path_from_an_expression_is_checked_too(run_flow):
    nodes = [{"id": "read_it", "type": "file.read", "config": {"path": "{{ vars.target }}"}}]
    run = await run_flow(nodes, variables={"target": "../outside/secret.txt"})
    assert run.error("read_it")["code"] == "PATH_TRAVERSAL"
    assert OUTSIDE_SECRET not in json.dumps(run.result.to_json())
