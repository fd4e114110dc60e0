"""Helpers of the hardening tests (issue 22): each test plays an attack
against the real ``flowdesk`` command, engine, files or a loopback server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import plugin_site

REPO = Path(__file__).parents[2]
FLOWDESK = [sys.executable, "-m", "flowdesk"]

BLOCKER = """
import time
from pydantic import BaseModel, ConfigDict
from flowdesk.engine import NodeType, Port

class BlockConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seconds: float = 30.0

class Block(NodeType):
    type_name = "plugin.block"
    title = "Blocks the event loop"
    category = "Plug-ins"
    description = "A badly written plug-in: sleeps without awaiting."
    Config = BlockConfig

    async def execute(self, ctx, config):
        time.sleep(config.seconds)
        return config.seconds
"""


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    site = plugin_site(
        tmp_path / "site", "fd-block", "[flowdesk.node_types]\nblock = fd_block:Block\n", BLOCKER
    )
    environ = {k: v for k, v in os.environ.items() if not k.startswith("FLOWDESK_SECRET_")}
    environ["PYTHONPATH"] = os.pathsep.join([str(site), str(REPO), environ.get("PYTHONPATH", "")])
    environ["FLOWDESK_DATA_DIR"] = str(tmp_path / "data")
    environ["PYTHONIOENCODING"] = "utf-8"
    return environ


def flowdesk(
    env: dict[str, str], *args: str, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*FLOWDESK, *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def flow_json(nodes: list[dict[str, Any]], edges: list[Any] = (), **top: Any) -> dict[str, Any]:
    return {
        "format": "flowdesk/workflow",
        "version": 1,
        "name": top.pop("name", "attack"),
        **top,
        "nodes": nodes,
        "edges": list(edges),
    }


def write_flow(path: Path, nodes: list[dict[str, Any]], edges: list[Any] = (), **top: Any) -> Path:
    path.write_text(json.dumps(flow_json(nodes, edges, **top)))
    return path


def edge(source: str, target: str) -> dict[str, Any]:
    return {"from": {"node": source, "port": "out"}, "to": {"node": target, "port": "in"}}


def node(node_id: str, node_type: str = "data.transform", **fields: Any) -> dict[str, Any]:
    return {"id": node_id, "type": node_type, "position": [0, 0], **fields}


class _Handler(BaseHTTPRequestHandler):
    """A hostile (or merely honest) server on 127.0.0.1."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _send(self, body: bytes, headers: dict[str, str], status: int = 200) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        routes = self.server.routes  # type: ignore[attr-defined]
        route = routes.get(self.path.split("?", 1)[0])
        if route is None:
            self._send(b"{}", {"Content-Type": "application/json"}, 404)
            return
        body, headers = route(self)
        self._send(body, headers)


def _echo(handler: _Handler) -> tuple[bytes, dict[str, str]]:
    data = {"headers": dict(handler.headers.items()), "path": handler.path}
    return json.dumps(data).encode(), {"Content-Type": "application/json"}


@pytest.fixture(scope="session")
def server() -> Any:
    """``server.url``; ``server.routes[path] = handler -> (body, headers)``."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.routes = {"/echo": _echo}  # type: ignore[attr-defined]
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
