"""A finished run as a test sees it: the spec's JSON result and the events
(shared by the HTTP and file node tests)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from flowdesk.engine import Event, RunResult


@dataclass
class Run:
    """A finished run as the user sees it: the JSON result and the events."""

    result: RunResult
    events: list[Event] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def json(self) -> dict[str, Any]:
        return self.result.to_json()

    @property
    def status(self) -> str:
        return self.result.status

    def node(self, node_id: str) -> dict[str, Any]:
        return self.result.to_json()["nodes"][node_id]

    def output(self, node_id: str) -> Any:
        return self.node(node_id)["output"]

    def error(self, node_id: str) -> dict[str, Any]:
        error = self.node(node_id)["error"]
        assert error is not None, f"node {node_id} did not fail: {self.node(node_id)}"
        return error  # type: ignore[no-any-return]

    def of(self, kind: type[Event]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    @property
    def json_text(self) -> str:
        return json.dumps(self.result.to_json())

    def everything_written(self) -> str:
        """Every text the program produced on its own: result JSON and all events."""
        return json.dumps(self.json) + "\n" + "\n".join(repr(e) for e in self.events)
