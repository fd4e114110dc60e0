"""``flowdesk serve --broker`` with real ``flowdesk worker`` processes (Celery)
on a real ``redis-server``: idempotent submission, status, cancel, metrics of
every worker, a Redis restart and a worker killed with SIGKILL mid-run."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from flowdesk.engine import idempotency
from prometheus_client.parser import text_string_to_metric_families

from tests.email.smtpserver import PASSWORD, USER, SmtpServer

from .conftest import (
    TOKEN,
    Proc,
    Redis,
    base_env,
    client,
    start_serve,
    wait_status,
    wait_until,
    write_flows,
)


@dataclass
class Cluster:
    url: str
    redis: Redis
    env: dict[str, str]
    tmp: Path
    smtp: SmtpServer
    workers: list[Proc] = field(default_factory=list)

    def add_worker(self) -> Proc:
        index = len(self.workers)
        proc = Proc(
            ["worker", "--broker", self.redis.url, "--concurrency", "2"],
            self.env,
            self.tmp / f"worker-{index}.log",
        )
        self.workers.append(proc)
        return proc


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory, redis_server: Redis, slow_server: str
) -> Iterator[Cluster]:
    tmp = tmp_path_factory.mktemp("serve-broker")
    flows = write_flows(tmp / "flows", slow_server)
    smtp = SmtpServer(tmp).start()
    mail = {
        "format": "flowdesk/workflow",
        "version": 1,
        "name": "mail",
        "variables": {"seconds": 2},
        "credentials": {"smtp": {"type": "basic", "username": USER}},
        "nodes": [
            {
                "id": "mail",
                "type": "email.send",
                "config": {
                    "host": "localhost",
                    "port": smtp.port,
                    "security": "starttls",
                    "credential": "smtp",
                    "from": USER,
                    "to": "ann@example.com",
                    "subject": "Once",
                    "text": "sent once",
                },
            },
            {
                "id": "wait",
                "type": "http.request",
                "config": {"url": slow_server + "/slow?s={{ vars.seconds }}"},
            },
        ],
        "edges": [{"from": {"node": "mail", "port": "out"}, "to": {"node": "wait", "port": "in"}}],
    }
    (flows / "mail.flow.json").write_text(json.dumps(mail))
    env = base_env(
        tmp / "data",
        FLOWDESK_VISIBILITY_TIMEOUT="2",
        FLOWDESK_LEASE_S="2",
        FLOWDESK_SECRET_SMTP=PASSWORD,
        SSL_CERT_FILE=str(smtp.ca_file),
    )
    redis_server.client().flushall()
    serve, url = start_serve(tmp, [str(flows)], env, "--broker", redis_server.url)
    state = Cluster(url, redis_server, env, tmp, smtp)
    state.add_worker()
    state.add_worker()
    try:
        yield state
    finally:
        serve.stop()
        for worker in state.workers:
            worker.stop(signal.SIGKILL)
        smtp.stop()


def _job(http: httpx.Client, job_id: str) -> dict[str, Any] | None:
    try:
        response = http.get(f"/runs/{job_id}")
    except httpx.HTTPError:
        return None
    return response.json() if response.status_code == 200 else None


def _wait_end(http: httpx.Client, job_id: str, timeout: float = 30) -> dict[str, Any]:
    def ended() -> dict[str, Any] | None:
        job = _job(http, job_id)
        return job if job and job["status"] in ("completed", "error") else None

    return wait_until(ended, timeout, 0.1)  # type: ignore[no-any-return]


async def test_fifty_concurrent_posts_with_one_id_start_one_run(cluster: Cluster) -> None:
    body = {"workflow": "hello", "variables": {"who": "Bo"}, "client_request_id": "invoice-77"}
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=cluster.url, headers=headers, timeout=30) as http:
        responses = await asyncio.gather(*(http.post("/runs", json=body) for _ in range(50)))
    assert {r.status_code for r in responses} == {202}
    ids = {r.json()["job_id"] for r in responses}
    assert len(ids) == 1
    with client(cluster.url) as http:
        job = _wait_end(http, ids.pop())
        assert job["status"] == "completed"
        assert job["result"]["nodes"]["greet"]["output"] == {"greeting": "hello Bo"}
        jobs = http.get("/runs", params={"limit": 1000}).json()["jobs"]
        families = {f.name: f for f in text_string_to_metric_families(http.get("/metrics").text)}
    assert [j["job_id"] for j in jobs if j["client_request_id"] == "invoice-77"] == [job["job_id"]]
    runs = [
        s.value
        for s in families["flowdesk_runs"].samples
        if s.labels.get("workflow") == "hello" and s.name == "flowdesk_runs_total"
    ]
    assert runs == [1.0], "one run on the workers, counted in serve's /metrics"
    assert job["worker"] and job["deliveries"] == 1


def test_a_job_runs_on_a_worker_pending_running_completed_and_cancel(cluster: Cluster) -> None:
    with client(cluster.url) as http:
        job_id = http.post("/runs", json={"workflow": "slow", "variables": {"seconds": 1}}).json()[
            "job_id"
        ]
        assert http.get(f"/runs/{job_id}").json()["status"] in ("pending", "running")
        running = wait_status(http, job_id, ("running", "completed"))
        assert running["status"] == "running"
        pids = {str(w.proc.pid) for w in cluster.workers}
        assert running["worker"].rsplit(":", 1)[1] in pids
        job = _wait_end(http, job_id)
        assert job["status"] == "completed" and job["result"]["nodes"]["done"]["output"] == {
            "slept": 1.0
        }
        doomed = http.post("/runs", json={"workflow": "slow", "variables": {"seconds": 30}}).json()[
            "job_id"
        ]
        wait_status(http, doomed, ("running",))
        assert http.delete(f"/runs/{doomed}").status_code == 202
        cancelled = _wait_end(http, doomed, 10)
        families = {f.name: f for f in text_string_to_metric_families(http.get("/metrics").text)}
    assert cancelled["status"] == "error" and cancelled["error"]["code"] == "CANCELLED"
    nodes = families["flowdesk_node_duration_seconds"]
    assert any(
        s.labels.get("type") == "http.request" and s.name.endswith("_count") and s.value >= 1
        for s in nodes.samples
    )
    jobs = {s.labels["state"]: s.value for s in families["flowdesk_jobs"].samples}
    assert jobs == {"pending": 0.0, "running": 0.0}


def test_a_redis_restart_mid_run_loses_nothing(cluster: Cluster) -> None:
    with client(cluster.url) as http:
        job_id = http.post("/runs", json={"workflow": "slow", "variables": {"seconds": 2}}).json()[
            "job_id"
        ]
        wait_status(http, job_id, ("running",))
        cluster.redis.stop()
        time.sleep(0.5)
        cluster.redis.start()
        job = _wait_end(http, job_id, 40)
        assert job["status"] == "completed", job
        assert job["result"]["nodes"]["done"]["output"] == {"slept": 2.0}
        # the workers reconnected: a new job runs too
        after = http.post("/runs", json={"workflow": "hello"}).json()["job_id"]
        assert _wait_end(http, after, 40)["status"] == "completed"


def test_a_worker_killed_mid_run_the_job_is_delivered_again_and_the_mail_not_resent(
    cluster: Cluster,
) -> None:
    cluster.smtp.reset()
    ledger = cluster.tmp / "data" / idempotency.FILE_NAME
    with client(cluster.url) as http:
        # (the run waits 5 s after the mail: the worker is killed in that wait)
        job_id = http.post("/runs", json={"workflow": "mail", "variables": {"seconds": 5}}).json()[
            "job_id"
        ]
        running = wait_status(http, job_id, ("running",))
        # the mail went out and the send ledger says so: a kill now is mid-run
        # (a kill between the server's answer and the ledger's record could
        # not tell the second delivery that the mail left)
        wait_until(lambda: _sent(ledger) == 1, 30)
        assert len(cluster.smtp.handler.messages) == 1
        pid = int(running["worker"].rsplit(":", 1)[1])
        assert http.get(f"/runs/{job_id}").json()["status"] == "running"
        os.kill(pid, signal.SIGKILL)
        job = _wait_end(http, job_id, 60)
    assert job["status"] == "completed", job
    assert job["deliveries"] == 2
    assert int(job["worker"].rsplit(":", 1)[1]) != pid
    output = job["result"]["nodes"]["mail"]["output"]
    assert output["deduplicated"] is True
    assert len(cluster.smtp.handler.messages) == 1, "the second delivery did not send again"


def _sent(ledger: Path) -> int:
    """How many sends the workers' ledger (engine.idempotency) records as sent."""
    if not ledger.exists():
        return 0
    with contextlib.closing(sqlite3.connect(ledger, timeout=5)) as db:
        try:
            return int(db.execute("SELECT count(*) FROM sends WHERE state = 'sent'").fetchone()[0])
        except sqlite3.OperationalError:  # (not created yet)
            return 0
