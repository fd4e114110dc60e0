"""The shipped example ``resources/examples/httpbin-tour.flow.json`` validates
and runs end to end against httpbin, with and without its token."""

from __future__ import annotations

import json
from pathlib import Path

from flowdesk.engine import Engine, EnvSecretStore, NodeRegistry, load_workflow, validate

from tests.helpers import copy_example, example

EXAMPLE = example("httpbin-tour")


def test_example_validates(registry: NodeRegistry) -> None:
    assert validate(load_workflow(EXAMPLE, registry), registry) == []


async def _run(registry: NodeRegistry, httpbin_url: str, folder: Path, environ: dict[str, str]):
    workflow = load_workflow(copy_example("httpbin-tour", folder, data=False), registry)
    engine = Engine(registry, secrets=EnvSecretStore(environ))
    result = await engine.run(workflow, data_root=folder, variables={"base_url": httpbin_url})
    report = json.loads((folder / "output" / "httpbin-tour.json").read_text())
    return result, report


async def test_example_posts_every_slide_and_passes_the_token_check(
    registry: NodeRegistry, httpbin_url: str, tmp_path: Path
) -> None:
    result, report = await _run(
        registry, httpbin_url, tmp_path, {"FLOWDESK_SECRET_HTTPBIN": "demo-token"}
    )
    assert result.status == "succeeded"
    assert report["posted"] == [
        {"title": "Wake up to WonderWidgets!", "position": 0},
        {"title": "Overview", "position": 1},
    ]
    assert len(set(report["idempotency_keys"])) == 2
    assert report["auth"] == {"authenticated": True}
    assert result.nodes["refused"].status == "skipped"


async def test_example_without_a_token_takes_the_refused_branch(
    registry: NodeRegistry, httpbin_url: str, tmp_path: Path
) -> None:
    result, report = await _run(registry, httpbin_url, tmp_path, {})
    assert result.status == "succeeded"
    assert report["auth"]["authenticated"] is False
    assert "FLOWDESK_SECRET_HTTPBIN" in report["auth"]["why"]
    assert result.nodes["welcome"].status == "skipped"
