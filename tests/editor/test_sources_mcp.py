"""MCP servers in the editor, as a user meets them, against the FastMCP server
of the suite: the source's state in the Sources panel (starting, ready with N
tools, failed with the reason) and on its tool nodes, the server's stderr in
the log dock, one warm server reused by the palette and every run (restarted
when killed, stopped when its entry is edited, the document closed or the
window closed — no child process left), a tool list that changes, and the
import of a desktop ``mcpServers`` configuration as one undoable edit."""

from __future__ import annotations

import json
import os
import re
import signal
import sys
from pathlib import Path
from typing import Any

import pytest
from flowdesk.editor.document.commands import SetWorkflowField
from flowdesk.editor.main_window import MainWindow
from PySide6.QtWidgets import QFileDialog

from tests.helpers import children
from tests.sources.test_mcp import SERVER

from .conftest import open_flow, run_and_wait, write_flow
from .test_sources import visible_tool_refs

STDIO = {"type": "mcp", "command": [sys.executable, SERVER], "env": ["MCP_TEST_CRASH"]}


# after the window closed (its fixture's teardown), no server is left
pytestmark = pytest.mark.usefixtures("no_orphans")


def tool(node_id: str, tool_name: str, x: int = 0, /, **arguments: Any) -> dict[str, Any]:
    return {
        "id": node_id,
        "type": "tool.call",
        "config": {"source": "t", "tool": tool_name, "arguments": arguments},
        "position": [x, 0],
    }


def panel_text(win: MainWindow) -> str:
    items = win.sources.panel.list
    return "\n".join(items.item(i).text() for i in range(items.count()))


def ready(win: MainWindow) -> bool:
    """The panel says the server is ready with its tools (10 of them)."""
    return re.search(r"ready · \d+ tools", panel_text(win)) is not None


def pid_of(result: Any, node_id: str = "p") -> int:
    return int(result.nodes[node_id].output["structured"]["result"])


def source_lines(win: MainWindow) -> list[tuple[str, str]]:
    model = win.run.log.model
    lines = (model.line(row) for row in range(model.rowCount()))
    return [(line.source, line.message) for line in lines if line is not None and line.source]


def test_one_warm_server_for_the_palette_and_every_run(
    run_window: MainWindow, qtbot: Any, tmp_path: Path
) -> None:
    win = run_window
    before = children()
    path = write_flow(
        tmp_path, [tool("p", "pid"), tool("g", "greet", 300, name="Ada")], sources={"t": STDIO}
    )
    open_flow(win, path)
    qtbot.waitUntil(lambda: ready(win), timeout=15_000)
    assert "t__greet" in visible_tool_refs(win)
    palette_server = children() - before
    assert len(palette_server) == 1  # started for the palette, kept warm
    first = run_and_wait(qtbot, win)
    assert first.status == "succeeded", first.nodes["p"].error
    assert {pid_of(first)} == palette_server  # the run used the palette's server
    second = run_and_wait(qtbot, win)
    assert pid_of(second) == pid_of(first)
    # the server's stderr is in the log dock, attributed to its source
    qtbot.waitUntil(lambda: ("t", "greeting Ada") in source_lines(win), timeout=5_000)
    assert win.run.log.model.data(_source_cell(win)) == "t server"

    # killed between runs: the next run starts a new one and succeeds
    os.kill(pid_of(first), signal.SIGKILL)
    third = run_and_wait(qtbot, win)
    assert third.status == "succeeded", third.nodes["p"].error
    assert pid_of(third) != pid_of(first)
    qtbot.waitUntil(lambda: ready(win), timeout=10_000)

    # an edited entry stops its server (the next use starts one for the new entry)
    edited = {"t": dict(STDIO, env=["MCP_TEST_CRASH", "TZ"])}
    win.controller.push(SetWorkflowField("sources", edited))
    qtbot.waitUntil(lambda: pid_of(third) not in children(), timeout=10_000)
    fourth = run_and_wait(qtbot, win)
    assert fourth.status == "succeeded"

    # a tool added by the server shows in the palette (tools/list_changed)
    win.sources.add_tool_node("t__grow", win.view.center_scene())
    run_and_wait(qtbot, win)
    qtbot.waitUntil(lambda: "t__extra" in visible_tool_refs(win), timeout=10_000)

    # closing the document stops its servers
    running = children() - before
    assert running
    win.controller.mark_saved()  # (no "save changes?" prompt)
    win.ui_actions["close"].trigger()  # File ▸ Close
    qtbot.waitUntil(lambda: not (children() & running), timeout=10_000)


def _source_cell(win: MainWindow) -> Any:
    model = win.run.log.model
    for row in range(model.rowCount()):
        line = model.line(row)
        if line is not None and line.source:
            return model.index(row, 2)
    raise AssertionError("no source line in the log")


def test_a_failed_server_shows_its_reason_in_the_panel_and_on_its_nodes(
    run_window: MainWindow, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    win = run_window
    before = children()
    monkeypatch.setenv("MCP_TEST_CRASH", "1")
    path = write_flow(tmp_path, [tool("a", "add", a=1)], sources={"t": STDIO})
    open_flow(win, path)
    qtbot.waitUntil(lambda: "⚠ failed" in panel_text(win), timeout=15_000)
    # the reason the user can act on: the server's own last words
    assert "cannot start: MCP_TEST_CRASH is set" in panel_text(win)
    item = win.scene.nodes["a"]
    qtbot.waitUntil(lambda: bool(item.source_warning))
    assert "Source “t” failed" in item.source_warning
    assert "MCP_TEST_CRASH is set" in item.toolTip()
    result = run_and_wait(qtbot, win)
    error = result.nodes["a"].error
    assert error["code"] == "SOURCE_UNAVAILABLE"
    assert "cannot start: MCP_TEST_CRASH is set" in error["message"]
    # fixed in the environment, Refresh starts it and the badge goes
    monkeypatch.delenv("MCP_TEST_CRASH")
    win.sources.refresh("t", force=True)
    qtbot.waitUntil(lambda: ready(win), timeout=15_000)
    qtbot.waitUntil(lambda: not item.source_warning)
    # removed from the workflow: its server stops
    server = win.sources.warm.pool.source("t")
    assert server is not None and children() - before
    win.sources.remove_source("t")
    qtbot.waitUntil(lambda: win.sources.warm.pool.source("t") is None, timeout=10_000)
    qtbot.waitUntil(lambda: not children() - before, timeout=10_000)


def test_import_an_mcp_config_from_the_file_menu(
    run_window: MainWindow, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    win = run_window
    path = write_flow(tmp_path, [], sources={"t": STDIO})
    open_flow(win, path)
    config = tmp_path / "claude_desktop_config.json"
    config.write_text(
        json.dumps(
            {
                "mcpServers": {
                    "t": {"command": "kept-as-it-was"},
                    "test-server": {
                        "command": sys.executable,
                        "args": [SERVER],
                        "env": {"API_TOKEN": "s3cret-value"},
                    },
                }
            }
        )
    )
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(config), ""))
    stack = win.controller.stack
    depth = stack.count()
    win.sources.import_mcp_action.trigger()
    sources = win.controller.document.workflow.sources
    assert sources["test_server"] == {
        "type": "mcp",
        "command": [sys.executable],
        "args": [SERVER],
        "env": ["API_TOKEN"],  # the name only: the value stays out of the file
    }
    assert sources["t"] == STDIO
    assert stack.count() == depth + 1 and stack.text(depth) == "Import 1 MCP server"
    qtbot.waitUntil(lambda: "test_server__add" in visible_tool_refs(win), timeout=15_000)
    win.ui_actions["undo"].trigger()
    assert "test_server" not in win.controller.document.workflow.sources

    # a bad file: a clear error naming the file and the place, nothing changed
    shown: list[tuple[str, str]] = []
    win.sources.show_error = lambda title, message: shown.append((title, message))
    config.write_text('{"mcpServers": {"x": {"args": ["a"]}}}')
    win.sources.panel.import_config_entry.trigger()
    assert shown[-1][1] == (
        f'{config}: mcpServers.x: needs a "command" (a stdio server) or a "url" (an HTTP server)'
    )
    config.write_text('{"mcpServers": {\n  "x": {"command": "a",}\n}}')
    win.sources.panel.import_config_entry.trigger()
    assert shown[-1][1].startswith(f"{config}: line 2, column")
    assert stack.count() == depth + 1 and stack.index() == depth  # nothing pushed


def test_add_an_mcp_server_by_its_command_line(
    run_window: MainWindow, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QInputDialog

    win = run_window
    open_flow(win, write_flow(tmp_path, []))
    typed = f"{sys.executable} {SERVER}"
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: (typed, True))
    win.sources.add_mcp_server_action.trigger()
    sources = win.controller.document.workflow.sources
    assert sources == {"mcp_server": {"type": "mcp", "command": [sys.executable], "args": [SERVER]}}
    assert (
        win.controller.stack.text(win.controller.stack.index() - 1) == "Add MCP server mcp_server"
    )
    qtbot.waitUntil(lambda: "mcp_server__add" in visible_tool_refs(win), timeout=15_000)
    node_id = win.sources.add_tool_node("mcp_server__add", win.view.center_scene())
    assert node_id is not None
    qtbot.waitUntil(lambda: win.inspector.findChild(object, "arg_a") is not None)
    win.inspector.findChild(object, "arg_a").edited.emit(40)
    win.inspector.findChild(object, "arg_b").edited.emit(2)
    result = run_and_wait(qtbot, win)
    assert result.status == "succeeded", result.nodes[node_id].error
    assert result.nodes[node_id].output["structured"] == {"total": 42, "terms": [40, 2]}
    # a line that is not a command: a message, nothing added
    shown: list[tuple[str, str]] = []
    win.sources.show_error = lambda title, message: shown.append((title, message))
    typed = 'npx "unclosed'
    win.sources.add_mcp_server_action.trigger()
    assert "cannot be read" in shown[-1][1]
    assert list(win.controller.document.workflow.sources) == ["mcp_server"]


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        ("npx -y @modelcontextprotocol/server-filesystem data", "filesystem"),
        ("uvx mcp-server-time --local-timezone=UTC", "time"),
        ("mcp-server-fetch", "fetch"),
        ("npx -y @acme/weather-mcp@1.2.0", "weather"),
        ("http://127.0.0.1:8000/mcp", "mcp"),
        ("https://api.githubcopilot.com/mcp/", "githubcopilot"),
    ],
)
def test_a_typed_server_gets_a_readable_source_name(typed: str, name: str) -> None:
    from flowdesk.editor.sources.mcp_ui import server_entry, server_name

    assert server_name(server_entry(typed), {"other": 1}) == name
