"""A local OpenAI-compatible chat-completions server (``FakeLLM``, served over
real HTTP by the ``llm`` fixture), scripted per test and recording every
request, plus helpers that build and run workflows with ``ai.transform``."""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from flowdesk.engine import (
    Engine,
    Event,
    MemorySecretStore,
    NodeRegistry,
    RunResult,
    Workflow,
    parse_workflow,
)
from multidict import CIMultiDict

SECRET = "sk-test-SECRET-0123456789abcdef"


@dataclass
class Reply:
    """One scripted answer of the fake server."""

    status: int = 200
    body: Any = None  # dict → JSON; str → text as is
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


def completion(
    content: Any,
    *,
    prompt_tokens: int = 12,
    completion_tokens: int = 8,
    cost: float | None = None,
    finish_reason: str = "stop",
    refusal: str | None = None,
) -> dict[str, Any]:
    """A chat-completions answer; ``content`` that is not text is sent as JSON text."""
    text = content if isinstance(content, str) or content is None else json.dumps(content)
    usage: dict[str, Any] = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }
    if cost is not None:
        usage["cost"] = cost
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if refusal is not None:
        message["refusal"] = refusal
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "model": "test-model",
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
        "usage": usage,
    }


@dataclass
class Seen:
    """A request the server received."""

    path: str
    headers: CIMultiDict[str]  # header names are case-insensitive
    json: Any
    at: float


Responder = Callable[[dict[str, Any]], Reply]


class FakeLLM:
    """The server's state: a script of replies (then ``fallback``), the
    requests received, and how many were in flight at most."""

    def __init__(self) -> None:
        self.script: deque[Reply | Responder] = deque()
        self.fallback: Reply | Responder = Reply(body=completion("ok"))
        self.requests: list[Seen] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.url = ""

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def reply(self, *replies: Reply | Responder) -> None:
        self.script.extend(replies)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except ValueError:
            body = None
        self.requests.append(
            Seen(request.path, CIMultiDict(request.headers), body, time.monotonic())
        )
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            step = self.script.popleft() if self.script else self.fallback
            answer = step if isinstance(step, Reply) else step(body)
            if answer.delay:
                await asyncio.sleep(answer.delay)
            if isinstance(answer.body, str):
                return web.Response(status=answer.status, text=answer.body, headers=answer.headers)
            return web.json_response(answer.body, status=answer.status, headers=answer.headers)
        finally:
            self.in_flight -= 1


def ai_node(node_id: str, base_url: str, **config: Any) -> dict[str, Any]:
    """An ``ai.transform`` node against ``base_url``; node-level keys (retry,
    timeout_s, for_each, concurrency, on_error) may be passed as well."""
    node_keys = {"retry", "timeout_s", "for_each", "concurrency", "on_error"}
    top = {k: config.pop(k) for k in list(config) if k in node_keys}
    return {
        "id": node_id,
        "type": "ai.transform",
        "config": {"model": "test/model", "base_url": base_url, **config},
        **top,
    }


def workflow(
    registry: NodeRegistry,
    nodes: list[dict[str, Any]],
    edges: list[tuple[str, str]] = (),  # type: ignore[assignment]
    **top: Any,
) -> Workflow:
    doc = {
        "format": "flowdesk/workflow",
        "version": 1,
        "name": "ai test",
        "credentials": {"openrouter": {"type": "bearer"}},
        **top,
        "nodes": nodes,
        "edges": [{"from": {"node": a}, "to": {"node": b}} for a, b in edges],
    }
    return parse_workflow(doc, registry)


async def run(
    registry: NodeRegistry,
    wf: Workflow,
    *,
    secrets: dict[str, str] | None = None,
    events: list[Event] | None = None,
    **kwargs: Any,
) -> RunResult:
    store = MemorySecretStore({"openrouter": SECRET} if secrets is None else secrets)
    engine = Engine(registry, secrets=store, environ={})
    handle = engine.start(wf, **kwargs)
    if events is not None:
        handle.subscribe(events.append)
    return await handle.wait()
