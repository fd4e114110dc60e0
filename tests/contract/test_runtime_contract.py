"""The runtime contract as a user meets it through the command line and the
engine: env values redacted like secrets, expressions give JSON values only,
the retry policy inherited from settings, the bus and its logging."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from flowdesk.engine import Engine, MemorySecretStore, NodeRegistry, loads_workflow
from flowdesk.engine.bus import BUS, EVENT_NAMES, EventBus, install_logging

from tests.workflows import flow

FLOWDESK = [sys.executable, "-m", "flowdesk"]
TOKEN = "tok-5f0c1e9a-the-env-value"
REGISTRY = NodeRegistry.default(plugins=False)


def _cli(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = dict(os.environ)
    environ["PYTHONPATH"] = os.pathsep.join(
        [str(Path(__file__).parents[2]), environ.get("PYTHONPATH", "")]
    )
    environ["FLOWDESK_DATA_DIR"] = str(tmp_path / "data")
    environ["PYTHONIOENCODING"] = "utf-8"
    environ.update(env)
    return subprocess.run(
        [*FLOWDESK, *args], capture_output=True, text=True, env=environ, timeout=60
    )


def test_declared_env_values_are_redacted_from_history_and_logs(tmp_path: Path) -> None:
    doc = flow(
        [
            {"id": "echo", "type": "data.transform", "config": {"value": "{{ env.API_TOKEN }}"}},
            {
                "id": "read",
                "type": "file.read",
                "config": {"path": "{{ env.API_TOKEN }}.txt"},
                "on_error": "continue",
            },
        ],
        env=["API_TOKEN"],
    )
    path = tmp_path / "t.flow.json"
    path.write_text(json.dumps(doc))
    run = _cli(["run", str(path), "--log-level", "debug"], tmp_path, API_TOKEN=TOKEN)
    assert "FILE_NOT_FOUND" in run.stdout, run.stdout + run.stderr
    assert "node.failed read" in run.stderr  # the logging integration wrote the events
    assert TOKEN not in run.stdout and TOKEN not in run.stderr
    shown = _cli(["history", "--json"], tmp_path)
    run_id = json.loads(shown.stdout)[0]["run_id"]
    detail = _cli(["history", "show", run_id, "--json"], tmp_path)
    assert detail.returncode == 0, detail.stderr
    assert "FILE_NOT_FOUND" in detail.stdout
    assert TOKEN not in detail.stdout
    stored = "".join(
        p.read_text(errors="replace") for p in (tmp_path / "data").rglob("*") if p.is_file()
    )
    assert TOKEN not in stored


def _run(doc: dict[str, Any], **kwargs: Any) -> Any:
    import asyncio

    workflow = loads_workflow(json.dumps(doc), REGISTRY)
    engine = Engine(REGISTRY, secrets=MemorySecretStore({}), environ={})
    return asyncio.run(engine.run(workflow, **kwargs)).to_json()


@pytest.mark.parametrize(
    ("value", "type_name"),
    [("{{ self }}", "TemplateReference"), ("before {{ self }} after", "TemplateReference")],
)
def test_expressions_never_leak_python_objects(value: str, type_name: str) -> None:
    result = _run(flow([{"id": "t", "type": "data.transform", "config": {"value": value}}]))
    error = result["nodes"]["t"]["error"]
    assert error["code"] == "EXPRESSION"
    assert f"gave a {type_name}, which is not a JSON value" in error["message"]
    assert "<" not in error["message"]


def test_expression_values_are_json() -> None:
    value = {
        "items": "{{ dict(a=1).items() }}",
        "keys": "keys: {{ dict(a=1, b=2).keys() }}",
        "unique": "{{ [1, 2, 2] | unique }}",
        "tuple": "{{ (1, 2) }}",
    }
    result = _run(flow([{"id": "t", "type": "data.transform", "config": {"value": value}}]))
    assert result["nodes"]["t"]["output"] == {
        "items": [["a", 1]],
        "keys": 'keys: ["a", "b"]',
        "unique": [1, 2],
        "tuple": [1, 2],
    }


def test_the_bus_takes_one_name_or_everything_and_logs_with_levels(
    caplog: pytest.LogCaptureFixture,
) -> None:
    failing = {"id": "bad", "type": "file.read", "config": {"path": "missing.txt"}}
    doc = flow([failing])
    named: list[Any] = []
    everything: list[Any] = []
    stops = [BUS.subscribe("node.failed", named.append), BUS.subscribe("*", everything.append)]
    stops.append(install_logging())
    try:
        with caplog.at_level(logging.DEBUG, logger="flowdesk.events"):
            result = _run(doc, data_root=Path(__file__).parent)
    finally:
        for stop in stops:
            stop()
    assert not BUS.active
    assert result["status"] == "failed"
    assert [e.name for e in named] == ["node.failed"]
    assert [e.name for e in everything] == [
        "run.started",
        "node.started",
        "node.failed",
        "run.finished",
    ]
    levels = {r.getMessage().split()[0].rstrip(":"): r.levelno for r in caplog.records}
    assert levels["node.failed"] == logging.ERROR
    assert levels["run.started"] == logging.INFO
    assert levels["node.started"] == logging.DEBUG
    assert levels["run.finished"] == logging.WARNING  # a failed run
    assert "FILE_NOT_FOUND" in next(
        r.getMessage() for r in caplog.records if r.getMessage().startswith("node.failed")
    )


def test_subscribing_to_an_unknown_event_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"node\.failed"):
        EventBus().subscribe("node.fail", print)
    assert {"auth.resolve", "auth.refresh", "auth.error", "source.connect"} <= set(EVENT_NAMES)


def test_a_failing_subscriber_never_breaks_a_run() -> None:
    def boom(event: Any) -> None:
        raise RuntimeError("subscriber bug")

    stop = BUS.subscribe("*", boom)
    try:
        result = _run(flow([{"id": "t", "type": "data.transform", "config": {"value": 1}}]))
    finally:
        stop()
    assert result["status"] == "succeeded"
