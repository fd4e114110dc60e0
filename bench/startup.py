"""Start-up time of the packaged Flowdesk, beside the floor of importing Qt.

    python bench/startup.py [--bundle dist/flowdesk] [--runs 7] [--json OUT.json]

Each figure is the wall time of a whole process, from spawn to exit, offscreen
(QT_QPA_PLATFORM=offscreen), with a private HOME so that settings and autosave
start empty every time. One warm-up run of each command is not counted (the
first start after a build reads the bundle from disk); median, min and max of
the rest are printed.

- floor: ``python -c "import PySide6.QtWidgets"`` with this interpreter.
- floor + window: the same Python creating a QApplication, showing a 1440x900
  QMainWindow and grabbing it (what any Qt program pays for a first frame).
- source, first window: ``python -m editor FLOW --screenshot`` from the source tree.
- packaged --version: the bundle's ``flowdesk --version`` (bootloader + engine import).
- packaged run: ``flowdesk run FLOW --json --no-history`` (headless engine).
- packaged, first window: ``flowdesk edit FLOW --screenshot OUT.png``: builds the
  main window with the quick-start example loaded, shows it, paints it
  (``QWidget.grab``), writes the PNG and exits. That is an upper bound of "time to
  first window" (it includes fitting the view, validating and writing the PNG).

Target (issue 8): packaged first window under 2 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET_S = 2.0

WINDOW_SNIPPET = """
import sys
from PySide6.QtWidgets import QApplication, QMainWindow, QLabel
app = QApplication(sys.argv[:1])
w = QMainWindow(); w.setCentralWidget(QLabel("first window")); w.resize(1440, 900); w.show()
app.processEvents()
w.grab()
"""


def timed(cmd: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}"
        )
    return elapsed


def measure(cmd: list[str], runs: int, env: dict[str, str], cwd: Path) -> list[float]:
    timed(cmd, env, cwd)  # warm-up
    return [timed(cmd, env, cwd) for _ in range(runs)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bundle", type=Path, default=REPO / "dist" / "flowdesk")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--flow", type=Path, default=REPO / "resources" / "examples" / "quickstart.flow.json"
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--no-source", action="store_true", help="skip the source-tree figure")
    args = parser.parse_args(argv)

    exe = args.bundle / ("flowdesk.exe" if sys.platform == "win32" else "flowdesk")
    if not exe.exists():
        sys.stderr.write(f"no bundle at {args.bundle}: build it with packaging/build-linux.sh\n")
        return 2
    scratch = Path(tempfile.mkdtemp(prefix="flowdesk-startup-"))
    try:
        examples = scratch / "examples"
        shutil.copytree(args.flow.parent, examples, ignore=shutil.ignore_patterns("output"))
        flow = examples / args.flow.name
        home = scratch / "home"
        env = dict(os.environ)
        env.update(
            QT_QPA_PLATFORM="offscreen",
            HOME=str(home),
            XDG_CONFIG_HOME=str(home / ".config"),
            XDG_DATA_HOME=str(home / ".local" / "share"),
            XDG_CACHE_HOME=str(home / ".cache"),
            XDG_STATE_HOME=str(home / ".local" / "state"),
        )
        env.pop("FLOWDESK_RESOURCES", None)
        shot = scratch / "shot.png"
        py = sys.executable
        cases: list[tuple[str, list[str], Path]] = [
            ("floor: import PySide6.QtWidgets", [py, "-c", "import PySide6.QtWidgets"], scratch),
            ("floor + window: QApplication, show, grab", [py, "-c", WINDOW_SNIPPET], scratch),
        ]
        if not args.no_source:
            cases.append(
                (
                    "source: python -m editor --screenshot",
                    [py, "-m", "editor", str(flow), "--screenshot", str(shot)],
                    REPO,
                )
            )
        cases += [
            ("packaged: flowdesk --version", [str(exe), "--version"], scratch),
            (
                "packaged: flowdesk run --json",
                [str(exe), "run", str(flow), "--json", "--no-history"],
                scratch,
            ),
            (
                "packaged: first window (edit --screenshot)",
                [str(exe), "edit", str(flow), "--screenshot", str(shot)],
                scratch,
            ),
        ]
        print(f"python {sys.version.split()[0]} ({py}); bundle {args.bundle}; {args.runs} runs")
        print(f"{'':44} {'median':>8} {'min':>8} {'max':>8}")
        results = {}
        for label, cmd, cwd in cases:
            times = measure(cmd, args.runs, env, cwd)
            med = statistics.median(times)
            results[label] = {
                "median_s": med,
                "min_s": min(times),
                "max_s": max(times),
                "runs": times,
            }
            print(f"{label:44} {med:8.3f} {min(times):8.3f} {max(times):8.3f}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    floor = results["floor: import PySide6.QtWidgets"]["median_s"]
    first = results["packaged: first window (edit --screenshot)"]["median_s"]
    verdict = "PASS" if first < TARGET_S else "FAIL"
    print(
        f"packaged first window {first:.3f} s = floor + {first - floor:.3f} s "
        f"({first / floor:.1f}x the floor); target < {TARGET_S:.1f} s: {verdict}"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
