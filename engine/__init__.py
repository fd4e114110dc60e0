"""Flowdesk's engine: a pure-Python library (no Qt) that loads, validates and
runs workflows. This module is its public API; the editor and the CLI use only
the names below.
"""

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
from .schema_dsl import to_validation_schema
from .validate import validate

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
    "reachable",
    "save_workflow",
    "to_validation_schema",
    "validate",
]
