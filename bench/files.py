"""File benchmark: ``file.read`` of a 100 MB CSV into records, beside
``csv.DictReader`` alone.

Writes a CSV of about 100 MB (7 columns, quoted fields with commas and
newlines here and there) to a temporary folder, then alternates, ``--repeat``
times each: ``list(csv.DictReader(...))`` on the open file, and a workflow
whose one ``file.read`` node (format ``csv``) reads the same file through the
engine. Prints medians (node duration and whole run) and the ratio to the
baseline; the target of issue 3 is within 1.5x.

``--memory`` measures peak memory instead (issue 20: reading a file must cost
a few times its size, not more): for each format, a fresh process reads a
file of ``--mb`` MB (default 40) once with the standard library alone
(``csv.DictReader``, ``json.load``, ``json.loads`` per line, ``read()``,
base64) and once through a ``file.read`` node, and prints the growth of its
peak resident memory, as a multiple of the file's size.
Usage: ``python -m bench.files [--mb 100] [--repeat 3]``,
``python -m bench.files --memory [--mb 40]``
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import gc
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

# The repository first: bench/engine.py must not shadow the engine package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flowdesk.engine import Engine, MemorySecretStore, NodeRegistry, loads_workflow

COLUMNS = ["id", "name", "email", "amount", "country", "created_at", "note"]


def make_csv(path: Path, megabytes: int) -> int:
    """Write about ``megabytes`` MB of CSV; the number of records."""
    rng = random.Random(3)
    names = ["Ada Lovelace", "Grace Hopper", "Katherine Johnson", "Alan Turing", "Zoë Ünïcode"]
    notes = ["", "repeat customer", 'said "thanks", paid cash', "line one\nline two", "ok"]
    target = megabytes * 1024 * 1024
    rows = 0
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        while handle.tell() < target:
            batch = []
            for _ in range(10_000):
                rows += 1
                name = rng.choice(names)
                batch.append(
                    [
                        rows,
                        name,
                        f"{name.split()[0].lower()}{rows}@example.com",
                        f"{rng.uniform(1, 5000):.2f}",
                        rng.choice(["GB", "US", "FR", "DE", "JP"]),
                        f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T10:00:00Z",
                        rng.choice(notes),
                    ]
                )
            writer.writerows(batch)
    return rows


def baseline(path: Path) -> tuple[float, int]:
    started = time.perf_counter()
    with open(path, encoding="utf-8", newline="") as handle:
        records = list(csv.DictReader(handle))
    elapsed = (time.perf_counter() - started) * 1000.0
    count = len(records)
    del records
    return elapsed, count


def main(megabytes: int, repeat: int) -> None:
    registry = NodeRegistry.default(plugins=False)
    engine = Engine(registry, secrets=MemorySecretStore())
    doc = {
        "format": "flowdesk/workflow",
        "version": 1,
        "name": "read a big CSV",
        "nodes": [
            {
                "id": "read",
                "type": "file.read",
                # (over file.read's default limit of 50 MB)
                "config": {"path": "big.csv", "format": "csv", "max_bytes": 1 << 40},
            }
        ],
        "edges": [],
    }
    workflow = loads_workflow(json.dumps(doc), registry)
    with tempfile.TemporaryDirectory(prefix="flowdesk-bench-files-") as folder:
        root = Path(folder)
        path = root / "big.csv"
        started = time.perf_counter()
        rows = make_csv(path, megabytes)
        size = path.stat().st_size
        print(
            f"wrote {size / 1e6:.1f} MB, {rows:,} records in {time.perf_counter() - started:.1f} s"
        )
        base_ms: list[float] = []
        node_ms: list[float] = []
        wall_ms: list[float] = []
        for _ in range(repeat):
            gc.collect()
            elapsed, count = baseline(path)
            assert count == rows, (count, rows)
            base_ms.append(elapsed)
            gc.collect()
            result = asyncio.run(engine.run(workflow, data_root=root))
            node = result.nodes["read"]
            if result.status != "succeeded" or len(node.output) != rows:
                raise RuntimeError(f"the benchmark flow failed: {node.error}")
            node_ms.append(node.duration_ms)
            wall_ms.append(result.duration_ms)
            del result, node
    base, node_median, wall = (statistics.median(v) for v in (base_ms, node_ms, wall_ms))
    print(f"file benchmark (Python {sys.version.split()[0]}), medians of {repeat}")
    print(f"{'reader':<40}{'ms':>10}{'x DictReader':>14}{'MB/s':>8}")
    print(f"{'csv.DictReader alone':<40}{base:>10.0f}{1.0:>14.2f}{size / 1e3 / base:>8.0f}")
    print(
        f"{'file.read node (csv)':<40}{node_median:>10.0f}{node_median / base:>14.2f}"
        f"{size / 1e3 / node_median:>8.0f}"
    )
    print(
        f"{'whole run (file.read only)':<40}{wall:>10.0f}{wall / base:>14.2f}"
        f"{size / 1e3 / wall:>8.0f}"
    )
    verdict = "MET" if node_median <= 1.5 * base else "MISSED"
    print(f"target file.read within 1.5x of csv.DictReader: {node_median / base:.2f}x -> {verdict}")


MEMORY_FORMATS = ("text", "json", "jsonl", "csv", "bytes")


def _status_kb(field: str) -> int:
    """A memory figure of this process from /proc (Linux), in KB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def _peak_kb() -> int:
    # VmHWM, not ru_maxrss: the latter survives exec (it would be the parent's peak)
    return _status_kb("VmHWM")


def _current_kb() -> int:
    return _status_kb("VmRSS")


def measure_child(kind: str, fmt: str, path: Path) -> None:
    """(In a fresh process) print the peak memory growth of one read, in KB."""
    import base64

    registry = NodeRegistry.default(plugins=False)
    engine = Engine(registry, secrets=MemorySecretStore())
    doc = {
        "format": "flowdesk/workflow",
        "version": 1,
        "name": "read",
        "nodes": [
            {
                "id": "read",
                "type": "file.read",
                "config": {"path": path.name, "format": fmt, "max_bytes": 1 << 40},
            }
        ],
        "edges": [],
    }
    workflow = loads_workflow(json.dumps(doc), registry)
    asyncio.run(asyncio.sleep(0))  # (the event loop's own memory, before the baseline)
    gc.collect()
    before = _current_kb()
    value: object
    if kind == "engine":
        result = asyncio.run(engine.run(workflow, data_root=path.parent))
        if result.status != "succeeded":
            raise RuntimeError(str(result.nodes["read"].error))
        value = result.nodes["read"].output
    elif fmt == "csv":
        with open(path, encoding="utf-8", newline="") as handle:
            value = list(csv.DictReader(handle))
    elif fmt == "json":
        with open(path, encoding="utf-8") as handle:
            value = json.load(handle)
    elif fmt == "jsonl":
        with open(path, encoding="utf-8") as handle:
            value = [json.loads(line) for line in handle if line.strip()]
    elif fmt == "text":
        with open(path, encoding="utf-8") as handle:
            value = handle.read()
    else:
        with open(path, "rb") as handle:
            value = base64.b64encode(handle.read()).decode("ascii")
    print(_peak_kb() - before)
    del value


def memory(megabytes: int) -> None:
    import subprocess

    with tempfile.TemporaryDirectory(prefix="flowdesk-bench-memory-") as folder:
        root = Path(folder)
        source = root / "data.csv"
        make_csv(source, megabytes)
        with open(source, encoding="utf-8", newline="") as handle:
            records = list(csv.DictReader(handle))
        files = {"csv": source, "text": source, "bytes": source}
        files["json"] = root / "data.json"
        files["json"].write_text(json.dumps(records), encoding="utf-8")
        files["jsonl"] = root / "data.jsonl"
        with open(files["jsonl"], "w", encoding="utf-8") as out:
            for record in records:
                out.write(json.dumps(record) + "\n")
        del records
        print(f"peak memory growth of one read (Python {sys.version.split()[0]}), x file size")
        print(
            f"{'format':<8}{'file MB':>9}{'stdlib MB':>11}{'x':>6}{'file.read MB':>14}{'x':>6}"
            f"{'vs stdlib':>11}"
        )
        worst = 0.0
        for fmt in MEMORY_FORMATS:
            path = files[fmt]
            size_mb = path.stat().st_size / 1e6
            grown = {}
            for kind in ("stdlib", "engine"):
                out = subprocess.run(
                    # (-m from the repository: bench/inspect.py must not shadow inspect)
                    [sys.executable, "-m", "bench.files", "--measure", kind, fmt, str(path)],
                    cwd=Path(__file__).resolve().parents[1],
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
                grown[kind] = int(out.strip().splitlines()[-1]) * 1024 / 1e6
            ratio = grown["engine"] / size_mb
            worst = max(worst, grown["engine"] / max(grown["stdlib"], 1e-9))
            print(
                f"{fmt:<8}{size_mb:>9.1f}{grown['stdlib']:>11.1f}{grown['stdlib'] / size_mb:>6.1f}"
                f"{grown['engine']:>14.1f}{ratio:>6.1f}{grown['engine'] / grown['stdlib']:>10.2f}x"
            )
        print(f"most memory beside the standard library: {worst:.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--memory", action="store_true", help="peak memory per format")
    parser.add_argument(
        "--measure", nargs=3, metavar=("KIND", "FORMAT", "PATH"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.measure:
        measure_child(args.measure[0], args.measure[1], Path(args.measure[2]))
    elif args.memory:
        memory(args.mb or 40)
    else:
        main(args.mb or 100, args.repeat)
