"""Fixtures of the tool-source tests: the probe source type registered in the
process's default source types, and ``run_flow`` running a workflow document
through the engine as a user would."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flowdesk.engine import Engine, EnvSecretStore, Event, NodeRegistry, loads_workflow
from flowdesk.engine.sources import SourceTypes

from tests.run_view import Run
from tests.workflows import flow

from . import probe_source


@pytest.fixture(autouse=True)
def probe_type() -> Iterator[list[tuple[str, str]]]:
    for plugins in (True, False):
        SourceTypes.default(plugins=plugins).register(probe_source.ProbeType)
    probe_source.EVENTS.clear()
    yield probe_source.EVENTS


@pytest.fixture
def run_flow(registry: NodeRegistry, tmp_path: Path) -> Any:
    """``await run_flow(nodes, edges, secrets=, data_root=, cancel_when=, **top) -> Run``.

    ``cancel_when``: a check, tried at every turn of the loop, after which the
    run is cancelled (e.g. once a call has reached the source)."""

    async def run(
        nodes: list[dict[str, Any]],
        edges: Any = (),
        *,
        secrets: dict[str, str] | None = None,
        data_root: Path | None = None,
        cancel_when: Callable[[], bool] | None = None,
        **top: Any,
    ) -> Run:
        import asyncio

        environ = {f"FLOWDESK_SECRET_{k.upper()}": v for k, v in (secrets or {}).items()}
        workflow = loads_workflow(json.dumps(flow(nodes, edges, **top)), registry)
        engine = Engine(registry, secrets=EnvSecretStore(environ))
        events: list[Event] = []
        started = time.monotonic()
        handle = engine.start(workflow, data_root=data_root or tmp_path, listeners=[events.append])
        if cancel_when is not None:
            for _ in range(1_000_000):
                if cancel_when():
                    break
                await asyncio.sleep(0)
            assert cancel_when(), "the run never reached the point to cancel at"
            handle.cancel()
        result = await handle.wait()
        return Run(result, events, time.monotonic() - started)

    return run


def tool(node_id: str, source: str, tool_name: str, /, **arguments: Any) -> dict[str, Any]:
    """A ``tool.call`` node; node-level keys (for_each, on_error, …) via ``node=``."""
    node = arguments.pop("node", {})
    config = {"source": source, "tool": tool_name, "arguments": arguments}
    return {"id": node_id, "type": "tool.call", "config": config, **node}
