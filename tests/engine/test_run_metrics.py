"""Per-type call metrics of runs (what ``flowdesk serve``'s /metrics exports):
counted per node result, visible while a long run is still going."""

from __future__ import annotations

import asyncio
from typing import Any

from flowdesk.engine import Engine
from flowdesk.engine.metrics import CallMetrics, CallStats

from tests.engine.conftest import make


def chain(n: int) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    nodes = [{"id": "n0", "type": "data.transform", "config": {"value": 0}}]
    nodes += [
        {"id": f"n{i}", "type": "data.transform", "config": {"value": "{{ input + 1 }}"}}
        for i in range(1, n)
    ]
    return nodes, [(f"n{i - 1}", f"n{i}") for i in range(1, n)]


async def test_each_node_result_is_counted_by_type_with_failures(registry) -> None:
    metrics = CallMetrics()
    nodes, edges = chain(3)
    nodes.append(
        {
            "id": "bad",
            "type": "data.transform",
            "config": {"value": "{{ 1 / 0 }}"},
            "on_error": "continue",
        }
    )
    result = await Engine(registry, metrics=metrics).run(make(registry, nodes, edges))
    assert result.nodes["bad"].status == "failed"
    stats = metrics.snapshot()["types"]["data.transform"]
    assert (stats["count"], stats["successes"], stats["failures"]) == (4, 3, 1)
    assert 0 <= stats["min_ms"] <= stats["avg_ms"] <= stats["max_ms"]
    # a second run adds to the same counters
    await Engine(registry, metrics=metrics).run(make(registry, nodes, edges))
    assert metrics.snapshot()["types"]["data.transform"]["count"] == 8


async def test_a_long_run_shows_in_the_metrics_before_it_ends(registry) -> None:
    """A chain runs in one task and counts in batches: whoever reads the
    metrics meanwhile (a /metrics scrape) sees the nodes done so far."""
    metrics = CallMetrics()
    n = 3000
    nodes, edges = chain(n)
    handle = Engine(registry, metrics=metrics).start(make(registry, nodes, edges))
    seen: list[int] = []
    while not handle.done:
        await asyncio.sleep(0)  # (the chain yields to the event loop every few ms)
        seen.append(metrics.snapshot()["types"].get("data.transform", {}).get("count", 0))
    result = await handle.wait()
    assert result.status == "succeeded"
    assert any(0 < count < n for count in seen), seen[-5:]
    assert seen == sorted(seen)
    assert metrics.snapshot()["types"]["data.transform"]["count"] == n


def test_merged_stats_keep_count_extremes_and_total() -> None:
    total = CallStats()
    total.merge(CallStats())  # nothing to add
    assert total.count == 0
    a, b = CallStats(), CallStats()
    for seconds, ok in ((0.004, True), (0.002, False)):
        a.add(seconds, ok)
    b.add(0.010, True)
    total.merge(a)
    total.merge(b)
    assert (total.count, total.successes) == (3, 2)
    assert (total.min_s, total.max_s) == (0.002, 0.010)
    assert abs(total.total_s - 0.016) < 1e-12
