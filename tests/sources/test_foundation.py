"""The tool-source foundation as a user meets it: ``sources`` in a workflow
file, ``tool.call`` nodes, one opening per run shared by every node and item,
sources closed at the end of a run (also on failure and cancel), typed errors
before anything is sent, and the file round trip."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flowdesk.engine import NodeRegistry, WorkflowLoadError, dumps_workflow, loads_workflow
from flowdesk.engine.validate import check_source

from tests.workflows import flow

from .conftest import tool

SCHEMA = {
    "type": "object",
    "properties": {
        "count": {"type": "integer", "description": "How many"},
        "flag": {"type": "boolean"},
        "name": {"type": "string", "enum": ["a", "b"]},
        "nested": {"properties": {"size": {"type": "number"}}, "required": ["size", "ghost"]},
    },
    "required": ["count"],
}
SOURCES = {"probe": {"type": "probe", "label": "{{ vars.label }}", "tools": {"echo": SCHEMA}}}


async def test_tool_call_runs_with_rendered_source_config_and_coerced_arguments(
    run_flow: Any, probe_type: list[tuple[str, str]]
) -> None:
    run = await run_flow(
        [tool("a", "probe", "echo", count="42", flag="true", nested={"size": "1.5"})],
        sources=SOURCES,
        variables={"label": "from vars"},
    )
    assert run.status == "succeeded", run.json
    out = run.output("a")
    assert out["arguments"] == {"count": 42, "flag": True, "nested": {"size": 1.5}}
    assert out["label"] == "from vars"
    assert probe_type == [
        ("open", "probe"),
        ("list", "probe"),
        ("call", "probe"),
        ("close", "probe"),
    ]


async def test_one_opening_per_run_shared_by_nodes_and_items(
    run_flow: Any, probe_type: list[tuple[str, str]]
) -> None:
    run = await run_flow(
        [
            tool("a", "probe", "echo", count=1),
            tool("b", "probe", "echo", count="{{ item }}", node={"for_each": "{{ [1, 2, 3, 4] }}"}),
        ],
        sources=SOURCES,
        variables={"label": "x"},
    )
    assert run.status == "succeeded", run.json
    assert [o["arguments"]["count"] for o in run.output("b")] == [1, 2, 3, 4]
    kinds = [kind for kind, _ in probe_type]
    assert kinds.count("open") == 1 and kinds.count("list") == 1 and kinds.count("close") == 1
    assert kinds.count("call") == 5
    assert kinds[-1] == "close"


async def test_sources_are_closed_when_the_run_fails(
    run_flow: Any, probe_type: list[tuple[str, str]]
) -> None:
    run = await run_flow(
        [tool("a", "probe", "echo", count=1, fail=True)], sources=SOURCES, variables={"label": ""}
    )
    assert run.status == "failed"
    assert run.error("a")["code"] == "TOOL_ERROR"
    assert probe_type[-1] == ("close", "probe")


async def test_sources_are_closed_when_the_run_is_cancelled(
    run_flow: Any, probe_type: list[tuple[str, str]]
) -> None:
    run = await run_flow(
        [tool("a", "probe", "echo", count=1, sleep=30)],
        sources=SOURCES,
        variables={"label": ""},
        cancel_when=lambda: ("call", "probe") in probe_type,
    )
    # (the call sleeps 30 s: cancelled means it was cut, not waited for)
    assert run.status == "cancelled"
    assert probe_type[-1] == ("close", "probe")


async def test_unknown_tool_names_near_matches(run_flow: Any) -> None:
    sources = {"probe": {"type": "probe", "tools": {"get_user": {}, "list_users": {}}}}
    run = await run_flow([tool("a", "probe", "get_usr")], sources=sources)
    error = run.error("a")
    assert error["code"] == "TOOL_NOT_FOUND"
    assert error["category"] == "CONFIG"
    assert "get_user" in error["message"]
    assert "get_user" in error["details"]["near_matches"]


async def test_invalid_arguments_list_every_issue_with_its_path_before_any_call(
    run_flow: Any, probe_type: list[tuple[str, str]]
) -> None:
    run = await run_flow(
        [tool("a", "probe", "echo", flag="maybe", name="c", nested={"size": "big"})],
        sources=SOURCES,
        variables={"label": ""},
    )
    error = run.error("a")
    assert error["code"] == "INVALID_PARAMS"
    assert error["category"] == "VALIDATION"
    paths = {issue["path"] for issue in error["details"]["issues"]}
    assert paths == {"count", "flag", "name", "nested.size"}
    for path in ("count: required", "flag:", "name:", "nested.size:"):
        assert path in error["message"]
    assert ("call", "probe") not in probe_type


async def test_a_source_config_expression_that_fails_is_located(run_flow: Any) -> None:
    run = await run_flow([tool("a", "probe", "echo", count=1)], sources=SOURCES)
    error = run.error("a")
    assert error["code"] == "EXPRESSION"
    assert error["message"].startswith("sources.probe.label: ")
    assert "label" in error["message"]


def test_sources_are_validated_on_load_with_located_errors() -> None:
    registry = NodeRegistry.default(plugins=False)
    raw = flow(
        [tool("a", "nowhere", "x"), tool("b", "probe", "echo")],
        sources={
            "probe": {"type": "probe", "tools": [], "colour": "red", "credential": "missing"},
            "bad__name": {"type": "probe"},
            "what": {"type": "soap"},
            "untyped": {"spec": "x.json"},
        },
    )
    _, issues = check_source(raw, registry)
    lines = {str(issue) for issue in issues}
    assert "sources.probe.tools: input should be a valid dictionary" in lines
    # (the words of every unknown field: what it is unknown to)
    assert "sources.probe.colour: unknown field for probe sources" in lines
    assert any(line.startswith("sources.probe.credential: credential 'missing'") for line in lines)
    assert any(line.startswith("sources.bad__name: invalid source name") for line in lines)
    assert any(line.startswith("sources.what.type: unknown source type 'soap'") for line in lines)
    assert any(line.startswith("sources.untyped.type: field required") for line in lines)
    assert any(
        line.startswith("nodes[0].config.source: source 'nowhere' is not declared")
        for line in lines
    )


async def test_an_invalid_workflow_does_not_start(registry: NodeRegistry) -> None:
    from flowdesk.engine import Engine

    workflow = loads_workflow(json.dumps(flow([], sources={"x": {"type": "soap"}})), registry)
    with pytest.raises(WorkflowLoadError, match=r"sources\.x\.type"):
        Engine(registry).start(workflow)


def test_sources_survive_a_save_and_stay_out_when_absent(registry: NodeRegistry) -> None:
    raw = flow([tool("a", "probe", "echo", count=1)], sources=SOURCES)
    text = dumps_workflow(loads_workflow(json.dumps(raw), registry))
    assert json.loads(text)["sources"] == SOURCES
    assert list(json.loads(text)).index("sources") < list(json.loads(text)).index("nodes")
    plain = dumps_workflow(loads_workflow(json.dumps(flow([])), registry))
    assert "sources" not in json.loads(plain)
