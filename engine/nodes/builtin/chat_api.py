"""What an OpenAI-compatible chat-completions API answers, in Flowdesk's
terms; shared by ``ai.transform`` (``ai_transform``) and the planner
(``engine.planner.core``): a failed call as a ``FlowdeskError`` with the
server's reason, category and Retry-After (``status_error``), the error text
of the usual error shapes (``api_message``), the HTTP status an error object
names (``error_status``) and the tokens a call used (``token_usage``).
May import: httpx (types only), engine.errors, engine.retry_after,
engine.nodes.builtin.ai_answer, stdlib.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ...errors import FlowdeskError, http_status_category
from ...retry_after import parse_retry_after
from .ai_answer import BODY_EXCERPT_CHARS

if TYPE_CHECKING:
    import httpx


def status_error(
    response: httpx.Response, status: int, text: str, payload: Any, url: str
) -> FlowdeskError:
    """The error of a call the server answered with ``status`` (4xx/5xx, or
    the status an error object in a 200 answer names): the server's reason,
    a hint for 401/404, the category that says whether a retry can help, and
    the Retry-After of a 429 or 503. ``text`` is the (redacted) body,
    ``payload`` its JSON or None."""
    reason = api_message(payload) or text.strip()[:300] or response.reason_phrase
    details: dict[str, Any] = {
        "url": url,
        "status": status,
        "body_excerpt": text[:BODY_EXCERPT_CHARS],
    }
    category = http_status_category(status)
    # Retry-After is honoured on 429 and on 503 (a server "back soon").
    retry_after = None
    if status in (429, 503):
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if retry_after is not None:
            details["retry_after_s"] = retry_after
    asks = f"; it asks to retry after {retry_after:g} s" if retry_after is not None else ""
    if status == 429:
        return FlowdeskError(
            f"the AI server is rate limiting requests (429): {reason}{asks}",
            code="RATE_LIMITED",
            category="RATE_LIMIT",
            retry_after=retry_after,
            details=details,
        )
    hint = ""
    if status == 401:
        hint = " (check the credential's secret)"
    elif status == 404:
        hint = " (check base_url and model)"
    return FlowdeskError(
        f"the AI server answered {status}{hint}: {reason}{asks}",
        code="AI_API_ERROR",
        category=category,
        retry_after=retry_after,
        details=details,
    )


def api_message(payload: Any) -> str | None:
    """The error text of the usual shapes: OpenAI/OpenRouter, Ollama, vLLM."""
    if not isinstance(payload, dict):
        return None
    error = payload.get("error", payload.get("detail", payload.get("message")))
    if isinstance(error, dict):
        error = error.get("message") or error.get("msg")
    if isinstance(error, str) and error.strip():
        return error.strip()[:500]
    return None


def error_status(error: Any) -> int | None:
    """The HTTP status (400-599) an error object's ``code`` names, else None
    (OpenRouter reports some upstream failures as 200 with such an object)."""
    code = error.get("code") if isinstance(error, dict) else None
    if isinstance(code, int) and 400 <= code <= 599:
        return code
    if isinstance(code, str) and code.isdigit() and 400 <= int(code) <= 599:
        return int(code)
    return None


def token_usage(usage: Any) -> dict[str, Any]:
    """prompt/completion/total tokens of an answer's ``usage`` object, and
    ``cost`` when the API reports it; {} when it reports none."""
    if not isinstance(usage, dict):
        return {}
    out: dict[str, Any] = {}
    for key in ("prompt_tokens", "completion_tokens", "total_tokens"):
        value = usage.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            out[key] = int(value)
    if "total_tokens" not in out and ("prompt_tokens" in out or "completion_tokens" in out):
        out["total_tokens"] = out.get("prompt_tokens", 0) + out.get("completion_tokens", 0)
    cost = usage.get("cost")
    if isinstance(cost, int | float) and not isinstance(cost, bool) and math.isfinite(cost):
        out["cost"] = cost
    return out
