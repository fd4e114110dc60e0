"""``WarmSessions``: the window's MCP sessions, kept warm between runs.

One ``SourcePool`` per window, on the editor's event loop (qasync: the Qt
loop): the palette lists an MCP source's tools through it and every run of
the window leases its MCP sources from it (``EngineBridge.source_pool``), so
one server process per source serves them all. A server that died is
restarted by the next run (the pool pings it first); a source whose entry is
edited or removed is closed (``sync``), every one when the document is closed
(``close_all``) or the window closes (``close_now``: the window waits for the
servers to stop, a few seconds at most) — no server outlives its window.

Observers: ``state_changed(name)`` (``states[name]`` is ``(state, detail)``:
starting, ready, failed with the reason, closed), ``tools_changed(name)``
(the server announced a new tool list), ``stderr_line(name, line)``.
Without a running event loop (some tests) ``available`` is False and the
catalogue lists MCP tools with a temporary session on a worker thread.
May import: PySide6, engine (public API).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from flowdesk.engine import (
    FlowdeskError,
    SourceManager,
    SourcePool,
    SourceTypes,
    ToolInfo,
    Workflow,
    list_catalogue,
    standalone_env,
)
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication

log = logging.getLogger(__name__)

Loaded = tuple[dict[str, list[ToolInfo]], dict[str, FlowdeskError]]


class WarmSessions(QObject):
    """See the module docstring."""

    state_changed = Signal(str)
    tools_changed = Signal(str)
    stderr_line = Signal(str, str)

    def __init__(self, secret_store: Any = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.secret_store = secret_store
        self.pool = SourcePool(on_state=self._on_state, on_stderr=self._on_stderr, log=self._on_log)
        #: source name → (state, detail) as the server last reported it
        self.states: dict[str, tuple[str, str]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    # ------------------------------------------------------------ queries
    @staticmethod
    def _loop() -> asyncio.AbstractEventLoop | None:
        try:
            return asyncio.get_running_loop()
        except RuntimeError:
            return None

    @property
    def available(self) -> bool:
        return self._loop() is not None and not self.pool.closed

    def state(self, name: str) -> tuple[str, str] | None:
        return self.states.get(name)

    def is_warm(self, entry: Mapping[str, Any]) -> bool:
        """Whether a source of this entry's type is kept warm (MCP)."""
        kind = entry.get("type")
        found = SourceTypes.default().find(kind) if isinstance(kind, str) else None
        return bool(found is not None and found.warm)

    # ------------------------------------------------------------ actions
    def list_tools(
        self,
        workflow: Workflow,
        root: Path,
        names: list[str],
        done: Callable[[Loaded | None, BaseException | None], None],
    ) -> None:
        """List ``names``' tools through the pool; ``done(result, error)``."""

        async def work() -> Loaded:
            errors: dict[str, FlowdeskError] = {}
            env = standalone_env(workflow, root, secrets=self.secret_store)
            manager = SourceManager(workflow.sources, env, pool=self.pool)
            try:
                found = await list_catalogue(workflow, manager=manager, only=names, errors=errors)
            finally:
                await manager.aclose()  # (leased sources stay open)
            return found, errors

        def finished(task: asyncio.Task[Loaded]) -> None:
            self._tasks.discard(task)
            if task.cancelled():
                return
            error = task.exception()
            done(None if error is not None else task.result(), error)

        self._spawn(work(), finished)

    def invalidate(self, name: str) -> None:
        """The next listing asks the server again (Refresh)."""
        source = self.pool.source(name)
        if source is not None:
            source.invalidate()

    def sync(self, sources: Mapping[str, Mapping[str, Any]]) -> None:
        """Close the sessions whose entry was edited or removed."""
        changed = [
            name
            for name in self.pool.names()
            if name not in sources or dict(sources[name]) != self.pool.entry(name)
        ]
        for name in list(self.states):
            if name not in sources:
                del self.states[name]
                self.state_changed.emit(name)
        if changed:
            self._spawn(self.pool.retain(sources))

    def close_all(self) -> None:
        """Close every session (the document was closed or replaced)."""
        self.states.clear()
        if self.pool.names() and self._loop() is not None:
            self._spawn(self.pool.close())

    def close_now(self, timeout: float = 8.0) -> None:
        """Close every session and wait for their servers to stop (the window
        closes: the loop may stop right after)."""
        loop = self._loop()
        if loop is None:
            self.pool.closed = True
            return
        task = loop.create_task(self.pool.aclose())
        app = QApplication.instance()
        deadline = time.monotonic() + timeout
        while not task.done() and time.monotonic() < deadline and app is not None:
            app.processEvents()
            time.sleep(0.005)
        if not task.done():
            log.warning("MCP servers did not stop within %.0f s", timeout)

    def _spawn(self, coro: Any, done: Callable[[Any], None] | None = None) -> None:
        loop = self._loop()
        if loop is None:
            coro.close()
            return
        task = loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(done or self._tasks.discard)

    # ---------------------------------------------------------- observers
    def _on_state(self, name: str, state: str, detail: str) -> None:
        if state == "tools_changed":
            self.tools_changed.emit(name)
            return
        self.states[name] = (state, detail)
        self.state_changed.emit(name)

    def _on_stderr(self, name: str, line: str) -> None:
        self.stderr_line.emit(name, line)

    def _on_log(self, message: str, level: str = "info") -> None:
        log.log(logging.WARNING if level == "warning" else logging.INFO, "%s", message)
