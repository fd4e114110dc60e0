"""``ai.transform`` against a local OpenAI-compatible server over real HTTP:
request shape, answers (JSON, fenced, text, wrong), errors and retries,
timeouts, usage, the run's token budget, concurrency and secrets."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flowdesk.engine import NodeRegistry, NodeRetrying, WorkflowLoadError, validate
from flowdesk.engine.nodes.builtin.ai_answer import parse_json_answer
from flowdesk.engine.retry_after import parse_retry_after

from .fake_llm import SECRET, FakeLLM, Reply, completion, run, workflow
from .fake_llm import ai_node as node

TICKET_SCHEMA = '{label: "bug" | "question", urgent: boolean, tags: string[], note?: string}'
TICKET_JSON_SCHEMA = {
    "type": "object",
    "properties": {
        "label": {"type": "string", "enum": ["bug", "question"]},
        "urgent": {"type": "boolean"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "note": {"type": ["string", "null"]},
    },
    "required": ["label", "urgent", "tags", "note"],
    "additionalProperties": False,
}
GOOD = {"label": "bug", "urgent": True, "tags": ["login"], "note": None}


def source(value: Any) -> dict[str, Any]:
    return {"id": "src", "type": "data.transform", "config": {"value": value}}


# ---------------------------------------------------------------- success


async def test_schema_answer_is_parsed_and_request_has_the_documented_shape(
    llm: FakeLLM, registry: NodeRegistry
) -> None:
    llm.reply(Reply(body=completion(GOOD, prompt_tokens=30, completion_tokens=12, cost=0.0004)))
    wf = workflow(
        registry,
        [
            source({"text": "I cannot log in"}),
            node(
                "classify",
                llm.base_url,
                system_prompt="Classify the ticket.",
                user_prompt="Ticket: {{ input.text }}",
                output_schema=TICKET_SCHEMA,
                max_tokens=300,
                temperature=0.2,
                app_url="https://example.org/flowdesk",
                app_title="Flowdesk tests",
            ),
        ],
        [("src", "classify")],
    )
    result = await run(registry, wf)

    assert result.status == "succeeded", result.to_json()
    out = result.nodes["classify"]
    assert out.output == GOOD
    assert out.usage == {
        "prompt_tokens": 30,
        "completion_tokens": 12,
        "total_tokens": 42,
        "cost": 0.0004,
    }
    assert result.usage == out.usage

    (seen,) = llm.requests
    assert seen.path == "/v1/chat/completions"
    assert seen.headers["Authorization"] == f"Bearer {SECRET}"
    assert seen.headers["HTTP-Referer"] == "https://example.org/flowdesk"
    assert seen.headers["X-Title"] == "Flowdesk tests"
    assert seen.json == {
        "model": "test/model",
        "messages": [
            {"role": "system", "content": "Classify the ticket."},
            {"role": "user", "content": "Ticket: I cannot log in"},
        ],
        "max_tokens": 300,
        "temperature": 0.2,
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "classify", "strict": True, "schema": TICKET_JSON_SCHEMA},
        },
    }


async def test_without_schema_the_output_is_the_text_and_defaults_apply(
    llm: FakeLLM, registry: NodeRegistry
) -> None:
    llm.reply(Reply(body=completion("A short summary.")))
    wf = workflow(
        registry,
        [source({"text": "long text"}), node("summarise", llm.base_url)],
        [("src", "summarise")],
    )
    result = await run(registry, wf)

    assert result.nodes["summarise"].output == "A short summary."
    body = llm.requests[0].json
    # No system prompt, the input as JSON text, the default max_tokens, no schema.
    assert body["messages"] == [{"role": "user", "content": '{"text": "long text"}'}]
    assert body["max_tokens"] == 4096
    assert "response_format" not in body and "temperature" not in body
    assert "HTTP-Referer" not in llm.requests[0].headers


async def test_fenced_json_answer_is_accepted(llm: FakeLLM, registry: NodeRegistry) -> None:
    fenced = "Here you go:\n```json\n" + json.dumps(GOOD, indent=2) + "\n```\n"
    llm.reply(Reply(body=completion(fenced)))
    wf = workflow(registry, [node("c", llm.base_url, user_prompt="x", output_schema=TICKET_SCHEMA)])
    result = await run(registry, wf)
    assert result.nodes["c"].output == GOOD


def test_answer_parsing_tolerates_fences_and_think_blocks() -> None:
    assert parse_json_answer('  {"a": 1} ') == {"a": 1}
    assert parse_json_answer('```\n{"a": 1}\n```') == {"a": 1}
    assert parse_json_answer('<think>hmm {"a": 2}</think>\n```json\n{"a": 1}\n```') == {"a": 1}
    with pytest.raises(ValueError, match="fenced block is not JSON"):
        parse_json_answer("```json\n{a: 1}\n```")


async def test_a_non_object_schema_is_wrapped_for_strict_mode_and_unwrapped(
    llm: FakeLLM, registry: NodeRegistry
) -> None:
    llm.reply(Reply(body=completion({"value": ["a", "b"]})))
    wf = workflow(registry, [node("tags", llm.base_url, user_prompt="x", output_schema="string[]")])
    result = await run(registry, wf)

    assert result.nodes["tags"].output == ["a", "b"]
    sent = llm.requests[0].json["response_format"]["json_schema"]["schema"]
    assert sent == {
        "type": "object",
        "properties": {"value": {"type": "array", "items": {"type": "string"}}},
        "required": ["value"],
        "additionalProperties": False,
    }


async def test_a_json_schema_object_is_made_strict(llm: FakeLLM, registry: NodeRegistry) -> None:
    llm.reply(Reply(body=completion({"name": "Ada", "age": None})))
    user_schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
        "required": ["name"],
    }
    wf = workflow(registry, [node("p", llm.base_url, user_prompt="x", output_schema=user_schema)])
    result = await run(registry, wf)

    assert result.nodes["p"].output == {"name": "Ada", "age": None}
    sent = llm.requests[0].json["response_format"]["json_schema"]["schema"]
    assert sent["required"] == ["name", "age"]
    assert sent["additionalProperties"] is False
    assert sent["properties"]["age"] == {"type": ["integer", "null"]}


async def test_schema_may_come_from_an_expression(llm: FakeLLM, registry: NodeRegistry) -> None:
    llm.reply(Reply(body=completion({"ok": True})))
    wf = workflow(
        registry,
        [node("n", llm.base_url, user_prompt="x", output_schema="{{ vars.shape }}")],
        variables={"shape": "{ok: boolean}"},
    )
    result = await run(registry, wf)
    assert result.nodes["n"].output == {"ok": True}


async def test_credential_null_sends_no_authorization(llm: FakeLLM, registry: NodeRegistry) -> None:
    wf = workflow(registry, [node("n", llm.base_url, user_prompt="hi", credential=None)])
    result = await run(registry, wf, secrets={})
    assert result.status == "succeeded"
    assert "Authorization" not in llm.requests[0].headers


# ---------------------------------------------------------- wrong answers


async def test_non_json_answer_is_a_clear_error_with_the_raw_response(
    llm: FakeLLM, registry: NodeRegistry
) -> None:
    llm.reply(Reply(body=completion("Sure! The label is bug.")))
    wf = workflow(registry, [node("c", llm.base_url, user_prompt="x", output_schema=TICKET_SCHEMA)])
    result = await run(registry, wf)

    assert result.status == "failed"
    error = result.nodes["c"].error
    assert error is not None
    # (the contract: not JSON is a schema validation failure, with the raw answer)
    assert error["code"] == "SCHEMA_VALIDATION"
    assert error["category"] == "VALIDATION"
    assert error["retryable"] is False
    assert "not JSON" in error["message"] and "Sure! The label is bug." in error["message"]
    assert error["details"]["raw_response"] == "Sure! The label is bug."
    assert [i["path"] for i in error["details"]["issues"]] == ["$"]


async def test_answer_cut_off_at_max_tokens_says_so(llm: FakeLLM, registry: NodeRegistry) -> None:
    llm.reply(Reply(body=completion('{"label": "bu', finish_reason="length")))
    wf = workflow(
        registry,
        [node("c", llm.base_url, user_prompt="x", output_schema=TICKET_SCHEMA, max_tokens=5)],
    )
    error = (await run(registry, wf)).nodes["c"].error
    assert error is not None
    assert error["code"] == "SCHEMA_VALIDATION"
    assert "cut off at max_tokens (5)" in error["message"]
    assert error["retryable"] is False


async def test_schema_mismatch_lists_every_issue(llm: FakeLLM, registry: NodeRegistry) -> None:
    wrong = {"label": "feature", "urgent": "yes", "tags": ["ok", 3], "extra": 1}
    llm.reply(Reply(body=completion(wrong)))
    wf = workflow(registry, [node("c", llm.base_url, user_prompt="x", output_schema=TICKET_SCHEMA)])
    result = await run(registry, wf)

    error = result.nodes["c"].error
    assert error is not None
    assert error["code"] == "SCHEMA_VALIDATION"
    assert error["category"] == "VALIDATION"
    assert error["details"]["raw_response"] == json.dumps(wrong)
    issues = error["details"]["issues"]
    assert [(i["path"], i["expected"], i["received"]) for i in issues] == [
        ("$.label", 'one of "bug", "question"', '"feature"'),
        ("$.urgent", "boolean", '"yes"'),
        ("$.tags[1]", "string", "3"),
        ("$.extra", "no such field", "1"),
    ]
    # (note is optional: its absence is no issue)
    assert "4 issues" in error["message"] and '$.label: expected one of "bug"' in error["message"]
    # The tokens were spent: they count although the answer was refused.
    assert result.usage == {"prompt_tokens": 12, "completion_tokens": 8, "total_tokens": 20}


async def test_a_schema_mismatch_is_not_retried(llm: FakeLLM, registry: NodeRegistry) -> None:
    # VALIDATION never retries (the category table): asking again spends tokens
    # on a prompt that just produced a wrong shape.
    llm.reply(Reply(body=completion({"label": "nope"})), Reply(body=completion(GOOD)))
    retry = {"max_attempts": 2, "base_delay_s": 0}
    wf = workflow(
        registry,
        [node("c", llm.base_url, user_prompt="x", output_schema=TICKET_SCHEMA, retry=retry)],
    )
    result = await run(registry, wf)
    assert result.nodes["c"].error is not None
    assert result.nodes["c"].error["code"] == "SCHEMA_VALIDATION"
    assert len(llm.requests) == 1
    assert result.usage is not None and result.usage["total_tokens"] == 20


OPTIONAL_SCHEMA = "{name: string, tags: string[], meta?: {score: number}}"


@pytest.mark.parametrize(
    "answer",
    [{"name": "x", "tags": []}, {"name": "x", "tags": [], "meta": None}],
    ids=["absent", "null"],
)
async def test_optional_fields_may_be_absent_or_null(
    llm: FakeLLM, registry: NodeRegistry, answer: dict[str, Any]
) -> None:
    llm.reply(Reply(body=completion(answer)))
    wf = workflow(
        registry, [node("c", llm.base_url, user_prompt="x", output_schema=OPTIONAL_SCHEMA)]
    )
    result = await run(registry, wf)
    assert result.status == "succeeded", result.nodes["c"].error
    assert result.nodes["c"].output == answer
    # the server is still asked for the strict shape (optional: required and nullable)
    sent = llm.requests[0].json["response_format"]["json_schema"]["schema"]
    assert sent["required"] == ["name", "tags", "meta"]


async def test_optional_fields_of_a_json_schema_may_be_absent(
    llm: FakeLLM, registry: NodeRegistry
) -> None:
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "score": {"type": "number"}},
        "required": ["name"],
    }
    llm.reply(Reply(body=completion({"name": "x"})), Reply(body=completion({"score": 1})))
    wf = workflow(registry, [node("c", llm.base_url, user_prompt="x", output_schema=schema)])
    assert (await run(registry, wf)).nodes["c"].output == {"name": "x"}
    error = (await run(registry, wf)).nodes["c"].error
    assert error is not None and "missing required field 'name'" in error["message"]


async def test_503_retry_after_is_honoured(llm: FakeLLM, registry: NodeRegistry) -> None:
    llm.reply(
        Reply(503, {"error": {"message": "warming up"}}, headers={"Retry-After": "0.5"}),
        Reply(body=completion("fine")),
    )
    events: list[Any] = []
    retry = {"max_attempts": 2, "base_delay_s": 0, "max_delay_s": 0}
    wf = workflow(registry, [node("n", llm.base_url, user_prompt="x", retry=retry)])
    result = await run(registry, wf, events=events)
    assert result.nodes["n"].output == "fine"
    first, second = llm.requests
    assert second.at - first.at >= 0.45
    (retrying,) = [e for e in events if isinstance(e, NodeRetrying)]
    assert retrying.delay_s == 0.5
    assert retrying.error["category"] == "TRANSPORT"


async def test_a_retry_after_beyond_the_cap_fails_with_rate_limited(
    llm: FakeLLM, registry: NodeRegistry
) -> None:
    llm.fallback = Reply(
        503, {"error": {"message": "maintenance"}}, headers={"Retry-After": "999999"}
    )
    wf = workflow(registry, [node("n", llm.base_url, user_prompt="x", retry={"preset": "network"})])
    result = await run(registry, wf)
    # failed at once instead of parking the run (one attempt, no wait)
    assert result.nodes["n"].attempts == 1
    error = result.nodes["n"].error
    assert error is not None
    assert error["code"] == "RATE_LIMITED" and error["category"] == "RATE_LIMIT"
    assert error["details"]["retry_after_s"] == 999999
    assert error["details"]["error"]["code"] == "AI_API_ERROR"
    assert len(llm.requests) == 1


async def test_a_refusal_is_reported(llm: FakeLLM, registry: NodeRegistry) -> None:
    llm.reply(Reply(body=completion(None, refusal="I can't help with that.")))
    wf = workflow(registry, [node("c", llm.base_url, user_prompt="x", output_schema=TICKET_SCHEMA)])
    error = (await run(registry, wf)).nodes["c"].error
    assert error is not None
    assert error["code"] == "AI_REFUSED"
    assert "I can't help with that." in error["message"]


# ---------------------------------------------------- HTTP errors, retries


async def test_429_retry_after_is_honoured_then_success(
    llm: FakeLLM, registry: NodeRegistry
) -> None:
    llm.reply(
        Reply(429, {"error": {"message": "slow down"}}, headers={"Retry-After": "1"}),
        Reply(body=completion("fine")),
    )
    events: list[Any] = []
    # base_delay_s 0: without Retry-After the executor would retry at once.
    retry = {"max_attempts": 3, "base_delay_s": 0, "max_delay_s": 0}
    wf = workflow(registry, [node("n", llm.base_url, user_prompt="x", retry=retry)])
    result = await run(registry, wf, events=events)

    assert result.nodes["n"].output == "fine"
    assert result.nodes["n"].attempts == 2
    first, second = llm.requests
    assert second.at - first.at >= 0.95
    (retrying,) = [e for e in events if isinstance(e, NodeRetrying)]
    assert retrying.delay_s == 1.0
    assert retrying.error["code"] == "RATE_LIMITED"
    assert retrying.error["category"] == "RATE_LIMIT"
    assert "slow down" in retrying.error["message"]


def test_retry_after_as_seconds_or_http_date() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412490.0) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


async def test_500s_are_retried_until_attempts_run_out(
    llm: FakeLLM, registry: NodeRegistry
) -> None:
    llm.fallback = Reply(500, {"error": {"message": "upstream exploded"}})
    retry = {"max_attempts": 3, "base_delay_s": 0.01, "max_delay_s": 0.02}
    wf = workflow(registry, [node("n", llm.base_url, user_prompt="x", retry=retry)])
    result = await run(registry, wf)

    assert result.status == "failed"
    assert len(llm.requests) == 3
    out = result.nodes["n"]
    assert out.attempts == 3
    assert out.error is not None
    assert out.error["code"] == "AI_API_ERROR"
    assert out.error["retryable"] is True
    assert out.error["details"]["status"] == 500
    assert "upstream exploded" in out.error["message"]
    assert "upstream exploded" in out.error["details"]["body_excerpt"]


async def test_a_400_is_not_retried(llm: FakeLLM, registry: NodeRegistry) -> None:
    llm.fallback = Reply(400, {"error": {"message": "model 'test/model' does not exist"}})
    retry = {"max_attempts": 3, "base_delay_s": 0.01}
    wf = workflow(registry, [node("n", llm.base_url, user_prompt="x", retry=retry)])
    result = await run(registry, wf)
    error = result.nodes["n"].error
    assert error is not None
    assert len(llm.requests) == 1
    assert error["code"] == "AI_API_ERROR" and error["retryable"] is False
    assert "does not exist" in error["message"]


async def test_an_error_object_in_a_200_answer_is_an_api_error(
    llm: FakeLLM, registry: NodeRegistry
) -> None:
    llm.reply(Reply(200, {"error": {"message": "Provider returned error", "code": 502}}))
    wf = workflow(registry, [node("n", llm.base_url, user_prompt="x")])
    error = (await run(registry, wf)).nodes["n"].error
    assert error is not None
    assert error["code"] == "AI_API_ERROR"
    assert error["retryable"] is True
    assert "Provider returned error" in error["message"]


async def test_slow_answer_hits_the_node_timeout(llm: FakeLLM, registry: NodeRegistry) -> None:
    llm.fallback = Reply(body=completion("late"), delay=5)
    wf = workflow(registry, [node("n", llm.base_url, user_prompt="x", timeout_s=0.4)])
    result = await run(registry, wf)
    # (the answer would have come after 5 s: TIMEOUT means the limit cut it)
    error = result.nodes["n"].error
    assert error is not None
    assert error["code"] == "TIMEOUT" and error["retryable"] is True


async def test_slow_answer_hits_the_request_timeout(llm: FakeLLM, registry: NodeRegistry) -> None:
    llm.fallback = Reply(body=completion("late"), delay=5)
    wf = workflow(registry, [node("n", llm.base_url, user_prompt="x", request_timeout_s=0.3)])
    result = await run(registry, wf)
    error = result.nodes["n"].error
    assert error is not None
    assert error["code"] == "TIMEOUT"
    assert "request_timeout_s" in error["message"]


async def test_unreachable_server_is_a_transport_error(registry: NodeRegistry) -> None:
    wf = workflow(registry, [node("n", "http://127.0.0.1:9/v1", user_prompt="x")])
    error = (await run(registry, wf)).nodes["n"].error
    assert error is not None
    assert error["code"] == "TRANSPORT" and error["category"] == "TRANSPORT"
    assert error["retryable"] is True
    assert "127.0.0.1:9" in error["message"]


async def test_not_an_api_at_base_url(llm: FakeLLM, registry: NodeRegistry) -> None:
    llm.reply(Reply(200, "<html>hello</html>", headers={"Content-Type": "text/html"}))
    wf = workflow(registry, [node("n", llm.base_url, user_prompt="x")])
    error = (await run(registry, wf)).nodes["n"].error
    assert error is not None
    assert error["code"] == "AI_API_ERROR"
    assert "OpenAI-compatible" in error["message"]


# ------------------------------------------------------ config and secrets


async def test_a_bad_schema_is_reported_by_validate_with_its_column(
    llm: FakeLLM, registry: NodeRegistry
) -> None:
    wf = workflow(registry, [node("n", llm.base_url, output_schema="{name: string, age number}")])
    (issue,) = [str(i) for i in validate(wf, registry)]
    assert issue.startswith(
        "nodes[0].config.output_schema: column 20: expected ':' after property name 'age', "
        "found 'number'"
    )
    with pytest.raises(WorkflowLoadError):
        await run(registry, wf)
    assert llm.requests == []


async def test_nothing_to_send_is_a_config_error(llm: FakeLLM, registry: NodeRegistry) -> None:
    wf = workflow(registry, [node("n", llm.base_url)])
    error = (await run(registry, wf)).nodes["n"].error
    assert error is not None
    assert error["category"] == "CONFIG"
    assert "nothing to send" in error["message"]
    assert llm.requests == []


async def test_a_system_prompt_alone_is_sent_without_an_empty_user_message(
    llm: FakeLLM, registry: NodeRegistry
) -> None:
    wf = workflow(registry, [node("n", llm.base_url, system_prompt="Say hi.")])
    assert (await run(registry, wf)).status == "succeeded"
    assert llm.requests[0].json["messages"] == [{"role": "system", "content": "Say hi."}]


async def test_missing_secret_is_an_auth_error_and_nothing_is_sent(
    llm: FakeLLM, registry: NodeRegistry
) -> None:
    wf = workflow(registry, [node("n", llm.base_url, user_prompt="x")])
    error = (await run(registry, wf, secrets={})).nodes["n"].error
    assert error is not None
    assert error["category"] == "AUTH"
    assert "FLOWDESK_SECRET_OPENROUTER" in error["message"]
    assert llm.requests == []


async def test_the_secret_never_appears_in_the_run_result_or_events(
    llm: FakeLLM, registry: NodeRegistry
) -> None:
    # A server that echoes the request's Authorization header in its answers.
    def echo(status: int) -> Any:
        def respond(body: dict[str, Any]) -> Reply:
            auth = llm.requests[-1].headers["Authorization"]
            if status == 200:
                return Reply(body=completion(f"you sent {auth}"))
            return Reply(status, {"error": {"message": f"bad key {auth}"}})

        return respond

    llm.reply(echo(200), echo(401))
    events: list[Any] = []
    wf = workflow(
        registry,
        [
            node("ok", llm.base_url, user_prompt="x"),
            node("denied", llm.base_url, user_prompt="y", on_error="continue"),
        ],
        [("ok", "denied")],
    )
    result = await run(registry, wf, events=events)

    assert result.nodes["ok"].output == "you sent Bearer ***"
    error = result.nodes["denied"].error
    assert error is not None and error["category"] == "AUTH"
    assert "bad key Bearer ***" in error["message"]
    assert SECRET not in json.dumps(result.to_json())
    assert not any(SECRET in repr(event) for event in events)


# -------------------------------------------------------- budget and usage


async def test_token_budget_stops_the_run_and_later_nodes_do_not_run(
    llm: FakeLLM, registry: NodeRegistry
) -> None:
    llm.fallback = Reply(body=completion("ok", prompt_tokens=60, completion_tokens=40))
    wf = workflow(
        registry,
        [
            node("a", llm.base_url, user_prompt="1"),
            node("b", llm.base_url, user_prompt="2"),
            # on_error: continue does not let a spent budget through
            node("c", llm.base_url, user_prompt="3", on_error="continue"),
            {"id": "after", "type": "data.transform", "config": {"value": "{{ input }}"}},
        ],
        [("a", "b"), ("b", "c"), ("c", "after")],
        settings={"max_ai_tokens": 200},
    )
    result = await run(registry, wf)

    assert result.status == "failed"
    assert [result.nodes[n].status for n in ("a", "b", "c", "after")] == [
        "succeeded",
        "succeeded",
        "failed",
        "skipped",
    ]
    error = result.nodes["c"].error
    assert error is not None
    assert error["code"] == "TOKEN_BUDGET_EXCEEDED" and error["retryable"] is False
    assert "200 of 200 tokens" in error["message"]
    assert len(llm.requests) == 2
    assert result.usage is not None and result.usage["total_tokens"] == 200


async def test_token_budget_holds_under_concurrency(llm: FakeLLM, registry: NodeRegistry) -> None:
    # Each call: 10 prompt + 40 completion tokens, at most 50 answer tokens.
    llm.fallback = Reply(body=completion("ok", prompt_tokens=10, completion_tokens=40), delay=0.05)
    wf = workflow(
        registry,
        [
            source(list(range(20))),
            node(
                "each",
                llm.base_url,
                user_prompt="item {{ item }}",
                max_tokens=50,
                for_each="{{ input }}",
                concurrency=8,
            ),
        ],
        [("src", "each")],
        settings={"max_ai_tokens": 300},
    )
    result = await run(registry, wf)

    assert result.status == "failed"
    error = result.nodes["each"].error
    assert error is not None and error["code"] == "TOKEN_BUDGET_EXCEEDED"
    used = result.usage["total_tokens"] if result.usage else 0
    # 8 calls at once would spend 400; in-flight calls reserve their worst case,
    # so the run ends within the budget plus about one call.
    assert 300 <= used <= 350
    assert used // 50 <= len(llm.requests) < 8


async def test_for_each_is_bounded_by_concurrency_and_keeps_order(
    llm: FakeLLM, registry: NodeRegistry
) -> None:
    def classify(body: dict[str, Any]) -> Reply:
        number = int(body["messages"][-1]["content"].split("#")[1])
        label = "even" if number % 2 == 0 else "odd"
        return Reply(body=completion({"label": label, "n": number}, cost=0.001), delay=0.05)

    llm.fallback = classify
    records = [{"id": i, "text": f"record #{i}"} for i in range(40)]
    wf = workflow(
        registry,
        [
            source(records),
            node(
                "classify",
                llm.base_url,
                user_prompt="{{ item.text }}",
                output_schema='{label: "even" | "odd", n: integer}',
                for_each="{{ input }}",
                concurrency=8,
            ),
        ],
        [("src", "classify")],
    )
    result = await run(registry, wf)

    assert result.status == "succeeded", result.to_json()
    assert result.nodes["classify"].output == [
        {"label": "even" if i % 2 == 0 else "odd", "n": i} for i in range(40)
    ]
    assert len(llm.requests) == 40
    assert llm.max_in_flight == 8
    usage = result.nodes["classify"].usage
    assert usage is not None
    assert (usage["prompt_tokens"], usage["completion_tokens"], usage["total_tokens"]) == (
        480,
        320,
        800,
    )
    assert usage["cost"] == pytest.approx(0.04)
    assert result.usage == usage


async def test_for_each_without_user_prompt_sends_each_item(
    llm: FakeLLM, registry: NodeRegistry
) -> None:
    wf = workflow(
        registry,
        [source(["alpha", {"b": 2}]), node("n", llm.base_url, for_each="{{ input }}")],
        [("src", "n")],
    )
    result = await run(registry, wf)
    assert result.nodes["n"].output == ["ok", "ok"]
    sent = sorted(r.json["messages"][0]["content"] for r in llm.requests)
    assert sent == ["alpha", '{"b": 2}']
