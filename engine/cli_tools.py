"""``flowdesk tools list|call``: the tools of a workflow's sources, headless.

``list FLOW [--source NAME] [--json] [--var NAME=VALUE]``: every tool as ``source__tool`` with its
path and summary (``--json``: each with its input schema); exit 0, 1 when a
source could not be opened (its error on stderr, the other sources still
listed), 2 when the file is invalid.
``call FLOW SOURCE__TOOL --args JSON [--json] [--var NAME=VALUE]``: one ``tool.call`` node run
through the engine (same HTTP path, credentials, redaction as a run); prints
the output (``--json``: the node's result object); exit codes as ``run``:
0 succeeded, 1 failed, 2 invalid file or arguments.
Other source types add actions through ``ACTIONS`` (``import-mcp``).
May import: every engine module.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import cli_mcp
from .cli_common import (
    EXIT_FAILED,
    EXIT_INVALID,
    EXIT_OK,
    default_registry,
    load_checked,
    parse_vars,
)

#: action name -> (add its parser to the ``tools`` sub-parsers, run it)
ACTIONS: dict[str, tuple[Callable[[Any], None], Callable[[argparse.Namespace], int]]] = {
    "import-mcp": (cli_mcp.add_parser, cli_mcp.run),
}


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "tools", help="list and call the tools of a workflow's sources (OpenAPI, MCP)"
    )
    sub = parser.add_subparsers(dest="tools_command", metavar="ACTION")
    sub.required = True
    listing = sub.add_parser("list", help="every tool of the workflow's sources")
    listing.add_argument("flow", metavar="FLOW")
    listing.add_argument("--source", metavar="NAME", help="only this source")
    listing.add_argument("--json", action="store_true", help="tools with their input schemas")
    listing.add_argument("--root", metavar="DIR", help="data root (default: the workflow's folder)")
    listing.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a variable (as 'run' does); repeatable",
    )
    calling = sub.add_parser("call", help="call one tool and print its output")
    calling.add_argument("flow", metavar="FLOW")
    calling.add_argument("tool", metavar="SOURCE__TOOL")
    calling.add_argument("--args", default="{}", metavar="JSON", help="the arguments (an object)")
    calling.add_argument("--json", action="store_true", help="print the node's result as JSON")
    calling.add_argument("--root", metavar="DIR", help="data root (default: the workflow's folder)")
    calling.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a variable (as 'run' does); repeatable",
    )
    for add, _ in ACTIONS.values():
        add(sub)
    return parser


def run(args: argparse.Namespace) -> int:
    action = args.tools_command
    if action == "list":
        return _list(args)
    if action == "call":
        return _call(args)
    return ACTIONS[action][1](args)


def _root(args: argparse.Namespace) -> Path | None:
    root = Path(args.root) if args.root else Path(args.flow).resolve().parent
    if not root.is_dir():
        sys.stderr.write(f"flowdesk: error: --root {args.root!r} is not a folder\n")
        return None
    return root


def _load(args: argparse.Namespace) -> Any:
    return load_checked(args.flow, default_registry(), sys.stderr)


def _variables(args: argparse.Namespace) -> dict[str, Any] | None:

    try:
        return parse_vars(args.var)
    except ValueError as exc:
        sys.stderr.write(f"flowdesk: error: {exc}\n")
        return None


def _list(args: argparse.Namespace) -> int:
    from .errors import FlowdeskError
    from .keyring_store import default_secret_store
    from .sources.catalogue import list_catalogue

    variables = _variables(args)
    if variables is None:
        return EXIT_INVALID
    workflow = _load(args)
    root = _root(args)
    if workflow is None or root is None:
        return EXIT_INVALID
    if args.source is not None and args.source not in workflow.sources:
        declared = ", ".join(workflow.sources) or "none"
        sys.stderr.write(f"{args.flow}: no source {args.source!r} (declared: {declared})\n")
        return EXIT_INVALID
    errors: dict[str, FlowdeskError] = {}
    catalogue = asyncio.run(
        list_catalogue(
            workflow,
            workflow_dir=root,
            only=[args.source] if args.source else None,
            errors=errors,
            secrets=default_secret_store(),
            variables=variables,
        )
    )
    if args.json:
        data = {
            "sources": {
                name: {
                    "type": workflow.sources[name].get("type"),
                    "tools": [tool.to_json() for tool in tools],
                }
                for name, tools in catalogue.items()
            },
            "errors": {name: error.to_dict() for name, error in errors.items()},
        }
        sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")
    else:
        out = sys.stdout
        for name, tools in catalogue.items():
            kind = workflow.sources[name].get("type")
            out.write(f"{name} ({kind}, {len(tools)} tool{'s' if len(tools) != 1 else ''})\n")
            width = max((len(name) + 2 + len(t.name) for t in tools), default=0)
            paths = max((len(t.path) for t in tools), default=0)
            for tool in tools:
                ref = f"{name}__{tool.name}"
                summary = tool.title or tool.description.split("\n", 1)[0]
                line = f"  {ref:<{width}}  {tool.path:<{paths}}" + (
                    f"  {summary}" if summary else ""
                )
                out.write(line.rstrip() + "\n")
        if not workflow.sources:
            sys.stderr.write(f'{args.flow}: no sources (add one under "sources")\n')
    for name, error in errors.items():
        sys.stderr.write(f"{args.flow}: source {name!r}: {error.code}: {error.message}\n")
    return EXIT_FAILED if errors else EXIT_OK


def _call(args: argparse.Namespace) -> int:
    from .sources import split_tool_ref

    variables = _variables(args)
    if variables is None:
        return EXIT_INVALID
    try:
        arguments = json.loads(args.args)
    except json.JSONDecodeError as exc:
        sys.stderr.write(f"flowdesk: error: --args is not valid JSON: {exc}\n")
        return EXIT_INVALID
    if not isinstance(arguments, dict):
        sys.stderr.write("flowdesk: error: --args must be a JSON object\n")
        return EXIT_INVALID
    ref = split_tool_ref(args.tool)
    if ref is None:
        sys.stderr.write(
            f"flowdesk: error: {args.tool!r}: name a tool as SOURCE__TOOL "
            "(see 'flowdesk tools list FLOW')\n"
        )
        return EXIT_INVALID
    registry = default_registry()
    workflow = load_checked(args.flow, registry, sys.stderr)
    root = _root(args)
    if workflow is None or root is None:
        return EXIT_INVALID
    source, tool = ref
    if source not in workflow.sources:
        declared = ", ".join(workflow.sources) or "none"
        sys.stderr.write(f"{args.flow}: no source {source!r} (declared: {declared})\n")
        return EXIT_INVALID
    from .model.workflow import Node

    node = Node(
        id="call", type="tool.call", config={"source": source, "tool": tool, "arguments": arguments}
    )
    one = workflow.model_copy(update={"nodes": [node], "edges": []})
    result = asyncio.run(_run_one(one, registry, root, variables))
    node_result = result.nodes["call"]
    if args.json:
        sys.stdout.write(json.dumps(node_result.to_json(), ensure_ascii=False, default=str) + "\n")
    elif node_result.status == "succeeded":
        sys.stdout.write(
            json.dumps(node_result.output, ensure_ascii=False, indent=2, default=str) + "\n"
        )
    if node_result.status != "succeeded":
        error = node_result.error or {}
        sys.stderr.write(
            f"{args.tool}: {error.get('code', node_result.status)}: "
            f"{error.get('message', node_result.reason or '')}\n"
        )
        return EXIT_FAILED
    return EXIT_OK


async def _run_one(workflow: Any, registry: Any, root: Path, variables: dict[str, Any]) -> Any:
    from .executor import Engine
    from .keyring_store import default_secret_store

    engine = Engine(registry, secrets=default_secret_store())
    return await engine.run(workflow, data_root=root, check=False, variables=variables)
