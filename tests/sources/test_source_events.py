"""Tool sources on the event bus and in the call metrics (runtime contract):
``source.connect`` when a run opens a source, ``source.disconnect`` when it
closes it, and every tool call counted under the source's name."""

from __future__ import annotations

from typing import Any

from flowdesk.engine.bus import BUS
from flowdesk.engine.metrics import METRICS

from .conftest import tool

SOURCES = {
    "probe": {
        "type": "probe",
        "label": "x",
        "tools": {"echo": {"type": "object", "properties": {"n": {"type": "integer"}}}},
    }
}


async def test_a_source_is_announced_and_its_calls_counted(run_flow: Any) -> None:
    seen: list[Any] = []
    stops = [BUS.subscribe(n, seen.append) for n in ("source.connect", "source.disconnect")]
    before = METRICS.snapshot()["sources"].get("probe", {"count": 0, "successes": 0})
    try:
        run = await run_flow(
            [tool("a", "probe", "echo", n="{{ item }}", node={"for_each": "{{ [1, 2, 3] }}"})],
            sources=SOURCES,
        )
    finally:
        for stop in stops:
            stop()
    assert run.status == "succeeded", run.json
    assert [(e.name, e.source) for e in seen] == [
        ("source.connect", "probe"),
        ("source.disconnect", "probe"),
    ]
    assert seen[0].kind == "probe"
    after = METRICS.snapshot()["sources"]["probe"]
    assert after["count"] - before["count"] == 3
    assert after["successes"] - before["successes"] == 3
