"""Fixtures of the HTTP tests: real servers on 127.0.0.1 (``httpbin`` and our
aiohttp ``peer``, one each per session) and ``run_flow``, which runs a workflow
document through the engine as a user would and keeps its events."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flowdesk.engine import Engine, EnvSecretStore, Event, NodeRegistry, loads_workflow

from tests.run_view import Run
from tests.workflows import flow

from .peer import HttpbinServer, Peer


@pytest.fixture(scope="session")
def httpbin_url() -> Iterator[str]:
    server = HttpbinServer().start()
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def peer() -> Iterator[Peer]:
    server = Peer().start()
    yield server
    server.stop()


def http(node_id: str, url: str, **config: Any) -> dict[str, Any]:
    """An ``http.request`` node; node-level keys (retry, timeout_s, …) via ``node=``."""
    node = config.pop("node", {})
    return {"id": node_id, "type": "http.request", "config": {"url": url, **config}, **node}


@pytest.fixture
def run_flow(registry: NodeRegistry, tmp_path: Path) -> Any:
    """``await run_flow(nodes, edges, secrets={"NAME": "value"}, **top) -> Run``.

    Secrets reach the engine as ``FLOWDESK_SECRET_<NAME>`` variables, the way a
    headless run gets them.
    """

    async def run(
        nodes: list[dict[str, Any]],
        edges: Any = (),
        *,
        secrets: dict[str, str] | None = None,
        data_root: Path | None = None,
        **top: Any,
    ) -> Run:
        environ = {f"FLOWDESK_SECRET_{k.upper()}": v for k, v in (secrets or {}).items()}
        workflow = loads_workflow(json.dumps(flow(nodes, edges, **top)), registry)
        engine = Engine(registry, secrets=EnvSecretStore(environ))
        events: list[Event] = []
        started = time.monotonic()
        handle = engine.start(workflow, data_root=data_root or tmp_path, listeners=[events.append])
        result = await handle.wait()
        return Run(result, events, time.monotonic() - started)

    return run
