"""Flowdesk's engine: a pure-Python library (no Qt) that loads, validates and
runs workflows. This module is its public API (the facade): the editor imports
engine names from here only — an import-linter contract in the test command
(pyproject.toml ``[tool.importlinter]``) fails on any ``flowdesk.engine.<module>``
import under ``editor/``.

Names whose modules are slow to import (authlib, the planner, OpenAPI, the
schema DSL: tens of milliseconds each) are loaded on first use through the
module ``__getattr__`` below, so ``flowdesk run`` and the editor's start do not
pay for what they do not use. A submodule's name (``sources``, ``planner``,
``oauth2_login``, …) is never reused for a facade name: importing the
submodule would replace it.
"""

import sys
from typing import TYPE_CHECKING, Any

from .bus import BUS
from .context import NodeContext
from .credentials import (
    ChainSecretStore,
    CredentialResolver,
    EnvSecretStore,
    MemorySecretStore,
    SecretStore,
    env_var_name,
    is_tokens_key,
    tokens_key,
)
from .errors import (
    FlowdeskError,
    Issue,
    WorkflowLoadError,
    format_location,
    json_kind,
    location_path,
)
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
from .expressions import ExpressionEngine, has_expression
from .gcpause import paused_gc
from .history import (
    DEFAULT_MAX_OUTPUT_BYTES,
    TRUNCATED_KEY,
    HistoryStore,
    RunSummary,
    is_truncated,
    local_time,
)
from .io import dumps_workflow, load_workflow, loads_workflow, parse_workflow, save_workflow
from .keyring_store import KeyringSecretStore, default_secret_store
from .model import Edge, Node, Workflow
from .model.workflow import BearerCredential, CredentialRef, OAuth2AuthorizationCode
from .nodes.spec import NodeType, Port, Routed
from .registry import NodeRegistry
from .results import NodeResult, RunResult
from .retry import NO_RETRY, PRESET_NAMES, PRESETS
from .retry import resolve as resolve_retry_policy
from .run.config_render import holds_expression, render_value
from .run.graph import Graph, reachable
from .run.scheduler import NO_VALUE, gather_inputs, input_layout
from .run.scope import node_scope
from .validate import validate
from .validation_issues import issues_from_validation_error

if TYPE_CHECKING:  # the lazy names below, for type checkers
    from .oauth2 import probe as probe_credential
    from .oauth2_login import login as sign_in_oauth2
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
    from .schema_dsl import SchemaError, SchemaSyntaxError, to_strict_schema, to_validation_schema
    from .sources import SourceManager, SourceTypes, ToolInfo, split_tool_ref
    from .sources.catalogue import CatalogueIndex, list_catalogue, standalone_env
    from .sources.mcp_import import merge_mcp_servers, read_mcp_config
    from .sources.mcp_import import source_name as mcp_source_name
    from .sources.openapi import load_spec as load_openapi_spec
    from .sources.pool import SourcePool
    from .sources.schema import argument_issues
    from .sources.schema import coerce as coerce_to_schema

__version__ = "0.1.0"

#: facade name -> (module relative to this package, attribute), imported on first
#: use (the planner pulls in httpx and the AI node: a run or a validate never
#: pays for it)
_LAZY: dict[str, tuple[str, str]] = {
    "ABSENT": (".planner", "ABSENT"),
    "CatalogueIndex": (".sources.catalogue", "CatalogueIndex"),
    "PlanResult": (".planner", "PlanResult"),
    "SchemaError": (".schema_dsl", "SchemaError"),
    "SchemaSyntaxError": (".schema_dsl", "SchemaSyntaxError"),
    "SourceManager": (".sources", "SourceManager"),
    "SourcePool": (".sources.pool", "SourcePool"),
    "SourceTypes": (".sources", "SourceTypes"),
    "ToolInfo": (".sources", "ToolInfo"),
    "WorkflowDiff": (".planner", "WorkflowDiff"),
    "argument_issues": (".sources.schema", "argument_issues"),
    "changed_fields": (".planner", "changed_fields"),
    "coerce_to_schema": (".sources.schema", "coerce"),
    "format_diff": (".planner", "format_diff"),
    "list_catalogue": (".sources.catalogue", "list_catalogue"),
    "load_openapi_spec": (".sources.openapi", "load_spec"),
    "mcp_source_name": (".sources.mcp_import", "source_name"),
    "merge_mcp_servers": (".sources.mcp_import", "merge_mcp_servers"),
    "plan_request": (".planner", "plan_request"),
    "planner_tools": (".planner", "planner_tools"),
    "probe_credential": (".oauth2", "probe"),
    "read_mcp_config": (".sources.mcp_import", "read_mcp_config"),
    "sign_in_oauth2": (".oauth2_login", "login"),
    "source_tools": (".planner", "source_tools"),
    "split_tool_ref": (".sources", "split_tool_ref"),
    "standalone_env": (".sources.catalogue", "standalone_env"),
    "to_strict_schema": (".schema_dsl", "to_strict_schema"),
    "to_validation_schema": (".schema_dsl", "to_validation_schema"),
    "usage_text": (".planner", "usage_text"),
}


def __getattr__(name: str) -> Any:
    """The lazy names of ``_LAZY``: import their module on first use."""
    try:
        module_name, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    import importlib

    value = getattr(importlib.import_module(module_name, __name__), attribute)
    globals()[name] = value
    return value


async def close_shared_http_pool() -> None:
    """Close the shared HTTP connections of the running loop (on quit); nothing
    to do (and nothing imported) when no run sent a request."""
    if f"{__name__}.http_client" not in sys.modules:
        return
    from .http_client import close_shared_pool

    await close_shared_pool()


__all__ = [
    "ABSENT",
    "BUS",
    "DEFAULT_MAX_OUTPUT_BYTES",
    "NOT_IN_RUN",
    "NO_RETRY",
    "NO_VALUE",
    "PRESETS",
    "PRESET_NAMES",
    "TRUNCATED_KEY",
    "BearerCredential",
    "CatalogueIndex",
    "ChainSecretStore",
    "CredentialRef",
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
    "KeyringSecretStore",
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
    "OAuth2AuthorizationCode",
    "PlanResult",
    "Port",
    "Routed",
    "RunFinished",
    "RunHandle",
    "RunResult",
    "RunStarted",
    "RunSummary",
    "SchemaError",
    "SchemaSyntaxError",
    "SecretStore",
    "SourceManager",
    "SourcePool",
    "SourceTypes",
    "ToolInfo",
    "Workflow",
    "WorkflowDiff",
    "WorkflowLoadError",
    "__version__",
    "argument_issues",
    "changed_fields",
    "close_shared_http_pool",
    "coerce_to_schema",
    "default_secret_store",
    "dumps_workflow",
    "env_var_name",
    "format_diff",
    "format_location",
    "gather_inputs",
    "has_expression",
    "holds_expression",
    "input_layout",
    "is_tokens_key",
    "is_truncated",
    "issues_from_validation_error",
    "json_kind",
    "list_catalogue",
    "load_openapi_spec",
    "load_workflow",
    "loads_workflow",
    "local_time",
    "location_path",
    "mcp_source_name",
    "merge_mcp_servers",
    "node_scope",
    "parse_workflow",
    "paused_gc",
    "plan_request",
    "planner_tools",
    "probe_credential",
    "reachable",
    "read_mcp_config",
    "render_value",
    "resolve_retry_policy",
    "save_workflow",
    "sign_in_oauth2",
    "source_tools",
    "split_tool_ref",
    "standalone_env",
    "to_strict_schema",
    "to_validation_schema",
    "tokens_key",
    "usage_text",
    "validate",
]
