"""One mapper from pydantic's errors to located issues, one wording: what
``flowdesk validate`` says about a node's config is what the run says when
the same config arrives from an expression (``CONFIG_INVALID``, its
``details.issues`` a list of ``{"path": "config.FIELD", "message"}``), and
the workflow file's own problems read the same way."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flowdesk.engine import Engine, WorkflowLoadError, loads_workflow, validate

from tests.engine.conftest import make

FORMATS = "'text', 'json', 'jsonl', 'csv' or 'bytes'"


def run_error(registry, nodes: list[dict[str, Any]], **top: Any) -> dict[str, Any]:
    import asyncio

    workflow = make(registry, nodes, **top)

    async def run() -> Any:
        return await Engine(registry).start(workflow, check=False).wait()

    result = asyncio.run(run())
    error = result.nodes["r"].error
    assert error is not None
    return error


def test_the_run_and_validate_say_the_same_about_a_config(registry) -> None:
    node = {"id": "r", "type": "file.read", "config": {"format": "xml", "colour": "red"}}
    before = [str(issue) for issue in validate(make(registry, [node]), registry)]
    assert before == [
        "nodes[0].config.path: field required",
        f"nodes[0].config.format: input should be {FORMATS} (got 'xml')",
        "nodes[0].config.colour: unknown field for file.read",
    ]
    error = run_error(registry, [node])  # (run without the check: the run's own words)
    assert error["code"] == "CONFIG_INVALID"
    assert error["details"]["node"] == "r"
    assert error["details"]["issues"] == [
        {"path": "config.path", "message": "field required"},
        {"path": "config.format", "message": f"input should be {FORMATS} (got 'xml')"},
        {"path": "config.colour", "message": "unknown field for file.read"},
    ]
    assert error["message"] == (
        "node 'r' has an invalid config: config.path: field required; "
        f"config.format: input should be {FORMATS} (got 'xml'); "
        "config.colour: unknown field for file.read"
    )


def test_a_value_from_an_expression_is_refused_in_the_same_words(registry) -> None:
    node = {"id": "r", "type": "file.read", "config": {"path": "a.txt", "format": "{{ vars.f }}"}}
    assert validate(make(registry, [node], variables={"f": "xml"}), registry) == []
    error = run_error(registry, [node], variables={"f": "xml"})
    assert error["details"]["issues"] == [
        {"path": "config.format", "message": f"input should be {FORMATS} (got 'xml')"}
    ]


def problems(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(WorkflowLoadError) as info:
        loads_workflow(json.dumps(raw))
    return [str(issue) for issue in info.value.issues]


def test_the_file_format_problems_in_the_same_words() -> None:
    found = problems(
        {
            "format": "other",
            "version": 1,
            "name": "x",
            "nodes": [{"id": "a b", "type": "data.transform", "retry": {"max_attempts": "x"}}],
            "edges": [],
            "credentials": {"api": {"type": "basic", "user": "me"}},
        }
    )
    assert found == [
        # (said once, although both the loader and the model check it)
        "format: must be exactly 'flowdesk/workflow' (got 'other')",
        # the credential's kind, which pydantic puts in the location, is left out
        "credentials.api.username: field required",
        "credentials.api.user: unknown key (not part of the format; editor state "
        "belongs under 'ui')",
        "nodes[0].id: invalid id 'a b': use letters, digits and '_', starting with a "
        "letter or '_', at most 64 characters",
        "nodes[0].retry.max_attempts: input should be a valid integer, unable to parse "
        "string as an integer (got 'x')",
    ]
