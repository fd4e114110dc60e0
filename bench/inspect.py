"""The editor's run-and-inspect path under load.

1. Opening a ~50 MB output (100,000 records) in the output dock: time to the
   first paint of the lazy tree and of the table, beside ``json.loads`` of the
   same text and bare Qt — a plain ``QTreeView`` over a ``QStandardItemModel``
   built eagerly (what a naive inspector does).
2. Streaming a run into the window: a chain of N ``data.transform`` nodes run
   from the editor (canvas fitted, output and log docks open) against the same
   run headless (``asyncio.run``, no Qt). Reports the run's wall time in both,
   events and UI batches (flushes), repaints of the canvas, frame time (the
   lateness of a 16 ms timer: how long the window could not respond) and
   event-to-paint latency (from an engine event to the canvas paint that
   shows it).

Targets (issue 5): first paint of a 50 MB output under 0.5 s; during a
2,000-node run the run is not slowed by more than 1.5× against headless.

Runs are paired rounds (a headless run, then the run in the editor); the
target is checked on the median of the rounds' ratios.

Usage: python -m bench.inspect [--nodes 2000 10000] [--records 100000] [--skip-bare]
       [--rounds 7]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flowdesk.engine import (
    Engine,
    NodeRegistry,
    NodeResult,
    RunResult,
    parse_workflow,
)
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QApplication, QTreeView


def records(n: int) -> dict[str, Any]:
    pad = "x" * 440
    items = [{"id": i, "name": f"item {i}", "tags": ["a", "b"], "note": pad} for i in range(n)]
    return {
        "status": 200,
        "headers": {"content-type": "application/json"},
        "body": {"items": items},
    }


def chain(n: int) -> dict[str, Any]:
    nodes = [{"id": "n0", "type": "data.transform", "config": {"value": 0}, "position": [0, 0]}]
    nodes += [
        {
            "id": f"n{i}",
            "type": "data.transform",
            "config": {"value": "{{ input + 1 }}"},
            "position": [(i % 100) * 260, (i // 100) * 140],
        }
        for i in range(1, n)
    ]
    edges = [{"from": {"node": f"n{i - 1}"}, "to": {"node": f"n{i}"}} for i in range(1, n)]
    return {
        "format": "flowdesk/workflow",
        "version": 1,
        "name": f"chain {n}",
        "nodes": nodes,
        "edges": edges,
    }


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


# ------------------------------------------------------------------ outputs
def eager_model(value: Any) -> QStandardItemModel:
    model = QStandardItemModel()
    model.setHorizontalHeaderLabels(["Key", "Value"])

    def add(parent: QStandardItem, key: str, item: Any) -> None:
        if isinstance(item, dict):
            row = QStandardItem(key)
            parent.appendRow([row, QStandardItem(f"{{{len(item)}}}")])
            for k, v in item.items():
                add(row, str(k), v)
        elif isinstance(item, list):
            row = QStandardItem(key)
            parent.appendRow([row, QStandardItem(f"[{len(item)}]")])
            for i, v in enumerate(item):
                add(row, str(i), v)
        else:
            parent.appendRow([QStandardItem(key), QStandardItem(json.dumps(item))])

    root = model.invisibleRootItem()
    for k, v in value.items():
        add(root, k, v)
    return model


def bench_outputs(app: QApplication, count: int, skip_bare: bool) -> None:
    from flowdesk.editor.app import build_window
    from flowdesk.editor.run.run_state import RunState

    value = records(count)
    text = json.dumps(value)
    print(f"Output: {count:,} records, {len(text) / 1e6:.1f} MB of JSON")
    started = time.perf_counter()
    json.loads(text)
    loads = time.perf_counter() - started
    print(f"  json.loads of the text               {ms(loads)}")

    window = build_window(NodeRegistry.default(plugins=False), scratch=Path(tempfile.mkdtemp()))
    window.resize(1440, 900)
    window.show()
    app.processEvents()
    result = RunResult("r", "succeeded", "t", 1.0, {"fetch": NodeResult("succeeded", value)})
    panel = window.run.output
    panel.node_id = "fetch"
    timings = []
    for _ in range(3):
        state = RunState.from_result(result)
        panel.mode = "tree"
        started = time.perf_counter()
        panel.set_state(state)
        panel._shown_key = None
        panel._show_page()
        panel.tree.viewport().repaint()
        timings.append(time.perf_counter() - started)
    print(f"  output dock, lazy tree: first paint  {ms(min(timings))}")
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        panel.set_mode("table")
        panel.table.viewport().repaint()
        timings.append(time.perf_counter() - started)
        panel.mode = "tree"
    print(f"  output dock, table: first paint      {ms(min(timings))}")
    started = time.perf_counter()
    panel.set_mode("raw")
    panel.raw.text.viewport().repaint()
    print(f"  output dock, raw (first 200 KB)      {ms(time.perf_counter() - started)}")
    window.controller.mark_saved()
    window.close()
    if skip_bare:
        return
    started = time.perf_counter()
    model = eager_model(value)
    view = QTreeView()
    view.setUniformRowHeights(True)
    view.resize(1000, 300)
    view.setModel(model)
    view.show()
    view.viewport().repaint()
    bare = time.perf_counter() - started
    print(f"  bare Qt: QStandardItemModel + view   {ms(bare)}  ({model.rowCount()} top rows)")
    view.close()


# ---------------------------------------------------------------------- runs
class PaintClock(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.Paint:
            self.times.append(time.monotonic())
        return False


class Headless:
    """The same workflow run headless: ``asyncio.run`` on a thread of its
    own (the GUI thread's loop is the editor's), the GUI thread waiting."""

    def __init__(self, n: int) -> None:
        registry = NodeRegistry.default(plugins=False)
        self.engine = Engine(registry)
        self.workflow = parse_workflow(chain(n), registry)
        self.cpu = 0.0

    def run(self) -> float:
        """One run's wall time in seconds (``cpu``: its thread's CPU seconds)."""
        times: list[float] = []

        def job() -> None:
            started, cpu = time.perf_counter(), time.thread_time()
            result = asyncio.run(self.engine.run(self.workflow, check=False))
            times.append(time.perf_counter() - started)
            self.cpu = time.thread_time() - cpu
            assert result.status == "succeeded"

        thread = threading.Thread(target=job)
        thread.start()
        thread.join()
        return times[0]


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def settle(app: QApplication, window: Any) -> None:
    """Let the last run's bookkeeping end before the next round: its history
    write (a worker thread), then the Run History list it refreshes (another
    worker job, then the list itself) — a user does not start the next run
    within the same millisecond."""
    for _ in range(3):
        window.bridge.wait_idle()
        for _ in range(3):
            app.processEvents()


def bench_run(app: QApplication, n: int, rounds: int) -> None:
    from flowdesk.editor.app import build_window
    from flowdesk.editor.run.qasync_compat import install_loop, uninstall_loop

    headless = Headless(n)
    headless.run()  # compiles the expressions, as the editor's cold run does
    loop = install_loop(app)
    folder = Path(tempfile.mkdtemp())
    os.environ["FLOWDESK_DATA_DIR"] = str(folder / "data")
    path = folder / "chain.flow.json"
    path.write_text(json.dumps(chain(n)))
    window = build_window(NodeRegistry.default(plugins=False), scratch=folder)
    window.resize(1440, 900)
    window.show()
    window.files.open_path(path, confirm=False)
    window.view.fit_all()
    window.scene.select([f"n{n - 1}"])
    for _ in range(5):
        app.processEvents()
    clock = PaintClock()
    window.view.viewport().installEventFilter(clock)
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(16)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    events: list[float] = []
    flushes: list[float] = []
    window.bridge.state.changed.connect(lambda _c: flushes.append(time.monotonic()))
    window.bridge.run_started.connect(
        lambda _id: window.bridge.handle.subscribe(lambda e: events.append(e.time))
    )
    from PySide6.QtCore import QEventLoop

    waiter = QEventLoop()
    results: list[Any] = []
    window.bridge.run_finished.connect(lambda r: (results.append(r), waiter.quit()))
    # CPU seconds of the GUI thread (where the engine runs) from the run's start
    # to its end: what the window adds without the waits of a busy machine
    cpu_marks: list[float] = []
    window.bridge.run_started.connect(lambda _id: cpu_marks.append(time.thread_time()))
    window.bridge.run_started.connect(
        lambda _id: window.bridge.handle.subscribe(
            lambda e: (
                cpu_marks.append(time.thread_time()) if type(e).__name__ == "RunFinished" else None
            )
        )
    )
    # a first (cold) run compiles the expressions, as the headless runs did
    window.run.runs.run_all()
    waiter.exec()
    cold = results.pop().duration_ms / 1000.0
    settle(app, window)  # its history write done (a worker thread)
    # Rounds pair a headless run with a run in the editor, so that a busy
    # moment of the machine hits both alike; the ratio of each pair is kept.
    bare: list[float] = []
    engine: list[float] = []
    cpu_ratios: list[float] = []
    walls: list[float] = []
    gaps: list[float] = []
    latencies: list[float] = []
    counts: list[tuple[int, int, int]] = []
    for _ in range(rounds):
        gc.collect()
        bare.append(headless.run())
        events.clear()
        flushes.clear()
        ticks.clear()
        gc.collect()
        timer.start()
        clock.times.clear()
        started = time.perf_counter()
        window.run.runs.run_all()
        waiter.exec()
        walls.append(time.perf_counter() - started)
        timer.stop()
        for _ in range(3):
            app.processEvents()
        settle(app, window)
        engine.append(results.pop().duration_ms / 1000.0)
        cpu_ratios.append((cpu_marks[-1] - cpu_marks[-2]) / max(headless.cpu, 1e-9))
        gaps.extend(b - a for a, b in itertools.pairwise(ticks))
        paints = clock.times
        counts.append((len(events), len(flushes), len(paints)))
        j = 0
        for t in events:
            while j < len(paints) and paints[j] < t:
                j += 1
            if j < len(paints):
                latencies.append(paints[j] - t)
    ratios = [e / b for e, b in zip(engine, bare, strict=True)]
    ratio = statistics.median(ratios)
    event_count, flush_count, paint_count = (
        int(statistics.median(c[i] for c in counts)) for i in range(3)
    )
    med = statistics.median
    print(f"Run: chain of {n:,} nodes from the editor (canvas fitted, docks open), {rounds} rounds")
    print(f"  headless run (asyncio.run)          best {ms(min(bare))}, median {ms(med(bare))}")
    print(f"  in the editor, first (cold) run      {ms(cold)}")
    print(f"  in the editor: engine's run time    best {ms(min(engine))}, median {ms(med(engine))}")
    print(f"  in the editor: click to result      best {ms(min(walls))}, median {ms(med(walls))}")
    print(
        f"  slowdown against headless: median of the rounds {ratio:.2f}×, "
        f"best against best {min(engine) / min(bare):.2f}×"
    )
    print(f"  events {event_count:,} → UI batches {flush_count:,} → canvas paints {paint_count:,}")
    print(
        f"  CPU of the thread running the engine: median of the rounds "
        f"{statistics.median(cpu_ratios):.2f}× headless (without a busy machine's waits)"
    )
    if gaps:
        print(
            f"  frame time (16 ms timer): median {ms(med(gaps))}, "
            f"p95 {ms(percentile(gaps, 0.95))}, max {ms(max(gaps))}"
        )
    if latencies:
        print(
            f"  event → paint latency: median {ms(med(latencies))}, "
            f"p95 {ms(percentile(latencies, 0.95))}, max {ms(max(latencies))}"
        )
    if n == 2000:
        verdict = "MET" if ratio <= 1.5 else "MISSED"
        print(f"  target: a 2,000-node run slowed by at most 1.5× → {ratio:.2f}× {verdict}")
    window.controller.mark_saved()
    window.close()
    uninstall_loop(loop)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, nargs="*", default=[2000, 10_000])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--skip-bare", action="store_true", help="skip the eager Qt model")
    parser.add_argument("--rounds", type=int, default=7, help="paired runs per size")
    args = parser.parse_args()
    os.environ.setdefault("FLOWDESK_DATA_DIR", tempfile.mkdtemp(prefix="flowdesk-bench-"))
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    from flowdesk.editor.theme import DARK, apply_theme

    apply_theme(app, DARK)
    bench_outputs(app, args.records, args.skip_bare)
    for n in args.nodes:
        bench_run(app, n, args.rounds)


if __name__ == "__main__":
    main()
