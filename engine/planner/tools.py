"""The sources' tools as the planner's catalogue lists them (``source__tool``
with input schema and ``read_only``): from a catalogue already loaded (the
editor's) or by opening the workflow's sources (``flowdesk plan --flow``).
May import: engine.io, engine.sources, engine.errors, stdlib.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..errors import FlowdeskError, WorkflowLoadError
from ..registry import NodeRegistry
from ..sources.base import ToolInfo


def planner_tools(catalogue: Mapping[str, Iterable[ToolInfo]]) -> list[dict[str, Any]]:
    """``{source name: tools}`` → the planner's tool entries."""
    return [
        {**tool.to_json(), "name": f"{source}__{tool.name}"}
        for source, found in catalogue.items()
        for tool in found
    ]


async def source_tools(
    workflow: Mapping[str, Any],
    registry: NodeRegistry,
    *,
    workflow_dir: Path | None = None,
    secrets: Any = None,
    known: Mapping[str, Iterable[ToolInfo]] | None = None,
) -> tuple[list[dict[str, Any]] | None, list[str]]:
    """Every tool of the workflow's sources and notes on sources that could
    not be opened (their tools are not offered). ``known``: tools already
    listed per source (those sources are not opened again). None when the
    workflow declares no source."""
    sources = workflow.get("sources") or {}
    if not sources:
        return None, []
    from ..io import parse_workflow
    from ..sources.catalogue import list_catalogue

    try:
        parsed = parse_workflow(dict(workflow), registry)
    except WorkflowLoadError:
        return None, []  # the planner reports the workflow's problems itself
    found: dict[str, list[ToolInfo]] = {
        name: list(tools) for name, tools in (known or {}).items() if name in sources
    }
    notes: list[str] = []
    missing = [name for name in sources if name not in found]
    if missing:
        errors: dict[str, FlowdeskError] = {}
        listed = await list_catalogue(
            parsed, workflow_dir=workflow_dir, only=missing, errors=errors, secrets=secrets
        )
        found.update({name: list(tools) for name, tools in listed.items()})
        notes += [
            f"source {name!r} unavailable, its tools are not offered: {error}"
            for name, error in errors.items()
        ]
    ordered = {name: found[name] for name in sources if name in found}
    return planner_tools(ordered), notes
