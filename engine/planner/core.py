"""The planner's request/answer loop: catalogue, strict schema, token caps,
the repair round, events and metrics."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..bus import BUS
from ..errors import FlowdeskError
from ..lazy import lazy_module
from ..nodes.builtin.ai_answer import parse_json_answer
from ..nodes.builtin.ai_transform import DEFAULT_BASE_URL
from ..nodes.builtin.chat_api import status_error, token_usage
from ..registry import NodeRegistry
from .actions import apply_actions
from .allow import allow_list, is_allowed
from .diff import diff_workflows
from .stats import PLANNER_STATS

if TYPE_CHECKING:
    import httpx
else:  # imported when a plan is asked for, not when the editor opens
    httpx = lazy_module("httpx")

DEFAULT_MODEL = "openai/gpt-4o-mini"
DEFAULT_MAX_OUTPUT_TOKENS = 800
DEFAULT_TOKENS_PER_MINUTE = 8000
TPM_ENV = "FLOWDESK_AI_MAX_TOKENS_PER_MIN"
#: the longest a planner call waits for the per-minute cap (or a Retry-After)
MAX_WAIT_S = 20.0

ACTION_KINDS = (
    "add_node",
    "connect",
    "set_config",
    "remove_node",
    "disconnect",
    "set_variable",
    "add_credential",
)


def request_schema() -> dict[str, Any]:
    """The strict JSON schema of the answer. Values that are free JSON
    (configs, values, fields) travel as JSON text: strict mode wants every
    object closed."""
    nullable_str = {"type": ["string", "null"]}
    action_props: dict[str, Any] = {
        "action": {"type": "string", "enum": list(ACTION_KINDS)},
        "id": nullable_str,
        "type": nullable_str,
        "title": nullable_str,
        "config": {**nullable_str, "description": "a JSON object, as text"},
        "position": {"type": ["array", "null"], "items": {"type": "number"}},
        "from": {**nullable_str, "description": "node id, or node.port"},
        "to": {**nullable_str, "description": "node id, or node.port"},
        "node": nullable_str,
        "path": {**nullable_str, "description": "config path, dots between keys"},
        "value": {**nullable_str, "description": "a JSON value, as text"},
        "name": nullable_str,
        "kind": nullable_str,
        "fields": {**nullable_str, "description": "a JSON object, as text (never a secret)"},
    }
    return {
        "type": "object",
        "properties": {
            "intent": {"type": "string"},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "actions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": action_props,
                    "required": list(action_props),
                    "additionalProperties": False,
                },
            },
        },
        "required": ["intent", "confidence", "actions"],
        "additionalProperties": False,
    }


def build_catalogue(
    registry: NodeRegistry, allow: list[str], tools: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """The node types (and source tools) the model may use, with JSON Schemas."""
    out: list[dict[str, Any]] = []
    for node_type in registry:
        if not is_allowed(node_type.type_name, allow) and node_type.type_name != "tool.call":
            continue
        if node_type.type_name == "tool.call" and not (is_allowed("tool.call", allow) or tools):
            continue
        out.append(
            {
                "type": node_type.type_name,
                "description": node_type.description,
                "config_schema": _compact(node_type.config_schema()),
            }
        )
    for tool in tools or []:
        name = str(tool.get("name", ""))
        if is_allowed(name, allow) or is_allowed("tool.call", allow):
            out.append(
                {
                    "tool": name,
                    "description": tool.get("description", ""),
                    "input_schema": tool.get("input_schema", {}),
                    "read_only": bool(tool.get("read_only", False)),
                }
            )
    return out


def _compact(schema: Any) -> Any:
    """A schema without its ``title`` keys: fewer prompt tokens, same meaning."""
    if isinstance(schema, dict):
        return {
            k: _compact(v) for k, v in schema.items() if not (k == "title" and isinstance(v, str))
        }
    if isinstance(schema, list):
        return [_compact(v) for v in schema]
    return schema


class TokenRateLimiter:
    """Tokens per minute across planner calls: ``acquire`` waits (up to
    ``max_wait_s``) for room, or refuses with a clear message."""

    def __init__(self, per_minute: int | None = None, max_wait_s: float = MAX_WAIT_S) -> None:
        if per_minute is None:
            env = os.environ.get(TPM_ENV, "").strip()
            per_minute = int(env) if env.isdigit() else DEFAULT_TOKENS_PER_MINUTE
        self.per_minute = per_minute
        self.max_wait_s = max_wait_s
        self._spent: deque[tuple[float, int]] = deque()

    def used(self, now: float | None = None) -> int:
        now = time.monotonic() if now is None else now
        while self._spent and now - self._spent[0][0] >= 60.0:
            self._spent.popleft()
        return sum(n for _, n in self._spent)

    async def acquire(self, need: int) -> None:
        if need > self.per_minute:
            raise FlowdeskError(
                f"this request may use {need} tokens, more than the cap of "
                f"{self.per_minute} tokens per minute ({TPM_ENV})",
                code="RATE_LIMITED",
                category="RATE_LIMIT",
            )
        while self.used() + need > self.per_minute:
            wait = 60.0 - (time.monotonic() - self._spent[0][0])
            if wait > self.max_wait_s:
                raise FlowdeskError(
                    f"the planner's cap of {self.per_minute} tokens per minute is reached "
                    f"({self.used()} used in the last minute); try again in {wait:.0f} s "
                    f"or raise {TPM_ENV}",
                    code="RATE_LIMITED",
                    category="RATE_LIMIT",
                    retry_after=wait,
                )
            await asyncio.sleep(max(wait, 0.01))

    def spend(self, tokens: int) -> None:
        self._spent.append((time.monotonic(), tokens))


#: Process-wide on purpose: a provider's tokens-per-minute limit applies to the
#: API key, whoever in the process spends it; a caller may pass its own.
DEFAULT_LIMITER = TokenRateLimiter()


@dataclass
class PlanResult:
    """``status``: planned | refused | failed. ``workflow`` is the new
    document (only when planned); ``problems`` say why not otherwise."""

    status: str
    plan: dict[str, Any] | None
    meta: dict[str, Any]
    diff: dict[str, Any]
    problems: list[dict[str, Any]]
    workflow: dict[str, Any] | None = None
    repaired: bool = False
    messages: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"plan": self.plan, "meta": self.meta, "diff": self.diff, "problems": self.problems}


_SYSTEM = (
    "You edit Flowdesk workflows (nodes joined by edges; data flows from a node's "
    "'out' port to a node's 'in' port; flow.if has ports 'true'/'false'). Answer "
    "ONLY with the JSON object of the schema: intent, confidence (0..1), actions. "
    "Use only node types and tools from the catalogue, configs matching their "
    "config_schema (as JSON text). Actions: add_node {id,type,title,config,position?}, "
    "connect {from,to}, set_config {node,path,value}, remove_node {node}, "
    "disconnect {from,to}, set_variable {name,value}, add_credential {name,kind,fields} "
    "(never a secret). Unused fields are null."
)


async def _ask(
    client: httpx.AsyncClient,
    url: str,
    headers: dict[str, str],
    body: dict[str, Any],
    timeout: float,
) -> dict[str, Any]:
    for attempt in range(2):
        try:
            response = await client.post(url, json=body, headers=headers, timeout=timeout)
        except httpx.HTTPError as exc:
            raise FlowdeskError(
                f"could not reach the AI server at {url}: {type(exc).__name__}",
                code="TRANSPORT",
                category="TRANSPORT",
            ) from exc
        text = response.text
        payload: Any = None
        try:
            payload = json.loads(text) if text.strip() else None
        except ValueError:
            payload = None
        if response.status_code >= 400:
            error = status_error(response, response.status_code, text, payload, url)
            wait = error.retry_after
            if response.status_code == 429 and attempt == 0 and wait is not None:
                if wait <= MAX_WAIT_S:
                    await asyncio.sleep(wait)
                    continue
            raise error
        if not isinstance(payload, dict):
            raise FlowdeskError(
                f"the AI server at {url} did not answer with a JSON object",
                code="AI_API_ERROR",
                category="EXECUTION",
            )
        return payload
    raise AssertionError("unreachable")


async def plan_request(
    prompt: str,
    workflow: Mapping[str, Any] | None,
    registry: NodeRegistry,
    *,
    api_key: str | None = None,
    base_url: str = DEFAULT_BASE_URL,
    model: str = DEFAULT_MODEL,
    allow: str | list[str] | None = None,
    user_allow: str | list[str] | None = None,
    environ: Mapping[str, str] | None = None,
    tools: list[dict[str, Any]] | None = None,
    max_output_tokens: int = DEFAULT_MAX_OUTPUT_TOKENS,
    limiter: TokenRateLimiter | None = None,
    timeout_s: float = 60.0,
    client: httpx.AsyncClient | None = None,
) -> PlanResult:
    """Ask for a plan, check it, repair once; never raises for the model's
    or the server's faults (``status`` failed/refused with problems)."""
    started = time.monotonic()
    base = dict(workflow or {})
    base.setdefault("format", "flowdesk/workflow")
    base.setdefault("version", 1)
    base.setdefault("name", "untitled")
    base.setdefault("nodes", [])
    base.setdefault("edges", [])
    installed = [t.type_name for t in registry]
    patterns, source = allow_list(
        base, explicit=allow, user=user_allow, environ=environ, installed=installed
    )
    limiter = limiter or DEFAULT_LIMITER
    catalogue = build_catalogue(registry, patterns, tools)
    url = base_url.rstrip("/") + "/chat/completions"
    headers = {"Content-Type": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    messages: list[dict[str, str]] = [
        {"role": "system", "content": _SYSTEM},
        {
            "role": "user",
            "content": json.dumps(
                {
                    "request": prompt,
                    "workflow": {"nodes": base["nodes"], "edges": base["edges"]},
                    "catalogue": catalogue,
                    "allow_list": patterns,
                }
            ),
        },
    ]
    meta: dict[str, Any] = {
        "model": model,
        "duration_s": 0.0,
        "tokens_in": 0,
        "tokens_out": 0,
        "rounds": 0,
    }
    result_plan: dict[str, Any] | None = None
    problems: list[dict[str, Any]] = []
    notes: list[str] = []
    status = "failed"
    new_doc: dict[str, Any] | None = None
    repaired = False
    own_client = client is None
    http = client or httpx.AsyncClient()
    try:
        for round_ in range(2):
            prompt_estimate = sum(len(m["content"]) for m in messages) // 4
            await limiter.acquire(prompt_estimate + max_output_tokens)
            body = {
                "model": model,
                "messages": messages,
                "max_tokens": max_output_tokens,
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {
                        "name": "flowdesk_plan",
                        "strict": True,
                        "schema": request_schema(),
                    },
                },
            }
            payload = await _ask(http, url, headers, body, timeout_s)
            meta["rounds"] += 1
            usage = token_usage(payload.get("usage"))
            tokens_in = usage.get("prompt_tokens", 0)
            tokens_out = usage.get("completion_tokens", 0)
            meta["tokens_in"] += tokens_in
            meta["tokens_out"] += tokens_out
            if "cost" in usage:
                meta["cost"] = meta.get("cost", 0.0) + usage["cost"]
            limiter.spend(tokens_in + tokens_out or prompt_estimate + max_output_tokens)
            choice = (payload.get("choices") or [{}])[0]
            text = ((choice.get("message") or {}).get("content")) or ""
            if not isinstance(text, str):
                text = ""
            try:
                answer = parse_json_answer(text)
            except ValueError as error:
                cut = choice.get("finish_reason") == "length"
                message = (
                    f"the model's answer was cut off at max_output_tokens ({max_output_tokens})"
                    " before the JSON was complete: ask for less or raise max_output_tokens"
                    if cut
                    else f"the model's answer is not JSON ({error}); it begins: "
                    f"{' '.join(text.split())[:80]!r}"
                )
                problems = [
                    {
                        "code": "MAX_TOKENS" if cut else "NOT_JSON",
                        "message": message,
                        "action": None,
                    }
                ]
                status = "failed"
                break
            if not isinstance(answer, dict) or not isinstance(answer.get("actions"), list):
                problems = [
                    {
                        "code": "NOT_JSON",
                        "message": "the answer has no 'actions' list",
                        "action": None,
                    }
                ]
                status = "failed"
                break
            result_plan = answer
            new_doc, problems = apply_actions(
                base,
                answer["actions"],
                registry,
                patterns,
                prompt=prompt,
                allow_source=source,
                tools=None if tools is None else {str(t.get("name")) for t in tools},
                read_only={str(t.get("name")) for t in tools or [] if t.get("read_only")},
            )
            if not problems:
                status = "planned"
                repaired = round_ == 1
                break
            denied = [p for p in problems if p["code"] == "PERMISSION_DENIED"]
            status = "refused"
            if denied or round_ == 1:
                new_doc = None
                break
            notes.append(
                f"the plan had {len(problems)} problem(s); asking the model to repair it once"
            )
            # The repair round resends the conversation: keep its catalogue to
            # the types the plan used (the full one is most of the prompt), so
            # that it fits the per-minute cap after the first call.
            used = {str(a.get("type")) for a in answer["actions"] if isinstance(a, dict)}
            request = json.loads(messages[1]["content"])
            request["catalogue"] = [e for e in catalogue if e.get("type") in used] or [
                {"type": e.get("type") or e.get("tool")} for e in catalogue
            ]
            messages[1] = {"role": "user", "content": json.dumps(request)}
            messages.append({"role": "assistant", "content": text})
            messages.append(
                {
                    "role": "user",
                    "content": "These actions do not apply; answer the whole plan again, fixed:\n"
                    + "\n".join(f"- {p['message']}" for p in problems),
                }
            )
    except FlowdeskError as error:
        status = "failed"
        problems = [{"code": error.code, "message": str(error), "action": None}]
        new_doc = None
    finally:
        if own_client:
            await http.aclose()
    meta["duration_s"] = round(time.monotonic() - started, 4)
    meta["allow_list"] = patterns
    meta["allow_source"] = source
    if status != "planned":
        new_doc = None
    diff = diff_workflows(base, new_doc).to_dict() if new_doc is not None else {}
    PLANNER_STATS.record(status, meta["duration_s"], meta["tokens_in"], meta["tokens_out"])
    BUS.signal(
        f"planner.{status}",
        duration_s=meta["duration_s"],
        tokens_in=meta["tokens_in"],
        tokens_out=meta["tokens_out"],
        model=model,
        problems=len(problems),
    )
    return PlanResult(status, result_plan, meta, diff, problems, new_doc, repaired, notes)
