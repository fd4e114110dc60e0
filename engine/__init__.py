"""Flowdesk's engine: a pure-Python library (no Qt) that loads, validates and
runs workflows. This module is its public API; the editor and the CLI use only
the names below.
"""

from typing import TYPE_CHECKING, Any

from .context import NodeContext
from .credentials import (
    ChainSecretStore,
    CredentialResolver,
    EnvSecretStore,
    MemorySecretStore,
    SecretStore,
)
from .errors import FlowdeskError, Issue, WorkflowLoadError
from .events import (
    NOT_IN_RUN,
    Event,
    NodeCancelled,
    NodeFailed,
    NodeLog,
    NodeRetrying,
    NodeSkipped,
    NodeStarted,
    NodeSucceeded,
    RunFinished,
    RunStarted,
)
from .executor import Engine, RunHandle
from .expressions import ExpressionEngine
from .history import TRUNCATED_KEY, HistoryStore, RunSummary
from .io import dumps_workflow, load_workflow, loads_workflow, parse_workflow, save_workflow
from .model import Edge, Node, Workflow
from .nodes.spec import NodeType, Port, Routed
from .registry import NodeRegistry
from .results import NodeResult, RunResult
from .run.graph import Graph, reachable
from .validate import validate

if TYPE_CHECKING:
    from .planner import (
        ABSENT,
        PlanResult,
        WorkflowDiff,
        changed_fields,
        format_diff,
        plan_request,
        planner_tools,
        source_tools,
        usage_text,
    )

#: the planner's names, imported on first use (it pulls in httpx and the AI
#: node: a run or a validate never pays for it)
_PLANNER = frozenset(
    {
        "ABSENT",
        "PlanResult",
        "WorkflowDiff",
        "changed_fields",
        "format_diff",
        "plan_request",
        "planner_tools",
        "source_tools",
        "usage_text",
    }
)


def __getattr__(name: str) -> Any:
    if name in _PLANNER:
        from . import planner

        return getattr(planner, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__version__ = "0.1.0"

__all__ = [
    "ABSENT",
    "NOT_IN_RUN",
    "TRUNCATED_KEY",
    "ChainSecretStore",
    "CredentialResolver",
    "Edge",
    "Engine",
    "EnvSecretStore",
    "Event",
    "ExpressionEngine",
    "FlowdeskError",
    "Graph",
    "HistoryStore",
    "Issue",
    "MemorySecretStore",
    "Node",
    "NodeCancelled",
    "NodeContext",
    "NodeFailed",
    "NodeLog",
    "NodeRegistry",
    "NodeResult",
    "NodeRetrying",
    "NodeSkipped",
    "NodeStarted",
    "NodeSucceeded",
    "NodeType",
    "PlanResult",
    "Port",
    "Routed",
    "RunFinished",
    "RunHandle",
    "RunResult",
    "RunStarted",
    "RunSummary",
    "SecretStore",
    "Workflow",
    "WorkflowDiff",
    "WorkflowLoadError",
    "__version__",
    "changed_fields",
    "dumps_workflow",
    "format_diff",
    "load_workflow",
    "loads_workflow",
    "parse_workflow",
    "plan_request",
    "planner_tools",
    "reachable",
    "save_workflow",
    "source_tools",
    "usage_text",
    "validate",
]
