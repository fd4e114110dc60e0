"""``EngineBridge``: the one place where the editor meets asyncio. It starts
runs on the qasync event loop (the Qt loop), turns the engine's event stream
into ``RunState`` updates announced once per frame, records every run in the
history store on a worker thread, loads stored runs, and reports failures as
Qt signals — no other editor module awaits, creates tasks or touches a loop.

Threading: engine events arrive on the GUI thread (the engine runs on the Qt
loop). They are only appended to an inbox as they come (a list's ``append``:
no Python code runs per event inside the engine's hot loop); a frame timer
that repeats while a run goes applies the inbox to ``RunState`` and announces
the changes, at most ~60 times a second, less often for big graphs.
Validation of a big workflow and SQLite writes of big outputs run on one
worker thread (in order), so the window never waits for them.
May import: PySide6, qasync, engine (public API), engine.history, editor.run.
Main class: ``EngineBridge``. (Setting the qasync loop up in tests and the
screenshot mode: ``editor.run.qasync_compat``.)
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import logging
import time
import traceback
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flowdesk.editor.run.paint_clock import PaintClock
from flowdesk.editor.run.run_state import LogLine, RunState, merge_results
from flowdesk.engine import (
    BUS,
    Engine,
    Event,
    HistoryStore,
    Issue,
    RunHandle,
    RunResult,
    RunSummary,
    Workflow,
    validate,
)
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

log = logging.getLogger(__name__)

#: state changes are announced at most this often (one frame)…
FRAME_MS = 16
#: …and less often for big runs, whose every frame costs more: 1 ms more per
#: 50 nodes (2,000 nodes: 25 frames a second), up to this (10 a second)
MAX_FRAME_MS = 100
#: a frame that took t ms to show is followed by at least this many times t
#: ms of run: the window's share of a busy run stays small on any machine
FRAME_RATIO = 8


def frame_interval(nodes: int, frame_cost_ms: float = 0.0) -> int:
    """Milliseconds between two frames of a run of a workflow of ``nodes``
    whose last frame took ``frame_cost_ms`` to prepare."""
    wanted = max(nodes // 50, int(frame_cost_ms * FRAME_RATIO))
    return max(FRAME_MS, min(MAX_FRAME_MS, wanted))


#: runs holding the collector frozen. Process-wide on purpose: ``gc.freeze``
#: is the process's, so the count spans every window's bridge.
_frozen = [0]


def _freeze_gc() -> None:
    """While a run goes, the collector leaves the editor's long-lived objects
    (the document, thousands of items) alone — as ``flowdesk run`` does; a
    full collection over them mid-run would stall both run and window."""
    if _frozen[0] == 0:
        gc.freeze()
    _frozen[0] += 1


def _unfreeze_gc() -> None:
    _frozen[0] = max(0, _frozen[0] - 1)
    if _frozen[0] == 0:
        gc.unfreeze()


class EngineBridge(QObject):
    """Runs workflows for one window; see the module docstring.

    Signals: ``run_started(run_id)``; ``run_finished(RunResult)``;
    ``start_refused(title, message, issues)`` when a run cannot start (invalid
    workflow); ``history_changed()`` after a run was recorded;
    ``run_loaded(RunSummary, RunResult | None)`` answers ``load_run``;
    ``runs_listed(list[RunSummary])`` answers ``list_runs``;
    ``internal_error(title, details)`` for anything unexpected.
    """

    run_started = Signal(str)
    run_finished = Signal(object)
    start_refused = Signal(str, str, list)
    history_changed = Signal()
    run_loaded = Signal(object, object)
    runs_listed = Signal(list)
    internal_error = Signal(str, str)
    # emitted on the worker thread, received (queued) on the GUI thread
    _recorded = Signal()
    _listed = Signal(object)
    _loaded = Signal(object)

    def __init__(
        self,
        engine: Engine,
        history: HistoryStore | None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.engine = engine
        self.history = history
        self.state = RunState()
        #: the last finished run, completed with earlier outputs (partial runs)
        self.last_result: RunResult | None = None
        self.handle: RunHandle | None = None
        self._pending: asyncio.Task[None] | None = None
        self._cancel_requested = False
        self._listener_failed = False
        #: the window's warm tool sources (MCP sessions kept between runs)
        self.source_pool: Any = None
        #: a run whose document was closed: its last events are ignored
        self._forgotten: str | None = None
        self._closed = False
        #: the live validator's problems when they are those of the document
        #: about to run (None: validate the run's snapshot here)
        self.known_issues: Callable[[], list[Issue] | None] | None = None
        #: runs of this document recorded while it had no file (Save As files them)
        self.unsaved_runs: list[str] = []
        #: runs filed under a path after they started: {run id: path}
        self._filed: dict[str, str] = {}
        self._worker = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="flowdesk-run")
        self._flush_pending = False
        #: events of the current run not yet applied to ``state``
        self._inbox: list[Event] = []
        #: nodes of the workflow running (frames are sparser for big ones)
        self._nodes = 0
        self._frame = QTimer(self)
        self._frame.setSingleShot(True)
        self._frame.setInterval(FRAME_MS)
        self._frame.timeout.connect(self._flush)
        #: what the last frame of a run cost (flush and paint), in ms
        self._frame_cost_ms = 0.0
        #: the window's painting time, counted in a frame's cost
        self._paints = PaintClock(parent) if isinstance(parent, QWidget) else None
        self._recorded.connect(self._emit_recorded)
        self._listed.connect(self._emit_listed)
        self._loaded.connect(self._emit_loaded)

    # ------------------------------------------------------------- queries
    @property
    def running(self) -> bool:
        return self.handle is not None or self._pending is not None

    # -------------------------------------------------------------- runs
    def start(
        self,
        workflow: Workflow,
        *,
        variables: dict[str, Any] | None = None,
        data_root: Path,
        workflow_path: Path | None = None,
        only: str | None = None,
        up_to: str | None = None,
    ) -> bool:
        """Validate (off the GUI thread) and start a run. False when a run is
        already going or there is no event loop; refusals come as signals."""
        if self.running:
            return False
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.internal_error.emit("Cannot run", "The editor's event loop is not running.")
            return False
        if self._closed:
            return False
        previous_status = self.state.status
        known = self.known_issues() if self.known_issues is not None else None
        self.state.begin("only" if only else "up_to" if up_to else "run", only or up_to)
        self._schedule_flush()
        self._cancel_requested = False
        self._pending = loop.create_task(
            self._start(
                workflow,
                variables or {},
                data_root,
                workflow_path,
                only,
                up_to,
                previous_status,
                known,
            )
        )
        return True

    async def _start(
        self,
        workflow: Workflow,
        variables: dict[str, Any],
        data_root: Path,
        workflow_path: Path | None,
        only: str | None,
        up_to: str | None,
        previous_status: str,
        known_issues: list[Issue] | None = None,
    ) -> None:
        loop = asyncio.get_running_loop()
        # From here to the end of the run the collector leaves the editor's
        # long-lived objects alone (validation and the run allocate a lot).
        _freeze_gc()
        started = False
        try:
            issues = known_issues
            if issues is None:
                issues = await loop.run_in_executor(
                    self._worker,
                    validate,
                    workflow,
                    self.engine.registry,
                    self.engine.expressions,
                )
            if self._cancel_requested:
                self._refuse(previous_status, "", "", [])
                return
            previous = self.last_result if only else None
            if only and previous is None and workflow_path is not None and self.history:
                # a fresh window: the newest stored run of this file stands in
                previous = await loop.run_in_executor(
                    self._worker, self.history.latest_result, str(workflow_path)
                )
            if issues:
                count = len(issues)
                self._refuse(
                    previous_status,
                    "The workflow cannot run",
                    f"{count} problem{'s' if count != 1 else ''} must be fixed first.",
                    issues,
                )
                return
            # The run's events reach the log dock and the canvas through the
            # process's event bus, like any other subscriber's.
            run_id = uuid.uuid4().hex
            self._listener_failed = False
            self._inbox = []
            inbox = self._inbox

            def collect(event: Event) -> None:
                if getattr(event, "run_id", None) == run_id:
                    inbox.append(event)

            unsubscribe = BUS.subscribe("*", collect)
            try:
                handle = self.engine.start(
                    workflow,
                    variables=variables,
                    data_root=data_root,
                    only=only,
                    up_to=up_to,
                    previous=previous,
                    check=False,
                    run_id=run_id,
                    source_pool=self.source_pool,
                )
            except BaseException:
                unsubscribe()
                raise
            started = True
        except Exception as exc:  # noqa: BLE001 - reported, never raised into Qt
            self._refuse(previous_status, "", "", [])
            self._report("The run could not start", exc)
            return
        finally:
            self._pending = None
            if not started:
                _unfreeze_gc()
        self.handle = handle
        path = str(workflow_path) if workflow_path is not None else None
        if path is None:
            self.unsaved_runs.append(handle.run_id)
        self._record(
            lambda store: store.record_start(
                handle.run_id, workflow.name, handle.started_at, workflow_path=path, source="editor"
            )
        )
        # While the run goes the frame timer repeats (events only land in the
        # inbox); ``_finished`` stops it and shows the final state at once.
        self._nodes = len(workflow.nodes)
        # (from the first frame on, as the last run's frames cost: a short run
        # of a big graph is not slowed by a frame the window cannot afford)
        self._frame.setInterval(frame_interval(self._nodes, self._frame_cost_ms))
        if self._paints is not None:
            self._paints.take_ms()  # (paints before this run are not its frames)
        self._frame.setSingleShot(False)
        self._flush_pending = True
        self._frame.start()
        self.run_started.emit(handle.run_id)
        try:
            result = await handle.wait()
        except asyncio.CancelledError:
            _unfreeze_gc()
            handle.cancel()
            raise
        except Exception as exc:  # noqa: BLE001 - an engine bug: the editor stays up
            _unfreeze_gc()
            self.handle = None
            self._apply_inbox()
            self.state.abort("failed")
            self._schedule_flush()
            self._report("The engine stopped unexpectedly", exc)
            return
        finally:
            unsubscribe()
        self._finished(handle, result, path, only is not None)

    def _refuse(self, previous_status: str, title: str, message: str, issues: list[Issue]) -> None:
        self.state.abort(previous_status)
        self._flush()
        if title:
            self.start_refused.emit(title, message, issues)

    def _finished(
        self, handle: RunHandle, result: RunResult, path: str | None, partial: bool
    ) -> None:
        self.handle = None
        _unfreeze_gc()
        if handle.run_id != self._forgotten:
            self.last_result = merge_results(self.last_result, result) if partial else result
        secrets = handle.secrets_used()
        path = path or self._filed.get(handle.run_id)  # saved while it ran
        self._flush()
        self._record(
            lambda store: store.record_result(
                result, workflow_path=path, source="editor", secrets=secrets
            ),
            notify=True,
        )
        self.run_finished.emit(result)

    def add_source_line(self, source: str, line: str, level: str = "info") -> None:
        """A line of a tool source (an MCP server's stderr) in the live log,
        between runs too; attributed to the source, not to a node. The run's
        events that arrived before it are applied first: a run's start clears
        the log, and must not clear a line its own nodes made the server write."""
        self._apply_inbox()
        self.state.logs.append(LogLine(time.monotonic(), "", level, line, source))
        self._schedule_flush()

    def stop(self) -> None:
        """Cancel the run: in-flight nodes are cancelled at once."""
        self._cancel_requested = True
        if self.handle is not None:
            self.handle.cancel()

    def file_unsaved_runs(self, workflow_path: Path) -> None:
        """The document was saved for the first time: its earlier runs (made
        while it had no file) become runs of ``workflow_path`` in the history."""
        ids, self.unsaved_runs = self.unsaved_runs, []
        path = str(workflow_path)
        for run_id in ids:
            self._filed[run_id] = path
        if ids:
            self._record(lambda store: store.move_runs(ids, path), notify=True)

    def forget(self) -> None:
        """A new document: earlier outputs are not reused any more."""
        self.last_result = None
        self.unsaved_runs = []
        if self.handle is not None:
            self._forgotten = self.handle.run_id
        self.state.clear()
        self._schedule_flush()

    def _apply_inbox(self) -> None:
        """Apply the events that arrived since the last frame, in order."""
        events, self._inbox[:] = list(self._inbox), ()
        apply = self.state.apply
        forgotten = self._forgotten
        for event in events:
            if event.run_id == forgotten:
                continue
            try:
                apply(event)
            except Exception as exc:  # noqa: BLE001 - one report, then keep going
                if not self._listener_failed:
                    self._listener_failed = True
                    self._report("A run event could not be shown", exc)

    def _schedule_flush(self) -> None:
        if not self._flush_pending:  # a Python flag: cheaper than asking Qt
            self._flush_pending = True
            self._frame.start()

    def _flush(self) -> None:
        started = time.perf_counter()
        running = self.handle is not None
        if not running:  # between runs: one frame per change
            self._frame.stop()
            self._frame.setSingleShot(True)
            self._flush_pending = False
        self._apply_inbox()
        try:
            self.state.flush()
        except Exception as exc:  # noqa: BLE001
            self._report("The run could not be shown", exc)
        if running:
            cost_ms = (time.perf_counter() - started) * 1000.0
            if self._paints is not None:  # what the last frame cost to paint
                cost_ms += self._paints.take_ms()
            self._frame_cost_ms = cost_ms
            interval = frame_interval(self._nodes, cost_ms)
            if interval != self._frame.interval():
                self._frame.setInterval(interval)

    # ------------------------------------------------------------ history
    def _record(self, action: Callable[[HistoryStore], None], notify: bool = False) -> None:
        store = self.history
        if store is None or self._closed:
            return
        started = time.perf_counter()

        def job() -> None:
            action(store)
            log.debug("history write took %.0f ms", (time.perf_counter() - started) * 1000)

        future = self._worker.submit(job)
        if notify:
            future.add_done_callback(lambda f: self._after_record(f))
        else:
            future.add_done_callback(_log_failure)

    def _after_record(self, future: concurrent.futures.Future[None]) -> None:
        _log_failure(future)
        self._recorded.emit()  # from the worker: delivered on the GUI thread

    def _emit_recorded(self) -> None:
        self.history_changed.emit()

    def list_runs(self, workflow_path: Path | None, name: str, limit: int = 200) -> None:
        """Answer with ``runs_listed``: the runs of this workflow, newest first
        (an unsaved workflow: runs of no file with its name)."""
        store = self.history
        if store is None:
            self.runs_listed.emit([])
            return
        path = str(workflow_path) if workflow_path is not None else None

        def job() -> list[RunSummary]:
            if path is not None:
                return store.list_runs(limit=limit, workflow_path=path)
            runs = store.list_runs(limit=limit * 4)
            return [r for r in runs if r.workflow_path is None and r.workflow_name == name][:limit]

        self._submit(job, self._listed)

    def load_run(self, run_id: str) -> None:
        """Answer with ``run_loaded(summary, result)``."""
        store = self.history
        if store is None:
            return

        def job() -> Any:
            return store.get_run(run_id)

        self._submit(job, self._loaded)

    def _submit(self, job: Callable[[], Any], done: Any) -> None:
        if self._closed:
            return

        def run() -> None:
            try:
                value = job()
            except Exception:
                log.exception("run history query failed")
                value = None
            done.emit(value)

        self._worker.submit(run)

    def _emit_listed(self, runs: Any) -> None:
        self.runs_listed.emit(list(runs or []))

    def _emit_loaded(self, found: Any) -> None:
        if found is None:
            self.run_loaded.emit(None, None)
        else:
            self.run_loaded.emit(found[0], found[1])

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Block until the worker thread is idle (tests, closing the window)."""
        if not self._closed:
            self._worker.submit(lambda: None).result(timeout)

    def close(self) -> None:
        """The window closes: cancel the run, finish pending history writes."""
        if self._closed:
            return
        if self.handle is not None:
            self.handle.cancel()
        self._closed = True
        self._frame.stop()
        self._worker.shutdown(wait=True)

    # ------------------------------------------------------------ errors
    def _report(self, title: str, exc: BaseException) -> None:
        log.error("%s", title, exc_info=exc)
        details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        self.internal_error.emit(title, details)


def _log_failure(future: concurrent.futures.Future[None]) -> None:
    exc = future.exception()
    if exc is not None:
        log.error("could not record the run in the history", exc_info=exc)
