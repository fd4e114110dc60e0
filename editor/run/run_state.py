"""``RunState``: what the editor knows about one run — each node's status,
attempts, timing, output (a reference, never a copy), error and log lines —
fed with the engine's events (``apply``) or built from a stored run
(``from_result``). Observable, never saved, never undone.

Events are applied as they come (cheap: a few attribute writes each) and
*announced* in batches: ``flush()`` emits one ``RunChange`` naming the nodes
that changed since the last flush, so a 10,000-node run repaints once per
frame instead of once per event. The bridge calls ``flush`` on a frame timer.
May import: engine (public API), editor.document (Qt-free), stdlib. No Qt.
Main classes: ``RunState``, ``NodeRun``, ``RunChange``, ``LogLine``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from flowdesk.editor.document.events import EdgeKey
from flowdesk.editor.document.observer import Signal
from flowdesk.editor.text import plural
from flowdesk.engine import (
    NO_VALUE,
    NOT_IN_RUN,
    Event,
    NodeCancelled,
    NodeFailed,
    NodeLog,
    NodeResult,
    NodeRetrying,
    NodeSkipped,
    NodeStarted,
    NodeSucceeded,
    RunFinished,
    RunResult,
    RunStarted,
    gather_inputs,
    node_scope,
)

QUEUED, RUNNING, RETRYING = "queued", "running", "retrying"
FINAL = frozenset({"succeeded", "failed", "skipped", "pinned", "cancelled"})
LEVELS = ("debug", "info", "warning", "error")


def format_ms(ms: float | None) -> str:
    """``12 ms``, ``1.2 s``, ``2 min 5 s``."""
    if ms is None:
        return ""
    if ms < 1:
        return f"{ms:.2f} ms"
    if ms < 1000:
        return f"{ms:.0f} ms"
    if ms < 60_000:
        return f"{ms / 1000:.1f} s"
    minutes, seconds = divmod(int(ms / 1000), 60)
    return f"{minutes} min {seconds} s"


@dataclass(slots=True)
class NodeRun:
    """One node's part of a run."""

    status: str = QUEUED
    attempt: int = 0
    attempts: int = 0
    max_attempts: int = 1
    #: ``time.monotonic()`` of the latest start (for the running clock)
    started: float | None = None
    duration_ms: float | None = None
    items: int | None = None
    retry_at: float | None = None
    retry_delay_s: float = 0.0
    error: dict[str, Any] | None = None
    traceback: str | None = None
    output: Any = None
    has_output: bool = False
    #: output ports that carried the value; None: all of them
    ports: tuple[str, ...] | None = None
    reused: bool = False
    usage: dict[str, Any] | None = None
    reason: str | None = None
    continued: bool = False
    #: kept from an earlier run: this (partial) run did not touch the node
    stale: bool = False

    @property
    def finished(self) -> bool:
        return self.status in FINAL

    def carried(self, port: str) -> bool:
        """Whether the output port ``port`` delivered a value."""
        if not self.has_output:
            return False
        return self.ports is None or port in self.ports


class LogLine(NamedTuple):
    """A line of the run's log. ``detail`` is the text, or the event itself:
    most lines are formatted only if they are ever shown (a 10,000-node run
    makes 20,000 lines)."""

    time: float
    node_id: str
    level: str
    detail: Any
    #: a line of a tool source (an MCP server's stderr), not of a node
    source: str = ""

    @property
    def message(self) -> str:
        detail = self.detail
        return detail if isinstance(detail, str) else describe(detail)


def describe(ev: Any) -> str:
    """The log text of an event."""
    if isinstance(ev, NodeStarted):
        if ev.attempt > 1:
            return f"attempt {ev.attempt}"
        return f"started ({plural(ev.items, 'item')})" if ev.items is not None else "started"
    if isinstance(ev, NodeSucceeded):
        if ev.reused:
            return "reused the output of the last run"
        if ev.status == "pinned":
            return "pinned output"
        tries = f" after {ev.attempts} attempts" if ev.attempts > 1 else ""
        return f"succeeded in {format_ms(ev.duration_ms)}{tries}"
    if isinstance(ev, NodeSkipped):
        return f"skipped: {ev.reason}"
    if isinstance(ev, NodeCancelled):
        return f"cancelled: {ev.reason}" if ev.reason else "cancelled"
    if isinstance(ev, NodeFailed):
        how = " (the run continues with the error)" if ev.continued else ""
        return f"failed: {_error_line(ev.error)}{how}"
    return type(ev).__name__


@dataclass(frozen=True, slots=True)
class RunChange:
    """What changed since the last flush."""

    nodes: frozenset[str] = frozenset()
    #: the run's own fields (status, progress, result)
    run: bool = False
    #: index of the first log line added since the last flush
    logs_from: int = 0
    #: everything changed (a new run, or another run shown)
    reset: bool = False


class RunState:
    """The state of the run shown; see the module docstring."""

    def __init__(self, read_only: bool = False) -> None:
        self.changed: Signal[[RunChange]] = Signal()
        self.read_only = read_only
        self.clear()

    def clear(self) -> None:
        """Forget the run (observers stay); announced at the next flush."""
        self.run_id: str | None = None
        self.workflow_name = ""
        #: idle | starting | running | succeeded | failed | cancelled
        self.status = "idle"
        self.started_at = ""
        self.t0: float | None = None
        self.duration_ms: float | None = None
        #: "run", "only" or "up_to"
        self.mode = "run"
        self.target: str | None = None
        self.planned: frozenset[str] = frozenset()
        self.done = 0
        self.result: RunResult | None = None
        self.nodes: dict[str, NodeRun] = {}
        self.logs: list[LogLine] = []
        #: set by the panel that opened a stored run: its summary line
        self.label = ""
        self.source = ""
        self._dirty: set[str] = set()
        self._run_dirty = False
        self._reset = True
        self._logs_flushed = 0

    # ------------------------------------------------------------ queries
    @property
    def total(self) -> int:
        return len(self.planned)

    @property
    def active(self) -> bool:
        return self.status in ("starting", "running")

    @property
    def usage(self) -> dict[str, Any] | None:
        return self.result.usage if self.result is not None else None

    def node(self, node_id: str) -> NodeRun | None:
        return self.nodes.get(node_id)

    def elapsed_ms(self, now: float) -> float:
        if self.duration_ms is not None:
            return self.duration_ms
        return (now - self.t0) * 1000.0 if self.t0 is not None else 0.0

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for run in self.nodes.values():
            if not run.stale:
                out[run.status] = out.get(run.status, 0) + 1
        return out

    # -------------------------------------------------------------- begin
    def begin(self, mode: str = "run", target: str | None = None) -> None:
        """A run is being prepared (validated): states of the last run stay
        until the engine starts, so that a refused start loses nothing."""
        self.mode, self.target = mode, target
        self.status = "starting"
        self._run_dirty = True

    def abort(self, previous_status: str) -> None:
        """The run could not start."""
        self.status = previous_status
        self._run_dirty = True

    # -------------------------------------------------------------- events
    def apply(self, event: Event) -> None:
        """Take one engine event into the state (announced at the next flush)."""
        handler = _HANDLERS.get(type(event))
        if handler is not None:
            handler(self, event)

    def _started_run(self, ev: RunStarted) -> None:
        partial = len(ev.planned) != len(ev.node_ids)
        previous = self.nodes
        self.nodes = {}
        if partial:  # nodes this run does not touch keep their last state
            for node_id in ev.node_ids:
                old = previous.get(node_id)
                if old is not None and node_id not in ev.planned and old.finished:
                    old.stale = True
                    self.nodes[node_id] = old
        for node_id in ev.planned:
            self.nodes[node_id] = NodeRun()
        self.run_id = ev.run_id
        self.workflow_name = ev.workflow_name
        self.started_at = ev.started_at
        self.t0 = ev.time
        self.duration_ms = None
        self.status = "running"
        self.planned = frozenset(ev.planned)
        self.done = 0
        self.result = None
        self.logs = []
        self._logs_flushed = 0
        self._reset = True
        self._log(
            ev, "", "info", f"Run started: {len(ev.planned)} of {plural(len(ev.node_ids), 'node')}"
        )

    def _resolve(self, node_id: str, run: NodeRun, status: str) -> None:
        if not run.finished and node_id in self.planned:
            self.done += 1
            self._run_dirty = True
        run.status = status
        run.stale = False
        self._dirty.add(node_id)

    def _get(self, node_id: str) -> NodeRun:
        run = self.nodes.get(node_id)
        if run is None or run.stale:
            run = self.nodes[node_id] = NodeRun()
        return run

    def _node_started(self, ev: NodeStarted) -> None:
        run = self._get(ev.node_id)
        run.status = RUNNING
        run.attempt = ev.attempt
        run.attempts = max(run.attempts, ev.attempt)
        run.started = ev.time if run.started is None else run.started
        run.retry_at = None
        if ev.items is not None:
            run.items = ev.items
        self._dirty.add(ev.node_id)
        if ev.attempt > 1:
            self._log(ev, ev.node_id, "info", f"attempt {ev.attempt}/{run.max_attempts}")
        else:
            self.logs.append(LogLine(ev.time, ev.node_id, "debug", ev))

    def _node_retrying(self, ev: NodeRetrying) -> None:
        run = self._get(ev.node_id)
        run.status = RETRYING
        run.attempt = ev.attempt
        run.max_attempts = ev.max_attempts
        run.retry_delay_s = ev.delay_s
        run.retry_at = ev.time + ev.delay_s
        run.error = ev.error
        self._dirty.add(ev.node_id)
        item = f" (item {ev.item_index})" if ev.item_index is not None else ""
        self._log(
            ev,
            ev.node_id,
            "warning",
            f"attempt {ev.attempt}/{ev.max_attempts} failed{item}: {_error_line(ev.error)}; "
            f"retrying in {ev.delay_s:.1f} s",
        )

    def _node_log(self, ev: NodeLog) -> None:
        level = ev.level.lower() if ev.level.lower() in LEVELS else "info"
        self._log(ev, ev.node_id, level, ev.message)

    def _node_succeeded(self, ev: NodeSucceeded) -> None:
        run = self._get(ev.node_id)
        run.output = ev.output
        run.has_output = True
        run.duration_ms = ev.duration_ms
        run.attempts = ev.attempts
        run.ports = tuple(ev.ports) if ev.ports is not None else None
        run.reused = ev.reused
        run.usage = ev.usage
        run.retry_at = None
        self._resolve(ev.node_id, run, ev.status)
        self.logs.append(LogLine(ev.time, ev.node_id, "info", ev))

    def _node_failed(self, ev: NodeFailed) -> None:
        run = self._get(ev.node_id)
        run.error = ev.error
        run.traceback = ev.traceback
        run.duration_ms = ev.duration_ms
        run.attempts = ev.attempts
        run.continued = ev.continued
        run.retry_at = None
        if ev.continued:  # the error object travels on as the output
            run.output, run.has_output, run.ports = ev.error, True, None
        self._resolve(ev.node_id, run, "failed")
        self.logs.append(LogLine(ev.time, ev.node_id, "error", ev))

    def _node_skipped(self, ev: NodeSkipped) -> None:
        if ev.reason == NOT_IN_RUN and ev.node_id not in self.planned:
            return  # outside a partial run: its earlier state (if any) stays
        run = self._get(ev.node_id)
        run.reason = ev.reason
        self._resolve(ev.node_id, run, "skipped")
        self.logs.append(LogLine(ev.time, ev.node_id, "debug", ev))

    def _node_cancelled(self, ev: NodeCancelled) -> None:
        run = self._get(ev.node_id)
        run.duration_ms = ev.duration_ms if ev.duration_ms else run.duration_ms
        run.attempts = max(run.attempts, ev.attempts)
        run.retry_at = None
        run.reason = ev.reason or run.reason  # why: the output panel and tooltip say it
        self._resolve(ev.node_id, run, "cancelled")
        self.logs.append(LogLine(ev.time, ev.node_id, "warning", ev))

    def _finished_run(self, ev: RunFinished) -> None:
        self.status = ev.status
        self.duration_ms = ev.duration_ms
        self.result = ev.result
        self._run_dirty = True
        level = "info" if ev.status == "succeeded" else "error"
        self._log(ev, "", level, f"Run {ev.status} in {format_ms(ev.duration_ms)}")

    def _log(self, ev: Event, node_id: str, level: str, message: str) -> None:
        self.logs.append(LogLine(ev.time, node_id, level, message))

    # --------------------------------------------------------------- flush
    def flush(self) -> RunChange | None:
        """Announce what changed since the last flush (nothing: no event)."""
        if not (
            self._dirty or self._run_dirty or self._reset or self._logs_flushed < len(self.logs)
        ):
            return None
        change = RunChange(
            nodes=frozenset(self._dirty),
            run=self._run_dirty or self._reset,
            logs_from=0 if self._reset else self._logs_flushed,
            reset=self._reset,
        )
        self._dirty = set()
        self._run_dirty = False
        self._reset = False
        self._logs_flushed = len(self.logs)
        self.changed.emit(change)
        return change

    def touch_all(self) -> None:
        """Announce everything again at the next flush (another view attached)."""
        self._reset = True

    # ------------------------------------------------------------- stored
    @classmethod
    def from_result(cls, result: RunResult, label: str = "", source: str = "") -> RunState:
        """A read-only state showing a finished (e.g. stored) run."""
        state = cls(read_only=True)
        state.run_id = result.run_id
        state.workflow_name = result.workflow_name
        state.status = result.status
        state.started_at = result.started_at
        state.duration_ms = result.duration_ms
        state.result = result
        state.label = label
        state.source = source
        state.planned = frozenset(nid for nid, r in result.nodes.items() if r.reason != NOT_IN_RUN)
        for node_id, node in result.nodes.items():
            if node.reason == NOT_IN_RUN:
                continue
            state.nodes[node_id] = node_run_of(node)
            state.done += 1
            state.logs.append(LogLine(0.0, node_id, _result_level(node), _result_line(node)))
        state.logs.append(
            LogLine(0.0, "", "info", f"Run {result.status} in {format_ms(result.duration_ms)}")
        )
        state._reset = True
        return state


_HANDLERS: dict[type, Any] = {
    RunStarted: RunState._started_run,
    NodeStarted: RunState._node_started,
    NodeRetrying: RunState._node_retrying,
    NodeLog: RunState._node_log,
    NodeSucceeded: RunState._node_succeeded,
    NodeFailed: RunState._node_failed,
    NodeSkipped: RunState._node_skipped,
    NodeCancelled: RunState._node_cancelled,
    RunFinished: RunState._finished_run,
}


def node_run_of(node: NodeResult) -> NodeRun:
    has_output = node.status in ("succeeded", "pinned") or (
        node.status == "failed" and node.output is not None
    )
    return NodeRun(
        status=node.status,
        attempts=node.attempts,
        duration_ms=node.duration_ms,
        error=node.error,
        output=node.output,
        has_output=has_output,
        ports=tuple(node.ports) if node.ports is not None else None,
        reused=node.reused,
        usage=node.usage,
        reason=node.reason,
        continued=node.status == "failed" and node.output is not None,
    )


def _error_line(error: Mapping[str, Any] | None) -> str:
    """The error in people's words ("Connection refused by 127.0.0.1:9"),
    with its code; the Error tab keeps the engine's message."""
    if not error:
        return "unknown error"
    from flowdesk.editor.problems import human_error  # (problems imports document)

    headline, _hint = human_error(dict(error))
    return f"{headline} ({error.get('code', 'ERROR')})"


def _result_level(node: NodeResult) -> str:
    return {"failed": "error", "cancelled": "warning", "skipped": "debug"}.get(node.status, "info")


def _result_line(node: NodeResult) -> str:
    if node.status == "failed":
        return f"failed: {_error_line(node.error)}"
    if node.status == "skipped":
        return f"skipped: {node.reason or ''}"
    if node.status == "cancelled" and node.reason:
        return f"cancelled after {format_ms(node.duration_ms)}: {node.reason}"
    extra = " (reused)" if node.reused else ""
    return f"{node.status} in {format_ms(node.duration_ms)}{extra}"


# ------------------------------------------------------------------ badges
def badge(run: NodeRun | None, now: float) -> tuple[str, str] | None:
    """``(status, text)`` shown under a node: ``("succeeded", "12 ms")``,
    ``("retrying", "retry 2/3 in 1.2 s")``…; None when the node has no state."""
    if run is None:
        return None
    status = run.status
    if status == QUEUED:
        return status, "queued"
    if status == RUNNING:
        elapsed = (now - run.started) * 1000.0 if run.started is not None else 0.0
        parts = [format_ms(elapsed)]
        if run.items is not None:
            parts.append(plural(run.items, "item"))
        if run.attempt > 1:
            parts.append(f"attempt {run.attempt}/{run.max_attempts}")
        return status, " · ".join(parts)
    if status == RETRYING:
        left = max(0.0, (run.retry_at or now) - now)
        return status, f"retry {run.attempt + 1}/{run.max_attempts} in {left:.1f} s"
    parts = []
    if status == "pinned":
        parts.append("pinned")
    elif status == "skipped":
        parts.append("skipped")
    elif status == "cancelled":
        parts.append("cancelled")
    elif status == "failed":
        parts.append(str((run.error or {}).get("code", "failed")))
    if status in ("succeeded", "failed", "cancelled") and run.duration_ms:
        parts.append(format_ms(run.duration_ms))
    if run.attempts > 1:
        parts.append(f"{run.attempts} attempts")
    if run.reused:
        parts.append("reused")
    if run.usage and run.usage.get("total_tokens"):
        parts.append(f"{run.usage['total_tokens']} tok")
    return status, " · ".join(parts) if parts else status


def tooltip(run: NodeRun) -> str:
    lines = [run.status.capitalize()]
    if run.reason:
        lines.append(run.reason)
    if run.error:
        lines.append(_error_line(run.error))
    if run.stale:
        lines.append("(from an earlier run)")
    return "\n".join(lines)


# ------------------------------------------------------------------ inputs
def node_inputs(
    state: RunState, edges_into: Iterable[EdgeKey], layout: tuple[tuple[str, bool], ...]
) -> tuple[dict[str, Any], dict[str, list[tuple[str, Any]]]]:
    """What a node received in the run shown, by the run's own rule (the
    engine's ``gather_inputs``): every input port of ``layout`` — a list for
    a port taking several edges, else the value or None — from the upstream
    outputs on the ports that carried one, in the order of ``edges_into``
    (file order); and, per port, which source sent what."""
    incoming = []
    received = []
    for source, source_port, _, port in edges_into:
        run = state.nodes.get(source)
        incoming.append((source, source_port, port))
        received.append(run.output if run is not None and run.carried(source_port) else NO_VALUE)
    return gather_inputs(incoming, received, layout)


def expression_scope(
    state: RunState,
    node_id: str,
    inputs: Mapping[str, Any],
    upstream: Iterable[str],
    variables: Mapping[str, Any],
    env_names: Sequence[str],
) -> dict[str, Any]:
    """The names an expression of ``node_id`` sees, from the run shown (the
    engine's ``node_scope``, over the outputs the run shown has)."""
    nodes = {}
    for source in upstream:
        run = state.nodes.get(source)
        if run is not None and run.has_output:
            nodes[source] = run.output
    return node_scope(
        dict(inputs),
        nodes,
        dict(variables),
        {name: os.environ.get(name) for name in env_names},
        {"id": state.run_id or "", "started_at": state.started_at},
    )


def merge_results(previous: RunResult | None, result: RunResult) -> RunResult:
    """A partial run's result completed with the earlier outputs of the nodes
    it did not touch — what the next "run selected node" reuses."""
    if previous is None:
        return result
    nodes = {}
    for node_id, node in result.nodes.items():
        earlier = previous.nodes.get(node_id)
        keep = node.reason == NOT_IN_RUN and earlier is not None
        nodes[node_id] = earlier if keep and earlier is not None else node
    return RunResult(
        run_id=result.run_id,
        status=result.status,
        started_at=result.started_at,
        duration_ms=result.duration_ms,
        nodes=nodes,
        workflow_name=result.workflow_name,
        usage=result.usage,
    )


@dataclass
class Overrides:
    """Variables set for runs from the variables panel (not saved)."""

    values: dict[str, Any] = field(default_factory=dict)

    def merged(self, defaults: Mapping[str, Any]) -> dict[str, Any]:
        return {**defaults, **self.values}
