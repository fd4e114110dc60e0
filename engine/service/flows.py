"""The workflows a server serves: loaded and validated once at start, checked
against the allow-list, indexed by name, with their triggers.

A flow's name is its file name without ``.flow.json`` (or ``.json``); for the
files of a served folder, the path under that folder (``reports/daily``).
The allow-list (``--allow`` or ``FLOWDESK_ALLOW_NODE_TYPES``: comma-separated
shell patterns) names the node types, and the tools (``SOURCE__TOOL``) of
``tool.call`` nodes, a served workflow may use; without one, everything
installed is allowed. A workflow outside it is refused, naming what is not
allowed and where.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import Issue, WorkflowLoadError
from ..io import read_json
from ..model.workflow import Workflow
from ..planner.allow import ENV_VAR, is_allowed
from ..registry import NodeRegistry
from ..triggers import TRIGGER_TYPES
from ..validate import check_source


class ServeConfigError(Exception):
    """What keeps ``flowdesk serve`` from starting (every problem, located)."""


@dataclass(slots=True)
class Trigger:
    flow: str
    node_id: str
    type: str
    config: Any  # the node type's pydantic config


@dataclass(slots=True)
class ServedFlow:
    name: str
    path: Path
    document: dict[str, Any]
    workflow: Workflow
    triggers: list[Trigger] = field(default_factory=list)

    @property
    def data_root(self) -> Path:
        return self.path.parent


def allow_patterns(
    explicit: str | None, environ: Mapping[str, str] | None = None
) -> tuple[list[str] | None, str]:
    """``(patterns or None for everything, where they come from)``."""
    env = os.environ if environ is None else environ
    if explicit is not None:
        return [p.strip() for p in explicit.split(",") if p.strip()], "--allow"
    if env.get(ENV_VAR, "").strip():
        return [p.strip() for p in env[ENV_VAR].split(",") if p.strip()], ENV_VAR
    return None, "default (everything installed)"


def refused_parts(workflow: Workflow, patterns: list[str]) -> list[str]:
    """What in ``workflow`` the allow-list does not allow (empty: allowed)."""
    out: list[str] = []
    for node in workflow.nodes:
        if node.type == "tool.call":
            tool = f"{node.config.get('source', '')}__{node.config.get('tool', '')}"
            if not (is_allowed("tool.call", patterns) or is_allowed(tool, patterns)):
                out.append(f"node {node.id!r}: tool {tool!r}")
        elif not is_allowed(node.type, patterns):
            out.append(f"node {node.id!r}: node type {node.type!r}")
    return out


def _flow_name(path: Path, base: Path | None) -> str:
    rel = path.relative_to(base).as_posix() if base is not None else path.name
    for suffix in (".flow.json", ".json"):
        if rel.endswith(suffix):
            return rel[: -len(suffix)]
    return rel


def _files(targets: Iterable[str]) -> list[tuple[Path, Path | None]]:
    out: list[tuple[Path, Path | None]] = []
    for target in targets:
        path = Path(target).resolve()
        if path.is_dir():
            found = sorted(path.rglob("*.flow.json"))
            out.extend((file, path) for file in found if not file.name.startswith("."))
        else:
            out.append((path, None))
    return out


class FlowCatalog:
    """The served flows by name, their webhooks and schedules."""

    def __init__(self, flows: Iterable[ServedFlow] = ()) -> None:
        self.flows: dict[str, ServedFlow] = {}
        self.webhooks: dict[tuple[str, str], Trigger] = {}
        self.schedules: list[Trigger] = []
        for flow in flows:
            self.add(flow)

    def add(self, flow: ServedFlow) -> None:
        self.flows[flow.name] = flow
        for trigger in flow.triggers:
            if trigger.type == "trigger.webhook":
                self.webhooks[(trigger.config.method, trigger.config.path)] = trigger
            else:
                self.schedules.append(trigger)

    def get(self, name: str) -> ServedFlow | None:
        return self.flows.get(name)

    @classmethod
    def load(
        cls,
        targets: Iterable[str],
        registry: NodeRegistry,
        allow: list[str] | None,
        allow_source: str = "--allow",
    ) -> FlowCatalog:
        """Every flow of ``targets`` (files and folders); raise ``ServeConfigError``
        with every problem of every file."""
        problems: list[str] = []
        catalog = cls()
        files = _files(targets)
        if not files:
            raise ServeConfigError("no workflow files (*.flow.json) in " + ", ".join(targets))
        for path, base in files:
            shown = os.fspath(path)
            if not path.is_file():
                problems.append(f"{shown}: file not found")
                continue
            try:
                raw = read_json(path.read_bytes(), shown)
            except (WorkflowLoadError, OSError) as exc:
                problems.append(str(exc).strip())
                continue
            workflow, issues = check_source(raw, registry, shown)
            errors = [i for i in issues if i.severity == "error"]
            if workflow is None or errors:
                problems.append(_issues_text(shown, errors or issues))
                continue
            if allow is not None:
                refused = refused_parts(workflow, allow)
                if refused:
                    problems.append(
                        f"{shown}: not allowed by the allow-list ({allow_source}: "
                        f"{','.join(allow) or 'nothing'}): " + "; ".join(refused)
                    )
                    continue
            name = _flow_name(path, base)
            if name in catalog.flows:
                problems.append(f"{shown}: a flow named {name!r} is already served")
                continue
            flow = ServedFlow(name, path, raw, workflow)
            for node in workflow.nodes:
                if node.type in TRIGGER_TYPES and not node.disabled:
                    node_type = registry.get(node.type)
                    config = node_type.Config.model_validate(node.config)
                    flow.triggers.append(Trigger(name, node.id, node.type, config))
            for trigger in flow.triggers:
                if trigger.type != "trigger.webhook":
                    continue
                key = (trigger.config.method, trigger.config.path)
                other = catalog.webhooks.get(key)
                if other is not None:
                    problems.append(
                        f"{shown}: node {trigger.node_id!r}: webhook {key[0]} /hooks/{key[1]} "
                        f"is already served by flow {other.flow!r}"
                    )
            catalog.add(flow)
        if problems:
            raise ServeConfigError("\n".join(problems))
        return catalog


def _issues_text(source: str, issues: list[Issue]) -> str:
    count = len(issues)
    lines = "\n".join(f"  {issue}" for issue in issues)
    return f"{source}: {count} problem{'s' if count != 1 else ''}\n{lines}"
