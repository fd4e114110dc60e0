"""OpenAPI calls share ``http.request``'s path: a 429 with ``Retry-After`` is
retried after exactly the server's delay, an ``Idempotency-Key`` is the same on
every retry, redirects are followed — seen from the server's side (our
aiohttp peer on 127.0.0.1 records every call)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flowdesk.engine import NodeRetrying

from tests.http.peer import Peer

from .conftest import tool

SPEC = {
    "openapi": "3.0.3",
    "info": {"title": "Peer", "version": "1"},
    "paths": {
        "/rate-limited/{key}": {
            "get": {
                "operationId": "limited",
                "parameters": [
                    {"name": "key", "in": "path", "schema": {"type": "string"}},
                    {"name": "times", "in": "query", "schema": {"type": "integer"}},
                    {"name": "after", "in": "query", "schema": {"type": "number"}},
                ],
            }
        },
        "/flaky/{key}": {
            "post": {
                "operationId": "flaky",
                "parameters": [
                    {"name": "key", "in": "path", "schema": {"type": "string"}},
                    {"name": "times", "in": "query", "schema": {"type": "integer"}},
                ],
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {"type": "object", "properties": {"n": {"type": "integer"}}}
                        }
                    }
                },
            }
        },
    },
}


@pytest.fixture(scope="module")
def peer() -> Iterator[Peer]:
    server = Peer().start()
    yield server
    server.stop()


async def test_retry_after_and_idempotency_keys_through_the_http_path(
    run_flow: Any, peer: Peer, tmp_path: Path
) -> None:
    (tmp_path / "peer.json").write_text(json.dumps(SPEC))
    retry = {"retry": {"max_attempts": 3, "base_delay_s": 5}}
    quick = {"retry": {"max_attempts": 3, "base_delay_s": 0.05}}
    run = await run_flow(
        [
            tool("limited", "peer", "limited", key="oa-limited", times=1, after="0.3", node=retry),
            tool("flaky", "peer", "flaky", key="oa-flaky", times=1, n="7", node=quick),
        ],
        sources={
            "peer": {
                "type": "openapi",
                "spec": "peer.json",
                "base_url": peer.url,
                "idempotency_keys": True,
            }
        },
        data_root=tmp_path,
    )
    assert run.status == "succeeded", run.json
    assert run.output("limited")["body"] == {"calls": 2}
    # the retry waited the server's Retry-After, not the 5 s base backoff
    (retrying,) = [e for e in run.of(NodeRetrying) if e.node_id == "limited"]
    assert retrying.delay_s == 0.3
    calls = peer.calls["oa-limited"]
    assert calls[1].time - calls[0].time >= 0.28  # and the peer saw it wait
    flaky = peer.calls["oa-flaky"]
    assert len(flaky) == 2
    keys = {call.headers.get("idempotency-key") for call in flaky}
    assert len(keys) == 1 and None not in keys
    assert json.loads(flaky[1].body) == {"n": 7}
    assert run.node("limited")["attempts"] == 2
