"""MCP servers as tool sources, against real servers: the FastMCP server of
tests/sources/mcp_server.py (stdio and Streamable HTTP), ``mcp-server-time``
(PyPI) and ``@modelcontextprotocol/server-everything`` (npm)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import free_port

from .conftest import tool

SERVER = str(Path(__file__).with_name("mcp_server.py"))
STDIO = {"type": "mcp", "command": [sys.executable, SERVER], "env": ["MCP_TEST_MARKER", "MCP_PASS"]}


pytestmark = pytest.mark.usefixtures("no_orphans")


async def test_list_and_call_typed_structured(run_flow: Any) -> None:
    run = await run_flow(
        [tool("a", "t", "add", a="{{ 40 }}", b="2"), tool("g", "t", "greet", name="Ada")],
        sources={"t": STDIO},
    )
    assert run.status == "succeeded", run.json
    out = run.output("a")
    assert out["structured"] == {"total": 42, "terms": [40, 2]}
    assert json.loads(out["text"]) == {"total": 42, "terms": [40, 2]}
    assert out["content"][0]["type"] == "text"
    assert run.output("g")["text"] == "Hello, Ada!"


async def test_error_result_is_tool_error(run_flow: Any) -> None:
    run = await run_flow([tool("f", "t", "fail", reason="nope")], sources={"t": STDIO})
    assert run.status == "failed"
    error = run.error("f")
    assert error["code"] == "TOOL_ERROR" and error["category"] == "EXECUTION"
    assert "failed on purpose: nope" in error["message"]


async def test_unknown_tool_and_bad_arguments(run_flow: Any) -> None:
    run = await run_flow([tool("x", "t", "ad", a=1)], sources={"t": STDIO})
    assert run.error("x")["code"] == "TOOL_NOT_FOUND"
    assert "add" in run.error("x")["message"]
    run = await run_flow([tool("x", "t", "add", a="forty")], sources={"t": STDIO})
    assert run.error("x")["code"] == "INVALID_PARAMS"


async def test_process_dies_during_call(run_flow: Any) -> None:
    run = await run_flow([tool("d", "t", "die")], sources={"t": STDIO})
    error = run.error("d")
    assert error["code"] == "MCP_PROCESS_DIED" and error["category"] == "CONNECTION"
    assert error["retryable"] is True
    assert "about to die" in error["message"]


async def test_server_cannot_start(run_flow: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCP_TEST_CRASH", "1")
    source = dict(STDIO, env=["MCP_TEST_CRASH"])
    run = await run_flow([tool("a", "t", "add", a=1)], sources={"t": source})
    error = run.error("a")
    assert error["code"] == "SOURCE_UNAVAILABLE"
    assert "mcp_server.py" in error["message"]
    assert "cannot start: MCP_TEST_CRASH is set" in error["message"]
    run = await run_flow(
        [tool("a", "t", "add", a=1)], sources={"t": {"type": "mcp", "command": ["no-such-mcp-x"]}}
    )
    assert run.error("a")["code"] == "SOURCE_UNAVAILABLE"
    assert "no-such-mcp-x" in run.error("a")["message"]


async def test_timeout_cancels_on_the_server(
    run_flow: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "marker"
    monkeypatch.setenv("MCP_TEST_MARKER", str(marker))
    # A first call starts the server, so that the slow call's time limit is
    # spent on the call alone (not on a server start on a busy machine).
    run = await run_flow(
        [tool("w", "t", "add", a=1), tool("s", "t", "slow", seconds=30, node={"timeout_s": 1})],
        [("w", "s")],
        sources={"t": STDIO},
    )
    assert run.node("w")["status"] == "succeeded"
    assert run.error("s")["code"] == "TIMEOUT"
    # the run closes the server right after; the cancel arrived before
    assert marker.exists() and "cancelled" in marker.read_text()


async def test_a_call_in_flight_when_another_fails_says_why_it_has_no_output(
    run_flow: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ``on_error: stop`` a failure cancels the calls still running: the
    cancelled node has no output, and its event and result say why (the run
    stopped because of the other node) instead of a bare empty output."""
    from flowdesk.engine import NodeCancelled

    marker = tmp_path / "marker"
    monkeypatch.setenv("MCP_TEST_MARKER", str(marker))
    run = await run_flow(
        [tool("s", "t", "slow", seconds=60), tool("f", "t", "fail")], sources={"t": STDIO}
    )
    assert run.status == "failed"
    assert run.error("f")["code"] == "TOOL_ERROR"
    node = run.node("s")
    assert node["status"] == "cancelled" and node["output"] is None
    reason = "the run stopped: node 'f' failed"
    assert node["reason"] == reason
    assert [(e.node_id, e.reason) for e in run.of(NodeCancelled)] == [("s", reason)]
    assert marker.exists() and "cancelled" in marker.read_text()  # the server stopped too


async def test_only_named_environment_passes(
    run_flow: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MCP_PASS", "yes")
    monkeypatch.setenv("MCP_SECRETISH", "no")
    run = await run_flow(
        [tool("a", "t", "env", name="MCP_PASS"), tool("b", "t", "env", name="MCP_SECRETISH")],
        sources={"t": STDIO},
    )
    assert run.output("a")["text"] == "yes"
    assert run.output("b")["text"] == ""


async def test_for_each_reuses_one_process(run_flow: Any) -> None:
    run = await run_flow(
        [tool("p", "t", "pid", node={"for_each": "{{ range(100) | list }}"})],
        sources={"t": STDIO},
    )
    assert run.status == "succeeded", run.json
    pids = {item["structured"]["result"] for item in run.output("p")}
    assert len(pids) == 1


async def test_tool_list_changes(tmp_path: Path) -> None:
    from flowdesk.engine.sources import SourceEnv
    from flowdesk.engine.sources.mcp import McpConfig, McpSource

    source = McpSource("t", McpConfig(command=[sys.executable, SERVER]), SourceEnv(tmp_path))
    try:
        names = {t.name for t in await source.list_tools()}
        assert "extra" not in names and "grow" in names
        grow = next(t for t in await source.list_tools() if t.name == "grow")
        await source.call(grow, {}, None)
        for _ in range(50):
            if source._tools is None:
                break
            import asyncio

            await asyncio.sleep(0.02)
        assert "extra" in {t.name for t in await source.list_tools()}
    finally:
        await source.aclose()


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[str]:
    """The test server on Streamable HTTP, once it accepts connections (uvicorn
    listens only once the app has started). Its stderr names why it did not
    come up; a port taken between ``free_port`` and the bind is tried again."""
    for _ in range(3):
        port = free_port()
        errlog = tmp_path / f"http-server-{port}.log"
        with errlog.open("wb") as err:
            proc = subprocess.Popen(
                [sys.executable, SERVER, "http", str(port)], stdout=subprocess.DEVNULL, stderr=err
            )
        deadline = time.monotonic() + 90  # generous: a loaded 2-core CI machine
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), 0.5).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            proc.kill()
            proc.wait(10)
            if "address already in use" in errlog.read_text(errors="replace").lower():
                continue
            pytest.fail(f"the MCP HTTP test server did not come up:\n{errlog.read_text()}")
        break
    else:
        pytest.fail("no free port for the MCP HTTP test server")
    try:
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        proc.wait(10)


async def test_streamable_http(
    run_flow: Any, http_server: str, recwarn: pytest.WarningsRecorder
) -> None:
    source = {"type": "mcp", "url": http_server, "headers": {"X-Test": "1"}}
    # Both calls go out at once on the one session; "continue" lets the run
    # finish both whichever answer comes first (with the default "stop", the
    # failure cancels a call still in flight: the run's rule, not this test's).
    run = await run_flow(
        [tool("a", "h", "add", a=1, b=2), tool("f", "h", "fail", node={"on_error": "continue"})],
        sources={"h": source},
    )
    assert run.node("a")["status"] == "succeeded", run.json
    assert run.output("a")["structured"] == {"total": 3, "terms": [1, 2]}
    assert run.error("f")["code"] == "TOOL_ERROR"
    # the SDK's current client, not its deprecated name (mcp >= 1.24)
    deprecated = [str(w.message) for w in recwarn if issubclass(w.category, DeprecationWarning)]
    assert not [m for m in deprecated if "streamable" in m or "httpx.AsyncClient" in m], deprecated


async def test_streamable_http_before_mcp_1_24(
    run_flow: Any, http_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # as with an SDK without ``streamable_http_client``: its old name serves
    # (here the installed SDK's deprecated wrapper, hence the warning)
    from flowdesk.engine.compat import mcp_http

    monkeypatch.setattr(mcp_http, "current_client", lambda transport: None)
    source = {"type": "mcp", "url": http_server, "headers": {"X-Test": "1"}}
    with pytest.warns(DeprecationWarning, match="streamable_http_client"):
        run = await run_flow([tool("a", "h", "add", a=1, b=2)], sources={"h": source})
    assert run.output("a")["structured"] == {"total": 3, "terms": [1, 2]}


async def test_mcp_server_time(run_flow: Any) -> None:
    command = shutil.which("mcp-server-time") or str(
        Path(sys.executable).with_name("mcp-server-time")
    )
    if not Path(command).exists():
        pytest.skip("mcp-server-time is not installed (pip install mcp-server-time)")
    run = await run_flow(
        [tool("n", "time", "get_current_time", timezone="UTC")],
        sources={"time": {"type": "mcp", "command": [command], "env": ["TZ"]}},
    )
    assert run.status == "succeeded", run.json
    out = run.output("n")
    assert json.loads(out["text"])["timezone"] == "UTC"


@pytest.fixture(scope="session")
def everything(tmp_path_factory: pytest.TempPathFactory) -> str:
    if shutil.which("npm") is None:
        pytest.skip("npm is absent: @modelcontextprotocol/server-everything cannot be installed")
    folder = tmp_path_factory.mktemp("everything")
    done = subprocess.run(
        [
            "npm",
            "install",
            "--silent",
            "--prefix",
            str(folder),
            "@modelcontextprotocol/server-everything",
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    script = folder / "node_modules" / ".bin" / "mcp-server-everything"
    if done.returncode != 0 or not script.exists():
        pytest.skip(f"npm could not install server-everything: {done.stderr[-300:]}")
    return str(script)


async def test_server_everything(run_flow: Any, everything: str, tmp_path: Path) -> None:
    from flowdesk.engine.sources import SourceEnv
    from flowdesk.engine.sources.mcp import McpConfig, McpSource

    source = McpSource("ev", McpConfig(command=[everything, "stdio"]), SourceEnv(tmp_path))
    try:
        names = {t.name for t in await source.list_tools()}
    finally:
        await source.aclose()
    assert "echo" in names
    add = "get-sum" if "get-sum" in names else "add"  # renamed in 2025 releases
    run = await run_flow(
        [tool("e", "ev", "echo", message="hi"), tool("s", "ev", add, a=1, b=2)],
        sources={"ev": {"type": "mcp", "command": [everything, "stdio"]}},
    )
    assert run.status == "succeeded", (run.error("e"), run.error("s"))
    assert "hi" in run.output("e")["text"]
    assert "3" in run.output("s")["text"]


async def test_client_request_id_calls_a_writing_tool_once(run_flow: Any, tmp_path: Path) -> None:
    """A tool without ``readOnlyHint`` called with a ``client_request_id``: once
    per key, however often the flow runs; a read-only tool runs every time."""
    target = str(tmp_path / "lines.txt")
    key = {"client_request_id": f"plan-test-{tmp_path.name}"}
    write = tool("w", "t", "append_line", path=target, text="sent")
    write["config"].update(key)
    count = tool("c", "t", "count_lines", path=target)
    count["config"].update(key)  # ignored: a read-only tool is always called
    first = await run_flow([write, count], [("w", "c")], sources={"t": STDIO})
    assert first.status == "succeeded", first.json
    assert first.output("w")["deduplicated"] is False
    again = await run_flow([write, count], [("w", "c")], sources={"t": STDIO})
    assert again.status == "succeeded", again.json
    assert again.output("w")["deduplicated"] is True
    assert Path(target).read_text() == "sent\n"  # the write happened once
    assert again.output("c")["structured"] == {"result": 1}
    assert any("not called again" in line for line in _logs(again))


def _logs(run: Any) -> list[str]:
    from flowdesk.engine import NodeLog

    return [e.message for e in run.of(NodeLog)]
