"""``flowdesk history`` as people read it (issue 14 item 24): short ids (8
characters, and any unambiguous start of an id is accepted), local times as the
editor shows them, the file name beside the workflow name, help text for every
option — while ``--json`` keeps the spec's keys, full ids and UTC times."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from .test_cli import env, flowdesk, write_flow  # noqa: F401 - env is a fixture

ZONE = "Asia/Kathmandu"  # UTC+05:45: local time can never pass for UTC


def expected_time(iso: str) -> str:
    zone = ZoneInfo(ZONE)
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(zone)
    if moment.date() == datetime.now(zone).date():
        return "Today " + moment.strftime("%H:%M:%S")
    return moment.strftime("%Y-%m-%d %H:%M")


def test_history_speaks_short_ids_local_times_and_file_names(env, tmp_path: Path) -> None:  # noqa: F811
    env = {**env, "TZ": ZONE}
    flow = write_flow(
        tmp_path / "orders.flow.json",
        [{"id": "a", "type": "data.transform", "config": {"value": 1}}],
    )
    runs = [json.loads(flowdesk(env, "run", str(flow), "--json").stdout) for _ in range(2)]
    listing = flowdesk(env, "history")
    assert listing.returncode == 0, listing.stderr
    header, *rows = listing.stdout.splitlines()
    assert header.split() == ["RUN", "STARTED", "STATUS", "DURATION", "WORKFLOW"]
    stored = json.loads(flowdesk(env, "history", "--json").stdout)
    assert len(rows) == len(stored) == 2
    for row, summary in zip(rows, stored, strict=True):
        run_id = summary["run_id"]
        assert row.startswith(run_id[:8] + "  ") and run_id not in row
        assert expected_time(summary["started_at"]) in row
        assert "✓ succeeded" in row
        assert row.endswith("orders.flow (orders.flow.json)")  # the name, then the file
    # --json is unchanged: the spec's keys, full ids, UTC times
    assert set(stored[0]) == {
        "run_id", "workflow_name", "workflow_path", "source", "status", "started_at",
        "duration_ms", "node_count",
    }  # fmt: skip
    assert {s["run_id"] for s in stored} == {r["run_id"] for r in runs}
    assert stored[0]["started_at"].endswith(("Z", "+00:00"))

    # a short id (any unambiguous start) wherever an id is taken
    run_id = runs[0]["run_id"]
    shown = flowdesk(env, "history", "show", run_id[:6])
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == f"Run {run_id[:8]}  ✓ succeeded"
    assert "  workflow  orders.flow (orders.flow.json)" in lines
    assert f"  folder    {tmp_path}" in lines
    assert f"  id        {run_id}" in lines
    assert any(expected_time(runs[0]["started_at"]) in line for line in lines)
    detail = json.loads(flowdesk(env, "history", "show", run_id[:8], "--json").stdout)
    assert detail["run_id"] == run_id

    missing = flowdesk(env, "history", "show", "zzzz")
    assert missing.returncode == 1 and "no run 'zzzz'" in missing.stderr
    assert "Traceback" not in missing.stderr
    assert flowdesk(env, "history", "show", "").returncode == 2


def test_history_help_explains_every_option(env) -> None:  # noqa: F811
    text = flowdesk(env, "history", "--help").stdout
    assert "--limit N    list at most N runs, newest first (default: 20)" in text
    assert "--json       print JSON instead" in text
    assert "show RUN_ID  show one run: RUN_ID is its id or the start of it" in text
