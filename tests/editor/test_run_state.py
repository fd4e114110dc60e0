"""``RunState`` without Qt (events in, batched changes out, badges, partial
runs, stored runs) and ``flowdesk edit FLOW --run --select --screenshot``
end to end in a subprocess."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from flowdesk.editor.document.document import Document
from flowdesk.editor.run.run_state import (
    RunState,
    badge,
    expression_scope,
    merge_results,
    node_inputs,
)
from flowdesk.engine import (
    Engine,
    NodeCancelled,
    NodeContext,
    NodeFailed,
    NodeRegistry,
    NodeResult,
    NodeRetrying,
    NodeSkipped,
    NodeStarted,
    NodeSucceeded,
    NodeType,
    Port,
    RunResult,
    RunStarted,
    parse_workflow,
)

from tests.workflows import flow

from .conftest import QUICKSTART


def started(planned: tuple[str, ...], all_ids: tuple[str, ...] = ()) -> RunStarted:
    return RunStarted("r", 1, 100.0, "wf", all_ids or planned, planned, "2026-01-01T00:00:00Z")


def test_events_update_nodes_and_changes_come_in_batches() -> None:
    state = RunState()
    changes = []
    state.changed.connect(changes.append)
    state.apply(started(("a", "b")))
    state.apply(NodeStarted("r", 2, 100.1, "a", 1))
    state.apply(NodeRetrying("r", 3, 100.2, "a", 1, 3, 1.2, {"code": "HTTP_STATUS"}))
    assert badge(state.nodes["a"], 100.2) == ("retrying", "retry 2/3 in 1.2 s")
    state.apply(NodeStarted("r", 4, 101.4, "a", 2))
    state.apply(NodeSucceeded("r", 5, 101.5, "a", "succeeded", {"x": 1}, 12.0, 2, ("out",)))
    state.apply(NodeFailed("r", 6, 101.6, "b", {"code": "BOOM", "message": "no"}, 3.0, 1))
    assert changes == []  # nothing announced until flushed
    change = state.flush()
    assert change is not None and change.reset and len(changes) == 1
    assert state.flush() is None
    assert badge(state.nodes["a"], 102.0) == ("succeeded", "12 ms · 2 attempts")
    assert badge(state.nodes["b"], 102.0) == ("failed", "BOOM · 3 ms")
    assert state.done == 2 and state.total == 2
    assert [line.level for line in state.logs][-1] == "error"
    assert state.nodes["a"].carried("out") and not state.nodes["b"].carried("out")


def test_a_cancelled_node_says_why_in_the_log_and_on_the_node() -> None:
    """A node cancelled because another failed has no output: the log line,
    the node (tooltip, output panel) and a stored run say why."""
    state = RunState()
    state.apply(started(("a", "b")))
    state.apply(NodeStarted("r", 2, 100.1, "a", 1))
    state.apply(NodeFailed("r", 3, 100.2, "b", {"code": "TOOL_ERROR", "message": "no"}, 3.0, 1))
    why = "the run stopped: node 'b' failed"
    state.apply(NodeCancelled("r", 4, 100.3, "a", 150.0, 1, why))
    state.flush()
    assert state.logs[-1].message == f"cancelled: {why}"
    assert state.nodes["a"].status == "cancelled" and state.nodes["a"].reason == why
    stored = RunResult(
        "r", "failed", "t", 1.0, {"a": NodeResult("cancelled", duration_ms=150.0, reason=why)}
    )
    assert RunState.from_result(stored).nodes["a"].reason == why
    assert any(why in line.message for line in RunState.from_result(stored).logs)


def test_partial_runs_keep_the_other_nodes_and_merge_results() -> None:
    state = RunState()
    state.apply(started(("a", "b")))
    state.apply(NodeSucceeded("r", 2, 1.0, "a", "succeeded", 1, 1.0, 1))
    state.apply(NodeSucceeded("r", 3, 1.0, "b", "succeeded", 2, 1.0, 1))
    state.flush()
    state.apply(RunStarted("r2", 1, 2.0, "wf", ("a", "b"), ("b",), "2026-01-01T00:00:01Z"))
    assert state.nodes["a"].stale and state.nodes["a"].output == 1
    state.apply(NodeSkipped("r2", 2, 2.0, "a", "not part of this run"))
    assert state.nodes["a"].stale and state.total == 1
    earlier = RunResult("r", "succeeded", "t", 1.0, {"a": NodeResult("succeeded", 1)})
    later = RunResult(
        "r2",
        "succeeded",
        "t",
        1.0,
        {
            "a": NodeResult("skipped", reason="not part of this run"),
            "b": NodeResult("succeeded", 3),
        },
    )
    merged = merge_results(earlier, later)
    assert merged.nodes["a"].output == 1 and merged.nodes["b"].output == 3


def test_inputs_come_from_the_upstream_outputs_on_the_ports_that_carried() -> None:
    result = RunResult(
        "r",
        "succeeded",
        "t",
        1.0,
        {
            "check": NodeResult("succeeded", {"n": 1}, ports=["true"]),
            "a": NodeResult("succeeded", 1),
            "b": NodeResult("succeeded", 2),
        },
    )
    state = RunState.from_result(result)
    edges = [("check", "true", "x", "in"), ("check", "false", "y", "in")]
    one = (("in", False),)
    assert node_inputs(state, edges[:1], one) == ({"in": {"n": 1}}, {"in": [("check", {"n": 1})]})
    # nothing arrived: the port is None, as the run gives it to the node
    assert node_inputs(state, edges[1:], one) == ({"in": None}, {})
    merged = node_inputs(state, [("a", "out", "m", "in"), ("b", "out", "m", "in")], (("in", True),))
    assert merged[0] == {"in": [1, 2]}
    assert state.read_only and state.status == "succeeded"


class Gather(NodeType):
    """Gives the inputs it received (a merge: runs on what arrived)."""

    type_name = "test.gather"
    inputs = (Port("in", multiple=True), Port("side"))
    outputs = (Port("out"),)
    partial_inputs = True

    async def execute(self, ctx: NodeContext, config: Any) -> Any:
        return ctx.inputs


def test_the_preview_gathers_a_nodes_inputs_as_the_run_did(registry: NodeRegistry) -> None:
    """A merge of a skipped branch and two values, one port left empty, its
    edges re-ordered by an undo: the inputs the editor shows for the node are
    the ones the run handed it."""
    nodes = [
        {"id": "a", "type": "data.transform", "config": {"value": 1}},
        {"id": "b", "type": "data.transform", "config": {"value": 2}},
        {"id": "check", "type": "flow.if", "config": {"condition": "{{ false }}"}},
        {"id": "m", "type": "test.gather"},
    ]
    edges = [("a", "check"), ("check:true", "m:in"), ("b", "m:in"), ("a", "m:in")]
    registry.register(Gather)
    try:
        workflow = parse_workflow(flow(nodes, edges), registry)
        result = asyncio.run(Engine(registry).run(workflow))
        doc = Document(workflow, registry)
        # delete b → m and undo it: the edge is back at its place in the file
        removed = doc.remove_edges([("b", "out", "m", "in")])
        doc.insert_edges([(index, data) for index, data in removed])
        received = result.nodes["m"].output
        assert received == {"in": [2, 1], "side": None}
        state = RunState.from_result(result)
        inputs, sources = node_inputs(state, doc.edges_into("m"), doc.input_layout("m"))
        assert inputs == received
        assert sources == {"in": [("b", 2), ("a", 1)]}
        # and the expression preview's scope sees them
        scope = expression_scope(state, "m", inputs, doc.upstream("m"), {}, [])
        assert scope["inputs"] == received
        # a renamed node's edges keep their place too
        doc.rename_node("b", "second")
        assert doc.edges_into("m") == [
            ("check", "true", "m", "in"),
            ("second", "out", "m", "in"),
            ("a", "out", "m", "in"),
        ]
    finally:
        registry.unregister("test.gather")


def test_edit_run_select_screenshot_exits_0(tmp_path: Path) -> None:
    folder = tmp_path / "flows"
    folder.mkdir()
    shutil.copy(QUICKSTART, folder / QUICKSTART.name)
    shutil.copytree(QUICKSTART.parent / "data", folder / "data")
    out = tmp_path / "shots" / "run.png"
    code = (
        "import sys; from flowdesk.cli import main; "
        f"sys.exit(main(['edit', {str(folder / QUICKSTART.name)!r}, '--run', '--select', "
        f"'summarise', '--screenshot', {str(out)!r}]))"
    )
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "FLOWDESK_DATA_DIR": str(tmp_path / "data"),
        "HOME": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=90, env=env
    )
    assert done.returncode == 0, done.stderr
    assert out.is_file() and out.read_bytes()[:4] == b"\x89PNG"
    assert (folder / "output" / "report.json").is_file()  # the run happened
    # a failing run still gives a picture and exit code 0
    (folder / "data" / "orders.csv").unlink()
    failing = tmp_path / "shots" / "failed.png"
    done = subprocess.run(
        [sys.executable, "-c", code.replace(str(out), str(failing))],
        capture_output=True,
        text=True,
        timeout=90,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert failing.is_file()
