"""One job's run: the same code in ``serve`` (without a broker) and in every
worker. Builds the engine, announces the run to the metrics, watches for
cancellation, and returns the job's outcome as JSON (secrets redacted).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..credentials import redact
from ..errors import WorkflowLoadError
from ..executor import Engine
from ..io import parse_workflow
from ..keyring_store import default_secret_store
from ..registry import NodeRegistry
from .metrics import RunMetrics, job_status

CANCELLED = "CANCELLED"


@dataclass(slots=True)
class Outcome:
    status: str  # completed | error
    result: dict[str, Any] | None
    error: dict[str, Any] | None
    duration_ms: float


def run_error(result: dict[str, Any]) -> dict[str, Any] | None:
    """The job's error object from a run result (the first failed node's)."""
    if result.get("status") == "succeeded":
        return None
    if result.get("status") == "cancelled":
        return {"code": CANCELLED, "message": "the run was cancelled"}
    for node_id, node in (result.get("nodes") or {}).items():
        error = node.get("error")
        if node.get("status") == "failed" and isinstance(error, dict):
            return {**error, "node_id": node_id}
    return {"code": "RUN_FAILED", "message": f"the run ended {result.get('status')}"}


async def execute(
    document: dict[str, Any],
    *,
    job_id: str,
    flow_name: str,
    variables: dict[str, Any],
    data_root: str,
    registry: NodeRegistry,
    metrics: RunMetrics | None,
    cancel_requested: Callable[[], Awaitable[str | None]] | None = None,
    poll_s: float = 0.25,
    engine: Engine | None = None,
) -> Outcome:
    """Run ``document`` to its end; ``cancel_requested()`` (polled) returns a
    reason to cancel it, or None."""
    try:
        workflow = parse_workflow(document, registry, flow_name)
    except WorkflowLoadError as exc:
        invalid = {"code": "WORKFLOW_INVALID", "message": str(exc)}
        return Outcome("error", None, invalid, 0.0)
    engine = engine or Engine(registry, secrets=default_secret_store())
    root = Path(data_root)
    run_id = job_id
    if metrics is not None:
        metrics.expect(run_id, flow_name, {node.id: node.type for node in workflow.nodes})
    try:
        handle = engine.start(
            workflow, variables=variables, data_root=root, run_id=run_id, check=True
        )
    except WorkflowLoadError as exc:
        if metrics is not None:
            metrics.forget(run_id)
        return Outcome("error", None, {"code": "WORKFLOW_INVALID", "message": str(exc)}, 0.0)
    reason: str | None = None

    async def watch() -> None:
        nonlocal reason
        assert cancel_requested is not None
        while not handle.done:
            await asyncio.sleep(poll_s)
            try:
                found = await cancel_requested()
            except Exception:  # noqa: BLE001  (the store is unreachable for a moment: keep running)
                continue
            if found:
                reason = found
                handle.cancel()
                return

    watcher = asyncio.ensure_future(watch()) if cancel_requested is not None else None
    try:
        result = await handle.wait()
    finally:
        if watcher is not None:
            watcher.cancel()
    used = sorted(handle.secrets_used(), key=len, reverse=True)
    data: dict[str, Any] = redact(result.to_json(), used)
    error: dict[str, Any] | None = run_error(data)
    if error is not None and error.get("code") == CANCELLED and reason:
        error["message"] = reason
    return Outcome(job_status(result.status), data, error, result.duration_ms)
