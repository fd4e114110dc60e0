"""Node types for executor tests (ComfyUI's testing-pack idea): sleep with a
concurrency probe, flaky failures with retry hints, a crash."""

from __future__ import annotations

import asyncio
from typing import Any

from flowdesk.engine import NodeContext, NodeRegistry, NodeType, Port
from flowdesk.engine.errors import FlowdeskError
from pydantic import BaseModel, ConfigDict


class Probe:
    """Counts how many node bodies run at once."""

    def __init__(self) -> None:
        self.active = 0
        self.peak = 0
        self.started: list[str] = []
        self.finished: list[str] = []

    def enter(self, name: str) -> None:
        self.active += 1
        self.peak = max(self.peak, self.active)
        self.started.append(name)

    def leave(self, name: str) -> None:
        self.active -= 1
        self.finished.append(name)


class SleepConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seconds: float = 0.0
    value: Any = None


class Sleep(NodeType):
    type_name = "test.sleep"
    title = "Sleep"
    category = "Test"
    inputs = (Port("in"),)
    outputs = (Port("out"),)
    Config = SleepConfig
    probe = Probe()

    async def execute(self, ctx: NodeContext, config: SleepConfig) -> Any:
        name = ctx.node_id if ctx.index is None else f"{ctx.node_id}[{ctx.index}]"
        self.probe.enter(name)
        try:
            await asyncio.sleep(config.seconds)
        finally:
            self.probe.leave(name)
        return config.value if config.value is not None else ctx.input


class FlakyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fail_times: int = 1
    code: str = "HTTP_STATUS"
    retryable: bool = True
    retry_after: float | None = None


class Flaky(NodeType):
    type_name = "test.flaky"
    title = "Flaky"
    category = "Test"
    Config = FlakyConfig

    async def execute(self, ctx: NodeContext, config: FlakyConfig) -> Any:
        key = f"flaky:{ctx.node_id}:{ctx.index}"
        calls = ctx.services.shared.get(key, 0) + 1
        ctx.services.shared[key] = calls
        if calls <= config.fail_times:
            raise FlowdeskError(
                f"failure {calls}",
                code=config.code,
                # retryability follows the category (engine.errors)
                category="TRANSPORT" if config.retryable else "EXECUTION",
                retry_after=config.retry_after,
            )
        return {"calls": calls}


class Crash(NodeType):
    type_name = "test.crash"
    title = "Crash"
    category = "Test"

    async def execute(self, ctx: NodeContext, config: Any) -> Any:
        raise ValueError("boom")


class Two(NodeType):
    """Two inputs, for port tests."""

    type_name = "test.two"
    title = "Two"
    category = "Test"
    inputs = (Port("a"), Port("b"))
    outputs = (Port("out"),)

    async def execute(self, ctx: NodeContext, config: Any) -> Any:
        return {"a": ctx.inputs["a"], "b": ctx.inputs["b"]}


def stub_registry() -> NodeRegistry:
    registry = NodeRegistry.default(plugins=False)
    for node_type in (Sleep, Flaky, Crash, Two):
        registry.register(node_type)
    return registry
