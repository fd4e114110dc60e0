"""The run's graph helpers (``engine.run.graph``): plain functions on plain
data, no event loop. The validator and the editor's document walk the graph
with them, so their answers are the ones users see (cycles, upstream names)."""

from __future__ import annotations

from flowdesk.engine import Graph, reachable


def diamond() -> Graph:
    #   a → b → d
    #   a → c → d     e alone
    return Graph(
        ["a", "b", "c", "d", "e"],
        [
            ("a", "out", "b", "in"),
            ("a", "out", "c", "in"),
            ("b", "out", "d", "in"),
            ("c", "out", "d", "in"),
        ],
    )


def test_incoming_and_outgoing_keep_edge_order_and_positions():
    graph = diamond()
    assert graph.incoming["d"] == [("b", "out", "in"), ("c", "out", "in")]
    # (target, position in the target's incoming, source port)
    assert graph.outgoing["c"] == [("d", 1, "out")]
    assert graph.predecessors("d") == ["b", "c"]
    assert graph.successors("a") == ["b", "c"]
    assert graph.predecessors("e") == [] and graph.successors("e") == []


def test_ancestors_descendants_and_upstream():
    graph = diamond()
    assert graph.ancestors("d") == {"a", "b", "c"}
    assert graph.ancestors("a") == set()
    assert graph.descendants("a") == {"b", "c", "d"}
    assert graph.is_upstream("a", "d") and graph.is_upstream("b", "d")
    assert not graph.is_upstream("d", "a")
    assert not graph.is_upstream("e", "d")
    assert not graph.is_upstream("b", "c")  # siblings


def test_upstream_answers_follow_edges_added_later():
    graph = Graph(["a", "b"])
    assert not graph.is_upstream("a", "b")
    graph.add_edge("a", "out", "b", "in")
    assert graph.is_upstream("a", "b")


def test_a_long_chain_is_walked_without_recursion():
    n = 20_000
    graph = Graph(
        [f"n{i}" for i in range(n)],
        [(f"n{i - 1}", "out", f"n{i}", "in") for i in range(1, n)],
    )
    assert len(graph.ancestors(f"n{n - 1}")) == n - 1
    assert graph.is_upstream("n0", f"n{n - 1}")
    ordered, left = graph.topological_order()
    assert ordered[0] == "n0" and ordered[-1] == f"n{n - 1}" and not left


def test_topological_order_keeps_file_order_between_independent_nodes():
    graph = Graph(["z", "y", "x"], [("x", "out", "z", "in")])
    assert graph.topological_order() == (["y", "x", "z"], set())


def test_cycles_are_left_out_of_the_order_and_found():
    # a → b → c → a, and d behind the cycle; e independent
    graph = Graph(
        ["a", "b", "c", "d", "e"],
        [
            ("a", "out", "b", "in"),
            ("b", "out", "c", "in"),
            ("c", "out", "a", "in"),
            ("c", "out", "d", "in"),
        ],
    )
    ordered, left = graph.topological_order()
    assert ordered == ["e"]
    assert left == {"a", "b", "c", "d"}
    assert graph.cycle_from("b", left) == ["b", "c", "a"]
    assert graph.cycle_from("d", left) is None  # behind the cycle, not in it
    assert graph.ancestors("a") == {"a", "b", "c"}  # itself: on a cycle


def test_reachable_walks_any_adjacency():
    links = {"a": ["b"], "b": ["c", "a"], "c": []}
    assert reachable("a", lambda n: links[n]) == {"a", "b", "c"}
    assert reachable("c", lambda n: links[n]) == set()


def test_graph_of_a_workflow(registry):
    from tests.engine.conftest import make

    workflow = make(
        registry,
        [
            {"id": "a", "type": "data.transform", "config": {"value": 1}},
            {"id": "b", "type": "data.transform", "config": {"value": 2}},
        ],
        [("a", "b")],
    )
    graph = Graph.of(workflow)
    assert graph.order == ["a", "b"]
    assert graph.incoming["b"] == [("a", "out", "in")]


def test_graph_of_a_workflow_equals_the_graph_built_edge_by_edge(registry):
    """``Graph.of`` inlines ``add_node``/``add_edge`` (a run builds it for
    every node): pinned here to the general path, ports and positions too."""
    from tests.engine.conftest import make

    nodes = [
        {"id": name, "type": "data.transform", "config": {"value": 1}}
        for name in ("a", "b", "c", "d")
    ]
    workflow = make(
        registry,
        [
            *nodes,
            {"id": "m", "type": "flow.merge"},
            {"id": "f", "type": "flow.if", "config": {"condition": "true"}},
        ],
        [("a", "b"), ("a", "c"), ("b", "m"), ("c", "m"), ("d", "f"), ("f:false", "m")],
    )
    built = Graph()
    for node in workflow.nodes:
        built.add_node(node.id)
    for edge in workflow.edges:
        built.add_edge(*edge.key())
    fast = Graph.of(workflow)
    assert fast.order == built.order
    assert fast.incoming == built.incoming
    assert fast.outgoing == built.outgoing
    assert fast.incoming["m"] == [("b", "out", "in"), ("c", "out", "in"), ("f", "false", "in")]
