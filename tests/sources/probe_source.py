"""A small source type for the foundation's tests: its tools are declared in
the workflow (``{"type": "probe", "tools": {NAME: INPUT_SCHEMA}}``) and a call
echoes the arguments it received. It records every open, call and close (per
process) so that tests can check the manager's life cycle; ``sleep`` makes a
call wait (cancel tests) and ``fail`` makes it fail (run failure tests).
Installed in subprocesses through the ``flowdesk.source_types`` entry point.
"""

from __future__ import annotations

import asyncio
from typing import Any

from flowdesk.engine.errors import TOOL_ERROR, FlowdeskError
from flowdesk.engine.sources import SourceEnv, SourceType, ToolInfo, ToolSource
from flowdesk.engine.sources.schema import normalise
from pydantic import BaseModel, ConfigDict, Field

EVENTS: list[tuple[str, str]] = []


class ProbeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tools: dict[str, dict[str, Any]] = Field(default_factory=dict)
    label: str = ""
    credential: str | None = None


class ProbeSource(ToolSource):
    def __init__(self, name: str, config: ProbeConfig) -> None:
        self.name = name
        self.config = config

    async def list_tools(self) -> list[ToolInfo]:
        EVENTS.append(("list", self.name))
        out = []
        for tool, schema in self.config.tools.items():
            input_schema, _ = normalise(schema)
            out.append(ToolInfo(tool, tool.title(), f"{tool} of {self.name}", input_schema))
        return out

    async def call(self, tool: ToolInfo, arguments: dict[str, Any], ctx: Any) -> dict[str, Any]:
        EVENTS.append(("call", self.name))
        if "sleep" in arguments:
            await asyncio.sleep(float(arguments["sleep"]))
        if arguments.get("fail"):
            raise FlowdeskError(
                "the probe was asked to fail", code=TOOL_ERROR, category="EXECUTION"
            )
        return {"tool": tool.name, "arguments": arguments, "label": self.config.label}

    async def aclose(self) -> None:
        EVENTS.append(("close", self.name))


class ProbeType(SourceType):
    type = "probe"
    title = "Probe (tests)"
    config_model = ProbeConfig
    credential_kinds = ("bearer",)

    def open(self, name: str, config: BaseModel, env: SourceEnv) -> ToolSource:
        assert isinstance(config, ProbeConfig)
        EVENTS.append(("open", name))
        return ProbeSource(name, config)
