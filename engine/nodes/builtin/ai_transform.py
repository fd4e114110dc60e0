"""``ai.transform``: one chat-completions call to an OpenAI-compatible API
(OpenRouter by default; OpenAI, Ollama, LM Studio, vLLM, llama.cpp by
``base_url``) that turns prompts into text, or into JSON validated against an
output schema (TypeScript-like DSL or JSON Schema). Records token usage and
keeps the run's token budget; retries are the executor's (errors say if retryable).
The schema asked for and the reading of the answer are ``ai_answer``; the
API's errors and token usage in Flowdesk's terms are ``chat_api``.
May import: httpx, pydantic, engine.context, engine.errors, engine.expressions,
engine.schema_dsl, engine.nodes.spec, engine.nodes.builtin.ai_answer,
engine.nodes.builtin.chat_api, stdlib.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from ...context import NodeContext, RunServices
from ...errors import (
    ConfigError,
    FlowdeskError,
    NodeTimeoutError,
    TransportError,
)
from ...expressions import has_expression, to_text
from ...lazy import lazy_module
from ...redaction import redact_text
from ..spec import NodeType, Port
from .ai_answer import BODY_EXCERPT_CHARS, read_answer, request_schema
from .chat_api import error_status, status_error, token_usage

if TYPE_CHECKING:
    import httpx
else:  # imported when a request is sent, not when the node types are listed
    httpx = lazy_module("httpx")

DEFAULT_BASE_URL = "https://openrouter.ai/api/v1"
DEFAULT_CREDENTIAL = "openrouter"
#: key of the run's token budget in ``RunServices.shared``
_BUDGET_KEY = "ai.transform.budget"


class AiTransformConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    model: str = Field(
        ...,
        min_length=1,
        description="Model id, e.g. openai/gpt-4o-mini (OpenRouter) or llama3.2 (Ollama)",
        json_schema_extra={"placeholder": "openai/gpt-4o-mini"},
    )
    system_prompt: str = Field(
        "",
        description="Instructions for the model; may hold {{ }} expressions",
        json_schema_extra={"widget": "multiline"},
    )
    user_prompt: str = Field(
        "{{ input }}",
        description="The message to transform; default: the input (the item with "
        "for_each) as text, objects as JSON",
        json_schema_extra={"widget": "multiline"},
    )
    output_schema: str | dict[str, Any] | None = Field(
        None,
        description="Shape of the answer: DSL such as {name: string, tags: string[]} or a "
        "JSON Schema object; empty: the output is the model's text",
        json_schema_extra={"widget": "schema", "placeholder": '{label: "bug" | "question"}'},
    )
    max_tokens: int = Field(4096, ge=1, description="Most tokens the model may answer with")
    temperature: float | None = Field(
        None, ge=0, le=2, description="Sampling temperature; empty: the server's default"
    )
    base_url: str = Field(
        DEFAULT_BASE_URL,
        description="Any OpenAI-compatible API, e.g. http://localhost:11434/v1 for Ollama",
    )
    credential: str | None = Field(
        DEFAULT_CREDENTIAL,
        description="Bearer credential sent as Authorization; null for a local server without keys",
    )
    app_url: str | None = Field(
        None, description="Sent as HTTP-Referer (OpenRouter's app attribution)"
    )
    app_title: str | None = Field(
        None, description="Sent as X-Title (OpenRouter's app attribution)"
    )
    request_timeout_s: float = Field(
        120.0, gt=0, description="Longest wait for the server's answer (a retryable TIMEOUT)"
    )

    @field_validator("system_prompt", "user_prompt", mode="before")
    @classmethod
    def _prompt_text(cls, value: Any) -> Any:
        # "{{ input }}" keeps its JSON type when evaluated; a prompt is text.
        return value if isinstance(value, str) else to_text(value)

    @field_validator("output_schema")
    @classmethod
    def _check_schema(cls, value: Any) -> Any:
        if isinstance(value, str):
            if has_expression(value):
                return value  # checked once evaluated, at run time
            if not value.strip():
                return None
        if value is None:
            return None
        from ...schema_dsl import SchemaError, SchemaSyntaxError, to_strict_schema

        try:
            to_strict_schema(value)
        except SchemaSyntaxError as error:
            raise PydanticCustomError(
                "schema_syntax",
                "{text}",
                {"text": str(error), "line": error.line, "column": error.column},
            ) from None
        except SchemaError as error:
            raise PydanticCustomError("schema_invalid", "{text}", {"text": str(error)}) from None
        return value

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        if not has_expression(value) and not re.match(r"^https?://[^/\s]+", value):
            raise PydanticCustomError(
                "base_url",
                "base_url must start with http:// or https://, e.g. {example}",
                {"example": DEFAULT_BASE_URL},
            )
        return value


class AiTransform(NodeType):
    type_name = "ai.transform"
    title = "AI transform"
    category = "AI"
    description = (
        "Ask a language model (any OpenAI-compatible API) to turn the input into text "
        "or into JSON of a given shape."
    )
    icon = "sparkles"
    inputs = (Port("in", "The value read as `input` (the default prompt)"),)
    outputs = (Port("out", "The validated JSON value, or the text without a schema"),)
    Config = AiTransformConfig
    default_retry = "network"
    credential_kinds = ("bearer",)
    deterministic = False

    async def execute(self, ctx: NodeContext, config: AiTransformConfig) -> Any:
        schema, wrapped = request_schema(config.output_schema)
        user_prompt = config.user_prompt
        if "user_prompt" not in ctx.node.config:
            # The default "{{ input }}" without a round trip; the item with for_each.
            value = ctx.item if ctx.index is not None else ctx.input
            user_prompt = "" if value is None else to_text(value)
        if not user_prompt.strip() and not config.system_prompt.strip():
            raise ConfigError(
                f"node {ctx.node_id!r} has nothing to send: set user_prompt "
                "(or connect an input) or system_prompt",
                details={"node": ctx.node_id},
            )
        messages: list[dict[str, str]] = []
        if config.system_prompt.strip():
            messages.append({"role": "system", "content": config.system_prompt})
        if user_prompt.strip():
            messages.append({"role": "user", "content": user_prompt})

        body: dict[str, Any] = {
            "model": config.model,
            "messages": messages,
            "max_tokens": config.max_tokens,
        }
        if config.temperature is not None:
            body["temperature"] = config.temperature
        if schema is not None:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": ctx.node_id, "strict": True, "schema": schema},
            }

        secret = None
        headers = {"Accept": "application/json"}
        if config.credential:
            secret = ctx.services.credentials.secret(config.credential)
            headers["Authorization"] = f"Bearer {secret}"
        if config.app_url:
            headers["HTTP-Referer"] = config.app_url
        if config.app_title:
            headers["X-Title"] = config.app_title
        secrets = (secret,) if secret else ()

        url = config.base_url.rstrip("/") + "/chat/completions"
        budget = _budget(ctx.services)
        # Worst case of this call: the prompt (about 4 characters a token) and
        # a full answer; used to keep concurrent calls inside the budget.
        need = config.max_tokens + sum(len(m["content"]) for m in messages) // 4 + 16
        if budget is not None:
            await budget.acquire(need, ctx)
        try:
            payload = await _call(ctx, config, url, headers, body, secrets)
            # Counted before the release, so that calls waiting on the budget see it.
            _record_usage(ctx, config, payload)
        finally:
            if budget is not None:
                budget.release(need)
        return read_answer(ctx, config, payload, schema, wrapped, secrets)


# ------------------------------------------------------------------ budget


class _TokenBudget:
    """The run's AI token budget (``settings.max_ai_tokens``), shared by every
    AI node and ``for_each`` item of one run.

    A call may start only while the budget is not spent. While calls are in
    flight, a new call also waits until the worst case of all of them
    (prompt plus ``max_tokens`` each) fits in what is left, so concurrent
    calls cannot together run far past the budget: a run spends at most the
    budget plus about one call. Everything runs on one event loop, so the
    counters need no lock; waiting uses an event that every release sets.
    """

    def __init__(self, services: RunServices, limit: int) -> None:
        self.services = services
        self.limit = limit
        self.reserved = 0
        self.in_flight = 0
        self._released = asyncio.Event()

    def used(self) -> int:
        return int(self.services.usage.get("total_tokens", 0))

    async def acquire(self, need: int, ctx: NodeContext) -> None:
        waited = False
        while True:
            used = self.used()
            if used >= self.limit:
                raise FlowdeskError(
                    f"the run's AI token budget is spent: {used} of {self.limit} tokens used "
                    "(settings.max_ai_tokens); the run stops here — raise the budget to "
                    "allow more",
                    code="TOKEN_BUDGET_EXCEEDED",
                    category="EXECUTION",
                    retryable=False,
                    fatal=True,
                    details={"used_tokens": used, "max_ai_tokens": self.limit},
                )
            if self.in_flight == 0 or used + self.reserved + need <= self.limit:
                break
            if not waited:
                waited = True
                ctx.log(
                    f"waiting for AI calls in flight: together they could spend the rest of "
                    f"the token budget ({used} of {self.limit} used)",
                    "debug",
                )
            event = self._released
            await event.wait()
        self.reserved += need
        self.in_flight += 1

    def release(self, need: int) -> None:
        # Synchronous, so that it also runs when the caller is being cancelled.
        self.reserved -= need
        self.in_flight -= 1
        event, self._released = self._released, asyncio.Event()
        event.set()


def _budget(services: RunServices) -> _TokenBudget | None:
    limit = services.settings.max_ai_tokens
    if limit is None:
        return None
    budget = services.shared.get(_BUDGET_KEY)
    if not isinstance(budget, _TokenBudget):
        budget = services.shared[_BUDGET_KEY] = _TokenBudget(services, limit)
    return budget


# -------------------------------------------------------------------- HTTP


async def _call(
    ctx: NodeContext,
    config: AiTransformConfig,
    url: str,
    headers: dict[str, str],
    body: dict[str, Any],
    secrets: Iterable[str],
) -> dict[str, Any]:
    """POST the request; the answer's JSON, or a structured error."""
    client = ctx.services.http_client()
    limit = config.request_timeout_s
    ctx.log(f"POST {url} (model {config.model})", "debug")
    try:
        # httpx's timeout bounds each phase; asyncio's bounds the whole answer.
        async with asyncio.timeout(limit):
            response = await client.post(url, json=body, headers=headers, timeout=limit)
            content = await response.aread()
    except (TimeoutError, httpx.TimeoutException) as exc:
        raise NodeTimeoutError(
            f"the AI server at {url} did not answer within {limit:g} s (request_timeout_s)",
            details={"url": url, "timeout_s": limit},
        ) from exc
    except httpx.HTTPError as exc:
        raise TransportError(
            redact_text(
                f"could not reach the AI server at {url}: {type(exc).__name__}: {exc}", secrets
            ),
            details={"url": url, "exception": type(exc).__name__},
        ) from exc
    text = redact_text(content.decode("utf-8", "replace"), secrets)
    status = response.status_code
    payload: Any = None
    try:
        payload = json.loads(text) if text.strip() else None
    except ValueError:
        payload = None
    if status >= 400:
        raise status_error(response, status, text, payload, url)
    if not isinstance(payload, dict):
        raise FlowdeskError(
            f"the AI server at {url} answered {status} with something other than a JSON "
            "object; is base_url an OpenAI-compatible API (e.g. https://openrouter.ai/api/v1 "
            "or http://localhost:11434/v1)?",
            code="AI_API_ERROR",
            category="EXECUTION",
            details={"url": url, "status": status, "body_excerpt": text[:BODY_EXCERPT_CHARS]},
        )
    if "error" in payload and not payload.get("choices"):
        # OpenRouter reports some upstream failures as 200 with an error object.
        code = error_status(payload["error"])
        raise status_error(response, code or 502, text, payload, url)
    return payload


def _record_usage(ctx: NodeContext, config: AiTransformConfig, payload: dict[str, Any]) -> None:
    usage = token_usage(payload.get("usage"))
    if usage:
        ctx.record_usage(usage)
        ctx.log(
            f"{config.model}: {usage.get('prompt_tokens', 0)} prompt + "
            f"{usage.get('completion_tokens', 0)} completion tokens",
            "debug",
        )
    else:
        ctx.log(
            "the AI server reported no token usage: this call is not counted in the "
            "run's usage or token budget",
            "warning",
        )
