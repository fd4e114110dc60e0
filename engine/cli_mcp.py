"""``flowdesk tools import-mcp CONFIG.json --into FLOW``: the servers of a
desktop MCP configuration (``{"mcpServers": {name: {command, args, env}}}``,
as Claude Desktop and VS Code write it) become ``sources`` of the workflow.

``env`` values are never copied into the workflow (they often hold secrets):
only their names, passed through from the user's environment at run time.
Existing sources of the same name are left alone unless ``--replace``.
The workflow is saved atomically; exit 0, 2 on an invalid file.
``engine.cli_tools`` lists it among the ``tools`` actions.
May import: every engine module except the cli modules but ``cli_common``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .cli_common import EXIT_INVALID, EXIT_OK


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("import-mcp", help="add the servers of an mcpServers config as sources")
    parser.add_argument("config", metavar="CONFIG.json")
    parser.add_argument("--into", required=True, metavar="FLOW", help="the workflow to add them to")
    parser.add_argument("--replace", action="store_true", help="replace sources of the same name")


def merge_servers(
    document: dict[str, Any], config: dict[str, Any], *, replace: bool = False
) -> tuple[list[str], list[str]]:
    """Add the config's servers to ``document["sources"]``; (added, skipped).
    (``merge_mcp_servers``: the editor's "Import MCP config…" shares it.)"""
    from .sources.mcp_import import merge_mcp_servers

    merged, added, skipped = merge_mcp_servers(
        document.get("sources") or {}, config, replace=replace
    )
    document["sources"] = merged
    return added, skipped


def run(args: argparse.Namespace) -> int:
    from .errors import FlowdeskError, WorkflowLoadError
    from .io import atomic_write, loads_workflow

    def fail(message: str) -> int:
        sys.stderr.write(f"flowdesk: error: {message}\n")
        return EXIT_INVALID

    from .sources.mcp_import import read_mcp_config

    try:
        config = read_mcp_config(args.config)
    except FlowdeskError as exc:
        return fail(exc.message)
    flow = Path(args.into)
    try:
        document = json.loads(flow.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return fail(f"{flow}: cannot read the workflow: {exc}")
    if not isinstance(config, dict) or not isinstance(document, dict):
        return fail("both files must hold a JSON object")
    try:
        added, skipped = merge_servers(document, config, replace=args.replace)
    except FlowdeskError as exc:
        return fail(f"{args.config}: {exc}")
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    try:
        loads_workflow(text)
    except (FlowdeskError, WorkflowLoadError, ValueError) as exc:
        return fail(f"{flow}: the workflow would not be valid: {exc}")
    atomic_write(flow, text.encode("utf-8"))
    for name in added:
        sys.stdout.write(f"added source {name}\n")
    for name in skipped:
        sys.stdout.write(f"kept existing source {name} (use --replace to overwrite)\n")
    return EXIT_OK
