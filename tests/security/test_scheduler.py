"""Item 8 of issue 22: the scheduler is linear in ready nodes. A workflow of
independent nodes under the default ``max_concurrency`` used to rescan every
waiting node whenever a worker freed (10,000 nodes: 23.5 s)."""

from __future__ import annotations

import time

from flowdesk.engine import Engine, NodeRegistry, parse_workflow


def _independent(n: int) -> dict:
    return {
        "format": "flowdesk/workflow",
        "version": 1,
        "name": "wide",
        "nodes": [
            {"id": f"n{i}", "type": "data.transform", "config": {"value": "{{ 1 + 1 }}"}}
            for i in range(n)
        ],
        "edges": [],
    }


async def _elapsed(registry: NodeRegistry, n: int) -> float:
    """The CPU seconds the run of ``n`` independent nodes costs this process
    (its threads included): the scheduler's work, which a busy machine does
    not stretch as it stretches wall time (bench/scheduler.py has the wall
    figures)."""
    workflow = parse_workflow(_independent(n), registry)
    started = time.process_time()
    result = await Engine(registry).run(workflow, check=False)
    elapsed = time.process_time() - started
    assert result.status == "succeeded"
    assert all(node.output == 2 for node in result.nodes.values())
    return elapsed


async def test_ten_thousand_independent_nodes_run_fast():
    registry = NodeRegistry.default(plugins=False)
    small = min([await _elapsed(registry, 2_000) for _ in range(2)])
    large = min([await _elapsed(registry, 10_000) for _ in range(2)])
    assert large < 3.0, large
    # five times the nodes: about five times the time (quadratic was 25×)
    assert large < small * 10 + 0.2, (small, large)
