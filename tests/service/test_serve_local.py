"""``flowdesk serve`` without a broker, as a user drives it: a real server
process, the job API and webhooks through real HTTP, a real slow upstream."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from .conftest import (
    HOOK_SECRET,
    TOKEN,
    Proc,
    base_env,
    client,
    start_serve,
    wait_status,
    wait_until,
    write_flows,
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, slow_server: str) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("serve-local")
    flows = write_flows(tmp / "flows", slow_server)
    proc, url = start_serve(tmp, [str(flows)], base_env(tmp / "data"), "--concurrency", "4")
    try:
        yield url
    finally:
        proc.stop()


def test_every_endpoint_but_webhooks_refuses_a_missing_or_wrong_token(server: str) -> None:
    for token in (None, "wrong-token"):
        with client(server, token) as http:
            for method, path in (
                ("POST", "/runs"),
                ("GET", "/runs"),
                ("GET", "/runs/abc"),
                ("DELETE", "/runs/abc"),
                ("GET", "/metrics"),
                ("GET", "/workflows"),
            ):
                response = http.request(method, path, json={"workflow": "hello"})
                assert response.status_code == 401, (method, path)
                assert response.json()["error"]["code"] == "UNAUTHORIZED"
                assert response.headers["WWW-Authenticate"] == "Bearer"
    # webhooks check their own secret, not the token
    with client(server, None) as http:
        response = http.get("/hooks/ping", params={"a": "1"})
    assert response.status_code == 405  # /hooks/ping takes POST


def test_a_job_goes_pending_running_completed_with_its_result(server: str) -> None:
    with client(server) as http:
        response = http.post("/runs", json={"workflow": "slow", "variables": {"seconds": 0.8}})
        assert response.status_code == 202
        job_id = response.json()["job_id"]
        seen = [http.get(f"/runs/{job_id}").json()["status"]]
        assert seen[0] in ("pending", "running")
        running = wait_status(http, job_id, ("running", "completed"))
        assert running["status"] == "running", "the run lasts 0.8 s: it is seen running"
        job = wait_status(http, job_id, ("completed", "error"))
    assert job["status"] == "completed", job
    assert job["error"] is None
    assert job["result"]["nodes"]["done"]["output"] == {"slept": 0.8}
    assert job["duration_ms"] >= 800
    assert job["workflow"] == "slow" and job["source"] == "api"


def test_variables_reach_the_run(server: str) -> None:
    with client(server) as http:
        job_id = http.post("/runs", json={"workflow": "hello", "variables": {"who": "Ann"}}).json()[
            "job_id"
        ]
        job = wait_status(http, job_id, ("completed", "error"))
    assert job["result"]["nodes"]["greet"]["output"] == {"greeting": "hello Ann"}


async def test_fifty_concurrent_posts_with_one_id_start_one_run(server: str) -> None:
    body = {"workflow": "hello", "client_request_id": f"order-{time.time_ns()}"}
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=server, headers=headers, timeout=30) as http:
        responses = await asyncio.gather(*(http.post("/runs", json=body) for _ in range(50)))
        assert {r.status_code for r in responses} == {202}
        ids = {r.json()["job_id"] for r in responses}
        assert len(ids) == 1
        assert sum(1 for r in responses if not r.json()["deduplicated"]) == 1
        jobs = (await http.get("/runs", params={"limit": 1000})).json()["jobs"]
    same = [job for job in jobs if job["client_request_id"] == body["client_request_id"]]
    assert len(same) == 1


def test_delete_cancels_a_running_job_and_records_it(server: str) -> None:
    with client(server) as http:
        job_id = http.post("/runs", json={"workflow": "slow", "variables": {"seconds": 20}}).json()[
            "job_id"
        ]
        wait_status(http, job_id, ("running",))
        response = http.delete(f"/runs/{job_id}")
        assert response.status_code == 202
        job = wait_status(http, job_id, ("completed", "error"), timeout=10)
    # (the job sleeps 20 s: an error CANCELLED means it was cut, not waited for)
    assert job["status"] == "error"
    assert job["error"]["code"] == "CANCELLED"
    assert "DELETE" in job["error"]["message"]
    assert job["result"]["nodes"]["wait"]["status"] == "cancelled"


def test_unknown_workflows_jobs_and_bad_bodies_are_explained(server: str) -> None:
    with client(server) as http:
        response = http.post("/runs", json={"workflow": "nope"})
        assert response.status_code == 404
        error = response.json()["error"]
        assert error["code"] == "WORKFLOW_NOT_FOUND"
        assert "hello" in error["message"] and "slow" in error["message"]
        assert http.get("/runs/0123").status_code == 404
        assert http.delete("/runs/0123").status_code == 404
        response = http.post(
            "/runs", content=b"{not json", headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 400
        response = http.post("/runs", json={"workflow": "hello", "variables": [1]})
        assert response.status_code == 400
        workflows = http.get("/workflows").json()["workflows"]
    hook = next(w for w in workflows if w["name"] == "hook")
    assert hook["triggers"] == [
        {"node": "order", "type": "trigger.webhook", "webhook": "POST /hooks/orders/new"}
    ]


def test_a_webhook_checks_its_secret_and_answers_with_a_nodes_output(server: str) -> None:
    with client(server, None) as http:
        missing = http.post("/hooks/orders/new", json={"amount": 21})
        wrong = http.post("/hooks/orders/new", json={"amount": 21}, headers={"X-Hook-Secret": "x"})
        good = http.post(
            "/hooks/orders/new", json={"amount": 21}, headers={"X-Hook-Secret": HOOK_SECRET}
        )
        unknown = http.post("/hooks/orders/old", json={})
        queued = http.post("/hooks/ping?x=1")
    assert missing.status_code == 401 and wrong.status_code == 401
    assert "X-Hook-Secret" in missing.json()["error"]["message"]
    assert good.status_code == 200, good.text
    assert good.json() == {"total": 42}
    job_id = good.headers["X-Flowdesk-Job"]
    assert unknown.status_code == 404
    assert queued.status_code == 202 and queued.json()["job_id"]
    with client(server) as http:
        job = http.get(f"/runs/{job_id}").json()
    assert job["source"] == "webhook"
    request = job["result"]["nodes"]["order"]["output"]
    assert request["body"] == {"amount": 21} and request["method"] == "POST"
    assert "X-Hook-Secret" not in request["headers"], "the secret never lands in a result"
    assert HOOK_SECRET not in json.dumps(job)


def _metrics(http: httpx.Client) -> dict[str, Any]:
    response = http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    return {family.name: family for family in text_string_to_metric_families(response.text)}


def _value(family: Any, sample_name: str, **labels: str) -> float:
    return sum(
        s.value
        for s in family.samples
        if s.name == sample_name and all(s.labels.get(k) == v for k, v in labels.items())
    )


def test_metrics_are_scraped_and_parsed(server: str) -> None:
    with client(server) as http:
        before = _metrics(http)
        job_id = http.post("/runs", json={"workflow": "hello"}).json()["job_id"]
        wait_status(http, job_id, ("completed",))
        http.post("/runs", json={"workflow": "slow", "variables": {"seconds": "x"}})
        with client(server, None) as anonymous:
            anonymous.post("/hooks/orders/new", json={})
        families = _metrics(http)

        def failed() -> bool:
            nonlocal families
            families = _metrics(http)
            return (
                _value(
                    families["flowdesk_runs"],
                    "flowdesk_runs_total",
                    workflow="slow",
                    status="error",
                )
                >= 1
            )

        wait_until(failed, 10)
    for name in (
        "flowdesk_runs",
        "flowdesk_run_duration_seconds",
        "flowdesk_node_duration_seconds",
        "flowdesk_node_errors",
        "flowdesk_ai_tokens",
        "flowdesk_webhook_requests",
        "flowdesk_jobs",
        "flowdesk_ai_planner_requests",
        "flowdesk_ai_planner_duration_seconds",
    ):
        assert name in families, name
    runs = families["flowdesk_runs"]
    assert _value(runs, "flowdesk_runs_total", workflow="hello", status="completed") == (
        _value(before["flowdesk_runs"], "flowdesk_runs_total", workflow="hello", status="completed")
        + 1
    )
    assert families["flowdesk_run_duration_seconds"].type == "histogram"
    nodes = families["flowdesk_node_duration_seconds"]
    assert _value(nodes, "flowdesk_node_duration_seconds_count", type="data.transform") >= 1
    assert (
        _value(nodes, "flowdesk_node_duration_seconds_bucket", type="http.request", le="+Inf") >= 1
    )
    errors = families["flowdesk_node_errors"]
    assert _value(errors, "flowdesk_node_errors_total", type="http.request") >= 1
    hooks = families["flowdesk_webhook_requests"]
    assert _value(hooks, "flowdesk_webhook_requests_total", status="401") >= 1
    jobs = families["flowdesk_jobs"]
    assert {s.labels["state"] for s in jobs.samples} == {"pending", "running"}


def test_a_one_second_schedule_fires(tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    doc = {
        "format": "flowdesk/workflow",
        "version": 1,
        "name": "tick",
        "nodes": [
            {
                "id": "every_second",
                "type": "trigger.schedule",
                "config": {"cron": "* * * * * *", "timezone": "Europe/Paris"},
            },
            {
                "id": "stamp",
                "type": "data.transform",
                "config": {"value": "{{ input.scheduled_at }}"},
            },
        ],
        "edges": [
            {"from": {"node": "every_second", "port": "out"}, "to": {"node": "stamp", "port": "in"}}
        ],
    }
    (flows / "tick.flow.json").write_text(json.dumps(doc))
    proc, url = start_serve(tmp_path, [str(flows)], base_env(tmp_path / "data"))
    try:
        with client(url) as http:

            def fired() -> list[dict[str, Any]]:
                jobs = http.get("/runs").json()["jobs"]
                done = [j for j in jobs if j["status"] == "completed"]
                return done if len(done) >= 2 else []

            jobs = wait_until(fired, 10)
            families = _metrics(http)
    finally:
        proc.stop()
    assert all(job["source"] == "schedule" and job["workflow"] == "tick" for job in jobs)
    stamps = sorted(job["result"]["nodes"]["stamp"]["output"] for job in jobs)
    assert len(set(stamps)) == len(stamps), "one run per second, never two for one time"
    assert all(stamp.endswith(("+01:00", "+02:00")) for stamp in stamps), "in the node's time zone"
    assert (
        _value(
            families["flowdesk_schedule_fires"], "flowdesk_schedule_fires_total", workflow="tick"
        )
        >= 2
    )


def test_sigterm_lets_a_running_job_finish_then_cancels_past_the_grace_period(
    tmp_path: Path, slow_server: str
) -> None:
    flows = write_flows(tmp_path / "flows", slow_server)
    env = base_env(tmp_path / "data")
    proc, url = start_serve(tmp_path, [str(flows)], env, "--grace", "1.5")
    with client(url) as http:
        short = http.post("/runs", json={"workflow": "slow", "variables": {"seconds": 0.5}}).json()
        long = http.post("/runs", json={"workflow": "slow", "variables": {"seconds": 30}}).json()
        wait_status(http, long["job_id"], ("running",))
    assert proc.stop(signal.SIGTERM) == 0
    assert "stopping: no new jobs" in proc.output()
    # the records outlive the server: a new one shows how both jobs ended
    proc, url = start_serve(tmp_path, [str(flows)], env, name="serve-again")
    try:
        with client(url) as http:
            first = http.get(f"/runs/{short['job_id']}").json()
            second = http.get(f"/runs/{long['job_id']}").json()
    finally:
        proc.stop()
    assert first["status"] == "completed"
    assert second["status"] == "error"
    assert second["error"]["code"] == "CANCELLED"
    assert "grace period" in second["error"]["message"]


def _serve_refused(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flowdesk", "serve", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_the_allow_list_refuses_a_workflow_naming_what_is_not_allowed(
    tmp_path: Path, slow_server: str
) -> None:
    flows = write_flows(tmp_path / "flows", slow_server)
    env = base_env(tmp_path / "data")
    done = _serve_refused([str(flows), "--allow", "data.*,trigger.*", "--port", "0"], env)
    assert done.returncode == 2
    assert (
        "slow.flow.json: not allowed by the allow-list (--allow: data.*,trigger.*)" in done.stderr
    )
    assert "node 'wait': node type 'http.request'" in done.stderr
    assert "Traceback" not in done.stderr
    env["FLOWDESK_ALLOW_NODE_TYPES"] = "trigger.webhook"
    done = _serve_refused([str(flows / "hello.flow.json"), "--port", "0"], env)
    assert done.returncode == 2
    assert "FLOWDESK_ALLOW_NODE_TYPES" in done.stderr and "'data.transform'" in done.stderr


def test_serve_refuses_a_public_address_without_a_token(tmp_path: Path, slow_server: str) -> None:
    flows = write_flows(tmp_path / "flows", slow_server)
    env = base_env(tmp_path / "data")
    env.pop("FLOWDESK_SERVE_TOKEN")
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    done = _serve_refused([str(flows), "--host", "0.0.0.0", "--port", "0"], env)
    assert done.returncode == 2
    assert "refusing to listen on 0.0.0.0 without a token" in done.stderr
    bad = tmp_path / "bad.flow.json"
    bad.write_text(
        '{"format": "flowdesk/workflow", "version": 1, "nodes": [{"id": "t", '
        '"type": "trigger.schedule", "config": {"cron": "every day"}}], "edges": []}'
    )
    done = _serve_refused([str(bad), "--port", "0"], env)
    assert done.returncode == 2
    assert "nodes[0].config.cron" in done.stderr and "not a cron expression" in done.stderr


_ = Proc  # re-exported for readers of this module
