"""MCP sessions kept warm across runs (the editor's ``SourcePool``), a tool
list that changes during a run, the server's stderr line by line, and the
desktop configuration's errors — against the FastMCP server of the suite."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest
from flowdesk.engine import Engine, EnvSecretStore, FlowdeskError, SourcePool, loads_workflow

from tests.helpers import children
from tests.workflows import flow

from .conftest import tool
from .test_mcp import STDIO

pytestmark = pytest.mark.usefixtures("no_orphans")


def edge(a: str, b: str) -> dict[str, Any]:
    return {"from": {"node": a, "port": "out"}, "to": {"node": b, "port": "in"}}


async def run(registry: Any, tmp_path: Path, nodes: Any, edges: Any = (), **kw: Any) -> Any:
    from tests.run_view import Run

    workflow = loads_workflow(json.dumps(flow(nodes, list(edges), sources={"t": STDIO})), registry)
    engine = Engine(registry, secrets=EnvSecretStore({}))
    result = await engine.start(workflow, data_root=tmp_path, **kw).wait()
    return Run(result, [], 0.0)


async def test_a_tool_added_during_the_run_is_found(registry: Any, tmp_path: Path) -> None:
    # ``grow`` adds the tool ``extra`` and sends notifications/tools/list_changed;
    # the next node calls ``extra`` in the same run, on the same server
    done = await run(
        registry,
        tmp_path,
        [tool("g", "t", "grow"), tool("x", "t", "extra")],
        [edge("g", "x")],
    )
    assert done.status == "succeeded", done.json
    assert done.output("x")["text"] == "extra"


async def test_warm_sessions_are_reused_restarted_and_closed(registry: Any, tmp_path: Path) -> None:
    states: list[tuple[str, str, str]] = []
    lines: list[tuple[str, str]] = []
    pool = SourcePool(
        on_state=lambda *s: states.append(s), on_stderr=lambda *line: lines.append(line)
    )
    before = children()
    try:
        first = await run(registry, tmp_path, [tool("p", "t", "pid")], source_pool=pool)
        pid = first.output("p")["structured"]["result"]
        second = await run(
            registry,
            tmp_path,
            [tool("p", "t", "pid"), tool("g", "t", "greet", name="Ada")],
            source_pool=pool,
        )
        # one server for both runs, still running after them
        assert second.output("p")["structured"]["result"] == pid
        assert pid in children() - before
        assert ("t", "starting") in [s[:2] for s in states]
        assert ("t", "ready") in [s[:2] for s in states]
        for _ in range(50):  # stderr comes line by line, attributed to its source
            if ("t", "greeting Ada") in lines:
                break
            await asyncio.sleep(0.05)
        assert ("t", "greeting Ada") in lines
        # killed between runs: the next run starts a new server
        os.kill(pid, signal.SIGKILL)
        third = await run(registry, tmp_path, [tool("p", "t", "pid")], source_pool=pool)
        assert third.status == "succeeded", third.json
        assert third.output("p")["structured"]["result"] != pid
        assert ("t", "failed") in [s[:2] for s in states]
        # an edited entry closes the old server
        gone = await pool.retain({"t": dict(STDIO, args=["--edited"])})
        assert gone == ["t"]
        assert pool.names() == []
    finally:
        await pool.aclose()
    assert states[-1][:2] == ("t", "closed")
    assert children() - before == set()


async def test_a_server_dying_mid_call_restarts_on_retry(registry: Any, tmp_path: Path) -> None:
    # ``die`` kills its server; the retry of the node (MCP_PROCESS_DIED is
    # retryable) starts a new one, which dies again: two attempts, one error
    node = {"retry": {"max_attempts": 2, "base_delay_s": 0.01, "max_delay_s": 0.01}}
    done = await run(registry, tmp_path, [tool("d", "t", "die", node=node)])
    error = done.error("d")
    assert error["code"] == "MCP_PROCESS_DIED"
    assert done.json["nodes"]["d"]["attempts"] == 2


def test_desktop_config_errors_name_the_file_and_the_place(tmp_path: Path) -> None:
    from flowdesk.engine import merge_mcp_servers, read_mcp_config

    bad = tmp_path / "claude_desktop_config.json"
    bad.write_text('{"mcpServers": {\n  "time": {"command": "x",}\n}}')
    with pytest.raises(FlowdeskError) as caught:
        read_mcp_config(bad)
    assert str(bad) in caught.value.message and "line 2, column" in caught.value.message
    with pytest.raises(FlowdeskError) as caught:
        merge_mcp_servers({}, {"mcpServers": {"files": {"args": ["x"]}}})
    assert caught.value.message.startswith("mcpServers.files: needs")
    with pytest.raises(FlowdeskError) as caught:
        merge_mcp_servers({}, {"mcpServers": {"t": {"command": "x", "args": "-v"}}})
    assert caught.value.message.startswith("mcpServers.t.args: must be a list")
    merged, added, skipped = merge_mcp_servers(
        {"time": {"type": "mcp", "command": ["old"]}},
        {"servers": {"time": {"command": "new"}, "my-files": {"command": sys.executable}}},
    )
    assert added == ["my_files"] and skipped == ["time"]
    assert merged["time"]["command"] == ["old"]


async def test_a_server_that_never_answers_fails_to_start(
    run_flow: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flowdesk.engine.sources import mcp

    monkeypatch.setattr(mcp, "START_TIMEOUT_S", 1.0)
    mute = {"type": "mcp", "command": [sys.executable, "-c", "import time; time.sleep(60)"]}
    done = await run_flow([tool("a", "m", "anything")], sources={"m": mute})
    error = done.error("a")
    assert error["code"] == "SOURCE_UNAVAILABLE"
    assert "did not answer within 1 s of starting" in error["message"]
