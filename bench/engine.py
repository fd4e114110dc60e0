"""Executor overhead: a chain of 10,000 ``data.transform`` nodes and a fan-out
of 10,000 independent ones, each with a small expression, beside a bare loop
that evaluates the same compiled expressions; then ``flowdesk run`` of the
chain end to end (a subprocess: start-up, load, validate, run, print).

Goals (issue 21), wall clock, median of 5: the chain within 2.5× the bare
loop and under 250 ms — Node-RED 4.1 passes a message through 10,000
function nodes in about 260 ms on this machine kind — and the whole
``flowdesk run`` of it under 1 s. The engine and the bare loop alternate in
one process, so a busy machine slows both alike: the ratio is the steadier
figure. The last lines say which goals are met.

Wall-clock figures are noisy on a shared 2-core machine; ``--callgrind``
also counts instructions with valgrind (the same count whatever else runs):
the executor's instructions beside the bare loop's, start-up subtracted.

Usage: python -m bench.engine [--nodes 10000] [--repeat 5] [--callgrind]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flowdesk.engine import Engine, NodeRegistry, parse_workflow
from flowdesk.engine.expressions import ExpressionEngine

CHAIN_EXPR = "{{ input + 1 }}"
FAN_EXPR = "{{ vars.base * 2 + 1 }}"


def chain(n: int) -> dict[str, Any]:
    nodes = [{"id": "n0", "type": "data.transform", "config": {"value": 0}}]
    nodes += [
        {"id": f"n{i}", "type": "data.transform", "config": {"value": CHAIN_EXPR}}
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


def fan_out(n: int) -> dict[str, Any]:
    nodes = [
        {"id": f"n{i}", "type": "data.transform", "config": {"value": FAN_EXPR}} for i in range(n)
    ]
    return {
        "format": "flowdesk/workflow",
        "version": 1,
        "name": f"fan-out {n}",
        "variables": {"base": 20},
        "settings": {"max_concurrency": 10_000},
        "nodes": nodes,
        "edges": [],
    }


def bare_chain(n: int, expressions: ExpressionEngine) -> float:
    compiled = expressions.compile(CHAIN_EXPR)
    started = time.perf_counter()
    value = 0
    for _ in range(1, n):
        value = compiled.evaluate({"input": value})
    assert value == n - 1
    return time.perf_counter() - started


def bare_fan(n: int, expressions: ExpressionEngine) -> float:
    compiled = expressions.compile(FAN_EXPR)
    scope = {"vars": {"base": 20}}
    started = time.perf_counter()
    out = [compiled.evaluate(scope) for _ in range(n)]
    assert out[-1] == 41
    return time.perf_counter() - started


def timed_run(engine: Engine, workflow: Any) -> float:
    async def go() -> float:
        started = time.perf_counter()
        result = await engine.run(workflow, check=False)
        elapsed = time.perf_counter() - started
        assert result.status == "succeeded", result.status
        return elapsed

    gc.collect()
    # As `flowdesk run` does: the loaded workflow is long-lived, keep it out of
    # the collector's way (the bare loop below runs under the same setting).
    gc.freeze()
    try:
        return asyncio.run(go())
    finally:
        gc.unfreeze()


def median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def probe(mode: str, case: str, n: int) -> None:
    """One measured process for --callgrind: warm up, then run 3 times."""
    registry = NodeRegistry.default(plugins=False)
    engine = Engine(registry)
    build, bare = (chain, bare_chain) if case == "chain" else (fan_out, bare_fan)
    workflow = parse_workflow(build(n), registry)
    asyncio.run(engine.run(workflow, check=False))
    bare(n, engine.expressions)
    gc.collect()
    gc.freeze()
    for _ in range(3):
        if mode == "run":
            asyncio.run(engine.run(workflow, check=False))
        elif mode == "bare":
            bare(n, engine.expressions)


def instructions(mode: str, case: str, n: int) -> int:
    done = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            "-m",
            "bench.engine",
            "--probe",
            mode,
            case,
            "--nodes",
            str(n),
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    assert found, done.stderr[-2000:]
    return int(found.group(1))


def callgrind_report(n: int) -> None:
    print(f"\nInstructions (valgrind callgrind), {n:,} nodes, 3 runs, start-up subtracted")
    for case in ("chain", "fan-out"):
        base = instructions("none", case, n)
        run = instructions("run", case, n) - base
        bare = instructions("bare", case, n) - base
        print(
            f"{case:<10} bare loop {bare / 3 / n:>8,.0f} instr/node   executor "
            f"{run / 3 / n:>8,.0f} instr/node   ratio {run / bare:.2f}×"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--callgrind", action="store_true", help="also count instructions")
    parser.add_argument("--probe", nargs=2, metavar=("MODE", "CASE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    n = args.nodes
    if args.probe:
        probe(*args.probe, n)
        return
    registry = NodeRegistry.default(plugins=False)
    engine = Engine(registry)

    print(f"Executor overhead, {n:,} data.transform nodes, median of {args.repeat} runs")
    print(f"{'case':<10} {'bare loop':>11} {'executor':>11} {'own time':>11} {'ratio':>7}")
    figures: dict[str, tuple[float, float]] = {}
    for name, build, bare in (("chain", chain, bare_chain), ("fan-out", fan_out, bare_fan)):
        workflow = parse_workflow(build(n), registry)
        timed_run(engine, workflow)  # warm caches (compiled expressions, imports)
        runs, bares = [], []
        for _ in range(args.repeat):  # side by side: load slows both alike
            runs.append(timed_run(engine, workflow))
            gc.freeze()
            bares.append(bare(n, engine.expressions))
            gc.unfreeze()
        run_ms, bare_ms = median_ms(runs), median_ms(bares)
        figures[name] = (run_ms, bare_ms)
        print(
            f"{name:<10} {bare_ms:>9.1f} ms {run_ms:>8.1f} ms {run_ms - bare_ms:>8.1f} ms "
            f"{run_ms / bare_ms:>6.2f}×"
        )

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "chain.flow.json"
        path.write_text(json.dumps(chain(n)))
        env = {**os.environ, "FLOWDESK_DATA_DIR": folder}
        # An installed Flowdesk has its bytecode compiled (pip compiles it): let
        # the warm-up run write it rather than compile the sources every start.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        times = []
        for run in range(-1, args.repeat):
            started = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "flowdesk", "run", str(path), "--json"],
                env=env,
                capture_output=True,
                check=False,
            )
            assert done.returncode == 0, done.stderr.decode()
            if run >= 0:
                times.append(time.perf_counter() - started)
        cli_s = statistics.median(times)
        print(
            f"flowdesk run of the {n:,}-node chain (start-up, load, validate, run, print "
            f"JSON, record history): {cli_s:.2f} s median of {args.repeat}"
        )
    if n == 10_000:
        run_ms, bare_ms = figures["chain"]
        goals = (
            (f"chain ≤ 2.5× the bare loop ({run_ms / bare_ms:.2f}×)", run_ms <= 2.5 * bare_ms),
            (f"chain < 250 ms ({run_ms:.0f} ms)", run_ms < 250),
            (f"flowdesk run < 1 s ({cli_s:.2f} s)", cli_s < 1.0),
        )
        for text, met in goals:
            print(f"goal {text}: {'met' if met else 'NOT met'}")
    if args.callgrind:
        callgrind_report(n)


if __name__ == "__main__":
    main()
