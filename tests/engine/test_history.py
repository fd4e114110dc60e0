"""Run history: recorded runs, truncated big outputs, redacted secrets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flowdesk.engine import Engine, NodeRegistry
from flowdesk.engine.history import TRUNCATED_KEY, HistoryStore
from flowdesk.engine.nodes.spec import NodeType
from flowdesk.engine.results import NodeResult, RunResult

from tests.engine.conftest import make


def result_with(output, status="succeeded") -> RunResult:
    return RunResult(
        run_id="r1",
        status=status,
        started_at="2026-11-21T10:00:00.000Z",
        duration_ms=5.0,
        workflow_name="wf",
        nodes={"a": NodeResult(status="succeeded", output=output, attempts=1)},
    )


def test_big_outputs_are_stored_truncated_with_a_marker(tmp_path: Path):
    store = HistoryStore(tmp_path / "h.sqlite3", max_output_bytes=1000)
    store.record_result(result_with({"blob": "x" * 5000}), workflow_path="/w.flow.json")
    _, stored = store.get_run("r1")
    output = stored.nodes["a"].output
    assert output[TRUNCATED_KEY] is True
    assert output["size_bytes"] > 5000
    assert output["limit_bytes"] == 1000
    assert output["preview"].startswith('{"blob": "xxx')
    # a truncated output is never reused as if it were the real one
    assert store.latest_result("/w.flow.json").nodes["a"].output is None


def test_small_outputs_round_trip_exactly(tmp_path: Path):
    store = HistoryStore(tmp_path / "h.sqlite3")
    value = {"list": [1, 2.5, None, True], "text": "ünïcode"}
    store.record_result(result_with(value))
    summary, stored = store.get_run("r1")
    assert stored.nodes["a"].output == value
    assert (summary.status, summary.workflow_name) == ("succeeded", "wf")


def test_secrets_are_redacted_before_storage(tmp_path: Path):
    store = HistoryStore(tmp_path / "h.sqlite3")
    store.record_result(
        result_with({"echo": 'Bearer canary-s3cret-"q"'}), secrets=['canary-s3cret-"q"']
    )
    raw = (tmp_path / "h.sqlite3").read_bytes()
    assert b"canary-s3cret" not in raw
    _, stored = store.get_run("r1")
    assert stored.nodes["a"].output == {"echo": "Bearer [redacted]"}


def test_running_then_finished_and_newest_first(tmp_path: Path):
    store = HistoryStore(tmp_path / "h.sqlite3")
    store.record_start("r0", "wf", "2026-11-21T09:00:00.000Z")
    assert store.list_runs()[0].status == "running"
    store.record_result(result_with(1))
    assert [r.run_id for r in store.list_runs()] == ["r1", "r0"]
    assert set(store.resolve_id("r")) == {"r0", "r1"}
    assert store.resolve_id("r1") == ["r1"]
    assert store.list_runs(limit=1)[0].run_id == "r1"


def test_duplicate_node_type_names_are_refused():
    registry = NodeRegistry.default(plugins=False)

    class Again(NodeType):
        type_name = "data.transform"

    with pytest.raises(ValueError, match="registered twice"):
        registry.register(Again)


async def test_engine_results_store_and_load(tmp_path: Path, registry):
    workflow = make(
        registry,
        [{"id": "a", "type": "data.transform", "config": {"value": {"n": "{{ 40 + 2 }}"}}}],
    )
    result = await Engine(registry).run(workflow)
    store = HistoryStore(tmp_path / "h.sqlite3")
    store.record_result(result, workflow_path="/x.flow.json")
    _, stored = store.get_run(result.run_id)
    assert json.dumps(stored.to_json()) == json.dumps(result.to_json())
