"""Service benchmark: 1,000 small jobs through ``flowdesk serve --broker`` with
2 ``flowdesk worker`` processes, beside the same 1,000 runs in one shell loop
of ``flowdesk run`` (the way to run a flow unattended without the service), and
the bare floor: the same runs in one Python process calling the engine.

Starts its own ``redis-server`` on a free loopback port, serve and the two
workers (``--concurrency`` each), submits the jobs over HTTP (at most 32 in
flight) and reads every job's ``created_at`` → ``finished_at`` from the API
(latency: submission to the end of the run). Prints throughput (runs/s) and
p50/p95 latency for each. Every process it starts is stopped at the end.
Usage: ``python -m bench.service [--jobs 1000] [--cli-runs 1000] [--concurrency 2]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

TOKEN = "bench-token"
FLOW = {
    "format": "flowdesk/workflow",
    "version": 1,
    "name": "small",
    "variables": {"n": 1},
    "nodes": [
        {
            "id": "make",
            "type": "data.transform",
            "config": {"value": {"n": "{{ vars.n }}", "items": [1, 2, 3]}},
        },
        {
            "id": "sum",
            "type": "data.transform",
            "config": {"value": "{{ input.n + input['items'] | sum }}"},
        },
    ],
    "edges": [{"from": {"node": "make", "port": "out"}, "to": {"node": "sum", "port": "in"}}],
}


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _iso(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


async def _submit_all(url: str, jobs: int) -> tuple[list[str], float]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    gate = asyncio.Semaphore(32)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as http:

        async def one(i: int) -> str:
            async with gate:
                r = await http.post("/runs", json={"workflow": "small", "variables": {"n": i}})
                r.raise_for_status()
                return str(r.json()["job_id"])

        start = time.time()
        ids = await asyncio.gather(*(one(i) for i in range(jobs)))
        return list(ids), start


async def _collect(url: str, ids: list[str]) -> list[dict[str, Any]]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as http:
        while True:
            listing = (await http.get("/runs", params={"limit": len(ids)})).json()["jobs"]
            if sum(1 for j in listing if j["status"] in ("completed", "error")) >= len(ids):
                return [j for j in listing if j["job_id"] in set(ids)]
            await asyncio.sleep(0.2)


def bench_service(jobs: int, concurrency: int, tmp: Path) -> dict[str, float]:
    redis_port, http_port = _port(), _port()
    broker = f"redis://127.0.0.1:{redis_port}/0"
    env = {**os.environ, "FLOWDESK_SERVE_TOKEN": TOKEN, "FLOWDESK_DATA_DIR": str(tmp / "data")}
    procs: list[subprocess.Popen[bytes]] = []
    redis_bin = shutil.which("redis-server") or sys.exit("redis-server is not installed")
    try:
        procs.append(
            subprocess.Popen(
                [
                    redis_bin,
                    "--port",
                    str(redis_port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ],
                stdout=subprocess.DEVNULL,
            )
        )
        time.sleep(0.3)
        flowdesk = [sys.executable, "-m", "flowdesk"]
        log = (tmp / "serve.log").open("wb")
        procs.append(
            subprocess.Popen(
                [
                    *flowdesk,
                    "serve",
                    str(tmp / "flows"),
                    "--port",
                    str(http_port),
                    "--broker",
                    broker,
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        for _ in range(2):
            procs.append(
                subprocess.Popen(
                    [*flowdesk, "worker", "--broker", broker, "--concurrency", str(concurrency)],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        url = f"http://127.0.0.1:{http_port}"
        deadline = time.time() + 30
        while "serving" not in (tmp / "serve.log").read_text():
            if time.time() > deadline:
                sys.exit("serve did not start: " + (tmp / "serve.log").read_text())
            time.sleep(0.1)
        time.sleep(2.0)  # the workers connect
        ids, start = asyncio.run(_submit_all(url, jobs))
        records = asyncio.run(_collect(url, ids))
    finally:
        for proc in reversed(procs):
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    failed = [r for r in records if r["status"] != "completed"]
    if failed:
        sys.exit(f"{len(failed)} jobs failed: {failed[0]}")
    latencies = [_iso(r["finished_at"]) - _iso(r["created_at"]) for r in records]
    end = max(_iso(r["finished_at"]) for r in records)
    return {
        "runs": len(records),
        "seconds": end - start,
        "throughput": len(records) / (end - start),
        "p50_ms": _pct(latencies, 0.5) * 1000,
        "p95_ms": _pct(latencies, 0.95) * 1000,
    }


def bench_cli_loop(runs: int, tmp: Path) -> dict[str, float]:
    flow = tmp / "flows" / "small.flow.json"
    env = {**os.environ, "FLOWDESK_DATA_DIR": str(tmp / "data-cli")}
    latencies: list[float] = []
    start = time.perf_counter()
    for i in range(runs):
        began = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "flowdesk", "run", str(flow), "--var", f"n={i}", "--quiet"],
            env=env,
            check=True,
        )
        latencies.append(time.perf_counter() - began)
    seconds = time.perf_counter() - start
    return {
        "runs": runs,
        "seconds": seconds,
        "throughput": runs / seconds,
        "p50_ms": _pct(latencies, 0.5) * 1000,
        "p95_ms": _pct(latencies, 0.95) * 1000,
    }


def bench_in_process(runs: int) -> dict[str, float]:
    from flowdesk.engine.executor import Engine
    from flowdesk.engine.io import parse_workflow
    from flowdesk.engine.registry import NodeRegistry

    registry = NodeRegistry.default()
    workflow = parse_workflow(FLOW, registry)
    engine = Engine(registry)

    async def loop() -> list[float]:
        out = []
        for i in range(runs):
            began = time.perf_counter()
            result = await engine.run(workflow, variables={"n": i})
            assert result.status == "succeeded"
            out.append(time.perf_counter() - began)
        return out

    start = time.perf_counter()
    latencies = asyncio.run(loop())
    seconds = time.perf_counter() - start
    return {
        "runs": runs,
        "seconds": seconds,
        "throughput": runs / seconds,
        "p50_ms": _pct(latencies, 0.5) * 1000,
        "p95_ms": _pct(latencies, 0.95) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--cli-runs", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=2, help="per worker")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="flowdesk-bench-service-") as folder:
        tmp = Path(folder)
        (tmp / "flows").mkdir()
        (tmp / "flows" / "small.flow.json").write_text(json.dumps(FLOW))
        rows = [
            (
                f"serve --broker, 2 workers × {args.concurrency}",
                bench_service(args.jobs, args.concurrency, tmp),
            ),
            ("shell loop of `flowdesk run`", bench_cli_loop(args.cli_runs, tmp)),
            ("bare: engine loop in one process", bench_in_process(args.jobs)),
        ]
    print(f"{'case':42} {'runs':>6} {'seconds':>8} {'runs/s':>8} {'p50 ms':>8} {'p95 ms':>8}")
    for name, row in rows:
        print(
            f"{name:42} {row['runs']:6.0f} {row['seconds']:8.1f} {row['throughput']:8.1f} "
            f"{row['p50_ms']:8.1f} {row['p95_ms']:8.1f}"
        )


if __name__ == "__main__":
    main()
