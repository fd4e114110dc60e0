"""OpenAPI source benchmark on GitHub's REST description (npm
``@octokit/openapi``, ~1,200 operations, 13 MB of JSON), each figure beside a
bare baseline:

- load + palette: reading the document into tools (``load_spec``
  without a document cache), the search index, and the editor's palette
  filled with every tool (offscreen Qt) — beside ``json.load`` of the same file. Target < 2 s.
- search: the palette's search (``CatalogueIndex.search`` and the palette's
  filter over every row) for a few queries — beside a bare substring scan
  over the tool names. Target < 50 ms.
- ``flowdesk tools list FLOW`` as a user runs it (a new process) — beside a
  process that only imports json and loads the file. Target < 3 s.

The document is installed from the npm registry into a cache folder
(``tests/sources/octokit.py``); without npm the bench says so and stops.
Usage: ``python -m bench.openapi [--repeat 5]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

QUERIES = ("create issue", "pulls", "GET /repos", "actions secret", "gist", "zzz-nothing")


def timed(fn, *args):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - started, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    from tests.sources.octokit import github_spec

    spec, reason = github_spec()
    if spec is None:
        print(f"skipped: {reason}")
        return 0
    folder = Path(tempfile.mkdtemp(prefix="flowdesk-bench-openapi-"))
    shutil.copyfile(spec, folder / "github.json")
    flow = folder / "github.flow.json"
    flow.write_text(
        json.dumps(
            {
                "format": "flowdesk/workflow",
                "version": 1,
                "name": "GitHub",
                "sources": {"github": {"type": "openapi", "spec": "github.json"}},
                "nodes": [],
                "edges": [],
            }
        )
    )
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from flowdesk.engine.sources import openapi
    from flowdesk.engine.sources.catalogue import CatalogueIndex

    try:
        from flowdesk.editor.palette import Palette
        from flowdesk.editor.sources.palette_tools import set_tools
        from flowdesk.engine import NodeRegistry
        from PySide6.QtWidgets import QApplication

        app = QApplication.instance() or QApplication([])
        registry = NodeRegistry.default(plugins=False)
    except ImportError as exc:  # pragma: no cover - no Qt
        print(f"(no palette figures: {exc})")
        app = None

    size_mb = (folder / "github.json").stat().st_size / 1e6
    print(f"GitHub REST description: {size_mb:.1f} MB")
    baseline, loads, palettes, tools_count = [], [], [], 0
    palette = None
    for _ in range(args.repeat):
        with open(folder / "github.json", "rb") as handle:
            seconds, _ = timed(json.load, handle)
        baseline.append(seconds)
        started = time.perf_counter()
        loaded = asyncio.run(openapi.load_spec("github.json", folder))
        index = CatalogueIndex({"github": loaded.tools})
        loads.append(time.perf_counter() - started)
        tools_count = len(loaded.tools)
        if app is not None:
            started = time.perf_counter()
            palette = Palette(registry)
            set_tools(palette, {"github": loaded.tools})
            app.processEvents()
            palettes.append(time.perf_counter() - started)
    load_med = statistics.median(loads)
    total = load_med + (statistics.median(palettes) if palettes else 0.0)
    print(f"{tools_count} tools")
    print(
        f"load + palette   {total * 1000:7.0f} ms  (load {load_med * 1000:.0f} ms, palette "
        f"{(statistics.median(palettes) * 1000 if palettes else 0):.0f} ms)   "
        f"baseline json.load {statistics.median(baseline) * 1000:.0f} ms   "
        f"target < 2000 ms: {'met' if total < 2 else 'MISSED'}"
    )

    names = [t.name.lower() for t in loaded.tools]
    worst_index, worst_palette, worst_bare = 0.0, 0.0, 0.0
    for query in QUERIES:
        for _ in range(args.repeat):
            seconds, _ = timed(index.search, query)
            worst_index = max(worst_index, seconds)
            seconds, _ = timed(lambda q: [n for n in names if q.lower() in n], query)
            worst_bare = max(worst_bare, seconds)
            if palette is not None:
                seconds, _ = timed(palette.apply_filter, query)
                worst_palette = max(worst_palette, seconds)
    worst = max(worst_index, worst_palette)
    print(
        f"search (worst)   {worst * 1000:7.1f} ms  (index {worst_index * 1000:.1f} ms, palette "
        f"filter {worst_palette * 1000:.1f} ms)   baseline substring scan "
        f"{worst_bare * 1000:.1f} ms   target < 50 ms: {'met' if worst < 0.05 else 'MISSED'}"
    )

    env = dict(os.environ, PYTHONPATH=str(ROOT))
    cli, bare = [], []
    for _ in range(max(3, args.repeat // 2)):
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "flowdesk", "tools", "list", str(flow)],
            capture_output=True,
            env=env,
        )
        cli.append(time.perf_counter() - started)
        if done.returncode != 0:
            print(done.stderr.decode())
            return 1
        started = time.perf_counter()
        bare_code = f"import json; json.load(open({str(folder / 'github.json')!r}))"
        subprocess.run([sys.executable, "-c", bare_code], capture_output=True)
        bare.append(time.perf_counter() - started)
    cli_med = statistics.median(cli)
    print(
        f"tools list       {cli_med * 1000:7.0f} ms   baseline python + json.load "
        f"{statistics.median(bare) * 1000:.0f} ms   target < 3000 ms: "
        f"{'met' if cli_med < 3 else 'MISSED'}"
    )
    shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
