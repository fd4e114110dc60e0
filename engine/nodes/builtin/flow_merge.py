"""``flow.merge``: wait for every input that is not skipped and combine them.

``list``: the values in edge order; ``object``: keyed by source node id. It is
skipped only when none of its inputs arrived.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ...context import NodeContext
from ..spec import NodeType, Port


class MergeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    mode: Literal["list", "object"] = Field(
        "list", description="list: values in edge order; object: keyed by source node id"
    )


class FlowMerge(NodeType):
    type_name = "flow.merge"
    title = "Merge"
    category = "Flow"
    description = "Combine the values of several branches into one."
    icon = "merge"
    inputs = (Port("in", "Any number of edges", multiple=True),)
    outputs = (Port("out", "The merged value"),)
    Config = MergeConfig
    partial_inputs = True

    async def execute(self, ctx: NodeContext, config: MergeConfig) -> Any:
        arrived = ctx.input_sources("in")
        if config.mode == "object":
            return {source: value for source, value in arrived}
        return [value for _, value in arrived]
