"""The engine's run API: ``Engine`` starts runs, ``RunHandle`` watches one.

A run's parts live in ``engine/run/`` (see docs/runtime-contract.md,
"Engine layout"): ``graph`` (who feeds whom), ``scheduler`` (the ready set,
skips, partial runs), ``config_render`` (expressions in configs, validation),
``attempts`` (retry policy, timeouts, concurrency slots), ``for_each``,
``failures`` (how errors are reported), ``scope`` (what expressions can name)
and ``loop`` (the run from ``RunStarted`` to ``RunFinished``).

Semantics (spec, "Edge", "Node", "Run result"): each module above states its
part; ``Engine.start`` validates the workflow first (``check``) and rejects an
``only``/``up_to`` naming no node. Everything observable is an event of
``engine.events``.
May import: every engine module but the CLI and history. Main classes:
``Engine``, ``RunHandle``.
"""

from __future__ import annotations

import asyncio
import functools
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from .credentials import EnvSecretStore, SecretStore
from .errors import WorkflowLoadError
from .events import Event, RunFinished
from .expressions import ExpressionEngine
from .metrics import METRICS, CallMetrics
from .model.workflow import Workflow
from .registry import NodeRegistry
from .results import RunResult
from .run.attempts import backoff_delay
from .run.failures import MAX_CAUSE_CHARS
from .run.for_each import DEFAULT_ITEM_CONCURRENCY
from .run.loop import MIN_REDACTED_ENV_CHARS, Listener, Run, utc_now_iso
from .validate import validate

if TYPE_CHECKING:
    from .sources.documents import DocumentCache

__all__ = [
    "DEFAULT_ITEM_CONCURRENCY",
    "MAX_CAUSE_CHARS",
    "MIN_REDACTED_ENV_CHARS",
    "Engine",
    "Listener",
    "RunHandle",
    "backoff_delay",
    "utc_now_iso",
]


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

    @functools.cached_property
    def documents(self) -> DocumentCache:
        """Documents tool sources read from files (OpenAPI), kept across this
        engine's runs and the editor's palette; ``documents.clear()`` reads
        them again. (Built on first use: most runs have no sources.)"""
        from .sources.documents import DocumentCache

        return DocumentCache()

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
        configs: Mapping[str, BaseModel] | None = None,
    ) -> RunHandle:
        """Start a run on the running event loop and return its handle.

        ``tool_sources``: a ``SourceManager`` owned by the caller (the editor's
        warm sources), used instead of one the run opens and closes itself.
        ``source_pool``: a ``SourcePool`` the run leases its MCP sources from
        (the editor's warm sessions; they stay open after the run).
        ``configs``: node configs validated just before (``validate``'s
        ``configs``); the run reuses them instead of validating them again.
        Raises ``WorkflowLoadError`` when ``check`` and the workflow is invalid.
        """
        if check:
            validated: dict[str, BaseModel] = {}
            issues = validate(workflow, self.registry, self.expressions, configs=validated)
            if issues:
                raise WorkflowLoadError(issues)
            configs = validated
        for target in (only, up_to):
            if target is not None and workflow.node(target) is None:
                raise ValueError(f"no node {target!r} in the workflow")
        run = Run(
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
            configs=configs,
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

    def __init__(self, run: Run) -> None:
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
