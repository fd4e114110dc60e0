"""The asyncio executor.

Semantics (spec, "Edge", "Node", "Run result"):
- a node starts as soon as every edge into it has delivered (a value, or "no
  value"); independent branches run concurrently; node attempts and
  ``for_each`` items in flight are bounded by ``settings.max_concurrency``;
- a node is ``skipped`` when an edge into it carries no value (its source was
  skipped, or it leaves the untaken port of a ``flow.if``), except for types
  with ``partial_inputs`` (``flow.merge``), skipped only when nothing arrived;
- ``disabled`` nodes are skipped; ``pinned`` nodes output their pinned value;
- an attempt that fails with a retryable error is retried (full-jitter
  exponential backoff, or exactly the ``retry_after`` the error carries);
  ``timeout_s`` bounds each attempt;
- ``on_error: stop`` fails the run: running nodes are cancelled, nodes not yet
  started are skipped; ``continue`` makes the error object the node's output;
- ``RunHandle.cancel()`` cancels in-flight nodes at once (status
  ``cancelled``); nodes not started are ``cancelled`` too;
- partial runs: ``only=ID`` runs one node, reusing the upstream outputs of an
  earlier run and running the upstream nodes that have none; ``up_to=ID`` runs
  that node and all its ancestors.
Everything observable is an event of ``engine.events``.
May import: every engine module but the CLI and history. Main classes:
``Engine``, ``RunHandle``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import random
import time
import traceback
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from .bus import BUS
from .context import NodeContext, RunServices, merge_usage
from .credentials import (
    CredentialResolver,
    EnvSecretStore,
    SecretStore,
    env_secret_forms,
    redact,
)
from .errors import (
    ConfigError,
    ExpressionError,
    FlowdeskError,
    InternalError,
    NodeTimeoutError,
    WorkflowLoadError,
    cause_of,
    json_type,
)
from .events import (
    NOT_IN_RUN,
    Event,
    NodeCancelled,
    NodeFailed,
    NodeLog,
    NodeRetrying,
    NodeSkipped,
    NodeStarted,
    NodeSucceeded,
    RunFinished,
    RunStarted,
)
from .expressions import (
    Compiled,
    ExpressionEngine,
    Namespace,
    node_deadline,
    reset_node_deadline,
)
from .io import format_location
from .metrics import METRICS, CallMetrics
from .model.workflow import Node, Workflow
from .nodes.spec import NodeType, Routed
from .registry import NodeRegistry
from .results import NodeResult, RunResult
from .retry import NO_RETRY, Policy, effective_policy, resolve
from .validate import validate

log = logging.getLogger(__name__)

DEFAULT_ITEM_CONCURRENCY = 8
#: declared ``env.NAME`` values shorter than this are not redacted (a "1" or
#: "true" would blank every such character of the history)
MIN_REDACTED_ENV_CHARS = 4
#: characters of the original exception's message kept in ``details.cause``
MAX_CAUSE_CHARS = 500
_NO_VALUE = object()

Listener = Callable[[Event], None]


def _log_source_line(message: str, level: str = "info") -> None:
    log.log(logging.WARNING if level == "warning" else logging.INFO, "%s", message)


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def backoff_delay(attempt: int, base_s: float, max_s: float) -> float:
    """Full jitter: random(0, min(max, base × 2^attempt)); ``attempt`` from 0."""
    return random.uniform(0.0, min(max_s, base_s * (2.0**attempt)))


class Engine:
    """Runs workflows. One engine serves many runs (CLI, editor, tests)."""

    def __init__(
        self,
        registry: NodeRegistry,
        *,
        secrets: SecretStore | None = None,
        environ: Mapping[str, str] | None = None,
        http_client_factory: Callable[[], Any] | None = None,
        metrics: CallMetrics | None = None,
    ) -> None:
        self.registry = registry
        #: per-type call metrics of this engine's runs (the process's by default)
        self.metrics = metrics if metrics is not None else METRICS
        self.secrets: SecretStore = secrets if secrets is not None else EnvSecretStore()
        self.environ = os.environ if environ is None else environ
        self.http_client_factory = http_client_factory
        #: compiled expressions are cached across runs of this engine
        self.expressions = ExpressionEngine()

    def start(
        self,
        workflow: Workflow,
        *,
        variables: Mapping[str, Any] | None = None,
        data_root: str | os.PathLike[str] | None = None,
        only: str | None = None,
        up_to: str | None = None,
        previous: RunResult | None = None,
        listeners: Iterable[Listener] = (),
        check: bool = True,
        run_id: str | None = None,
        tool_sources: Any = None,
        source_pool: Any = None,
    ) -> RunHandle:
        """Start a run on the running event loop and return its handle.

        ``tool_sources``: a ``SourceManager`` owned by the caller (the editor's
        warm sources), used instead of one the run opens and closes itself.
        ``source_pool``: a ``SourcePool`` the run leases its MCP sources from
        (the editor's warm sessions; they stay open after the run).
        Raises ``WorkflowLoadError`` when ``check`` and the workflow is invalid.
        """
        if check:
            issues = validate(workflow, self.registry)
            if issues:
                raise WorkflowLoadError(issues)
        for target in (only, up_to):
            if target is not None and workflow.node(target) is None:
                raise ValueError(f"no node {target!r} in the workflow")
        run = _Run(
            self,
            workflow,
            run_id=run_id or uuid.uuid4().hex,
            variables={**workflow.variables, **(variables or {})},
            data_root=Path(data_root) if data_root is not None else Path.cwd(),
            only=only,
            up_to=up_to,
            previous=previous,
            tool_sources=tool_sources,
            source_pool=source_pool,
        )
        handle = RunHandle(run)
        for listener in listeners:
            handle.subscribe(listener)
        run.task = asyncio.get_running_loop().create_task(run.main(), name=f"run-{run.run_id}")
        return handle

    async def run(self, workflow: Workflow, **kwargs: Any) -> RunResult:
        """Start a run and wait for its result."""
        return await self.start(workflow, **kwargs).wait()


class RunHandle:
    """A run in progress: its events, its result, and a way to cancel it."""

    def __init__(self, run: _Run) -> None:
        self._run = run
        self.run_id = run.run_id

    @property
    def started_at(self) -> str:
        return self._run.started_at

    @property
    def workflow(self) -> Workflow:
        return self._run.workflow

    def secrets_used(self) -> list[str]:
        """Values to redact from what stores and logs keep: the secrets handed
        to nodes in this run, and the values of declared ``env`` names it read."""
        return self._run.redacted_values()

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener(event)`` for every event (past ones first)."""
        for event in self._run.history:
            listener(event)
        self._run.listeners.append(listener)

    async def events(self) -> AsyncIterator[Event]:
        """Every event of the run, from the first, ending with ``RunFinished``."""
        queue: asyncio.Queue[Event] = asyncio.Queue()
        self.subscribe(queue.put_nowait)
        while True:
            event = await queue.get()
            yield event
            if isinstance(event, RunFinished):
                return

    def cancel(self) -> None:
        """Cancel the run: in-flight nodes are cancelled at once."""
        self._run.cancel()

    @property
    def done(self) -> bool:
        return self._run.result is not None

    @property
    def result(self) -> RunResult | None:
        return self._run.result

    async def wait(self) -> RunResult:
        assert self._run.task is not None
        await asyncio.shield(self._run.task)
        assert self._run.result is not None
        return self._run.result


class _Run:
    """One run's state. Everything runs on one event loop: no locks needed."""

    def __init__(
        self,
        engine: Engine,
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
    ) -> None:
        self.engine = engine
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
        self.order = [node.id for node in workflow.nodes]
        self.types: dict[str, type[NodeType]] = {
            node.id: engine.registry.get(node.type) for node in workflow.nodes
        }
        self.input_layout = {
            node_id: tuple((p.name, p.multiple) for p in node_type.inputs)
            for node_id, node_type in self.types.items()
        }
        self.port_names = {
            node_id: tuple(p.name for p in node_type.outputs)
            for node_id, node_type in self.types.items()
        }
        # One instance per node type per run: execute() must keep no state
        # between calls other than through ctx.services.shared.
        self._instances: dict[type[NodeType], NodeType] = {}
        self._plans: dict[str, list[_PlanEntry] | None] = {}
        # incoming: per target, its (source, source_port, target_port) in edge order
        self.incoming: dict[str, list[tuple[str, str, str]]] = {nid: [] for nid in self.order}
        # outgoing: per source, its (target, position in the target's incoming, source_port)
        self.outgoing: dict[str, list[tuple[str, int, str]]] = {nid: [] for nid in self.order}
        for edge in workflow.edges:
            target = edge.target.node
            index = len(self.incoming[target])
            self.incoming[target].append((edge.source.node, edge.source.port, edge.target.port))
            self.outgoing[edge.source.node].append((target, index, edge.source.port))
        self.pending = {nid: len(self.incoming[nid]) for nid in self.order}
        self.received: dict[str, list[Any]] = {
            nid: [_NO_VALUE] * len(self.incoming[nid]) for nid in self.order
        }
        self.results: dict[str, NodeResult] = {}
        self.outputs: dict[str, Any] = {}
        self.running: dict[str, asyncio.Task[None]] = {}
        self.ready: deque[str] = deque()
        self.stopping: str | None = None  # "failed" | "cancelled"
        self.stop_reason = ""
        self.finished = asyncio.Event()
        self._upstream_cache: dict[tuple[str, str], bool] = {}
        self._config_cache: dict[str, Any] = {}
        self._policies: dict[str, Policy] = {}
        self._default_policy = resolve(workflow.settings.retry) or NO_RETRY

        self.plan, self.reuse = self._plan(only, up_to, previous)
        self.previous = previous

        settings = workflow.settings
        self.slots = _Slots(settings.max_concurrency)
        # node tasks; each runs ready nodes one after another (see _settle)
        self.workers: set[asyncio.Task[None]] = set()
        self.max_workers = settings.max_concurrency
        env_names = set(workflow.env)
        environ = engine.environ
        self.env = _EnvNamespace(
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
        #: whether the run closes its tool sources (not when handed in)
        self.owns_sources = tool_sources is None
        if tool_sources is not None:
            self.services.tool_sources = tool_sources
        elif workflow.sources:
            self.services.tool_sources = self._source_manager(source_pool)

    def _source_manager(self, pool: Any = None) -> Any:
        from .sources.base import SourceEnv
        from .sources.catalogue import make_render
        from .sources.manager import SourceManager

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
        )
        return SourceManager(self.workflow.sources, env, pool=pool)

    # ----------------------------------------------------------------- plan
    def _ancestors(self, node_id: str) -> set[str]:
        seen: set[str] = set()
        stack = [node_id]
        while stack:
            for source, _, _ in self.incoming[stack.pop()]:
                if source not in seen:
                    seen.add(source)
                    stack.append(source)
        return seen

    def _plan(
        self, only: str | None, up_to: str | None, previous: RunResult | None
    ) -> tuple[set[str], set[str]]:
        """Nodes to execute, and nodes whose earlier output is reused."""
        if up_to is not None:
            return {up_to} | self._ancestors(up_to), set()
        if only is None:
            return set(self.order), set()
        plan, reuse = {only}, set()
        stack = [only]
        while stack:
            for source, _, _ in self.incoming[stack.pop()]:
                if source in plan or source in reuse:
                    continue
                earlier = previous.nodes.get(source) if previous else None
                if earlier is not None and earlier.status in ("succeeded", "pinned"):
                    reuse.add(source)
                else:
                    plan.add(source)
                    stack.append(source)
        return plan, reuse

    # --------------------------------------------------------------- events
    def emit(self, kind: type[Event], **fields: Any) -> None:
        self._seq += 1
        if kind is NodeLog and (self.env.read or self.services.credentials.used_secrets):
            fields["message"] = redact(fields["message"], self.redacted_values())
        event = kind(self.run_id, self._seq, time.monotonic(), **fields)
        self.history.append(event)
        if BUS.active:
            BUS.publish(event)
        if not self.listeners:
            return
        for listener in self.listeners:
            try:
                listener(event)
            except Exception:
                log.exception("event listener failed on %s", kind.__name__)

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
        self.emit(
            RunStarted,
            workflow_name=self.workflow.name,
            node_ids=tuple(self.order),
            planned=tuple(nid for nid in self.order if nid in self.plan),
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
            for node_id in self.order:
                if node_id in self.reuse:
                    self._reuse(node_id)
                elif node_id not in self.plan:
                    self._skip(node_id, NOT_IN_RUN)
            for node_id in self.order:
                if node_id in self.plan and self.pending[node_id] == 0:
                    self.ready.append(node_id)
            self._settle()
            if len(self.results) < len(self.order) or self.running:
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
        reason = self.stop_reason or "the run stopped"
        for node_id in self.order:
            if node_id not in self.results:
                if self.stopping == "cancelled":
                    self._resolve(node_id, NodeResult(status="cancelled", reason=reason))
                    self.emit(NodeCancelled, node_id=node_id, duration_ms=0.0, attempts=0)
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
    def _resolve(self, node_id: str, result: NodeResult) -> None:
        self.results[node_id] = result

    def _deliver(self, node_id: str, ports: Iterable[str] | None, value: Any) -> None:
        """Send ``value`` on ``ports`` of ``node_id`` (None: all ports carry it)."""
        port_set = None if ports is None else set(ports)
        for target, index, source_port in self.outgoing[node_id]:
            if port_set is None or source_port in port_set:
                self.received[target][index] = value
            self.pending[target] -= 1
            if self.pending[target] == 0 and target in self.plan and target not in self.results:
                self.ready.append(target)

    def _skip(self, node_id: str, reason: str) -> None:
        self._resolve(node_id, NodeResult(status="skipped", reason=reason))
        self.emit(NodeSkipped, node_id=node_id, reason=reason)
        self._deliver(node_id, (), None)

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
        self._resolve(node_id, result)
        self.outputs[node_id] = earlier.output
        self.emit(
            NodeSucceeded,
            node_id=node_id,
            status=earlier.status,
            output=earlier.output,
            duration_ms=earlier.duration_ms,
            attempts=earlier.attempts,
            ports=tuple(earlier.ports) if earlier.ports is not None else (),
            reused=True,
        )
        self._deliver(node_id, earlier.ports, earlier.output)

    def _settle(self, inline: bool = False) -> str | None:
        """Decide every ready node: skip, pin, or start it.

        With ``inline``, the first node to start is returned instead, for the
        calling node task to run next itself: a chain then runs in one task,
        without a task and an event-loop turn per node.
        """
        chosen: str | None = None
        while self.ready:
            node_id = self.ready.popleft()
            if node_id in self.results or node_id in self.running:
                continue
            if self.stopping is not None:
                continue
            node = self.nodes[node_id]
            node_type = self.types[node_id]
            if node.disabled:
                self._skip(node_id, "disabled")
                continue
            if node.pinned is not None:
                self._resolve(node_id, NodeResult(status="pinned", output=node.pinned))
                self.outputs[node_id] = node.pinned
                self.emit(
                    NodeSucceeded,
                    node_id=node_id,
                    status="pinned",
                    output=node.pinned,
                    duration_ms=0.0,
                    attempts=0,
                )
                self._deliver(node_id, None, node.pinned)
                continue
            received = self.received[node_id]
            if received:
                missing = [i for i, value in enumerate(received) if value is _NO_VALUE]
                if missing and (not node_type.partial_inputs or len(missing) == len(received)):
                    source = self.incoming[node_id][missing[0]][0]
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
                self.ready.appendleft(node_id)
                break
            holder = [node_id]
            task = asyncio.get_running_loop().create_task(self._node_task(holder))
            self.running[node_id] = task
            self.workers.add(task)
            task.add_done_callback(functools.partial(self._task_done, holder))
        if (
            chosen is None
            and not self.running
            and (self.stopping is not None or len(self.results) == len(self.order))
        ):
            self.finished.set()
        return chosen

    # ------------------------------------------------------------ execution
    def _gather_inputs(
        self, node_id: str
    ) -> tuple[dict[str, Any], dict[str, list[tuple[str, Any]]]]:
        sources: dict[str, list[tuple[str, Any]]] = {}
        for (source, _, port_name), value in zip(
            self.incoming[node_id], self.received[node_id], strict=True
        ):
            if value is not _NO_VALUE:
                if port_name in sources:
                    sources[port_name].append((source, value))
                else:
                    sources[port_name] = [(source, value)]
        inputs: dict[str, Any] = {}
        for name, multiple in self.input_layout[node_id]:
            arrived = sources.get(name)
            if multiple:
                inputs[name] = [value for _, value in arrived] if arrived else []
            else:
                inputs[name] = arrived[0][1] if arrived else None
        return inputs, sources

    def _scope(self, node_id: str, inputs: dict[str, Any]) -> dict[str, Any]:
        return {
            "input": inputs.get("in"),
            "inputs": inputs,
            "nodes": _UpstreamOutputs(self, node_id),
            "vars": self.vars,
            "env": self.env,
            "run": self.run_info,
        }

    def is_upstream(self, candidate: str, node_id: str) -> bool:
        key = (candidate, node_id)
        cached = self._upstream_cache.get(key)
        if cached is None:
            cached = any(s == candidate for s, _, _ in self.incoming[node_id]) or (
                candidate in self._ancestors(node_id)
            )
            self._upstream_cache[key] = cached
        return cached

    async def _node_task(self, holder: list[str]) -> None:
        """Run a node, then the nodes it makes ready that it can run inline.

        ``holder[0]`` is the node being run (read by ``_task_done``). The loop
        yields to the event loop every few milliseconds so that a long chain
        of instant nodes never freezes a GUI or delays a cancel.
        """
        last_yield = time.monotonic()
        task = asyncio.current_task()
        assert task is not None
        while True:
            following = await self._execute_node(holder[0])
            if following is None:
                return
            holder[0] = following
            self.running[following] = task
            now = time.monotonic()
            if now - last_yield > 0.005:
                await asyncio.sleep(0)
                last_yield = time.monotonic()

    def _task_done(self, holder: list[str], task: asyncio.Task[None]) -> None:
        """Backstop: a node task that ended without a result (cancelled before it
        started, or a bug in the engine) still resolves, so the run never hangs."""
        node_id = holder[0]
        self.running.pop(node_id, None)
        self.workers.discard(task)
        if node_id not in self.results:
            if task.cancelled():
                reason = self.stop_reason or "cancelled"
                self._resolve(node_id, NodeResult(status="cancelled", reason=reason))
                self.emit(NodeCancelled, node_id=node_id, duration_ms=0.0, attempts=0)
            else:
                exc = task.exception()
                log.error("engine error while running node %s", node_id, exc_info=exc)
                error = _internal(exc if exc is not None else RuntimeError("no result"))
                self._fail(node_id, error, time.monotonic(), _Tally(), None)
        self._settle()

    async def _execute_node(self, node_id: str) -> str | None:
        """Run one node to its result; return the next node to run inline."""
        node = self.nodes[node_id]
        started = time.monotonic()
        tally = _Tally()
        try:
            inputs, sources = self._gather_inputs(node_id)
            scope = self._scope(node_id, inputs)
            if node.for_each is not None:
                value, ports = await self._run_items(node, inputs, sources, scope, tally)
            else:
                self.emit(NodeStarted, node_id=node_id, attempt=1)
                out = await self._attempts(node, inputs, sources, scope, tally)
                value, ports = (
                    (out.value, tuple(out.ports)) if isinstance(out, Routed) else (out, None)
                )
        except asyncio.CancelledError:
            self.running.pop(node_id, None)
            duration = (time.monotonic() - started) * 1000.0
            attempts = tally.attempts
            self._resolve(
                node_id,
                NodeResult(
                    status="cancelled",
                    attempts=max(attempts, 1),
                    duration_ms=duration,
                    reason=self.stop_reason or "cancelled",
                ),
            )
            self.emit(NodeCancelled, node_id=node_id, duration_ms=duration, attempts=attempts)
            self._settle()
            return None
        except FlowdeskError as error:
            self._fail(node_id, error, started, tally, None)
            return self._settle(inline=True)
        except Exception as exc:  # noqa: BLE001 - the engine must survive any node
            self._fail(node_id, _internal(exc), started, tally, traceback.format_exc())
            return self._settle(inline=True)
        attempts = tally.attempts
        usage = tally.usage
        del self.running[node_id]
        now = time.monotonic()
        duration = (now - started) * 1000.0
        self.engine.metrics.record_type(node.type, now - started, True)
        self.results[node_id] = NodeResult(
            "succeeded",
            value,
            attempts,
            duration,
            None,
            usage,
            ports=list(ports) if ports is not None else None,
        )
        self.outputs[node_id] = value
        self.emit(
            NodeSucceeded,
            node_id=node_id,
            status="succeeded",
            output=value,
            duration_ms=duration,
            attempts=attempts,
            ports=ports if ports is not None else self.port_names[node_id],
            usage=usage,
        )
        self._deliver(node_id, ports, value)
        return self._settle(inline=True)

    def _fail(
        self,
        node_id: str,
        error: FlowdeskError,
        started: float,
        tally: _Tally,
        trace: str | None,
    ) -> None:
        self.running.pop(node_id, None)
        attempts = tally.attempts
        node = self.nodes[node_id]
        now = time.monotonic()
        duration = (now - started) * 1000.0
        self.engine.metrics.record_type(node.type, now - started, False)
        cause = cause_of(error)
        if cause is not None and "cause" not in error.details:
            # The original exception, kept: its type and message here, the
            # whole chain in the event's traceback.
            said = str(cause)
            if len(said) > MAX_CAUSE_CHARS:  # (a cause may echo a huge value)
                said = f"{said[:MAX_CAUSE_CHARS]}… ({len(said):,} characters)"
            error.details["cause"] = {"type": type(cause).__name__, "message": said}
            if trace is None:
                trace = _chain_text(error)
                if len(trace) > 4 * MAX_CAUSE_CHARS * 10:
                    keep = MAX_CAUSE_CHARS * 10
                    trace = f"{trace[:keep]}\n…\n{trace[-keep:]}"
        payload = error.to_dict()
        forms = self.redacted_values()
        if forms:
            payload = redact(payload, forms)
            if trace is not None:
                trace = redact(trace, forms)
        continued = node.on_error == "continue" and self.stopping is None and not error.fatal
        self._resolve(
            node_id,
            NodeResult(
                status="failed",
                output=payload if continued else None,
                attempts=max(attempts, 1),
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
            attempts=max(attempts, 1),
            continued=continued,
            traceback=trace,
        )
        if continued:
            self.outputs[node_id] = payload
            self._deliver(node_id, None, payload)
        elif self.stopping is None:
            self.stopping = "failed"
            self.stop_reason = f"the run stopped: node {node_id!r} failed"
            for task in list(self.running.values()):
                task.cancel()

    async def _run_items(
        self,
        node: Node,
        inputs: dict[str, Any],
        sources: dict[str, list[tuple[str, Any]]],
        scope: dict[str, Any],
        tally: _Tally,
    ) -> tuple[Any, tuple[str, ...] | None]:
        assert node.for_each is not None
        items = self._evaluate(node, "for_each", node.for_each, scope)
        if not isinstance(items, list):
            raise ExpressionError(
                f"node {node.id!r}, for_each: {node.for_each!r} gave "
                f"{json_type(items)}, expected a list",
                details={"node": node.id, "field": "for_each", "expression": node.for_each},
            )
        self.emit(NodeStarted, node_id=node.id, attempt=1, items=len(items))
        limit = min(
            node.concurrency or DEFAULT_ITEM_CONCURRENCY, self.workflow.settings.max_concurrency
        )
        results: list[Any] = [None] * len(items)
        routed: list[tuple[str, ...] | None] = [None] * len(items)
        next_index = 0
        node_type = self.types[node.id]
        instance = self._instance(node_type)
        single = self._policy(node).max_attempts <= 1 and node.timeout_s is None

        async def worker() -> None:
            nonlocal next_index
            while next_index < len(items):
                index = next_index
                next_index += 1
                item_scope = {**scope, "item": items[index], "index": index}
                try:
                    if single and self.slots.try_acquire():
                        # ``_attempts`` for one attempt without a time limit, a
                        # free slot at hand: one coroutine less per item.
                        ctx = NodeContext(
                            services=self.services,
                            node=node,
                            inputs=inputs,
                            sources=sources,
                            scope=item_scope,
                            attempt=1,
                            log=self.emit,
                            item=items[index],
                            index=index,
                        )
                        try:
                            config = self._render_config(node, node_type, item_scope)
                            tally.attempts = max(tally.attempts, 1)
                            out = await instance.execute(ctx, config)
                        except FlowdeskError:
                            tally.add_usage(ctx.usage)
                            raise
                        finally:
                            self.slots.release()
                        if ctx.usage is not None:
                            tally.add_usage(ctx.usage)
                    else:
                        out = await self._attempts(
                            node, inputs, sources, item_scope, tally, items[index], index
                        )
                except FlowdeskError as error:
                    error.details.setdefault("item_index", index)
                    raise
                if isinstance(out, Routed):
                    results[index], routed[index] = out.value, tuple(out.ports)
                else:
                    results[index] = out

        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(min(limit, len(items))):
                    group.create_task(worker())
        except BaseExceptionGroup as group_error:
            first = _first_error(group_error)
            # (keeps the error's own cause: the group is only how it got here)
            raise first from cause_of(first)
        tally.attempts = max(tally.attempts, 1)
        if routed.count(None) == len(routed):
            return results, None
        # Routed items (flow.if in for_each): each port carries its items.
        per_port: dict[str, list[Any]] = {}
        for value, ports in zip(results, routed, strict=True):
            for port in ports or ():
                per_port.setdefault(port, []).append(value)
        return results, tuple(per_port)

    async def _attempts(
        self,
        node: Node,
        inputs: dict[str, Any],
        sources: dict[str, list[tuple[str, Any]]],
        scope: dict[str, Any],
        tally: _Tally,
        item: Any = None,
        index: int | None = None,
    ) -> Any:
        """Run attempts until one succeeds or the error is final."""
        policy = self._policy(node)
        max_attempts = policy.max_attempts
        node_type = self.types[node.id]
        if node.timeout_s is not None:
            # expressions stop at the node's deadline (they hold the event loop)
            token = node_deadline(node.timeout_s)
            try:
                config = self._render_config(node, node_type, scope)
            finally:
                reset_node_deadline(token)
        else:
            config = self._render_config(node, node_type, scope)
        instance = self._instance(node_type)
        attempt = 0
        while True:
            attempt += 1
            if attempt > tally.attempts:
                tally.attempts = attempt
            ctx = NodeContext(
                services=self.services,
                node=node,
                inputs=inputs,
                sources=sources,
                scope=scope,
                attempt=attempt,
                log=self.emit,
                item=item,
                index=index,
            )
            try:
                if not self.slots.try_acquire():
                    await self.slots.acquire()
                try:
                    if node.timeout_s is not None:
                        try:
                            async with asyncio.timeout(node.timeout_s):
                                out = await instance.execute(ctx, config)
                        except TimeoutError as exc:
                            raise NodeTimeoutError(
                                f"node {node.id!r} took longer than its timeout of "
                                f"{node.timeout_s:g} s",
                                details={"timeout_s": node.timeout_s},
                            ) from exc
                    else:
                        out = await instance.execute(ctx, config)
                finally:
                    self.slots.release()
                if ctx.usage is not None:
                    tally.add_usage(ctx.usage)
                return out
            except FlowdeskError as error:
                tally.add_usage(ctx.usage)
                if not error.retryable or attempt >= max_attempts or self.stopping:
                    raise
                if error.retry_after is not None:
                    delay = max(0.0, float(error.retry_after))
                    cap = self.workflow.settings.max_retry_after_s
                    if delay > cap:
                        raise _retry_after_too_long(node, error, delay, cap) from error
                else:
                    delay = backoff_delay(attempt - 1, policy.base_delay_s, policy.max_delay_s)
                self.emit(
                    NodeRetrying,
                    node_id=node.id,
                    attempt=attempt,
                    max_attempts=max_attempts,
                    delay_s=delay,
                    error=error.to_dict(),
                    item_index=index,
                )
                await asyncio.sleep(delay)
                self.emit(NodeStarted, node_id=node.id, attempt=attempt + 1)

    def _policy(self, node: Node) -> Policy:
        """The node's retry policy: its own, else the workflow's default."""
        if node.retry is None:
            return self._default_policy
        policy = self._policies.get(node.id)
        if policy is None:
            policy = self._policies[node.id] = effective_policy(node, self.workflow.settings)
        return policy

    def _instance(self, node_type: type[NodeType]) -> NodeType:
        """The run's one instance of a node type."""
        instance = self._instances.get(node_type)
        if instance is None:
            instance = self._instances[node_type] = node_type()
        return instance

    # -------------------------------------------------------------- config
    def _evaluate(
        self, node: Node, field: str, source: str, scope: Mapping[str, Any], bare: bool = False
    ) -> Any:
        try:
            return self.services.expressions.evaluate(source, scope, bare=bare)
        except ExpressionError as error:
            error.message = f"node {node.id!r}, {field}: {error.message}"
            error.args = (error.message,)
            error.details.update({"node": node.id, "field": field})
            raise

    def _render_config(
        self, node: Node, node_type: type[NodeType], scope: Mapping[str, Any]
    ) -> BaseModel:
        cached = self._config_cache.get(node.id)
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        if node.id in self._plans:
            plan = self._plans[node.id]
        else:
            plan = self._plans[node.id] = _config_plan(self.services.expressions, node, node_type)
        if plan is None:
            config = _validate_config(node, node_type, node.config)
            self._config_cache[node.id] = config
            return config
        rendered = dict(node.config)
        for key, compiled, path in plan:
            try:
                if path is None:
                    rendered[key] = compiled.evaluate(scope)
                else:
                    rendered[key] = _render_value(rendered[key], scope, self.services.expressions)
            except ExpressionError as error:
                field = f"config.{key}"
                error.message = f"node {node.id!r}, {field}: {error.message}"
                error.args = (error.message,)
                error.details.update({"node": node.id, "field": field})
                raise
        return _validate_config(node, node_type, rendered)


class _Slots:
    """A counting limiter whose uncontended acquire costs no coroutine (most
    nodes never wait): ``try_acquire()`` first, ``await acquire()`` when full."""

    __slots__ = ("_free", "_waiters")

    def __init__(self, size: int) -> None:
        self._free = size
        self._waiters: deque[asyncio.Future[None]] = deque()

    def try_acquire(self) -> bool:
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return True
        return False

    async def acquire(self) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter  # release() hands its slot over directly
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # the slot arrived as we were cancelled: pass it on
            else:
                self._waiters.remove(waiter)
            raise

    def release(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._free += 1


class _Tally:
    """Most attempts any part of a node made (items retry independently), and
    the AI usage of every attempt, failed ones included (they were paid for)."""

    __slots__ = ("attempts", "usage")

    def __init__(self) -> None:
        self.attempts = 0
        self.usage: dict[str, Any] | None = None

    def add_usage(self, usage: dict[str, Any] | None) -> None:
        if not usage:
            return
        if self.usage is None:
            self.usage = {}
        merge_usage(self.usage, usage)


class _UpstreamOutputs(Namespace):
    """``nodes.*`` for one node: the outputs of its upstream nodes only."""

    __slots__ = ("_node_id", "_run")

    def __init__(self, run: _Run, node_id: str) -> None:
        self._run = run
        self._node_id = node_id

    def __getitem__(self, key: str) -> Any:
        outputs = self._run.outputs
        if key in outputs and self._run.is_upstream(key, self._node_id):
            return outputs[key]
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return (k for k in self._run.outputs if self._run.is_upstream(k, self._node_id))

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __contains__(self, key: object) -> bool:
        return (
            isinstance(key, str)
            and key in self._run.outputs
            and self._run.is_upstream(key, self._node_id)
        )

    def hint(self, key: str) -> str:
        run = self._run
        if key not in run.nodes:
            return f"there is no node {key!r}"
        if not run.is_upstream(key, self._node_id):
            return f"node {key!r} is not upstream of {self._node_id!r}"
        return f"node {key!r} produced no output in this run"


_PlanEntry = tuple[str, Compiled, str | None]


def _config_plan(
    expressions: ExpressionEngine, node: Node, node_type: type[NodeType]
) -> list[_PlanEntry] | None:
    """Which config fields need evaluating; None when the config is constant."""
    plan: list[_PlanEntry] = []
    for key, value in node.config.items():
        if key in node_type.raw_fields:
            continue
        if isinstance(value, str):
            bare = key in node_type.expression_fields
            compiled = expressions.compile(value, bare=bare)
            if not compiled.is_constant:
                plan.append((key, compiled, None))
        elif isinstance(value, dict | list) and _has_expression(value):
            plan.append((key, expressions.compile(""), key))
    return plan or None


def _has_expression(value: Any) -> bool:
    if isinstance(value, str):
        return "{{" in value
    if isinstance(value, dict):
        return any(_has_expression(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_expression(v) for v in value)
    return False


def _render_value(value: Any, scope: Mapping[str, Any], expressions: ExpressionEngine) -> Any:
    if isinstance(value, str):
        return expressions.evaluate(value, scope) if "{{" in value else value
    if isinstance(value, dict):
        return {k: _render_value(v, scope, expressions) for k, v in value.items()}
    if isinstance(value, list):
        return [_render_value(v, scope, expressions) for v in value]
    return value


def _validate_config(node: Node, node_type: type[NodeType], config: dict[str, Any]) -> BaseModel:
    try:
        # (``model_validate`` minus its Python frame: a for_each validates per item)
        return node_type.Config.__pydantic_validator__.validate_python(config)  # type: ignore[no-any-return]
    except ValidationError as exc:
        problems = [
            {"path": format_location(("config", *e["loc"])), "message": e["msg"]}
            for e in exc.errors()
        ]
        text = "; ".join(f"{p['path']}: {p['message']}" for p in problems)
        raise ConfigError(
            f"node {node.id!r} has an invalid config: {text}",
            details={"node": node.id, "issues": problems},
        ) from None


def _internal(exc: BaseException) -> FlowdeskError:
    error = InternalError(
        f"unexpected {type(exc).__name__}: {exc}",
        details={"exception": type(exc).__name__},
    )
    error.__cause__ = exc
    return error


def _chain_text(error: BaseException) -> str:
    """The traceback of ``error`` with every exception it came from."""
    seen: set[int] = set()
    link: BaseException | None = error
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        # ``raise … from None`` hides the context; the contract keeps it.
        link.__suppress_context__ = False
        link = link.__cause__ or link.__context__
    return "".join(traceback.format_exception(error))


def _retry_after_too_long(
    node: Node, error: FlowdeskError, wanted: float, cap: float
) -> FlowdeskError:
    return FlowdeskError(
        f"node {node.id!r}: the server asks to retry after {wanted:g} s, longer than the "
        f"longest wait allowed ({cap:g} s, settings.max_retry_after_s): the node fails "
        "instead of parking the run",
        code="RATE_LIMITED",
        category="RATE_LIMIT",
        details={
            "retry_after_s": wanted,
            "max_retry_after_s": cap,
            "error": error.to_dict(),
        },
    )


class _EnvNamespace(Namespace):
    """``env.*``: records the names a run read, whose values are redacted."""

    __slots__ = ("read",)

    def __init__(self, data: Mapping[str, Any], hint: Callable[[str], str]) -> None:
        super().__init__(data, hint)
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> Any:
        value = self._data[key]
        self.read.add(key)
        return value


def _first_error(group: BaseExceptionGroup[Any]) -> BaseException:
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            return _first_error(exc)
        if isinstance(exc, FlowdeskError):
            return exc
    first = group.exceptions[0]
    if isinstance(first, asyncio.CancelledError):
        return first
    return _internal(first) if isinstance(first, Exception) else first
