"""MCP servers in the editor: a source's state in words for the Sources panel
(starting…, ready with N tools, failed with the reason), the badge on tool
nodes whose source failed, "Add MCP server…" (a command line or a URL typed
in), and "Import MCP config…" — the servers of a desktop
configuration (``{"mcpServers": {name: {command, args, env}}}``, as Claude
Desktop and VS Code write it) added as sources in one undoable edit, with the
engine's ``merge_mcp_servers`` (the same as ``flowdesk tools import-mcp``:
environment values are never copied, existing sources are kept).
May import: PySide6, engine (public API), editor.*.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Container
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowdesk.editor.document import UNSET
from flowdesk.editor.document.commands import SetWorkflowField
from flowdesk.editor.text import plural
from flowdesk.engine import FlowdeskError, mcp_source_name, merge_mcp_servers, read_mcp_config
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

#: the window's ``SourcesUi`` (editor.sources.panel, which imports this module)
SourcesUi = Any

CONFIG_FILTER = "MCP configurations (*.json);;All files (*)"
#: the reason shown on a panel row (the whole of it is in the tooltip)
SHORT_REASON = 140


@dataclass(frozen=True)
class SourceState:
    """What the panel shows of one source."""

    #: "starting", "ready", "failed" or "" (not known yet)
    kind: str
    #: the state in words: "starting…", "ready · 3 tools", "failed"
    text: str
    #: the reason of a failure, shortened for the row
    reason: str = ""
    #: everything (the row's and the node's tooltip)
    detail: str = ""


def short_reason(reason: str) -> str:
    """The most telling line of a failure: the server's last stderr line when
    the message ends with them, else its first line; at most SHORT_REASON."""
    lines = [line.strip() for line in reason.splitlines() if line.strip()]
    if not lines:
        return ""
    marker = next((i for i, line in enumerate(lines) if line.startswith("last lines of")), None)
    text = lines[-1] if marker is not None and marker < len(lines) - 1 else lines[0]
    return text if len(text) <= SHORT_REASON else text[: SHORT_REASON - 1] + "…"


def source_state(ui: SourcesUi, name: str) -> SourceState:
    """The state of source ``name`` from the catalogue and its warm session."""
    catalogue, warm = ui.catalogue, ui.warm
    tools = catalogue.tools.get(name)
    counted = f" · {plural(len(tools), 'tool')}" if tools is not None else ""
    live = warm.state(name)
    if live is not None and live[0] == "failed":
        return SourceState("failed", "failed", short_reason(live[1]), live[1])
    if (live is not None and live[0] == "starting") or name in catalogue.loading:
        return SourceState("starting", "starting…")
    if live is not None and live[0] == "ready" and tools is not None:
        return SourceState("ready", "ready" + counted)
    error = catalogue.errors.get(name)
    if error is not None:
        return SourceState("failed", "failed", short_reason(error.message), error.message)
    if tools is not None:
        return SourceState("ready", plural(len(tools), "tool"))
    return SourceState("", "")


def node_warnings(ui: SourcesUi) -> dict[str, str]:
    """Tool nodes whose source failed → the badge's tooltip."""
    workflow = ui.workflow
    failed = {
        name: state
        for name in workflow.sources
        if (state := source_state(ui, name)).kind == "failed"
    }
    if not failed:
        return {}
    out: dict[str, str] = {}
    for node in workflow.nodes:
        if node.type != "tool.call":
            continue
        name = node.config.get("source")
        state = failed.get(name) if isinstance(name, str) else None
        if state is not None:
            out[node.id] = (
                f"Source “{name}” failed: {state.detail}\n"
                "(Refresh it in the Sources panel; a run starts it again.)"
            )
    return out


def import_mcp_config(ui: SourcesUi, path: str | Path | None = None) -> list[str] | None:
    """Add the servers of an MCP configuration file as sources (one undoable
    edit); the names added, or None (cancelled or refused, with a message)."""
    window = ui.window
    if path is None:
        chosen, _ = QFileDialog.getOpenFileName(
            window, "Import an MCP configuration", str(Path.home()), CONFIG_FILTER
        )
        if not chosen:
            return None
        path = chosen
    try:
        config = read_mcp_config(path)
        sources, added, skipped = merge_mcp_servers(ui.workflow.sources, config)
    except FlowdeskError as error:
        message = error.message if str(path) in error.message else f"{path}: {error.message}"
        ui.show_error("The MCP configuration cannot be imported", message)
        return None
    kept = f"; kept the existing {', '.join(skipped)}" if skipped else ""
    if not added:
        window.show_message(f"No MCP server added{kept or ' (the file lists none)'}.")
        return []
    text = f"Import {plural(len(added), 'MCP server')}"
    if not ui.push(SetWorkflowField("sources", sources or UNSET, text=text)):
        return None
    window.show_message(f"Added {', '.join(added)}{kept}; starting their servers…")
    return added


def error_box(ui: SourcesUi, title: str, message: str) -> None:
    """The default ``SourcesUi.show_error``: a warning box (tests replace it)."""
    QMessageBox.warning(ui.window, title, message)


#: launchers whose first plain argument names the server (``npx -y PACKAGE``)
LAUNCHERS = {"npx", "uvx", "pipx", "bunx", "docker", "node", "python", "python3", "deno"}


def server_entry(text: str) -> dict[str, Any]:
    """A typed command line (``npx -y @scope/server-files data``) or URL as
    an MCP source entry; ValueError when it is neither."""
    text = text.strip()
    if re.match(r"^https?://\S+$", text):
        return {"type": "mcp", "url": text}
    try:
        argv = shlex.split(text)
    except ValueError as exc:  # an unclosed quote
        raise ValueError(f"the command line cannot be read: {exc}") from None
    if not argv:
        raise ValueError("type the server's command (or its http(s) URL)")
    entry: dict[str, Any] = {"type": "mcp", "command": [argv[0]]}
    if argv[1:]:
        entry["args"] = argv[1:]
    return entry


def server_name(entry: dict[str, Any], taken: Container[str]) -> str:
    """A source name for an MCP entry: ``mcp-server-time`` → ``time``,
    ``npx -y @modelcontextprotocol/server-filesystem`` → ``filesystem``."""
    if entry.get("url"):
        host = re.sub(r"^https?://", "", entry["url"]).split("/")[0].split(":")[0]
        base = next((p for p in host.split(".") if p not in ("www", "mcp", "api")), "mcp")
        if base.isdigit() or base == "localhost":
            base = "mcp"
    else:
        argv = [*entry["command"], *entry.get("args", [])]
        base = Path(argv[0]).name
        if base in LAUNCHERS:
            base = next((a for a in argv[1:] if not a.startswith("-")), base)
        base = base.rsplit("/", 1)[-1].split("@")[0]
        base = re.sub(r"\.(py|js|ts|mjs)$", "", base)
        short = re.sub(
            r"^(mcp[-_]server[-_]|server[-_]|mcp[-_])|([-_]mcp[-_]server|[-_]mcp)$", "", base
        )
        base = short if short not in ("", "server") else base
    return mcp_source_name(base or "mcp", taken)


def add_mcp_server(ui: SourcesUi, text: str | None = None) -> str | None:
    """Add an MCP server typed as a command line or URL (one undoable edit);
    its source name, or None."""
    window = ui.window
    if text is None:
        typed, ok = QInputDialog.getText(
            window,
            "Add an MCP server",
            "The server's command line, e.g. npx -y @modelcontextprotocol/server-filesystem "
            "data\nor the URL of a Streamable HTTP server:",
        )
        if not ok or not typed.strip():
            return None
        text = typed
    try:
        entry = server_entry(text)
    except ValueError as exc:
        ui.show_error("The MCP server cannot be added", str(exc))
        return None
    sources = dict(ui.workflow.sources)
    name = server_name(entry, sources)
    sources[name] = entry
    if not ui.push(SetWorkflowField("sources", sources, text=f"Add MCP server {name}")):
        return None
    window.show_message(f"Source {name!r} added; starting its server…")
    return name
