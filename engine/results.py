"""The run result of the spec: ``RunResult`` and one ``NodeResult`` per node,
with ``to_json()`` giving exactly the object ``flowdesk run --json`` prints.
May import: stdlib.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

RUN_STATUSES = ("succeeded", "failed", "cancelled")
NODE_STATUSES = ("succeeded", "failed", "skipped", "pinned", "cancelled")


@dataclass(slots=True)
class NodeResult:
    status: str = "skipped"
    output: Any = None
    attempts: int = 0
    duration_ms: float = 0.0
    error: dict[str, Any] | None = None
    usage: dict[str, Any] | None = None
    #: the output came from an earlier run (partial runs); optional key
    reused: bool = False
    #: why a node was skipped; optional key
    reason: str | None = None
    #: the output ports that carried the value when not all did (flow.if; an
    #: empty list: none did); None: every one. Optional key
    ports: list[str] | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "status": self.status,
            "output": self.output,
            "attempts": self.attempts,
            "duration_ms": round(self.duration_ms, 3),
            "error": self.error,
        }
        if self.usage is not None:
            data["usage"] = self.usage
        if self.reused:
            data["reused"] = True
        if self.reason:
            data["reason"] = self.reason
        if self.ports is not None:
            data["ports"] = self.ports
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NodeResult:
        return cls(
            status=data.get("status", "skipped"),
            output=data.get("output"),
            attempts=int(data.get("attempts", 0)),
            duration_ms=float(data.get("duration_ms", 0.0)),
            error=data.get("error"),
            usage=data.get("usage"),
            reused=bool(data.get("reused", False)),
            reason=data.get("reason"),
            ports=data.get("ports"),
        )


@dataclass(slots=True, repr=False)
class RunResult:
    run_id: str
    status: str
    started_at: str
    duration_ms: float
    nodes: dict[str, NodeResult] = field(default_factory=dict)
    workflow_name: str = ""
    #: summed AI usage of the run, when any AI node ran
    usage: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "run_id": self.run_id,
            "status": self.status,
            "started_at": self.started_at,
            "duration_ms": round(self.duration_ms, 3),
            "nodes": {node_id: node.to_json() for node_id, node in self.nodes.items()},
        }
        if self.usage is not None:
            data["usage"] = self.usage
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any], workflow_name: str = "") -> RunResult:
        return cls(
            run_id=data["run_id"],
            status=data["status"],
            started_at=data["started_at"],
            duration_ms=float(data.get("duration_ms", 0.0)),
            nodes={k: NodeResult.from_json(v) for k, v in data.get("nodes", {}).items()},
            workflow_name=workflow_name,
            usage=data.get("usage"),
        )

    def __repr__(self) -> str:
        # Short on purpose: asyncio reprs task results, and a run may hold
        # thousands of node results.
        return f"<RunResult {self.run_id} {self.status} {len(self.nodes)} nodes>"

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for node in self.nodes.values():
            out[node.status] = out.get(node.status, 0) + 1
        return out
