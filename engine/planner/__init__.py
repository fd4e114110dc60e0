"""The planner: a natural-language request → checked edits of a workflow.

``plan_request()`` asks an OpenAI-compatible model (strict JSON schema mode)
for ``{"intent", "confidence", "actions"}``, checks every action against the
allow-list and the node types' config models, applies them to a COPY of the
workflow and validates the result; on problems it sends them back once (a
repair round) and otherwise reports them: a plan is applied whole or not at
all. No Qt. See docs/planner.md.
May import: httpx, pydantic, engine.*, stdlib.
"""

from .actions import ActionError, apply_actions
from .allow import DEFAULT_SOURCE, allow_list, is_allowed
from .core import (
    DEFAULT_MAX_OUTPUT_TOKENS,
    DEFAULT_MODEL,
    DEFAULT_TOKENS_PER_MINUTE,
    PlanResult,
    TokenRateLimiter,
    build_catalogue,
    plan_request,
    request_schema,
)
from .diff import ABSENT, WorkflowDiff, changed_fields, diff_workflows, format_diff
from .tools import planner_tools, source_tools
from .usage import PRICES_PER_MILLION, plan_cost, price_of, usage_text

__all__ = [
    "ABSENT",
    "DEFAULT_MAX_OUTPUT_TOKENS",
    "DEFAULT_MODEL",
    "DEFAULT_SOURCE",
    "DEFAULT_TOKENS_PER_MINUTE",
    "PRICES_PER_MILLION",
    "ActionError",
    "PlanResult",
    "TokenRateLimiter",
    "WorkflowDiff",
    "allow_list",
    "apply_actions",
    "build_catalogue",
    "changed_fields",
    "diff_workflows",
    "format_diff",
    "is_allowed",
    "plan_cost",
    "plan_request",
    "planner_tools",
    "price_of",
    "request_schema",
    "source_tools",
    "usage_text",
]
