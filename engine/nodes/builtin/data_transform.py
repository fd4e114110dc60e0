"""``data.transform``: evaluate a JSON value whose strings may hold expressions."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ...context import NodeContext
from ..spec import NodeType, Port


class TransformConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    value: Any = Field(
        None,
        description=(
            "Any JSON; strings may hold {{ }} expressions, "
            'e.g. {"total": "{{ input.a + input.b }}"}'
        ),
        json_schema_extra={"widget": "json"},
    )


class DataTransform(NodeType):
    type_name = "data.transform"
    title = "Transform"
    category = "Data"
    description = "Build a new value from the input with expressions."
    icon = "transform"
    inputs = (Port("in", "The value read as `input`"),)
    outputs = (Port("out", "The evaluated value"),)
    Config = TransformConfig

    async def execute(self, ctx: NodeContext, config: TransformConfig) -> Any:
        return config.value
