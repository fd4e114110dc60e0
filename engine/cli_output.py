"""What ``flowdesk run`` prints: the exit codes, one live line per node as it
finishes (``LinePrinter``) and the closing summary; the marks and formats are
shared with ``flowdesk history``.

May import: engine.credentials, engine.events, engine.model, engine.results,
engine.safe_output, stdlib.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, TextIO

from .credentials import redact
from .events import (
    NOT_IN_RUN,
    Event,
    NodeCancelled,
    NodeFailed,
    NodeRetrying,
    NodeSkipped,
    NodeSucceeded,
    RunStarted,
)
from .model.workflow import Workflow
from .results import RunResult
from .safe_output import printable

EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2

MARKS = {
    "succeeded": "✓",
    "pinned": "⊙",
    "failed": "✗",
    "skipped": "↷",
    "cancelled": "⊘",
    "interrupted": "⚠",
    "retry": "↻",
}


class LinePrinter:
    """One live line per node as it finishes (and one per retry)."""

    def __init__(self, out: TextIO, workflow: Workflow) -> None:
        #: the run's secrets, redacted from the messages printed (set once it starts)
        self.secrets: Callable[[], list[str]] = list
        self.out = out
        self.width = min(max((len(n.id) for n in workflow.nodes), default=8), 32)
        self.t0 = time.monotonic()

    def _line(self, mark: str, node_id: str, status: str, rest: str) -> None:
        self.out.write(f"  {mark} {node_id:<{self.width}}  {status:<10} {rest}\n".rstrip() + "\n")
        self.out.flush()

    def _message(self, error: dict[str, Any]) -> str:
        message = str(error.get("message"))
        secrets = self.secrets()
        if secrets:
            message = redact(message, sorted(secrets, key=len, reverse=True))
        return printable(message)

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            planned = len(event.planned)
            self.out.write(f"Running {event.workflow_name!r} ({planned} nodes)\n")
        elif isinstance(event, NodeSucceeded):
            extra = " (reused from the last run)" if event.reused else ""
            self._line(
                MARKS.get(event.status, "✓"),
                event.node_id,
                event.status,
                f"{format_ms(event.duration_ms):>9}  {attempts_text(event.attempts)}{extra}",
            )
        elif isinstance(event, NodeFailed):
            error = event.error
            how = " (continuing)" if event.continued else ""
            self._line(
                "✗",
                event.node_id,
                "failed",
                f"{format_ms(event.duration_ms):>9}  {attempts_text(event.attempts)}  "
                f"{error.get('code')}: {self._message(error)}{how}",
            )
        elif isinstance(event, NodeSkipped):
            if event.reason != NOT_IN_RUN:
                self._line("↷", event.node_id, "skipped", event.reason)
        elif isinstance(event, NodeCancelled):
            why = f"  {event.reason}" if event.reason else ""
            self._line("⊘", event.node_id, "cancelled", format_ms(event.duration_ms) + why)
        elif isinstance(event, NodeRetrying):
            error = event.error
            self._line(
                "↻",
                event.node_id,
                "retrying",
                f"attempt {event.attempt + 1}/{event.max_attempts} in {event.delay_s:.1f} s "
                f"after {error.get('code')}: {self._message(error)}",
            )


def format_ms(value: float) -> str:
    return f"{value:.1f} ms" if value < 10_000 else f"{value / 1000:.1f} s"


def attempts_text(count: int) -> str:
    return f"{count} attempt{'s' if count != 1 else ''}" if count else ""


def print_summary(result: RunResult, out: TextIO) -> None:
    counts = result.counts()
    order = ("succeeded", "pinned", "failed", "skipped", "cancelled")
    parts = ", ".join(f"{counts[s]} {s}" for s in order if counts.get(s))
    took = format_ms(result.duration_ms)
    out.write(f"Run {result.status} in {took} · {parts} · run {result.run_id[:8]}\n")
    if result.usage:
        out.write(f"AI usage: {json.dumps(result.usage)}\n")
