"""The shipped example ``resources/examples/files-pipeline.flow.json`` validates
and converts its data files both ways, offline."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from flowdesk.engine import Engine, EnvSecretStore, NodeRegistry, load_workflow, validate

from tests.helpers import copy_example, example

EXAMPLE = example("files-pipeline")


def test_example_validates(registry: NodeRegistry) -> None:
    assert validate(load_workflow(EXAMPLE, registry), registry) == []


async def test_example_converts_csv_and_json_lines_both_ways(
    registry: NodeRegistry, tmp_path: Path
) -> None:
    workflow = load_workflow(copy_example("files-pipeline", tmp_path), registry)
    engine = Engine(registry, secrets=EnvSecretStore({}))
    for _ in range(2):
        result = await engine.run(workflow, data_root=tmp_path)
        assert result.status == "succeeded", result.to_json()
    out = tmp_path / "output"

    orders = [json.loads(line) for line in (out / "orders.jsonl").read_text().splitlines()]
    assert orders[0] == {"id": 1001, "customer": "Ada Lovelace", "amount": 129.9, "country": "GB"}
    assert len(orders) == 6

    with open(out / "by_country.csv", newline="") as handle:
        totals = list(csv.DictReader(handle))
    assert totals == [
        {"country": "GB", "orders": "2", "total": "205.15"},
        {"country": "NL", "orders": "1", "total": "12.0"},
        {"country": "US", "orders": "3", "total": "570.5"},
    ]

    with open(out / "events.csv", newline="") as handle:
        events = list(csv.DictReader(handle))
    assert [e["user"] for e in events] == ["ada", "ada", "grace", "grace", "alan"]
    assert events[4]["note"] == "cleanup, old drafts"
    assert events[0]["rows"] == ""

    runs = [json.loads(line) for line in (out / "runs.jsonl").read_text().splitlines()]
    assert len(runs) == 2 and runs[0]["run"] != runs[1]["run"]
    assert runs[0]["orders"] == 6
