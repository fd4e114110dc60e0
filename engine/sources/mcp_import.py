"""The desktop MCP configuration (``{"mcpServers": {name: {command, args,
env}}}`` as Claude Desktop writes it; VS Code's ``{"servers": {...}}``) as
workflow ``sources`` entries — for ``flowdesk tools import-mcp`` and the
editor's "Import MCP config…", which share these functions.

``env`` values are never copied (they often hold secrets): only their names,
passed through from the user's environment at run time. A bad file is a
``ConfigError`` (``CONFIG_INVALID``) naming the file and where in it (line and
column of a JSON syntax error, ``mcpServers.NAME.field`` of a bad server).
May import: engine.errors, stdlib.
"""

from __future__ import annotations

import json
from collections.abc import Container, Mapping
from pathlib import Path
from typing import Any

from ..errors import ConfigError

CODE = "CONFIG_INVALID"


def _bad(message: str, where: str = "") -> ConfigError:
    return ConfigError(f"{where}: {message}" if where else message, code=CODE)


def read_mcp_config(path: str | Path) -> dict[str, Any]:
    """The JSON object of an MCP configuration file (``ConfigError`` naming
    the file, and the line and column of a syntax error)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise _bad(f"cannot read the MCP configuration: {exc.strerror or exc}", str(path)) from None
    try:
        config = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _bad(
            f"line {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg})", str(path)
        ) from None
    if not isinstance(config, dict):
        raise _bad('an MCP configuration is a JSON object with "mcpServers"', str(path))
    return config


def import_mcp_servers(config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``{"mcpServers": {name: {command, args, env, cwd, url, headers}}}`` (or
    ``servers``) as workflow ``sources`` entries by source name."""
    key = "mcpServers" if "mcpServers" in config else "servers"
    servers = config.get(key)
    if not isinstance(servers, dict):
        raise _bad('no "mcpServers" object in the configuration')
    out: dict[str, dict[str, Any]] = {}
    for name, server in servers.items():
        where = f"{key}.{name}"
        if not isinstance(server, dict):
            raise _bad("a server is an object with a command (or a url)", where)
        entry: dict[str, Any] = {"type": "mcp"}
        if server.get("url"):
            if not isinstance(server["url"], str):
                raise _bad("must be a string", f"{where}.url")
            entry["url"] = server["url"]
            headers = server.get("headers") or {}
            if not isinstance(headers, dict):
                raise _bad("must be an object of header names and values", f"{where}.headers")
            if headers:
                entry["headers"] = {str(k): str(v) for k, v in headers.items()}
        elif server.get("command"):
            command = server["command"]
            if not isinstance(command, str):
                raise _bad("must be a string (the program to start)", f"{where}.command")
            entry["command"] = [command]
            args = server.get("args") or []
            if not isinstance(args, list) or not all(
                isinstance(a, str | int | float) for a in args
            ):
                raise _bad("must be a list of strings", f"{where}.args")
            if args:
                entry["args"] = [str(arg) for arg in args]
            env = server.get("env") or {}
            if not isinstance(env, dict | list):
                raise _bad("must be an object of variable names and values", f"{where}.env")
            if env:
                entry["env"] = sorted(str(k) for k in env)
            if server.get("cwd"):
                entry["cwd"] = str(server["cwd"])
        else:
            raise _bad('needs a "command" (a stdio server) or a "url" (an HTTP server)', where)
        out[source_name(name, out)] = entry
    return out


def merge_mcp_servers(
    sources: Mapping[str, Any], config: Mapping[str, Any], *, replace: bool = False
) -> tuple[dict[str, Any], list[str], list[str]]:
    """``sources`` with the configuration's servers added: (new sources,
    added names, names kept because a source of that name exists — unless
    ``replace``)."""
    entries = import_mcp_servers(config)
    merged = dict(sources)
    added, skipped = [], []
    for name, entry in entries.items():
        if name in merged and not replace:
            skipped.append(name)
            continue
        merged[name] = entry
        added.append(name)
    return merged, added, skipped


def source_name(name: str, taken: Container[str] = ()) -> str:
    """A server's name as a source name (an identifier: ``test-server`` →
    ``test_server``; no ``__``, the palette's separator)."""
    cleaned = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in name).strip("_")
    while "__" in cleaned:
        cleaned = cleaned.replace("__", "_")
    base = cleaned or "mcp"
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}_{n}"
    return candidate
