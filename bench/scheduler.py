"""Scheduler cost with many ready nodes: N independent ``data.transform``
nodes (no edges) under the workflow's default ``max_concurrency``, beside a
bare baseline — the same number of trivial coroutines run through an
``asyncio.Semaphore`` of the same size.

Target (issue 22, item 8): linear in the number of ready nodes — 10,000
independent nodes took 23.5 s and 100,000 over 5 minutes when every freed
worker rescanned every waiting node.

Usage: python -m bench.scheduler [--nodes 10000 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flowdesk.engine import Engine, NodeRegistry, parse_workflow
from flowdesk.engine.model.workflow import Settings


def independent(n: int) -> dict[str, Any]:
    return {
        "format": "flowdesk/workflow",
        "version": 1,
        "name": f"{n} independent nodes",
        "nodes": [
            {"id": f"n{i}", "type": "data.transform", "config": {"value": i}} for i in range(n)
        ],
        "edges": [],
    }


async def engine_run(registry: NodeRegistry, n: int) -> float:
    workflow = parse_workflow(independent(n), registry)
    started = time.perf_counter()
    result = await Engine(registry).run(workflow, check=False)
    elapsed = time.perf_counter() - started
    assert result.status == "succeeded" and len(result.nodes) == n
    return elapsed


async def bare(n: int, concurrency: int) -> float:
    semaphore = asyncio.Semaphore(concurrency)

    async def one(i: int) -> int:
        async with semaphore:
            return i

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    registry = NodeRegistry.default(plugins=False)
    concurrency = Settings().max_concurrency
    print(f"default max_concurrency: {concurrency}")
    for n in args.nodes:
        ours = asyncio.run(engine_run(registry, n))
        baseline = asyncio.run(bare(n, concurrency))
        print(
            f"{n:>7,} independent nodes: flowdesk {ours * 1000:8.1f} ms "
            f"({ours / n * 1e6:5.1f} µs/node) | bare asyncio + semaphore "
            f"{baseline * 1000:8.1f} ms ({baseline / n * 1e6:5.1f} µs/task)"
        )


if __name__ == "__main__":
    main()
