"""Graph validation: each rule of the spec, every problem named with its location."""

from __future__ import annotations

from typing import Any

from flowdesk.engine import validate
from flowdesk.engine.validate import check_source

from tests.engine.conftest import flow, make


def issues(registry, nodes: list[dict[str, Any]], edges=(), **top: Any) -> list[str]:
    return [str(i) for i in validate(make(registry, nodes, edges, **top), registry)]


def t(node_id: str, value: Any = 1, **extra: Any) -> dict[str, Any]:
    return {"id": node_id, "type": "data.transform", "config": {"value": value}, **extra}


def test_a_valid_graph_has_no_issues(registry):
    assert issues(registry, [t("a"), t("b", "{{ nodes.a }}")], [("a", "b")]) == []


def test_duplicate_ids_and_unknown_types(registry):
    found = issues(registry, [t("a"), t("a"), {"id": "c", "type": "vendor.missing"}])
    assert found == [
        "nodes[1].id: duplicate id 'a' (also nodes[0])",
        "nodes[2].type: unknown node type 'vendor.missing' (not installed)",
    ]


def test_edges_to_missing_nodes_and_ports(registry):
    found = issues(
        registry,
        [t("a"), t("b"), {"id": "check", "type": "flow.if", "config": {"condition": "true"}}],
        [("ghost", "a"), ("a:nope", "b"), ("a", "b:side"), ("check:maybe", "b")],
    )
    assert found == [
        "edges[0]: node 'ghost' does not exist ('from' end)",
        "edges[1].from.port: node 'a' (data.transform) has no output port 'nope' (outputs: out)",
        "edges[2].to.port: node 'b' (data.transform) has no input port 'side' (inputs: in)",
        "edges[3].from.port: node 'check' (flow.if) has no output port 'maybe' "
        "(outputs: true, false)",
    ]


def test_single_edge_inputs_and_duplicates(registry):
    found = issues(
        registry,
        [t("a"), t("b"), t("c"), {"id": "m", "type": "flow.merge"}],
        [("a", "c"), ("b", "c"), ("a", "m"), ("b", "m"), ("a", "m")],
    )
    assert found == [
        "edges[1]: input 'in' of node 'c' already has an edge (edges[0]); it takes one",
        "edges[4]: duplicate of edges[2]",
    ]


def test_cycles_are_named_node_by_node(registry):
    found = issues(
        registry,
        [t("a"), t("b"), t("c"), t("d"), t("e")],
        [("a", "b"), ("b", "c"), ("c", "a"), ("d", "e"), ("e", "d")],
    )
    assert found == ["cycle: a → b → c → a", "cycle: d → e → d"]


def test_self_loop(registry):
    assert issues(registry, [t("a")], [("a", "a")]) == ["edges[0]: node 'a' is connected to itself"]


def test_expressions_naming_nodes_that_are_not_upstream(registry):
    found = issues(
        registry,
        [
            t("a"),
            t("b", {"x": "{{ nodes.c.value }}", "y": "{{ nodes['a'] }}"}),
            t("c"),
            t("d", "{{ nodes.ghost }}"),
            t("e", "{{ nodes.e }}"),
        ],
        [("a", "b")],
    )
    assert found == [
        "nodes[1].config.value.x: expression names node 'c', which is not upstream of 'b'",
        "nodes[3].config.value: expression names node 'ghost', which does not exist",
        "nodes[4].config.value: expression names node 'e' itself",
    ]


def test_expression_syntax_env_and_item_outside_for_each(registry):
    found = issues(
        registry,
        [
            t("a", "{{ input. }}"),
            t("b", "{{ env.SECRET }}"),
            t("c", "{{ item }}"),
            t("d", "{{ item }}", for_each="{{ [1] }}"),
        ],
        env=["OTHER"],
    )
    assert found[0].startswith("nodes[0].config.value: syntax error in expression")
    assert found[1:] == [
        'nodes[1].config.value: env.SECRET is not declared in the workflow\'s "env" list',
        "nodes[2].config.value: 'item' is only defined in a node with for_each",
    ]


def test_config_checked_against_the_type_model_except_expressions(registry):
    found = issues(
        registry,
        [
            {"id": "m", "type": "flow.merge", "config": {"mode": "dict"}},
            {"id": "n", "type": "flow.merge", "config": {"mode": "{{ vars.mode }}"}},
            {"id": "r", "type": "file.read", "config": {"format": "csv", "colour": "red"}},
            {"id": "i", "type": "flow.if"},
        ],
    )
    assert found == [
        "nodes[0].config.mode: input should be 'list' or 'object' (got 'dict')",
        "nodes[2].config.path: field required",
        "nodes[2].config.colour: unknown field for file.read",
        "nodes[3].config.condition: field required",
    ]


def test_undeclared_credentials(registry):
    found = issues(
        registry,
        [
            {
                "id": "ai",
                "type": "ai.transform",
                "config": {"model": "m", "user_prompt": "hi", "credential": "nope"},
            }
        ],
    )
    assert found == [
        "nodes[0].config.credential: credential 'nope' is not declared in \"credentials\" "
        "(declared: none)"
    ]


def test_every_problem_at_once_even_when_the_file_does_not_fit_the_format(registry):
    raw = flow(
        [
            t("a"),
            t("b"),
            {"id": "bad id", "type": "data.transform"},
            {"id": "c", "type": "flow.merge", "config": {"mode": "dict"}},
        ],
        [("a", "b"), ("b", "a"), ("ghost", "c"), ("bad id", "c")],
        extra=1,
    )
    workflow, found = check_source(raw, registry)
    assert workflow is None
    text = [str(i) for i in found]
    assert (
        "nodes[2].id: invalid id 'bad id': use letters, digits and '_', starting with a "
        "letter or '_', at most 64 characters" in text
    )
    assert "extra: unknown key (not part of the format; editor state belongs under 'ui')" in text
    assert "cycle: a → b → a" in text
    assert "edges[2]: node 'ghost' does not exist ('from' end)" in text
    assert "nodes[3].config.mode: input should be 'list' or 'object' (got 'dict')" in text
    # the edge from the node whose id is broken is not reported as a ghost
    assert not any("'bad id' does not exist" in line for line in text)


def test_issues_name_their_node(registry):
    found = validate(
        make(registry, [t("a"), {"id": "m", "type": "flow.merge", "config": {"mode": 3}}]), registry
    )
    assert [(i.node_id, i.location) for i in found] == [("m", "nodes[1].config.mode")]


def test_issues_carry_their_location_as_parts(registry):
    """The text location (what the CLI prints) and the path (what the editor
    places a problem with) say the same, also for a key holding a dot."""
    workflow = make(
        registry,
        [
            t("a"),
            {"id": "h", "type": "http.request", "config": {"url": 5, "headers": {"a.b": ["x"]}}},
        ],
    )
    found = {i.location: i.path for i in validate(workflow, registry)}
    assert found["nodes[1].config.url"] == ("nodes", 1, "config", "url")
    assert found["nodes[1].config.headers.a.b.str"] == (
        "nodes",
        1,
        "config",
        "headers",
        "a.b",
        "str",
    )


def test_validate_json_lists_each_problem_with_its_path(tmp_path):
    import json
    import subprocess
    import sys

    path = tmp_path / "bad.flow.json"
    path.write_text(
        json.dumps(
            {
                "format": "flowdesk/workflow",
                "version": 1,
                "name": "bad",
                "nodes": [{"id": "r", "type": "file.read", "config": {}}],
                "edges": [],
            }
        )
    )
    out = subprocess.run(
        [sys.executable, "-m", "flowdesk", "validate", str(path), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    problem = json.loads(out.stdout)["problems"][0]
    assert problem["location"] == "nodes[0].config.path"
    assert problem["path"] == ["nodes", 0, "config", "path"]
    assert problem["node"] == "r" and problem["message"] == "field required"
