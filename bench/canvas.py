"""Canvas benchmark: Flowdesk's canvas beside bare Qt items, offscreen.

Builds workflows of 500, 2,000 and 5,000 nodes (a chain, plus extra edges for
the dense case) and measures, each case in a fresh process:

- open: load the file + build the scene + fit + first paint
  (bare: build plain rect and path items + fit + first paint);
- a full repaint at fit-all zoom and at 100 %;
- a panning frame at 100 % (scroll 40 px and let Qt paint what is exposed);
- one drag step of a node with its edges;
- peak resident memory.

Prints a table with the ratios to bare Qt and the issue's targets.
Usage: ``python bench/canvas.py [--cases 500,2000,5000,2000x6000] [--repeat 15]``
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# Run as a script, this folder comes first on sys.path, and it has modules named
# like the project's packages (bench/engine.py): import the project instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

VIEW_SIZE = (1280, 800)
TYPES = ["data.transform", "flow.merge", "flow.if", "data.transform", "file.write"]
TARGETS = {"open": 2.0, "fit": 1.0, "pan": 1.5, "drag": 2.0}


def make_workflow(nodes: int, edges: int, seed: int = 7) -> dict[str, Any]:
    """A chain of ``nodes`` laid out in rows, plus extra forward edges up to
    ``edges`` in total (mostly to nearby nodes, as real graphs have)."""
    rng = random.Random(seed)
    columns = max(1, int((nodes * 2.5) ** 0.5))
    out_nodes = []
    for i in range(nodes):
        out_nodes.append(
            {
                "id": f"n{i}",
                "type": TYPES[i % len(TYPES)],
                "title": f"Node {i}",
                "position": [(i % columns) * 280, (i // columns) * 180],
                "config": {"value": {"i": i}} if TYPES[i % len(TYPES)] == "data.transform" else {},
            }
        )

    def port(i: int) -> str:
        return "true" if TYPES[i % len(TYPES)] == "flow.if" else "out"

    pairs = [(i, i + 1) for i in range(nodes - 1)]
    seen = set(pairs)
    while len(pairs) < edges:
        a = rng.randrange(nodes - 2)
        b = min(nodes - 1, a + rng.randint(2, 60))
        if (a, b) not in seen:
            seen.add((a, b))
            pairs.append((a, b))
    out_edges = [
        {"from": {"node": f"n{a}", "port": port(a)}, "to": {"node": f"n{b}", "port": "in"}}
        for a, b in pairs
    ]
    return {
        "format": "flowdesk/workflow",
        "version": 1,
        "name": f"bench {nodes}",
        "nodes": out_nodes,
        "edges": out_edges,
    }


# ----------------------------------------------------------------- one case
def run_case(nodes: int, edges: int, mode: str, repeat: int) -> dict[str, float]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    data = make_workflow(nodes, edges)
    if mode == "flowdesk":  # start-up work, not part of opening a file
        import flowdesk.editor.canvas.view  # noqa: F401
        from flowdesk.engine import NodeRegistry

        registry = NodeRegistry.default(plugins=False)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.flow.json"
        path.write_text(json.dumps(data))
        started = time.perf_counter()
        if mode == "flowdesk":
            view, scene, move = _open_flowdesk(path, registry)
        else:
            view, scene, move = _open_bare(data)
        view.resize(*VIEW_SIZE)
        view.show()  # as when a file is opened in the editor: fit, then the first paint
        view_fit(view, scene, mode)
        app.processEvents()
        view.viewport().repaint()
        result = {"open": time.perf_counter() - started}

    def frame() -> float:
        t = time.perf_counter()
        view.viewport().repaint()
        return time.perf_counter() - t

    result["fit"] = statistics.median(frame() for _ in range(repeat))
    view.resetTransform()
    middle = QPointF(*data["nodes"][nodes // 2]["position"]) + QPointF(100, 40)
    view.centerOn(middle)
    if mode == "flowdesk":
        view._after_transform()
    app.processEvents()
    result["full100"] = statistics.median(frame() for _ in range(repeat))
    bar = view.horizontalScrollBar()
    pans = []
    for i in range(repeat * 2):
        t = time.perf_counter()
        bar.setValue(bar.value() + (40 if i % 8 < 4 else -40))
        app.processEvents()
        pans.append(time.perf_counter() - t)
    result["pan"] = statistics.median(pans)
    if mode == "flowdesk":
        view.minimap.set_visible(False)
        app.processEvents()
        pans = []
        for i in range(repeat * 2):
            t = time.perf_counter()
            bar.setValue(bar.value() + (40 if i % 8 < 4 else -40))
            app.processEvents()
            pans.append(time.perf_counter() - t)
        result["pan_no_minimap"] = statistics.median(pans)
        view.minimap.set_visible(True)
    view.centerOn(middle)
    app.processEvents()
    drags = []
    for i in range(repeat * 2):
        t = time.perf_counter()
        move(f"n{nodes // 2}", QPointF(middle.x() - 100 + 3 * i, middle.y() - 40 + 2 * i))
        app.processEvents()
        drags.append(time.perf_counter() - t)
    result["drag"] = statistics.median(drags)
    if mode == "flowdesk":
        from flowdesk.engine import validate

        t = time.perf_counter()
        validate(scene.document.workflow, scene.document.registry)
        result["validate"] = time.perf_counter() - t
    result["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    del Qt
    return result


def view_fit(view: Any, scene: Any, mode: str) -> None:
    from PySide6.QtCore import Qt

    if mode == "flowdesk":
        view.fit_all()
    else:
        view.fitInView(scene.itemsBoundingRect(), Qt.AspectRatioMode.KeepAspectRatio)


def _open_flowdesk(path: Path, registry: Any) -> tuple[Any, Any, Any]:
    from flowdesk.editor.canvas.scene import CanvasScene
    from flowdesk.editor.canvas.view import CanvasView
    from flowdesk.editor.document import Document
    from flowdesk.editor.gcpause import paused_gc
    from flowdesk.editor.theme import DARK
    from flowdesk.engine import load_workflow

    with paused_gc():  # as the editor's FileController.load does
        document = Document(load_workflow(path, registry), registry)
    scene = CanvasScene(DARK)
    scene.set_document(document)
    view = CanvasView(scene)

    def move(node_id: str, pos: Any) -> None:
        scene.preview_move({node_id: pos}, {})

    return view, scene, move


def _open_bare(data: dict[str, Any]) -> tuple[Any, Any, Any]:
    """Plain Qt: a rect item per node and a path item per edge, nothing else."""
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
    from PySide6.QtWidgets import (
        QGraphicsPathItem,
        QGraphicsRectItem,
        QGraphicsScene,
        QGraphicsView,
    )

    scene = QGraphicsScene()
    rects = {}
    for node in data["nodes"]:
        item = QGraphicsRectItem(0, 0, 200, 64)
        item.setBrush(QColor("#34343a"))
        item.setPen(QPen(QColor("#141416"), 1))
        item.setPos(*node["position"])
        scene.addItem(item)
        rects[node["id"]] = item
    pen = QPen(QColor("#a5a5ae"), 2)
    paths: dict[str, list[tuple[QGraphicsPathItem, str, str]]] = {}

    def shape(a: str, b: str) -> QPainterPath:
        p1 = rects[a].pos() + QPointF(200, 32)
        p2 = rects[b].pos() + QPointF(0, 32)
        dx = max(abs(p2.x() - p1.x()) * 0.5, 40)
        path = QPainterPath(p1)
        path.cubicTo(p1.x() + dx, p1.y(), p2.x() - dx, p2.y(), p2.x(), p2.y())
        return path

    for edge in data["edges"]:
        a, b = edge["from"]["node"], edge["to"]["node"]
        item = QGraphicsPathItem(shape(a, b))
        item.setPen(pen)
        item.setZValue(-1)
        scene.addItem(item)
        for end in (a, b):
            paths.setdefault(end, []).append((item, a, b))
    view = QGraphicsView(scene)
    view.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)

    def move(node_id: str, pos: Any) -> None:
        rects[node_id].setPos(pos)
        for item, a, b in paths.get(node_id, ()):
            item.setPath(shape(a, b))

    return view, scene, move


# ------------------------------------------------------------------- driver
def parse_case(text: str) -> tuple[int, int]:
    if "x" in text:
        n, e = text.split("x")
        return int(n), int(e)
    return int(text), int(text) - 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--cases", default="500,2000,2000x6000,5000", help="comma-separated NODES or NODESxEDGES"
    )
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="runs per mode, interleaved; the best of each figure is kept",
    )
    parser.add_argument(
        "--one", nargs=3, metavar=("NODES", "EDGES", "MODE"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_case(int(args.one[0]), int(args.one[1]), args.one[2], args.repeat)))
        return
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(root)}
    print(
        f"offscreen, view {VIEW_SIZE[0]}x{VIEW_SIZE[1]}, median of {args.repeat}+ frames, best of "
        f"{args.rounds} interleaved runs; open in s, frames in ms; ratio = flowdesk / bare"
    )
    columns = ("open", "fit", "full100", "pan", "drag")
    print(f"{'case':>12} {'':>9}" + "".join(f"{c:>9}" for c in columns) + f"{'RSS MB':>8}")
    failures = []
    for case in args.cases.split(","):
        nodes, edges = parse_case(case.strip())
        rows = _measure(nodes, edges, args, env)
        label = f"{nodes}n/{edges}e"
        for mode in ("bare", "flowdesk"):
            r = rows[mode]
            cells = [f"{r['open']:9.3f}"] + [f"{r[c] * 1000:9.2f}" for c in columns[1:]]
            print(
                f"{label if mode == 'bare' else '':>12} {mode:>9}"
                + "".join(cells)
                + f"{r['rss_mb']:8.0f}"
            )
        ratio = {c: rows["flowdesk"][c] / max(rows["bare"][c], 1e-9) for c in columns}
        print(f"{'':>12} {'ratio':>9}" + "".join(f"{ratio[c]:8.2f}x" for c in columns))
        marks = {k: ratio[k] <= limit for k, limit in TARGETS.items()}
        verdict = ", ".join(
            f"{k} {'ok' if ok else 'OVER'} (<= {TARGETS[k]})" for k, ok in marks.items()
        )
        print(f"{'':>22}targets: {verdict}")
        fd = rows["flowdesk"]
        print(
            f"{'':>22}pan without the minimap overlay: {fd['pan_no_minimap'] * 1000:.2f} ms "
            f"({fd['pan_no_minimap'] / max(rows['bare']['pan'], 1e-9):.2f}x); "
            f"live validation: {fd['validate'] * 1000:.0f} ms (debounced, after edits)"
        )
        failures += [f"{label} {k}" for k, ok in marks.items() if not ok]
        if fd["rss_mb"] > 400:
            failures.append(f"{label} memory")
    print("all targets met" if not failures else "over target: " + ", ".join(failures))


def _measure(
    nodes: int, edges: int, args: argparse.Namespace, env: dict[str, str]
) -> dict[str, Any]:
    """Run both modes ``args.rounds`` times, interleaved (a busy moment then
    hurts both sides alike), keeping the best of each figure."""
    rows: dict[str, dict[str, float]] = {}
    for _ in range(args.rounds):
        for mode in ("bare", "flowdesk"):
            command = [sys.executable, __file__, "--one", str(nodes), str(edges), mode]
            out = subprocess.run(
                [*command, "--repeat", str(args.repeat)],
                capture_output=True,
                text=True,
                env=env,
                check=True,
            )
            got = json.loads(out.stdout.strip().splitlines()[-1])
            best = rows.setdefault(mode, got)
            for key, value in got.items():
                best[key] = min(best[key], value)
    return rows


if __name__ == "__main__":
    main()
