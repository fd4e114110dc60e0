"""``flowdesk plan "PROMPT"``: ask the planner for edits of a workflow, print
them as a readable diff (or ``--json``), write the result with ``--out``
(atomic) and run it with ``--run``. Exit 0 planned, 1 refused or failed,
2 bad input. May import: every engine module; never the editor.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import WorkflowLoadError
from .io import atomic_write, read_json
from .keyring_store import default_secret_store
from .nodes.builtin.ai_transform import DEFAULT_BASE_URL, DEFAULT_CREDENTIAL
from .planner import (
    DEFAULT_MAX_OUTPUT_TOKENS,
    DEFAULT_MODEL,
    WorkflowDiff,
    format_diff,
    plan_request,
    usage_text,
)
from .planner.tools import source_tools
from .registry import NodeRegistry

EXIT_OK, EXIT_REFUSED, EXIT_INVALID = 0, 1, 2


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "plan", help="describe a change in words; the planner proposes it as a diff"
    )
    parser.add_argument("prompt", metavar="PROMPT")
    parser.add_argument("--flow", metavar="FILE", help="the workflow to edit (default: empty)")
    parser.add_argument("--out", metavar="FILE", help="write the new workflow here (atomic)")
    parser.add_argument("--allow", metavar="PATTERNS", help="allowed node types, e.g. 'email.*'")
    parser.add_argument("--model", default=DEFAULT_MODEL, metavar="M")
    parser.add_argument("--base-url", default=DEFAULT_BASE_URL, metavar="URL")
    parser.add_argument(
        "--credential",
        default=DEFAULT_CREDENTIAL,
        metavar="NAME",
        help="the API key's credential (FLOWDESK_SECRET_NAME or the keyring)",
    )
    parser.add_argument("--max-output-tokens", type=int, default=DEFAULT_MAX_OUTPUT_TOKENS)
    parser.add_argument("--json", action="store_true", help="print {plan, meta, diff, problems}")
    parser.add_argument("--run", action="store_true", help="run the planned workflow")
    return parser


def run(args: argparse.Namespace, cli_main: Callable[[list[str]], int]) -> int:
    """Plan; with ``--run``, run the result through ``cli_main`` (``flowdesk
    run``: the caller passes ``engine.cli.main``, which imports this module)."""
    out, err = sys.stdout, sys.stderr
    workflow: dict[str, Any] = {}
    if args.flow:
        try:
            workflow = read_json(Path(args.flow).read_bytes(), args.flow)
        except OSError as error:
            err.write(f"{args.flow}: cannot read: {error.strerror or error}\n")
            return EXIT_INVALID
        except WorkflowLoadError as error:  # located problems
            err.write(f"{error}\n")
            return EXIT_INVALID
        if not isinstance(workflow, dict):
            err.write(f"{args.flow}: a workflow is a JSON object\n")
            return EXIT_INVALID
    if not args.prompt.strip():
        err.write("plan: the request is empty\n")
        return EXIT_INVALID
    registry = NodeRegistry.default()
    store = default_secret_store()
    key = store.get_secret(args.credential)
    folder = Path(args.flow).resolve().parent if args.flow else None
    tools, notes = asyncio.run(source_tools(workflow, registry, workflow_dir=folder, secrets=store))
    for note in notes:
        err.write(f"note: {note}\n")
    result = asyncio.run(
        plan_request(
            args.prompt,
            workflow,
            registry,
            api_key=key,
            tools=tools,
            base_url=args.base_url,
            model=args.model,
            allow=args.allow,
            max_output_tokens=args.max_output_tokens,
        )
    )
    if args.json:
        out.write(json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n")
    else:
        for note in result.messages:
            err.write(f"note: {note}\n")
        err.write(usage_text(result.meta) + "\n")
        if result.status == "planned" and result.workflow is not None:
            intent = (result.plan or {}).get("intent", "")
            if intent:
                out.write(f"plan: {intent}\n")
            out.write(format_diff(WorkflowDiff(**result.diff), result.workflow) + "\n")
        else:
            err.write(f"plan {result.status}:\n")
            for problem in result.problems:
                err.write(f"  {problem['code']}: {problem['message']}\n")
    if result.status != "planned" or result.workflow is None:
        return EXIT_REFUSED
    text = json.dumps(result.workflow, indent=2, ensure_ascii=False) + "\n"
    target = args.out
    if target:
        try:
            atomic_write(target, text.encode())
        except OSError as error:
            err.write(f"{target}: cannot write: {error.strerror or error}\n")
            return EXIT_REFUSED
        err.write(f"wrote {target}\n")
    if args.run:
        if not target:
            with tempfile.NamedTemporaryFile(
                "w", suffix=".flow.json", delete=False, encoding="utf-8"
            ) as handle:
                handle.write(text)
            target = handle.name
        code = cli_main(["run", target])
        return EXIT_OK if code == 0 else EXIT_REFUSED
    return EXIT_OK
