"""``validate`` checks constant config values as the run checks them: a URL
the run would refuse (``CONFIG_INVALID``) is a problem before the run, named
at its field; a value holding an expression is left to the run."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from flowdesk.engine import Engine, NodeRegistry, validate
from flowdesk.engine.io import parse_workflow

from tests.engine.test_cli import env, flowdesk, write_flow  # noqa: F401 - env is a fixture


@pytest.fixture(scope="module")
def builtins() -> NodeRegistry:
    return NodeRegistry.default(plugins=False)


def get(node_id: str, url: str) -> dict:
    return {"id": node_id, "type": "http.request", "config": {"url": url}}


def doc(*nodes: dict) -> dict:
    return {
        "format": "flowdesk/workflow",
        "version": 1,
        "name": "t",
        "nodes": list(nodes),
        "edges": [],
    }


def test_a_constant_url_the_run_refuses_is_a_problem(builtins: NodeRegistry) -> None:
    workflow = parse_workflow(
        doc(
            get("words", "not a url"),
            get("ftp", "ftp://example.com/x"),
            get("fine", "https://example.com/x"),
            get("later", "{{ vars.base }}/x"),
        ),
        builtins,
    )
    found = [str(i) for i in validate(workflow, builtins)]
    assert found == [
        "nodes[0].config.url: 'not a url' must be an absolute http:// or https:// URL",
        "nodes[1].config.url: 'ftp://example.com/x' must be an absolute http:// or https:// URL",
    ]


def test_the_run_refuses_the_same_url_with_the_same_words(builtins: NodeRegistry) -> None:
    workflow = parse_workflow(
        {**doc(get("later", "{{ vars.base }}")), "variables": {"base": "not a url"}}, builtins
    )
    assert validate(workflow, builtins) == []  # known only when the run renders it
    result = asyncio.run(Engine(builtins).run(workflow))
    error = result.nodes["later"].error
    assert error is not None and error["code"] == "CONFIG_INVALID"
    assert "'not a url' must be an absolute http:// or https:// URL" in error["message"]


def test_flowdesk_validate_says_the_url_is_invalid(env: dict, tmp_path: Path) -> None:  # noqa: F811
    path = write_flow(tmp_path / "bad.flow.json", [get("get", "not a url")])
    done = flowdesk(env, "validate", str(path))
    assert done.returncode == 2
    assert "nodes[0].config.url: 'not a url' must be an absolute http:// or https:// URL" in (
        done.stdout + done.stderr
    )
