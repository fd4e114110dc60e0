"""Flowdesk's engine: a pure-Python library (no Qt) that loads, validates and
runs workflows. This module is its public API; the editor and the CLI use only
the names below.
"""

from engine.context import NodeContext
from engine.credentials import (
    ChainSecretStore,
    CredentialResolver,
    EnvSecretStore,
    MemorySecretStore,
    SecretStore,
)
from engine.errors import FlowdeskError, Issue, WorkflowLoadError
from engine.events import (
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
from engine.executor import Engine, RunHandle
from engine.expressions import ExpressionEngine
from engine.history import TRUNCATED_KEY, HistoryStore, RunSummary
from engine.io import dumps_workflow, load_workflow, loads_workflow, parse_workflow, save_workflow
from engine.model import Edge, Node, Workflow
from engine.nodes.spec import NodeType, Port, Routed
from engine.registry import NodeRegistry
from engine.results import NodeResult, RunResult
from engine.validate import validate

__version__ = "0.1.0"

__all__ = [
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
    "Port",
    "Routed",
    "RunFinished",
    "RunHandle",
    "RunResult",
    "RunStarted",
    "RunSummary",
    "SecretStore",
    "Workflow",
    "WorkflowLoadError",
    "__version__",
    "dumps_workflow",
    "load_workflow",
    "loads_workflow",
    "parse_workflow",
    "save_workflow",
    "validate",
]
