"""The trigger node types in the editor / ``flowdesk run`` (sample and pinned
data), their config checks, the scheduler's catch-up with a fake clock, and
the Prometheus rules checked by ``promtool``."""

from __future__ import annotations

import asyncio
import glob
import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flowdesk.engine.executor import Engine
from flowdesk.engine.io import parse_workflow
from flowdesk.engine.registry import NodeRegistry
from flowdesk.engine.service.flows import FlowCatalog
from flowdesk.engine.service.metrics import MetricStore
from flowdesk.engine.service.scheduler import LastFires, Scheduler
from flowdesk.engine.validate import check_source

REGISTRY = NodeRegistry.default()
ROOT = Path(__file__).resolve().parents[2]


def _flow(trigger: dict[str, Any], name: str = "t") -> dict[str, Any]:
    return {
        "format": "flowdesk/workflow",
        "version": 1,
        "name": name,
        "nodes": [
            {"id": "start", **trigger},
            {"id": "use", "type": "data.transform", "config": {"value": "{{ input }}"}},
        ],
        "edges": [{"from": {"node": "start", "port": "out"}, "to": {"node": "use", "port": "in"}}],
    }


async def test_trigger_nodes_run_in_the_editor_with_their_sample_or_pinned_data() -> None:
    sample = {"method": "POST", "body": {"amount": 3}}
    hook = _flow({"type": "trigger.webhook", "config": {"path": "in", "sample": sample}})
    result = await Engine(REGISTRY).run(parse_workflow(hook, REGISTRY))
    assert result.status == "succeeded"
    assert result.nodes["use"].output == sample
    pinned = _flow({"type": "trigger.webhook", "config": {"path": "in"}, "pinned": {"p": 1}})
    result = await Engine(REGISTRY).run(parse_workflow(pinned, REGISTRY))
    assert result.nodes["start"].status == "pinned" and result.nodes["use"].output == {"p": 1}
    schedule = _flow({"type": "trigger.schedule", "config": {"cron": "0 7 * * 1-5"}})
    result = await Engine(REGISTRY).run(parse_workflow(schedule, REGISTRY))
    output = result.nodes["use"].output
    assert output["cron"] == "0 7 * * 1-5" and output["timezone"] == "UTC"
    assert datetime.fromisoformat(output["fired_at"]).tzinfo is not None


def test_flowdesk_run_runs_a_triggered_flow_with_its_sample(tmp_path: Path) -> None:
    path = tmp_path / "hook.flow.json"
    path.write_text(
        json.dumps(
            _flow({"type": "trigger.webhook", "config": {"path": "in", "sample": {"body": 5}}})
        )
    )
    done = subprocess.run(
        [sys.executable, "-m", "flowdesk", "run", str(path), "--json", "--no-history"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["nodes"]["use"]["output"] == {"body": 5}


@pytest.mark.parametrize(
    ("trigger", "location", "words"),
    [
        (
            {"type": "trigger.schedule", "config": {"cron": "61 * * * *"}},
            "config.cron",
            "not a cron expression",
        ),
        (
            {"type": "trigger.schedule", "config": {"cron": "* * * * *", "timezone": "Mars/Base"}},
            "config.timezone",
            "unknown time zone",
        ),
        ({"type": "trigger.webhook", "config": {"path": "a b"}}, "config.path", "not a hook path"),
        (
            {"type": "trigger.webhook", "config": {"path": "a", "secret_header": "X-S"}},
            "config",
            "needs 'secret'",
        ),
    ],
)
def test_trigger_configs_are_checked_with_a_location(
    trigger: dict[str, Any], location: str, words: str
) -> None:
    _, issues = check_source(_flow(trigger), REGISTRY)
    assert any(location in i.location and words in i.message for i in issues), issues


async def test_missed_fires_are_replayed_only_when_asked(tmp_path: Path) -> None:
    now = datetime(2026, 3, 2, 12, 0, 30, tzinfo=UTC)
    for catch_up, expected in ((True, 5), (False, 0)):
        folder = tmp_path / str(catch_up)
        folder.mkdir()
        doc = _flow(
            {"type": "trigger.schedule", "config": {"cron": "* * * * *", "catch_up": catch_up}},
            "minutely",
        )
        (folder / "minutely.flow.json").write_text(json.dumps(doc))
        catalog = FlowCatalog.load([str(folder)], REGISTRY, None)
        last = LastFires(path=folder / "schedules.json")
        await last.set("minutely:start", now - timedelta(minutes=5, seconds=30))
        submitted: list[tuple[str, dict[str, Any]]] = []
        waiting = asyncio.Event()

        async def submit(
            flow: Any,
            variables: dict[str, Any],
            request_id: Any,
            source: str,
            _log: list[tuple[str, dict[str, Any]]] = submitted,
        ) -> tuple[str, bool]:
            _log.append((request_id, variables))
            return "job", True

        async def sleep(delay: float, _event: asyncio.Event = waiting) -> None:
            _event.set()
            await asyncio.Event().wait()  # the fake clock never moves on

        scheduler = Scheduler(catalog, submit, MetricStore(), last, clock=lambda: now, sleep=sleep)
        scheduler.start()
        await asyncio.wait_for(waiting.wait(), 5)
        await scheduler.stop()
        assert len(submitted) == expected
        if catch_up:
            times = [variables["_trigger"]["data"]["scheduled_at"] for _, variables in submitted]
            assert (
                times[0] == "2026-03-02T11:56:00+00:00" and times[-1] == "2026-03-02T12:00:00+00:00"
            )
            assert submitted[0][0] == "schedule:minutely:start:2026-03-02T11:56:00+00:00"
            assert (await last.get("minutely:start")) == now.replace(second=0)


def test_promtool_checks_the_recording_rules_and_alerts() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is not installed (scripts/setup.sh --test installs prometheus)")
    files = sorted(glob.glob(str(ROOT / "packaging/prometheus/*.yml")))
    assert files
    done = subprocess.run([promtool, "check", "rules", *files], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout
    done = subprocess.run(
        [promtool, "test", "rules", "flowdesk-rules.test.yml"],
        capture_output=True,
        text=True,
        cwd=ROOT / "packaging/prometheus/tests",
    )
    assert done.returncode == 0, done.stdout + done.stderr
