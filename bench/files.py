"""File benchmark: ``file.read`` of a 100 MB CSV into records, beside
``csv.DictReader`` alone.

Writes a CSV of about 100 MB (7 columns, quoted fields with commas and
newlines here and there) to a temporary folder, then alternates, ``--repeat``
times each: ``list(csv.DictReader(...))`` on the open file, and a workflow
whose one ``file.read`` node (format ``csv``) reads the same file through the
engine. Prints medians (node duration and whole run) and the ratio to the
baseline; the target of issue 3 is within 1.5x.
Usage: ``python bench/files.py [--mb 100] [--repeat 3]``
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
            {"id": "read", "type": "file.read", "config": {"path": "big.csv", "format": "csv"}}
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


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    main(args.mb, args.repeat)
