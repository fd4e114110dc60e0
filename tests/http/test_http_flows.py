"""HTTP nodes inside flows: independent branches run at the same time,
``for_each`` fans out and keeps input order, runs reuse keep-alive
connections until they go idle, a cancelled run drops its requests at once,
and results drive branches and files downstream."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path

from flowdesk.engine import (
    Engine,
    EnvSecretStore,
    NodeStarted,
    NodeSucceeded,
    http_client,
    loads_workflow,
)

from .conftest import flow, http


async def test_independent_branches_run_concurrently(run_flow, peer):
    # Each call is held by the server until all four are in flight: run one
    # after another, the first would wait out the gate alone.
    key = uuid.uuid4().hex
    query = {"key": key, "delay": 0, "wait_for": 4}
    nodes = [http(f"call{i}", f"{peer.url}/slow", query=query) for i in range(4)]
    nodes.append({"id": "join", "type": "flow.merge", "config": {"mode": "object"}})
    edges = [(f"call{i}", "join") for i in range(4)]
    run = await run_flow(nodes, edges)
    assert run.status == "succeeded"
    assert set(run.output("join")) == {"call0", "call1", "call2", "call3"}
    assert peer.most_in_flight[key] == 4
    # every branch started before any of them finished
    calls = {f"call{i}" for i in range(4)}
    order = [
        (type(e).__name__, e.node_id)
        for e in run.events
        if isinstance(e, NodeStarted | NodeSucceeded) and e.node_id in calls
    ]
    assert {kind for kind, _ in order[:4]} == {"NodeStarted"}, order


async def test_for_each_fans_out_and_keeps_the_input_order(run_flow, peer):
    # Early items answer last: the output still follows the input order.
    key = uuid.uuid4().hex
    delays = [0.4, 0.3, 0.2, 0.1, 0.0]
    node = http(
        "fan",
        f"{peer.url}/slow",
        query={"delay": "{{ item }}", "tag": "{{ index }}", "key": key, "wait_for": 5},
        node={"for_each": "{{ vars.delays }}", "concurrency": 5},
    )
    run = await run_flow([node], variables={"delays": delays})
    out = run.output("fan")
    assert [o["body"]["tag"] for o in out] == ["0", "1", "2", "3", "4"]
    assert [o["body"]["slept"] for o in out] == delays
    assert peer.most_in_flight[key] == 5  # in parallel: all five at once


async def test_for_each_concurrency_limits_requests_in_flight(run_flow, peer):
    key = uuid.uuid4().hex
    node = http(
        "fan",
        f"{peer.url}/slow",
        query={"delay": 0.05, "key": key, "wait_for": 2},
        node={"for_each": "{{ range(6) | list }}", "concurrency": 2},
    )
    run = await run_flow([node])
    assert len(run.output("fan")) == 6
    assert len(peer.calls[key]) == 6
    assert peer.most_in_flight[key] == 2  # waves of two, never more


async def test_a_failing_item_names_its_index(run_flow, httpbin_url):
    node = http(
        "fan",
        f"{httpbin_url}/status/{{{{ item }}}}",
        node={"for_each": "{{ [200, 200, 404] }}"},
    )
    run = await run_flow([node])
    error = run.error("fan")
    assert error["details"]["status"] == 404
    assert error["details"]["item_index"] == 2


async def test_runs_share_keep_alive_connections_until_they_go_idle(run_flow, peer, monkeypatch):
    monkeypatch.setattr(http_client, "IDLE_CLOSE_S", 0.3)
    key = uuid.uuid4().hex
    nodes = [http(f"n{i}", f"{peer.url}/echo", query={"key": key}) for i in range(3)]
    before = len(peer.transports)
    first = await run_flow(nodes, [("n0", "n1"), ("n1", "n2")])
    second = await run_flow(nodes, [("n0", "n1"), ("n1", "n2")])
    assert first.status == second.status == "succeeded"
    # One keep-alive connection served the six sequential requests of both runs.
    assert len({c.peer for c in peer.calls[key]}) == 1
    assert len(peer.transports) == before + 1
    # Once no run uses them, the pooled connections are closed.
    await _eventually(lambda: peer.open_connections() == 0)


async def test_cancelling_a_run_stops_its_requests_and_closes_the_client(
    registry, peer, tmp_path: Path
):
    key = uuid.uuid4().hex
    doc = flow([http("slow", f"{peer.url}/slow", query={"delay": 60, "key": key})])
    engine = Engine(registry, secrets=EnvSecretStore({}))
    handle = engine.start(loads_workflow(json.dumps(doc), registry), data_root=tmp_path)
    await _eventually(lambda: peer.in_flight[key] == 1)  # the request is at the server
    handle.cancel()
    result = await handle.wait()
    # The run ended while the server still held the request (it answers after
    # a minute): the request was dropped, not waited for.
    assert peer.in_flight[key] == 1
    assert result.status == "cancelled"
    assert result.nodes["slow"].status == "cancelled"
    await _eventually(lambda: peer.open_connections() == 0)


async def test_branching_on_a_response_and_writing_it_to_a_file(run_flow, httpbin_url, tmp_path):
    nodes = [
        http(
            "login",
            f"{httpbin_url}/basic-auth/alice/pw",
            credential="site",
            node={"on_error": "continue"},
        ),
        {
            "id": "ok",
            "type": "flow.if",
            "config": {"condition": "{{ input.status is defined and input.status == 200 }}"},
        },
        {
            "id": "save",
            "type": "file.write",
            "config": {"path": "out/login.json", "content": "{{ input.body }}"},
        },
        {
            "id": "why",
            "type": "file.write",
            "config": {"path": "out/failure.json", "content": "{{ input }}"},
        },
    ]
    edges = [("login", "ok"), ("ok:true", "save"), ("ok:false", "why")]
    creds = {"site": {"type": "basic", "username": "alice"}}

    good = await run_flow(nodes, edges, credentials=creds, secrets={"site": "pw"})
    assert good.status == "succeeded"
    assert json.loads((tmp_path / "out/login.json").read_text()) == {
        "authenticated": True,
        "user": "alice",
    }
    assert good.node("why")["status"] == "skipped"

    bad = await run_flow(nodes, edges, credentials=creds, secrets={"site": "nope"})
    failure = json.loads((tmp_path / "out/failure.json").read_text())
    assert (failure["code"], failure["details"]["status"]) == ("HTTP_STATUS", 401)
    assert bad.node("save")["status"] == "skipped"
    assert "nope" not in (tmp_path / "out/failure.json").read_text()


async def _eventually(check, timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)
