"""``flowdesk history``: the runs recorded on this computer (CLI and editor),
newest first, and ``flowdesk history show RUN_ID`` for one run node by node.

People read short ids (the first 8 characters, like git; any start of an id
that names one run is accepted wherever an id is taken), local times as the
editor shows them ("Today 10:32:05", "2026-11-20 10:32") and the workflow's
file name beside its name. ``--json`` is the spec's and does not change: full
ids, UTC times, the same keys. Exit codes: 0 done, 1 no such run or an
ambiguous id, 2 usage error.
May import: every engine module.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .cli_output import EXIT_FAILED, EXIT_INVALID, EXIT_OK
from .cli_output import MARKS as _MARKS
from .history import SHORT_ID, HistoryStore, RunSummary, is_truncated, local_time
from .safe_output import json_text, printable


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "history",
        help="list past runs, or 'history show RUN_ID' for one run",
        description="The runs recorded on this computer (from the CLI and the editor), "
        "newest first; 'flowdesk history show RUN_ID' shows one run node by node. Ids are "
        "shown short (8 characters); any start of an id that names one run is accepted.",
    )
    parser.add_argument(
        "action",
        nargs="*",
        metavar="show RUN_ID",
        help="show one run: RUN_ID is its id or the start of it (the 8 characters listed "
        "are enough)",
    )
    parser.add_argument(
        "--limit",
        type=int,
        default=20,
        metavar="N",
        help="list at most N runs, newest first (default: 20)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print JSON instead: the run summaries, or with 'show' the whole run "
        "result (full ids, UTC times)",
    )
    return parser


def short_id(run_id: str) -> str:
    return run_id[:SHORT_ID]


def _where(summary: RunSummary) -> str:
    """The workflow's name with its file name: ``Orders (orders.flow.json)``."""
    name = printable(summary.workflow_name)
    if not summary.workflow_path:
        return f"{name} (unsaved)"
    return f"{name} ({printable(Path(summary.workflow_path).name)})"


def _ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.1f} ms" if value < 10_000 else f"{value / 1000:.1f} s"


def run(args: argparse.Namespace) -> int:
    store = HistoryStore()
    action = list(args.action)
    if action and action[0] == "show":
        if len(action) != 2:
            sys.stderr.write("usage: flowdesk history show RUN_ID\n")
            return EXIT_INVALID
        return _show(store, action[1], args.json)
    if action:
        sys.stderr.write(f"flowdesk history: unknown action {action[0]!r} (use 'show RUN_ID')\n")
        return EXIT_INVALID
    runs = store.list_runs(limit=max(args.limit, 0))
    if args.json:
        sys.stdout.write(json.dumps([r.to_json() for r in runs], indent=2) + "\n")
        return EXIT_OK
    if not runs:
        sys.stdout.write(f"No runs recorded yet ({store.path}).\n")
        return EXIT_OK
    out = sys.stdout
    out.write(f"{'RUN':<8}  {'STARTED':<16}  {'STATUS':<11}  {'DURATION':>9}  WORKFLOW\n")
    for summary in runs:
        status = f"{_MARKS.get(summary.status, '·')} {summary.status}"
        out.write(
            f"{short_id(summary.run_id):<8}  {local_time(summary.started_at):<16}  "
            f"{status:<11}  {_ms(summary.duration_ms):>9}  {_where(summary)}\n"
        )
    return EXIT_OK


def _show(store: HistoryStore, run_id: str, as_json: bool) -> int:
    if not run_id.strip():
        sys.stderr.write("usage: flowdesk history show RUN_ID (the id or the start of it)\n")
        return EXIT_INVALID
    matches = store.resolve_id(run_id)
    if not matches:
        sys.stderr.write(
            f"flowdesk history: no run {printable(run_id)!r}; 'flowdesk history' lists them\n"
        )
        return EXIT_FAILED
    if len(matches) > 1:
        shown = ", ".join(short_id(m) if short_id(m) != run_id else m for m in matches)
        sys.stderr.write(
            f"flowdesk history: {printable(run_id)!r} is the start of several runs ({shown}); "
            "give more characters\n"
        )
        return EXIT_FAILED
    found = store.get_run(matches[0])
    assert found is not None
    summary, result = found
    if as_json:
        data = result.to_json()
        data["workflow_name"] = summary.workflow_name
        data["workflow_path"] = summary.workflow_path
        sys.stdout.write(json_text(data, indent=2) + "\n")
        return EXIT_OK
    out = sys.stdout
    mark = _MARKS.get(summary.status, "·")
    out.write(f"Run {short_id(summary.run_id)}  {mark} {summary.status}\n")
    out.write(f"  workflow  {_where(summary)}\n")
    if summary.workflow_path:
        out.write(f"  folder    {printable(str(Path(summary.workflow_path).parent))}\n")
    out.write(
        f"  started   {local_time(summary.started_at)}   duration {_ms(summary.duration_ms)}\n"
    )
    out.write(f"  id        {summary.run_id}\n\n")
    for node_id, node in result.nodes.items():
        mark = _MARKS.get(node.status, "·")
        if node.status == "skipped":
            out.write(f"  {mark} {node_id:<24} {node.status:<10} {node.reason or ''}\n")
            continue
        attempts = f"{node.attempts} attempt{'s' if node.attempts != 1 else ''}"
        out.write(
            f"  {mark} {node_id:<24} {node.status:<10} {_ms(node.duration_ms):>9}  "
            f"{attempts if node.attempts else ''}\n"
        )
        if node.error:
            message = printable(str(node.error.get("message")))
            out.write(f"      error  {node.error.get('code')}: {message}\n")
        if node.output is not None:
            if is_truncated(node.output):
                size = node.output.get("size_bytes", 0)
                preview = printable(str(node.output.get("preview", ""))[:160])
                out.write(f"      output [truncated: {size:,} bytes] {preview}…\n")
            else:
                text = printable(json_text(node.output), 10_000)
                out.write(f"      output {text[:160]}{'…' if len(text) > 160 else ''}\n")
    return EXIT_OK
