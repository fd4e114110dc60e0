"""``tool.call``: call one tool of a source declared in the workflow's
``sources`` (an OpenAPI operation, an MCP tool).

Config ``{"source", "tool", "arguments"}``; argument values may hold
expressions (rendered before the call). The run's ``SourceManager``
(``ctx.services.tool_sources``) opens the source on first use; the tool is
looked up (``TOOL_NOT_FOUND``, CONFIG, naming near matches), the arguments
coerced and validated against its input schema (``INVALID_PARAMS``,
VALIDATION, every issue with its path) before anything is sent, then the
source calls it. The output is the source's: ``{status, headers, body}`` for
an OpenAPI operation.

``client_request_id`` (an idempotency key; the planner sets one on every call
of a tool that is not read-only) makes a call that is not read-only happen at
most once per key within 15 minutes, across retries, runs and processes: the
send ledger (``engine.idempotency``) keeps its first result, returned again
with ``"deduplicated": true``. Read-only tools (OpenAPI GET/HEAD, MCP tools
with ``readOnlyHint``) are always called.
May import: pydantic, engine.context, engine.errors, engine.idempotency,
engine.sources, engine.nodes.spec.
"""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ...context import NodeContext
from ...errors import TOOL_ERROR, ConfigError, FlowdeskError
from ...metrics import METRICS
from ...sources.base import ToolInfo, ToolSource
from ...sources.schema import validate_arguments
from ..spec import NodeType, Port

#: how long a claimed key waits for another attempt calling with it
_LEASE_S = 300.0


class ToolCallConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    source: str = Field(
        ...,
        min_length=1,
        description='Name of a source of the workflow (its top-level "sources")',
        json_schema_extra={"widget": "source"},
    )
    tool: str = Field(..., min_length=1, description="Name of a tool of that source")
    arguments: dict[str, Any] = Field(
        default_factory=dict,
        description="The tool's arguments (its input schema); values may hold expressions",
        json_schema_extra={"widget": "json"},
    )
    client_request_id: str | None = Field(
        None,
        description="Idempotency key: a call of a tool that is not read-only with a key "
        "already used in the last 15 minutes is not made again (its first result is "
        "returned, with deduplicated: true)",
    )


class ToolCall(NodeType):
    type_name = "tool.call"
    title = "Tool call"
    category = "Tools"
    description = (
        "Call one tool of a source (an operation of an OpenAPI document, a tool of an MCP "
        "server). Arguments are checked against the tool's input schema before the call "
        "(INVALID_PARAMS); an unknown tool is TOOL_NOT_FOUND; a source that cannot be "
        "opened is SOURCE_UNAVAILABLE. OpenAPI tools output {status, headers, body}."
    )
    icon = "tool"
    inputs = (Port("in", "Available to expressions as `input`"),)
    outputs = (Port("out", "The tool's result ({status, headers, body} for OpenAPI)"),)
    Config = ToolCallConfig
    deterministic = False
    default_retry = "network"

    async def execute(self, ctx: NodeContext, config: ToolCallConfig) -> Any:
        manager = ctx.services.tool_sources
        if manager is None:
            raise ConfigError(
                f'source {config.source!r} is not declared: the workflow has no "sources"',
                code="SOURCE_UNKNOWN",
                details={"source": config.source},
            )
        found: tuple[ToolSource, ToolInfo] = await manager.tool(config.source, config.tool)
        source, tool = found
        arguments = validate_arguments(
            tool.input_schema, config.arguments, tool=tool.name, validator=tool.validator
        )
        started = time.monotonic()
        ok = False
        try:
            if config.client_request_id and tool.read_only is not True:
                from ...idempotency import Ledger

                key = f"tool.call:{config.source}__{tool.name}:{config.client_request_id}"
                result = await Ledger().once(
                    key, lambda: source.call(tool, arguments, ctx), lease_s=_LEASE_S
                )
                if result.get("deduplicated"):
                    ctx.log(
                        f"not called again: {config.source}__{tool.name} was already called "
                        f"with client_request_id {config.client_request_id!r}",
                        "info",
                    )
            else:
                result = await source.call(tool, arguments, ctx)
            ok = True
            return result
        except FlowdeskError:
            raise
        except Exception as exc:
            raise FlowdeskError(
                f"{config.source}__{tool.name} failed: {type(exc).__name__}: {exc}",
                code=TOOL_ERROR,
                category="EXECUTION",
                details={"source": config.source, "tool": tool.name},
            ) from exc
        finally:
            # calls per tool source (engine.metrics), beside the HTTP origins
            METRICS.record_source(config.source, time.monotonic() - started, ok)
