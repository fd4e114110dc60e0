"""``flowdesk history``: the runs recorded in the history store, newest first,
and ``history show RUN_ID`` (a prefix will do) with every node's outcome.

May import: engine.cli_output, engine.history, engine.safe_output, stdlib.
"""

from __future__ import annotations

import argparse
import json
import sys

from .cli_output import EXIT_FAILED, EXIT_INVALID, EXIT_OK, MARKS, attempts_text, format_ms
from .history import HistoryStore, is_truncated
from .safe_output import json_text, printable


def run(args: argparse.Namespace) -> int:
    store = HistoryStore()
    action = list(args.action)
    if action and action[0] == "show":
        if len(action) != 2:
            sys.stderr.write("usage: flowdesk history show RUN_ID\n")
            return EXIT_INVALID
        return show(store, action[1], args.json)
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
    sys.stdout.write(f"{'RUN':<32}  {'STARTED':<24}  {'STATUS':<9}  {'DURATION':>10}  WORKFLOW\n")
    for run in runs:
        duration = format_ms(run.duration_ms) if run.duration_ms is not None else "—"
        sys.stdout.write(
            f"{run.run_id:<32}  {run.started_at:<24}  {run.status:<9}  {duration:>10}  "
            f"{printable(run.workflow_name)}\n"
        )
    return EXIT_OK


def show(store: HistoryStore, run_id: str, as_json: bool) -> int:
    matches = store.resolve_id(run_id)
    if not matches:
        sys.stderr.write(f"flowdesk history: no run {run_id!r}\n")
        return EXIT_FAILED
    if len(matches) > 1:
        sys.stderr.write(f"flowdesk history: {run_id!r} is ambiguous: {', '.join(matches)}\n")
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
    out.write(f"Run {summary.run_id}  {summary.status}\n")
    where = printable(summary.workflow_path or "unsaved")
    out.write(f"  workflow  {printable(summary.workflow_name)} ({where})\n")
    duration = format_ms(summary.duration_ms) if summary.duration_ms is not None else "—"
    out.write(f"  started   {summary.started_at}   duration {duration}\n\n")
    for node_id, node in result.nodes.items():
        mark = MARKS.get(node.status, "·")
        if node.status == "skipped":
            out.write(f"  {mark} {node_id:<24} {node.status:<10} {node.reason or ''}\n")
            continue
        out.write(
            f"  {mark} {node_id:<24} {node.status:<10} {format_ms(node.duration_ms):>9}  "
            f"{attempts_text(node.attempts)}\n"
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
