"""The answer side of ``ai.transform``: the strict schema a server is asked
for (``request_schema``: DSL text or a JSON Schema, a non-object root wrapped
in ``{"value": …}``) and the model's answer read into the node's output
(``read_answer``: the text, or JSON — bare or in a Markdown fence — checked
against the schema the user wrote, with located issues). The call itself
(HTTP, errors, usage, the run's token budget) is ``ai_transform``.
May import: engine.errors, engine.redaction, engine.schema_dsl, stdlib.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

from ...errors import ConfigError, FlowdeskError
from ...redaction import redact_text

# (the schema DSL, 6 ms to import, loads when a schema is first read: not at
# every start, where the registry imports this module)

if TYPE_CHECKING:
    from ...context import NodeContext

#: characters of a server's answer kept in an error's details
BODY_EXCERPT_CHARS = 2000
#: characters of the model's answer kept in an error's details
RAW_RESPONSE_CHARS = 20_000
#: issues quoted in a SCHEMA_VALIDATION message (all of them are in details)
ISSUES_IN_MESSAGE = 3
#: the key a non-object schema is wrapped in: strict mode wants an object at the root
WRAP_KEY = "value"


class AnswerConfig(Protocol):
    """What reading an answer needs of the node's config (``AiTransformConfig``)."""

    @property
    def model(self) -> str: ...

    @property
    def max_tokens(self) -> int: ...

    @property
    def output_schema(self) -> str | dict[str, Any] | None: ...


# ------------------------------------------------------------------ schema


def request_schema(spec: str | dict[str, Any] | None) -> tuple[dict[str, Any] | None, bool]:
    """The strict schema to send, and whether it wraps a non-object root."""
    if spec is None or (isinstance(spec, str) and not spec.strip()):
        return None, False
    from ...schema_dsl import SchemaError, SchemaSyntaxError, to_strict_schema

    try:
        schema = to_strict_schema(spec)
    except SchemaSyntaxError as error:
        raise ConfigError(
            f"output_schema: {error.pretty()}",
            code="SCHEMA_INVALID",
            details={"field": "output_schema", **error.to_dict()},
        ) from error
    except SchemaError as error:
        raise ConfigError(
            f"output_schema: {error}",
            code="SCHEMA_INVALID",
            details={"field": "output_schema", "path": error.path},
        ) from error
    if schema.get("type") == "object" and "anyOf" not in schema:
        return schema, False
    # Strict mode needs an object at the root: ask for {"value": …} and unwrap.
    defs: dict[str, Any] = {
        key: schema.pop(key) for key in ("$defs", "definitions") if key in schema
    }
    return {
        "type": "object",
        "properties": {WRAP_KEY: schema},
        "required": [WRAP_KEY],
        "additionalProperties": False,
        **defs,
    }, True


# ------------------------------------------------------------------ answer


def read_answer(
    ctx: NodeContext,
    config: AnswerConfig,
    payload: dict[str, Any],
    schema: dict[str, Any] | None,
    wrapped: bool,
    secrets: Iterable[str],
) -> Any:
    choices = payload.get("choices")
    choice = choices[0] if isinstance(choices, list) and choices else None
    message = choice.get("message") if isinstance(choice, dict) else None
    if not isinstance(message, dict):
        raise FlowdeskError(
            "the AI server's answer has no choices[0].message",
            code="AI_API_ERROR",
            category="EXECUTION",
            details={
                "body_excerpt": redact_text(json.dumps(payload)[:BODY_EXCERPT_CHARS], secrets)
            },
        )
    finish_reason = choice.get("finish_reason") if isinstance(choice, dict) else None
    text = content_text(message.get("content"))
    refusal = message.get("refusal")
    if refusal and not text:
        raise FlowdeskError(
            f"the model refused to answer: {str(refusal)[:500]}",
            code="AI_REFUSED",
            category="EXECUTION",
            details={"refusal": str(refusal)[:RAW_RESPONSE_CHARS], "model": config.model},
        )
    text = redact_text(text, secrets)
    truncated = finish_reason == "length"
    if schema is None:
        if truncated:
            ctx.log(f"the answer was cut off at max_tokens ({config.max_tokens})", "warning")
        return text

    raw: dict[str, Any] = {"raw_response": text[:RAW_RESPONSE_CHARS], "model": config.model}
    if len(text) > RAW_RESPONSE_CHARS:
        raw["raw_response_truncated"] = True
    if finish_reason is not None:
        raw["finish_reason"] = finish_reason
    try:
        value = parse_json_answer(text)
    except ValueError as error:
        # Not JSON is a schema validation failure too (one issue at "$").
        issue = {
            "path": "$",
            "expected": "a JSON value",
            "received": "text that is not JSON",
            "message": f"the answer is not JSON ({error})",
        }
        if truncated:
            raise FlowdeskError(
                f"the model's answer was cut off at max_tokens ({config.max_tokens}) before "
                "the JSON was complete: raise max_tokens or ask for less",
                code="SCHEMA_VALIDATION",
                category="VALIDATION",
                details={**raw, "issues": [issue], "parse_error": str(error)},
            ) from error
        start = " ".join(text.split())[:120]
        raise FlowdeskError(
            f"the model's answer is not JSON ({error}); it begins: {start!r}",
            code="SCHEMA_VALIDATION",
            category="VALIDATION",
            details={**raw, "issues": [issue], "parse_error": str(error)},
        ) from error
    # Checked against the schema the user wrote: an optional field may be
    # absent (the strict request schema, where it is required-and-nullable,
    # is only what the server is asked for).
    assert config.output_schema is not None
    from ...schema_dsl import to_validation_schema, validate_value

    check_schema = to_validation_schema(config.output_schema)
    if wrapped and isinstance(value, dict) and set(value) == {WRAP_KEY}:
        # A server that ignored response_format may send the bare value: take both.
        value = value[WRAP_KEY]
    issues = validate_value(value, check_schema)
    if issues:
        shown = "; ".join(issue.message for issue in issues[:ISSUES_IN_MESSAGE])
        more = len(issues) - ISSUES_IN_MESSAGE
        if more > 0:
            shown += f"; and {more} more"
        count = len(issues)
        raise FlowdeskError(
            f"the model's answer does not match the output schema "
            f"({count} issue{'s' if count != 1 else ''}): {shown}",
            code="SCHEMA_VALIDATION",
            category="VALIDATION",
            details={**raw, "issues": [issue.to_dict() for issue in issues]},
        )
    return value


def content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts: [{"type": "text", "text": "…"}]
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


_FENCE = re.compile(r"```[ \t]*[A-Za-z0-9_+-]*[ \t]*\r?\n(.*?)```", re.DOTALL)
_THINK = re.compile(r"^\s*<think>.*?</think>", re.DOTALL)


def parse_json_answer(text: str) -> Any:
    """JSON of a model's answer: bare, or inside a Markdown code fence (after
    a reasoning model's ``<think>`` block, if any). ``ValueError`` otherwise."""
    stripped = _THINK.sub("", text, count=1).strip()
    try:
        return json.loads(stripped)
    except ValueError as error:
        first_error = error
    match = _FENCE.search(stripped)
    if match:
        try:
            return json.loads(match.group(1).strip())
        except ValueError as error:
            raise ValueError(f"the fenced block is not JSON: {error}") from None
    raise ValueError(str(first_error))
