"""A run reuses the node configs validated just before it (``validate``'s
``configs``, ``Engine.start(configs=...)``): a constant config is validated
once on its way from the file to the node, and what a run reports about
configs is the same with or without them."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from flowdesk.engine import Engine, NodeContext, NodeType, Port, WorkflowLoadError, validate
from pydantic import BaseModel, ConfigDict, model_validator

from tests.engine.conftest import make


class CountedConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seconds: float = 0.0
    value: Any = None

    @model_validator(mode="after")
    def _count(self) -> CountedConfig:
        Counted.validations += 1
        return self


class Counted(NodeType):
    """Gives its ``value``; counts how often a config of its type is validated
    and keeps the configs it was run with."""

    type_name = "test.counted"
    title = "Counted"
    category = "Test"
    inputs = (Port("in"),)
    outputs = (Port("out"),)
    Config = CountedConfig
    validations = 0
    received: ClassVar[list[CountedConfig]] = []

    async def execute(self, ctx: NodeContext, config: CountedConfig) -> Any:
        Counted.received.append(config)
        return config.value


@pytest.fixture
def counted(registry):
    registry.register(Counted)
    Counted.validations = 0
    Counted.received = []
    yield Counted
    registry.unregister(Counted.type_name)


def node(node_id: str, **config: Any) -> dict[str, Any]:
    return {"id": node_id, "type": "test.counted", "config": config, "on_error": "continue"}


async def test_a_constant_config_validated_before_the_run_is_not_validated_again(registry, counted):
    workflow = make(
        registry, [node("a", value=1), node("b", value="{{ input + 1 }}")], [("a", "b")]
    )
    configs: dict[str, BaseModel] = {}
    assert validate(workflow, registry, configs=configs) == []
    assert counted.validations == 2  # (b's, as written: its field takes any value)
    result = await Engine(registry).run(workflow, check=False, configs=configs)
    assert result.nodes["b"].output == 2
    # a ran with the config validated before; b's expression made a config of its own
    assert counted.received[0] is configs["a"]
    assert counted.received[1] is not configs["b"] and counted.received[1].value == 2
    assert counted.validations == 3


async def test_a_checked_start_validates_each_constant_config_once(registry, counted):
    workflow = make(registry, [node("a", value=1), node("b", value=2)])
    result = await Engine(registry).run(workflow)  # check=True: validate, then run
    assert result.status == "succeeded"
    assert counted.validations == 2
    # without the check the run validates them itself, once each
    await Engine(registry).run(workflow, check=False)
    assert counted.validations == 4


async def test_config_errors_are_reported_alike_with_or_without_validated_configs(
    registry, counted
):
    nodes = [
        node("good", value=1),
        node("bad", seconds="soon"),  # wrong as written: validate names it
        node("late", seconds="{{ 'later' }}"),  # wrong once rendered: the run names it
    ]
    workflow = make(registry, nodes)
    configs: dict[str, BaseModel] = {}
    issues = validate(workflow, registry, configs=configs)
    assert [issue.location for issue in issues] == ["nodes[1].config.seconds"]
    assert set(configs) == {"good"}  # (late's expression is no float as written)
    with pytest.raises(WorkflowLoadError) as raised:
        await Engine(registry).run(workflow)
    assert [str(issue) for issue in raised.value.issues] == [str(issue) for issue in issues]

    reused = await Engine(registry).run(workflow, check=False, configs=configs)
    fresh = await Engine(registry).run(workflow, check=False)
    for result in (reused, fresh):
        assert {k: v.status for k, v in result.nodes.items()} == {
            "good": "succeeded",
            "bad": "failed",
            "late": "failed",
        }
    for node_id in ("bad", "late"):
        assert reused.nodes[node_id].error == fresh.nodes[node_id].error
    assert "seconds" in str(reused.nodes["bad"].error)
