"""``flow.if``: send the input on ``true`` or ``false`` by a condition.

The condition is an expression; a plain string (``input.count > 3``) is read as
one too. Truthiness is JSON's: null, false, 0, "", [] and {} are false.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ...context import NodeContext
from ..spec import NodeType, Port, Routed


class IfConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    condition: Any = Field(
        ...,
        description="Expression, e.g. {{ input.total > 100 }} (braces optional)",
        json_schema_extra={"widget": "expression"},
    )


class FlowIf(NodeType):
    type_name = "flow.if"
    title = "If"
    category = "Flow"
    description = "Route the input to 'true' or 'false' by a condition."
    icon = "branch"
    inputs = (Port("in", "The value to route"),)
    outputs = (
        Port("true", "The input, when the condition holds"),
        Port("false", "The input, when it does not"),
    )
    Config = IfConfig
    expression_fields = frozenset({"condition"})

    async def execute(self, ctx: NodeContext, config: IfConfig) -> Any:
        return Routed(ctx.input, ("true",) if bool(config.condition) else ("false",))
