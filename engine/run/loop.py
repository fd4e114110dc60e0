"""The run loop: one run from ``RunStarted`` to ``RunFinished``, tying the
scheduler (``scheduler``: what is ready), the attempts (``attempts``: retries,
timeouts), ``for_each`` (``for_each``) and config rendering
(``config_render``) together on one event loop.

- ready nodes are decided in ``_settle``: skipped (disabled, or an edge brought
  no value), pinned (their pinned value is the output), or started;
- a chain runs in one task: a node that makes its successor ready runs it
  next (yielding to the event loop every 5 ms so a GUI never freezes); at most
  ``settings.max_concurrency`` node tasks run at once;
- ``on_error: stop`` fails the run: running nodes are cancelled, nodes not yet
  started are skipped; ``continue`` makes the error object the node's output;
- ``cancel()`` cancels in-flight nodes at once (status ``cancelled``); nodes
  not started are ``cancelled`` too;
- every observable step is an event (``emit``), kept in ``history`` for late
  subscribers; a node's log lines are redacted of the run's secrets.
May import: every engine module but the CLI, history and validate. Main
name: ``Run`` (driven through ``engine.executor.Engine`` / ``RunHandle``).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import traceback
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ..bus import BUS
from ..context import RunServices
from ..credentials import CredentialResolver, env_secret_forms, redact
from ..errors import FlowdeskError
from ..events import (
    NOT_IN_RUN,
    Event,
    NodeCancelled,
    NodeFailed,
    NodeLog,
    NodeSkipped,
    NodeStarted,
    NodeSucceeded,
    RunFinished,
    RunStarted,
)
from ..expressions import Namespace
from ..metrics import CallStats
from ..model.workflow import Node, Workflow
from ..nodes.spec import NodeType, Routed
from ..results import NodeResult, RunResult
from .attempts import Attempts, Slots, Tally, continues_after
from .config_render import ConfigRenderer
from .failures import failure_report, internal
from .for_each import run_items
from .graph import Graph
from .owner import RunOwner
from .scheduler import Scheduler, gather_inputs, input_layout, partial_plan
from .scope import EnvNamespace, UpstreamOutputs, node_scope

log = logging.getLogger("flowdesk.engine.executor")

#: declared ``env.NAME`` values shorter than this are not redacted (a "1" or
#: "true" would blank every such character of the history)
MIN_REDACTED_ENV_CHARS = 4
#: a chain running in one task yields to the event loop this often (seconds)
YIELD_EVERY_S = 0.005

Listener = Callable[[Event], None]


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _log_source_line(message: str, level: str = "info") -> None:
    log.log(logging.WARNING if level == "warning" else logging.INFO, "%s", message)


class Run:
    """One run's state. Everything runs on one event loop: no locks needed."""

    def __init__(
        self,
        engine: RunOwner,
        workflow: Workflow,
        *,
        run_id: str,
        variables: dict[str, Any],
        data_root: Path,
        only: str | None,
        up_to: str | None,
        previous: RunResult | None,
        tool_sources: Any = None,
        source_pool: Any = None,
        configs: Mapping[str, BaseModel] | None = None,
    ) -> None:
        self.engine = engine
        self.metrics = engine.metrics
        #: node results by type not yet merged into ``metrics`` (``_flush_metrics``)
        self.counted: dict[str, CallStats] = {}
        self.workflow = workflow
        self.run_id = run_id
        self.started_at = utc_now_iso()
        self.t0 = time.monotonic()
        self.listeners: list[Listener] = []
        self.history: list[Event] = []
        self.task: asyncio.Task[None] | None = None
        self.result: RunResult | None = None
        self._seq = 0

        self.nodes = workflow.node_index()
        self.graph = Graph.of(workflow)
        self.order = self.graph.order
        # (looked up per type, not per node: a run may have 10,000 nodes of one type)
        names = dict.fromkeys(node.type for node in workflow.nodes)
        #: the node types of this run by name (``self.types[node.type]``)
        self.types: dict[str, type[NodeType]] = {name: engine.registry.get(name) for name in names}
        #: per type, its input ports: (name, takes several edges)
        self.input_layout = {
            node_type: input_layout(node_type) for node_type in self.types.values()
        }
        self.plan, self.reuse = partial_plan(self.graph, only, up_to, previous)
        self.previous = previous
        self.scheduler = Scheduler(self.graph, self.plan)
        self.results = self.scheduler.results
        self.outputs: dict[str, Any] = {}
        self.running: dict[str, asyncio.Task[None]] = {}
        self.stopping: str | None = None  # "failed" | "cancelled"
        self.stop_reason = ""
        self.finished = asyncio.Event()

        settings = workflow.settings
        # node tasks; each runs ready nodes one after another (see _settle)
        self.workers: set[asyncio.Task[None]] = set()
        self.max_workers = settings.max_concurrency
        env_names = set(workflow.env)
        environ = engine.environ
        self.env = EnvNamespace(
            {name: environ.get(name) for name in workflow.env},
            lambda key: (
                f'env.{key} is not declared in the workflow\'s "env" list'
                if key not in env_names
                else f"env.{key} is not set"
            ),
        )
        self.vars = Namespace(
            variables,
            lambda key: f"no variable {key!r} (variables: {', '.join(variables) or 'none'})",
        )
        self.run_info = {"id": run_id, "started_at": self.started_at}
        self.services = RunServices(
            run_id=run_id,
            started_at=self.started_at,
            data_root=data_root.resolve(),
            variables=variables,
            settings=settings,
            credentials=CredentialResolver(workflow.credentials, engine.secrets),
            expressions=engine.expressions,
            http_client_factory=engine.http_client_factory,
        )
        # FLOWDESK_SECRET_* values are redacted wherever they would appear,
        # whether or not a credential of this run uses them
        self.services.credentials.used_secrets.update(env_secret_forms(engine.environ))
        self.attempts = Attempts(
            services=self.services,
            settings=settings,
            renderer=ConfigRenderer(engine.expressions, configs),
            slots=Slots(settings.max_concurrency),
            emit=self.emit,
            stopping=lambda: self.stopping is not None,
        )
        #: whether the run closes its tool sources (not when handed in)
        self.owns_sources = tool_sources is None
        if tool_sources is not None:
            self.services.tool_sources = tool_sources
        elif workflow.sources:
            self.services.tool_sources = self._source_manager(source_pool)

    def _source_manager(self, pool: Any = None) -> Any:
        from ..sources.base import SourceEnv
        from ..sources.catalogue import make_render
        from ..sources.manager import SourceManager

        env = SourceEnv(
            workflow_dir=self.services.data_root,
            data_root=self.services.data_root,
            credentials=self.services.credentials,
            http_client=self.services.http_client,
            render=make_render(
                self.services.variables,
                self.engine.environ,
                self.workflow.env,
                self.engine.expressions,
            ),
            environ=self.engine.environ,
            log=_log_source_line,
            documents=self.engine.documents,
        )
        return SourceManager(self.workflow.sources, env, pool=pool)

    # --------------------------------------------------------------- events
    def emit(self, kind: type[Event], **fields: Any) -> None:
        """Make the next event of the run and publish it."""
        if kind is NodeLog and (self.env.read or self.services.credentials.used_secrets):
            fields["message"] = redact(fields["message"], self.redacted_values())
        self.publish(kind(self.run_id, self.next_seq(), time.monotonic(), **fields))

    def next_seq(self) -> int:
        """The sequence number of the run's next event."""
        self._seq += 1
        return self._seq

    def publish(self, event: Event) -> None:
        """Keep ``event`` in the history, hand it to the bus and the listeners
        (the run's two events per node are made here directly, not through
        ``emit``'s keyword arguments)."""
        self.history.append(event)
        if BUS.active:
            BUS.publish(event)
        if not self.listeners:
            return
        for listener in self.listeners:
            try:
                listener(event)
            except Exception:
                log.exception("event listener failed on %s", type(event).__name__)

    def redacted_values(self) -> list[str]:
        """Secrets handed out in this run and the declared env values it read."""
        values = list(self.services.credentials.used_secrets)
        for name in self.env.read:
            value = self.env.get(name)
            if isinstance(value, str) and len(value) >= MIN_REDACTED_ENV_CHARS:
                values.append(value)
        return values

    # ----------------------------------------------------------------- main
    async def main(self) -> None:
        node_ids = tuple(self.order)
        whole = len(self.plan) == len(node_ids)  # (not a partial run)
        self.emit(
            RunStarted,
            workflow_name=self.workflow.name,
            node_ids=node_ids,
            planned=node_ids if whole else tuple(n for n in node_ids if n in self.plan),
            started_at=self.started_at,
        )
        try:
            # Secrets of the planned nodes' credentials, looked up in a worker
            # thread (the keyring blocks) so that nodes find them in memory.
            if self.workflow.credentials:
                await self.services.credentials.prefetch(
                    credential
                    for node in self.workflow.nodes
                    if node.id in self.plan
                    and isinstance(
                        credential := node.config.get("credential")
                        or self._source_credential(node),
                        str,
                    )
                )
            for node_id in () if whole else self.order:
                if node_id in self.reuse:
                    self._reuse(node_id)
                elif node_id not in self.plan:
                    self._skip(node_id, NOT_IN_RUN)
            self.scheduler.queue_sources()
            self._settle()
            if not self.scheduler.complete or self.running:
                await self.finished.wait()
        except asyncio.CancelledError:
            self.cancel()
            await self._drain()
            self._finish()
            raise
        finally:
            sources = self.services.tool_sources
            if sources is not None and self.owns_sources:
                # Also on failure and cancel: MCP processes must not outlive the run.
                try:
                    await sources.aclose()
                except Exception:
                    log.exception("closing the run's tool sources failed")
            try:
                await self.services.aclose()
            except Exception:
                log.exception("closing the run's HTTP client failed")
        self._finish()

    def _source_credential(self, node: Node) -> Any:
        """The credential of the source a ``tool.call`` node uses (prefetched)."""
        name = node.config.get("source") if node.type == "tool.call" else None
        entry = self.workflow.sources.get(name) if isinstance(name, str) else None
        return entry.get("credential") if entry is not None else None

    async def _drain(self) -> None:
        while self.running:
            await asyncio.gather(*self.running.values(), return_exceptions=True)

    def _finish(self) -> None:
        if self.result is not None:
            return
        self._flush_metrics()
        reason = self.stop_reason or "the run stopped"
        for node_id in () if self.scheduler.complete else self.order:
            if node_id not in self.results:
                if self.stopping == "cancelled":
                    self.scheduler.resolve(node_id, NodeResult(status="cancelled", reason=reason))
                    self.emit(
                        NodeCancelled, node_id=node_id, duration_ms=0.0, attempts=0, reason=reason
                    )
                else:
                    self._skip(node_id, reason)
        if self.stopping == "cancelled":
            status = "cancelled"
        elif self.stopping == "failed":
            status = "failed"
        else:
            status = "succeeded"
        duration_ms = (time.monotonic() - self.t0) * 1000.0
        self.result = RunResult(
            run_id=self.run_id,
            status=status,
            started_at=self.started_at,
            duration_ms=duration_ms,
            nodes={node_id: self.results[node_id] for node_id in self.order},
            workflow_name=self.workflow.name,
            usage=dict(self.services.usage) if self.services.usage else None,
        )
        self.emit(RunFinished, status=status, duration_ms=duration_ms, result=self.result)

    def cancel(self) -> None:
        if self.result is not None:
            return
        if self.stopping is None:
            self.stopping = "cancelled"
            self.stop_reason = "the run was cancelled"
        for task in list(self.running.values()):
            task.cancel()
        if not self.running:
            self.finished.set()

    # ----------------------------------------------------------- scheduling
    def _skip(self, node_id: str, reason: str) -> None:
        self.scheduler.resolve(node_id, NodeResult(status="skipped", reason=reason))
        self.emit(NodeSkipped, node_id=node_id, reason=reason)
        self.scheduler.deliver(node_id, (), None)

    def _reuse(self, node_id: str) -> None:
        assert self.previous is not None
        earlier = self.previous.nodes[node_id]
        result = NodeResult(
            status=earlier.status,
            output=earlier.output,
            attempts=earlier.attempts,
            duration_ms=earlier.duration_ms,
            error=earlier.error,
            reused=True,
            ports=earlier.ports,
        )
        self.scheduler.resolve(node_id, result)
        self.outputs[node_id] = earlier.output
        self.emit(
            NodeSucceeded,
            node_id=node_id,
            status=earlier.status,
            output=earlier.output,
            duration_ms=earlier.duration_ms,
            attempts=earlier.attempts,
            ports=tuple(earlier.ports) if earlier.ports is not None else None,
            reused=True,
        )
        self.scheduler.deliver(node_id, earlier.ports, earlier.output)

    def _settle(self, inline: bool = False) -> str | None:
        """Decide every ready node: skip, pin, or start it.

        With ``inline``, the first node to start is returned instead, for the
        calling node task to run next itself: a chain then runs in one task,
        without a task and an event-loop turn per node.
        """
        chosen: str | None = None
        ready = self.scheduler.ready
        while ready:
            node_id = ready.popleft()
            if node_id in self.results or node_id in self.running:
                continue
            if self.stopping is not None:
                continue
            node = self.nodes[node_id]
            if node.disabled:
                self._skip(node_id, "disabled")
                continue
            if node.pinned is not None:
                self.scheduler.resolve(node_id, NodeResult(status="pinned", output=node.pinned))
                self.outputs[node_id] = node.pinned
                self.emit(
                    NodeSucceeded,
                    node_id=node_id,
                    status="pinned",
                    output=node.pinned,
                    duration_ms=0.0,
                    attempts=0,
                )
                self.scheduler.deliver(node_id, None, node.pinned)
                continue
            source = self.scheduler.missing_source(node_id, self.types[node.type].partial_inputs)
            if source is not None:
                self._skip(node_id, f"no value arrived from {source!r}")
                continue
            if inline and chosen is None:
                chosen = node_id  # the caller registers it as running
                continue
            if len(self.workers) >= self.max_workers:
                # Every worker is busy: this node and the rest of the queue
                # wait for the next free one (a 10,000-node fan-out runs on a
                # few tasks, not 10,000). Stopping here, not scanning on, keeps
                # the scheduler linear: each freed worker looks at one node.
                ready.appendleft(node_id)
                break
            holder = [node_id]
            task = asyncio.get_running_loop().create_task(self._node_task(holder))
            self.running[node_id] = task
            self.workers.add(task)
            task.add_done_callback(functools.partial(self._task_done, holder))
        if (
            chosen is None
            and not self.running
            and (self.stopping is not None or self.scheduler.complete)
        ):
            self.finished.set()
        return chosen

    # ------------------------------------------------------------ execution
    def is_upstream(self, candidate: str, node_id: str) -> bool:
        return self.graph.is_upstream(candidate, node_id)

    async def _node_task(self, holder: list[str]) -> None:
        """Run a node, then the nodes it makes ready that it can run inline.

        ``holder[0]`` is the node being run (read by ``_task_done``). The loop
        yields to the event loop every few milliseconds so that a long chain
        of instant nodes never freezes a GUI or delays a cancel.
        """
        last_yield = time.monotonic()
        task = asyncio.current_task()
        assert task is not None
        try:
            while True:
                following = await self._execute_node(holder[0])
                if following is None:
                    return
                holder[0] = following
                self.running[following] = task
                now = time.monotonic()
                if now - last_yield > YIELD_EVERY_S:
                    self._flush_metrics()
                    await asyncio.sleep(0)
                    last_yield = time.monotonic()
        finally:
            self._flush_metrics()

    def _count(self, node_type: str, duration_s: float, ok: bool) -> None:
        """One node result for the metrics (merged in by ``_flush_metrics``)."""
        stats = self.counted.get(node_type)
        if stats is None:
            stats = self.counted[node_type] = CallStats()
        stats.add(duration_s, ok)

    def _flush_metrics(self) -> None:
        if self.counted:
            self.metrics.merge_types(self.counted)
            self.counted.clear()

    def _task_done(self, holder: list[str], task: asyncio.Task[None]) -> None:
        """Backstop: a node task that ended without a result (cancelled before it
        started, or a bug in the engine) still resolves, so the run never hangs."""
        node_id = holder[0]
        self.running.pop(node_id, None)
        self.workers.discard(task)
        if node_id not in self.results:
            if task.cancelled():
                reason = self.stop_reason or "cancelled"
                self.scheduler.resolve(node_id, NodeResult(status="cancelled", reason=reason))
                self.emit(
                    NodeCancelled, node_id=node_id, duration_ms=0.0, attempts=0, reason=reason
                )
            else:
                exc = task.exception()
                log.error("engine error while running node %s", node_id, exc_info=exc)
                error = internal(exc if exc is not None else RuntimeError("no result"))
                self._fail(node_id, error, time.monotonic(), Tally(), None)
        self._settle()

    async def _execute_node(self, node_id: str) -> str | None:
        """Run one node to its result; return the next node to run inline."""
        node = self.nodes[node_id]
        node_type = self.types[node.type]
        started = time.monotonic()
        tally = Tally()
        try:
            inputs, sources = gather_inputs(
                self.graph.incoming[node_id],
                self.scheduler.received[node_id],
                self.input_layout[node_type],
            )
            scope = node_scope(
                inputs,
                UpstreamOutputs(self.outputs, self.graph, node_id),
                self.vars,
                self.env,
                self.run_info,
            )
            if node.for_each is not None:
                value, ports = await run_items(
                    self.attempts, node, node_type, inputs, sources, scope, tally
                )
            else:
                self._seq += 1  # (``next_seq`` inlined, as below)
                self.publish(NodeStarted(self.run_id, self._seq, started, node_id, 1))
                out = await self.attempts.run(node, node_type, inputs, sources, scope, tally)
                value, ports = (
                    (out.value, tuple(out.ports)) if isinstance(out, Routed) else (out, None)
                )
        except asyncio.CancelledError:
            self.running.pop(node_id, None)
            duration = (time.monotonic() - started) * 1000.0
            attempts = tally.attempts
            reason = self.stop_reason or "cancelled"
            self.scheduler.resolve(
                node_id,
                NodeResult(
                    status="cancelled",
                    attempts=max(attempts, 1),
                    duration_ms=duration,
                    reason=reason,
                ),
            )
            self.emit(
                NodeCancelled,
                node_id=node_id,
                duration_ms=duration,
                attempts=attempts,
                reason=reason,
            )
            self._settle()
            return None
        except FlowdeskError as error:
            self._fail(node_id, error, started, tally, None)
            return self._settle(inline=True)
        except Exception as exc:  # noqa: BLE001 - the engine must survive any node
            self._fail(node_id, internal(exc), started, tally, traceback.format_exc())
            return self._settle(inline=True)
        attempts = tally.attempts
        usage = tally.usage
        del self.running[node_id]
        now = time.monotonic()
        duration = (now - started) * 1000.0
        self._count(node.type, now - started, True)
        # (positional arguments, in field order: keywords cost a dataclass's
        # __init__ twice as much, and these two are made for every node)
        self.results[node_id] = NodeResult(
            "succeeded",  # status
            value,  # output
            attempts,
            duration,  # duration_ms
            None,  # error
            usage,
            False,  # reused
            None,  # reason
            list(ports) if ports is not None else None,
        )
        self.outputs[node_id] = value
        self._seq += 1
        self.publish(
            NodeSucceeded(
                self.run_id,
                self._seq,
                now,  # time
                node_id,
                "succeeded",  # status
                value,  # output
                duration,  # duration_ms
                attempts,
                ports,
                False,  # reused
                usage,
            )
        )
        self.scheduler.deliver(node_id, ports, value)
        return self._settle(inline=True)

    def _fail(
        self,
        node_id: str,
        error: FlowdeskError,
        started: float,
        tally: Tally,
        trace: str | None,
    ) -> None:
        self.running.pop(node_id, None)
        attempts = max(tally.attempts, 1)
        node = self.nodes[node_id]
        now = time.monotonic()
        duration = (now - started) * 1000.0
        self._count(node.type, now - started, False)
        payload, trace = failure_report(error, trace, self.redacted_values())
        continued = continues_after(node, error, self.stopping is not None)
        self.scheduler.resolve(
            node_id,
            NodeResult(
                status="failed",
                output=payload if continued else None,
                attempts=attempts,
                duration_ms=duration,
                error=payload,
                usage=tally.usage,
            ),
        )
        self.emit(
            NodeFailed,
            node_id=node_id,
            error=payload,
            duration_ms=duration,
            attempts=attempts,
            continued=continued,
            traceback=trace,
        )
        if continued:
            self.outputs[node_id] = payload
            self.scheduler.deliver(node_id, None, payload)
        elif self.stopping is None:
            self.stopping = "failed"
            self.stop_reason = f"the run stopped: node {node_id!r} failed"
            for task in list(self.running.values()):
                task.cancel()
