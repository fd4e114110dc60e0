"""Real parts for the service tests: a ``redis-server`` (Debian's package) on a
free loopback port, ``flowdesk serve`` and ``flowdesk worker`` processes, a
slow HTTP server (runs that last long enough to be watched, cancelled and
killed) and a folder of flows. Every fixture kills what it started."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.helpers import free_port

TOKEN = "test-token-5f1d"
HOOK_SECRET = "hook-secret-9a7"


def wait_until(check: Any, timeout: float = 20.0, interval: float = 0.05) -> Any:
    end = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout} s waiting for {check}")
        time.sleep(interval)


class Redis:
    """A real redis-server with an append-only file (survives a restart)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed (scripts/setup.sh --test installs it)")
        self.proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--dir",
                str(self.folder),
                "--protected-mode",
                "yes",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        client = redis.Redis(port=self.port)

        def up() -> bool:
            with contextlib.suppress(redis.RedisError):
                return bool(client.ping())
            return False

        wait_until(up, 10)
        client.close()

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def client(self) -> Any:
        import redis

        return redis.Redis(port=self.port)


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Redis]:
    server = Redis(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


class Proc:
    """A flowdesk command as a child process, its output in a file."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self.handle = log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "flowdesk", *args],
            stdout=self.handle,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.handle.close()
        return self.proc.returncode


class Slow(BaseHTTPRequestHandler):
    """GET /slow?s=SECONDS answers {"slept": s} after that time."""

    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        query = parse_qs(urlsplit(self.path).query)
        seconds = float(query.get("s", ["0"])[0])
        Slow.hits.append(self.path)
        time.sleep(seconds)
        body = json.dumps({"slept": seconds}).encode()
        with contextlib.suppress(OSError):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def slow_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _doc(name: str, nodes: list[dict[str, Any]], edges: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "format": "flowdesk/workflow",
        "version": 1,
        "name": name,
        "variables": {"who": "world", "seconds": 0},
        "nodes": nodes,
        "edges": [
            {"from": {"node": a, "port": "out"}, "to": {"node": b, "port": "in"}} for a, b in edges
        ],
    }


def write_flows(folder: Path, slow_url: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    flows = {
        "hello": _doc(
            "hello",
            [
                {
                    "id": "greet",
                    "type": "data.transform",
                    "config": {"value": {"greeting": "hello {{ vars.who }}"}},
                }
            ],
            [],
        ),
        "slow": _doc(
            "slow",
            [
                {
                    "id": "wait",
                    "type": "http.request",
                    "config": {"url": slow_url + "/slow?s={{ vars.seconds }}"},
                },
                {"id": "done", "type": "data.transform", "config": {"value": "{{ input.body }}"}},
            ],
            [("wait", "done")],
        ),
        "hook": _doc(
            "hook",
            [
                {
                    "id": "order",
                    "type": "trigger.webhook",
                    "config": {
                        "path": "orders/new",
                        "secret_header": "X-Hook-Secret",
                        "secret": "hook",
                        "respond": "output",
                        "respond_node": "reply",
                    },
                },
                {
                    "id": "reply",
                    "type": "data.transform",
                    "config": {"value": {"total": "{{ input.body.amount * 2 }}"}},
                },
            ],
            [("order", "reply")],
        ),
        "queued": _doc(
            "queued",
            [
                {"id": "ping", "type": "trigger.webhook", "config": {"path": "ping"}},
                {"id": "echo", "type": "data.transform", "config": {"value": "{{ input.query }}"}},
            ],
            [("ping", "echo")],
        ),
    }
    for name, doc in flows.items():
        (folder / f"{name}.flow.json").write_text(json.dumps(doc))
    return folder


def base_env(data: Path, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "FLOWDESK_DATA_DIR": str(data),
        "FLOWDESK_SERVE_TOKEN": TOKEN,
        "FLOWDESK_SECRET_HOOK": HOOK_SECRET,
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("FLOWDESK_ALLOW_NODE_TYPES", None)
    env.update(extra)
    return env


def start_serve(
    tmp: Path, targets: list[str], env: dict[str, str], *extra: str, name: str = "serve"
) -> tuple[Proc, str]:
    port = free_port()
    proc = Proc(["serve", *targets, "--port", str(port), *extra], env, tmp / f"{name}.log")
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        if proc.proc.poll() is not None:
            raise AssertionError(f"serve exited: {proc.output()}")
        return "serving" in proc.output()

    try:
        wait_until(ready, 30)
    except BaseException:
        proc.stop(signal.SIGKILL)
        raise
    return proc, url


def client(url: str, token: str | None = TOKEN) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=url, headers=headers, timeout=30)


def wait_status(
    http: httpx.Client, job_id: str, statuses: tuple[str, ...], timeout: float = 30
) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        job = http.get(f"/runs/{job_id}").json()
        return job if job["status"] in statuses else None

    return wait_until(check, timeout, 0.05)  # type: ignore[no-any-return]
