"""``flowdesk tools list|call`` as a user runs them: a real subprocess, a
workflow file, and a source type installed through the
``flowdesk.source_types`` entry point (the probe of these tests)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import plugin_site
from tests.workflows import flow

from .conftest import tool

ROOT = Path(__file__).parents[2]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    site = plugin_site(
        tmp_path / "site",
        "fd-probe",
        "[flowdesk.source_types]\nprobe = tests.sources.probe_source:ProbeType\n",
    )
    environ = dict(os.environ)
    environ["PYTHONPATH"] = os.pathsep.join([str(site), str(ROOT), environ.get("PYTHONPATH", "")])
    environ["FLOWDESK_DATA_DIR"] = str(tmp_path / "data")
    environ["PYTHONIOENCODING"] = "utf-8"
    return environ


def flowdesk(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flowdesk", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def write(path: Path, **top: Any) -> Path:
    path.write_text(json.dumps(flow(top.pop("nodes", []), **top)))
    return path


SOURCES = {
    "probe": {
        "type": "probe",
        "tools": {
            "echo": {"properties": {"count": {"type": "integer"}}, "required": ["count"]},
            "ping": {},
        },
    }
}


def test_tools_list_prints_every_tool_and_json_gives_schemas(env, tmp_path):
    path = write(tmp_path / "t.flow.json", sources=SOURCES)
    done = flowdesk(env, "tools", "list", str(path))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "probe (probe, 2 tools)"
    assert any(line.split()[0] == "probe__echo" for line in lines[1:])
    assert any(line.split()[0] == "probe__ping" for line in lines[1:])

    done = flowdesk(env, "tools", "list", str(path), "--json", "--source", "probe")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    tools = {t["name"]: t for t in data["sources"]["probe"]["tools"]}
    assert tools["echo"]["input_schema"]["required"] == ["count"]
    assert tools["echo"]["input_schema"]["type"] == "object"
    assert data["errors"] == {}


def test_tools_call_prints_the_output_and_exits_like_run(env, tmp_path):
    path = write(tmp_path / "t.flow.json", sources=SOURCES)
    done = flowdesk(env, "tools", "call", str(path), "probe__echo", "--args", '{"count": "3"}')
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["arguments"] == {"count": 3}

    done = flowdesk(env, "tools", "call", str(path), "probe__echo", "--args", "{}", "--json")
    assert done.returncode == 1
    result = json.loads(done.stdout)
    assert result["status"] == "failed"
    assert result["error"]["code"] == "INVALID_PARAMS"
    assert "count: required" in done.stderr

    done = flowdesk(env, "tools", "call", str(path), "probe__ecko")
    assert done.returncode == 1
    assert "TOOL_NOT_FOUND" in done.stderr and "echo" in done.stderr

    done = flowdesk(env, "tools", "call", str(path), "echo", "--args", "{}")
    assert done.returncode == 2
    assert "SOURCE__TOOL" in done.stderr

    done = flowdesk(env, "tools", "call", str(path), "probe__echo", "--args", "[1")
    assert done.returncode == 2
    assert "--args is not valid JSON" in done.stderr
    assert "Traceback" not in done.stderr


def test_tools_on_an_invalid_file_exit_2_with_located_problems(env, tmp_path):
    path = write(
        tmp_path / "bad.flow.json",
        sources={"probe": {"type": "probe", "tools": 3}},
        nodes=[tool("a", "probe", "echo")],
    )
    done = flowdesk(env, "tools", "list", str(path))
    assert done.returncode == 2
    assert "sources.probe.tools:" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.fixture(scope="module")
def httpbin_url():  # type: ignore[no-untyped-def]
    from tests.http.peer import HttpbinServer

    server = HttpbinServer().start()
    yield server.url
    server.stop()


def test_tools_call_of_an_openapi_tool_with_a_variable(env, tmp_path, httpbin_url):
    import shutil

    shutil.copytree(Path(__file__).parent / "specs", tmp_path / "specs")
    sources = {
        "pets": {"type": "openapi", "spec": "specs/petstore30.yaml", "base_url": "{{ vars.api }}"}
    }
    path = write(tmp_path / "pets.flow.json", sources=sources, variables={"api": "http://x"})
    done = flowdesk(env, "tools", "list", str(path), "--source", "pets")
    assert done.returncode == 0, done.stderr
    assert any(line.split()[0] == "pets__getPet" for line in done.stdout.splitlines()[1:])
    done = flowdesk(
        env,
        "tools",
        "call",
        str(path),
        "pets__getPet",
        "--args",
        '{"petId": "5"}',
        "--var",
        f"api={httpbin_url}",
    )
    assert done.returncode == 0, done.stderr
    output = json.loads(done.stdout)
    assert output["status"] == 200
    assert output["body"]["url"] == f"{httpbin_url}/anything/pets/5"
