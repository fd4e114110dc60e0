"""``flowdesk tools import-mcp`` then ``flowdesk tools list/call``, as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

FLOW = {"format": "flowdesk/workflow", "version": 1, "name": "f", "nodes": [], "edges": []}
SERVER = str(Path(__file__).with_name("mcp_server.py"))


def flowdesk(*args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("flowdesk")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=120)


def test_import_then_list_and_call(tmp_path: Path) -> None:
    config = tmp_path / "claude_desktop_config.json"
    config.write_text(
        json.dumps(
            {
                "mcpServers": {
                    "test-server": {
                        "command": sys.executable,
                        "args": [SERVER],
                        "env": {"API_TOKEN": "s3cret-value"},
                    }
                }
            }
        )
    )
    flow = tmp_path / "f.flow.json"
    flow.write_text(json.dumps(FLOW))
    done = flowdesk("tools", "import-mcp", str(config), "--into", str(flow))
    assert done.returncode == 0, done.stderr
    assert "added source test_server" in done.stdout
    saved = flow.read_text()
    assert "s3cret-value" not in saved  # env values are never written, only names
    assert json.loads(saved)["sources"]["test_server"]["env"] == ["API_TOKEN"]
    listed = flowdesk("tools", "list", str(flow))
    assert listed.returncode == 0, listed.stderr
    assert "test_server__add" in listed.stdout
    called = flowdesk(
        "tools", "call", str(flow), "test_server__add", "--args", '{"a": 2, "b": 3}', "--json"
    )
    assert called.returncode == 0, called.stderr
    assert '"total": 5' in called.stdout.replace("\n", " ") or "5" in called.stdout
    again = flowdesk("tools", "import-mcp", str(config), "--into", str(flow))
    assert "kept existing source test_server" in again.stdout


def test_import_rejects_a_config_without_servers(tmp_path: Path) -> None:
    config = tmp_path / "c.json"
    config.write_text("{}")
    flow = tmp_path / "f.flow.json"
    flow.write_text(json.dumps(FLOW))
    done = flowdesk("tools", "import-mcp", str(config), "--into", str(flow))
    assert done.returncode == 2
    assert "mcpServers" in done.stderr and "Traceback" not in done.stderr
