"""The shipped example ``resources/examples/ai-extract.flow.json`` validates and
runs end to end against the local OpenAI-compatible server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flowdesk.engine import NodeRegistry, load_workflow, validate

from tests.helpers import copy_example, example

from .fake_llm import FakeLLM, Reply, completion, run

EXAMPLE = example("ai-extract")


def test_example_validates(registry: NodeRegistry) -> None:
    assert validate(load_workflow(EXAMPLE, registry), registry) == []


async def test_example_classifies_every_ticket(
    llm: FakeLLM, registry: NodeRegistry, tmp_path: Path
) -> None:
    def triage(body: dict[str, Any]) -> Reply:
        subject = body["messages"][-1]["content"].splitlines()[0]
        billing = "Charged" in subject or "Invoice" in subject
        label = {
            "category": "billing" if billing else "other",
            "urgency": "high" if billing else "low",
            "summary": f"About: {subject}",
            "needs_human": billing,
            "product_area": None,
        }
        return Reply(body=completion(label), delay=0.01)

    llm.fallback = triage
    wf = load_workflow(copy_example("ai-extract", tmp_path), registry)

    result = await run(
        registry,
        wf,
        variables={"base_url": llm.base_url, "model": "local/test"},
        data_root=tmp_path,
    )

    assert result.status == "succeeded", result.to_json()
    tickets = json.loads((tmp_path / "data" / "tickets.json").read_text())
    written = json.loads((tmp_path / "output" / "classified-tickets.json").read_text())
    assert [row["id"] for row in written] == [t["id"] for t in tickets]
    first = written[0]
    assert first["subject"] == "Charged twice for March"
    assert (first["category"], first["urgency"], first["needs_human"]) == ("billing", "high", True)
    assert first["summary"] == "About: Subject: Charged twice for March"
    sent = llm.requests[0].json
    assert sent["model"] == "local/test" and sent["temperature"] == 0
    assert sent["response_format"]["json_schema"]["schema"]["required"] == [
        "category",
        "urgency",
        "summary",
        "needs_human",
        "product_area",
    ]
    assert result.usage is not None and result.usage["total_tokens"] == 20 * len(tickets)
