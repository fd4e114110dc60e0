"""file.read is bounded: a file over ``max_bytes`` (default 50 MB) fails with
FILE_TOO_LARGE before anything is read, and a permitted file costs memory of
a few times its size (measured in a fresh process, as bench/files.py does)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]


def _sparse(path: Path, size: str) -> None:
    """A sparse file made the way a user would: ``truncate -s SIZE``."""
    truncate = shutil.which("truncate")
    if truncate is not None:
        subprocess.run([truncate, "-s", size, str(path)], check=True)
    else:
        with open(path, "wb") as handle:
            handle.truncate(int(size.rstrip("M")) * 1024 * 1024)


@pytest.mark.parametrize("fmt", ["text", "json", "jsonl", "csv", "bytes"])
async def test_a_1500_mb_file_is_refused_at_once(read: Any, root: Path, fmt: str) -> None:
    _sparse(root / "huge.txt", "1500M")
    # refused on its size, unread: reading 1.5 GB would cost seconds of CPU
    # (CPU time of this process, threads included: a busy machine does not
    # stretch it as it stretches wall time)
    started = time.process_time()
    run = await read("huge.txt", fmt)
    assert time.process_time() - started < 1.0
    error = run.error("read")
    assert error["code"] == "FILE_TOO_LARGE"
    assert error["category"] == "EXECUTION" and error["retryable"] is False
    assert error["details"] == {
        "path": "huge.txt",
        "size_bytes": 1500 * 1024 * 1024,
        "max_bytes": 50 * 1024 * 1024,
    }
    assert "1.5 GB" in error["message"] and "50 MB" in error["message"]
    assert "max_bytes" in error["message"]


async def test_max_bytes_raises_or_lowers_the_limit(run_flow: Any, root: Path) -> None:
    (root / "rows.jsonl").write_text('{"n": 1}\n' * 100)  # 900 bytes

    def node(limit: int) -> dict[str, Any]:
        config = {"path": "rows.jsonl", "format": "jsonl", "max_bytes": limit}
        return {"id": "read", "type": "file.read", "config": config}

    low = await run_flow([node(899)])
    assert low.error("read")["code"] == "FILE_TOO_LARGE"
    assert low.error("read")["details"]["size_bytes"] == 900
    exact = await run_flow([node(900)])
    assert exact.output("read") == [{"n": 1}] * 100


def test_reading_a_permitted_file_costs_a_few_times_its_size(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    line = "Zoë,ünïcode,1234.56,a line of text that repeats\n"
    path.write_text(line * (20_000_000 // len(line)), encoding="utf-8")
    size_kb = path.stat().st_size / 1024
    grown_kb = {}
    for kind in ("stdlib", "engine"):
        out = subprocess.run(
            [sys.executable, "-m", "bench.files", "--measure", kind, "text", str(path)],
            cwd=REPO,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        grown_kb[kind] = int(out.strip().splitlines()[-1])
    # the bytes and the text: about 2x; never more than the stdlib's open().read()
    assert grown_kb["engine"] < 3 * size_kb, grown_kb
    assert grown_kb["engine"] <= grown_kb["stdlib"] * 1.1 + 2048, grown_kb
