"""The run's scheduler (``engine.run.scheduler``): what is ready, what is
skipped, what a partial run plans — synchronous, without an event loop."""

from __future__ import annotations

from typing import Any

from flowdesk.engine import Graph, NodeResult, RunResult
from flowdesk.engine.run.scheduler import NO_VALUE, Scheduler, gather_inputs, partial_plan

ONE_IN = (("in", False),)
SEVERAL_IN = (("in", True),)


def chain_graph() -> Graph:
    return Graph(["a", "b", "c"], [("a", "out", "b", "in"), ("b", "out", "c", "in")])


def scheduler(graph: Graph, plan: set[str] | None = None) -> Scheduler:
    return Scheduler(graph, set(graph.order) if plan is None else plan)


def inputs_of(s: Scheduler, node_id: str, layout: tuple[tuple[str, bool], ...]) -> Any:
    """What the run hands ``node_id``: its inputs and their sources."""
    return gather_inputs(s.graph.incoming[node_id], s.received[node_id], layout)


def test_sources_are_ready_first_then_each_node_when_its_edges_delivered():
    s = scheduler(chain_graph())
    s.queue_sources()
    assert list(s.ready) == ["a"]
    s.ready.popleft()
    s.resolve("a", NodeResult(status="succeeded", output=1))
    s.deliver("a", None, 1)
    assert list(s.ready) == ["b"]
    assert inputs_of(s, "b", ONE_IN) == ({"in": 1}, {"in": [("a", 1)]})
    assert not s.complete


def test_a_node_waits_for_every_edge_into_it():
    graph = Graph(["a", "b", "m"], [("a", "out", "m", "in"), ("b", "out", "m", "in")])
    s = scheduler(graph)
    s.queue_sources()
    assert list(s.ready) == ["a", "b"]
    s.deliver("b", None, "B")
    assert list(s.ready) == ["a", "b"]  # m still waits for a
    s.deliver("a", None, "A")
    assert list(s.ready)[-1] == "m"
    # values in edge order, whatever order they arrived in
    assert inputs_of(s, "m", SEVERAL_IN) == (
        {"in": ["A", "B"]},
        {"in": [("a", "A"), ("b", "B")]},
    )


def test_no_value_on_an_edge_skips_its_target_unless_partial_inputs():
    graph = Graph(["a", "b", "m"], [("a", "out", "m", "in"), ("b", "out", "m", "in")])
    s = scheduler(graph)
    s.deliver("a", (), None)  # a skipped: its edges carry no value
    s.deliver("b", None, 2)
    assert s.missing_source("m", partial_inputs=False) == "a"
    assert s.missing_source("m", partial_inputs=True) is None  # flow.merge runs
    assert inputs_of(s, "m", SEVERAL_IN) == ({"in": [2]}, {"in": [("b", 2)]})
    s2 = scheduler(graph)
    s2.deliver("a", (), None)
    s2.deliver("b", (), None)
    assert s2.missing_source("m", partial_inputs=True) == "a"  # nothing arrived


def test_a_routed_value_reaches_only_the_edges_of_its_ports():
    graph = Graph(
        ["if", "yes", "no"],
        [("if", "true", "yes", "in"), ("if", "false", "no", "in")],
    )
    s = scheduler(graph)
    s.deliver("if", ["true"], 7)
    assert list(s.ready) == ["yes", "no"]  # both decided: one runs, one skips
    assert s.missing_source("yes", partial_inputs=False) is None
    assert s.missing_source("no", partial_inputs=False) == "if"
    assert s.received["no"] == [NO_VALUE]


def test_nodes_out_of_the_plan_or_decided_never_become_ready():
    s = scheduler(chain_graph(), plan={"a", "b"})
    s.deliver("a", None, 1)
    s.resolve("c", NodeResult(status="skipped", reason="not in this run"))
    s.deliver("b", None, 2)
    assert list(s.ready) == ["b"]


def test_up_to_plans_the_node_and_its_ancestors():
    graph = Graph(["a", "b", "c", "x"], [("a", "out", "b", "in"), ("b", "out", "c", "in")])
    assert partial_plan(graph, None, "b", None) == ({"a", "b"}, set())
    assert partial_plan(graph, None, None, None) == ({"a", "b", "c", "x"}, set())


def test_only_reuses_earlier_outputs_and_runs_upstream_nodes_without_one():
    graph = chain_graph()
    assert partial_plan(graph, "c", None, None) == ({"a", "b", "c"}, set())
    earlier = RunResult(
        run_id="r",
        status="failed",
        started_at="2026-01-01T00:00:00.000Z",
        duration_ms=1.0,
        nodes={
            "a": NodeResult(status="succeeded", output=1),
            "b": NodeResult(status="succeeded", output=2),
            "c": NodeResult(status="failed"),
        },
    )
    assert partial_plan(graph, "c", None, earlier) == ({"c"}, {"b"})
    earlier.nodes["b"] = NodeResult(status="failed")
    assert partial_plan(graph, "c", None, earlier) == ({"b", "c"}, {"a"})
