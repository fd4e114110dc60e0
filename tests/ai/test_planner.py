"""The planner against a local OpenAI-compatible server over real HTTP:
scripted answers, every case of issue 18 (allow-list, repair round, caps)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flowdesk.engine.bus import BUS
from flowdesk.engine.planner import TokenRateLimiter, format_diff, plan_request
from flowdesk.engine.planner.stats import PLANNER_STATS

from .fake_llm import Reply, completion

EMAIL_PROMPT = "Send email to john@example.com saying thanks for the meeting"


def act(action: str, **fields: Any) -> dict[str, Any]:
    """An action as strict mode sends it: every field present, free JSON as text."""
    out: dict[str, Any] = {
        k: None
        for k in (
            [
                "id",
                "type",
                "title",
                "config",
                "position",
                "from",
                "to",
                "node",
                "path",
                "value",
                "name",
                "kind",
                "fields",
            ]
        )
    }
    for key, value in fields.items():
        key = key.rstrip("_")
        out[key] = json.dumps(value) if key in ("config", "value", "fields") else value
    out["action"] = action
    return out


def answer(
    *actions: dict[str, Any], intent: str = "test", tokens_out: int = 60, tokens_in: int = 300
) -> Reply:
    return Reply(
        body=completion(
            {"intent": intent, "confidence": 0.9, "actions": list(actions)},
            prompt_tokens=tokens_in,
            completion_tokens=tokens_out,
        )
    )


EMAIL_NODE = act(
    "add_node",
    id="thank_john",
    type="email.send",
    title="Thank John",
    config={
        "from": "me@example.com",
        "to": ["john@example.com"],
        "subject": "Thanks",
        "text": "Thanks for the meeting!",
        "host": "smtp.example.com",
    },
)


async def plan(llm: Any, registry: Any, prompt: str = EMAIL_PROMPT, **kw: Any) -> Any:
    kw.setdefault("limiter", TokenRateLimiter(per_minute=100_000))
    kw.setdefault("environ", {})
    return await plan_request(
        prompt, kw.pop("workflow", None), registry, base_url=llm.base_url, model="m", **kw
    )


async def test_email_example_is_planned_with_an_idempotency_key(llm, registry) -> None:
    llm.reply(answer(EMAIL_NODE, intent="send a thank-you email"))
    result = await plan(llm, registry)
    assert result.status == "planned", result.problems
    node = result.workflow["nodes"][0]
    assert node["type"] == "email.send"
    assert node["config"]["to"] == ["john@example.com"]
    assert node["config"]["client_request_id"].startswith("plan-")
    assert result.diff["added_nodes"] == ["thank_john"]
    assert result.meta["tokens_in"] == 300 and result.meta["tokens_out"] == 60
    # The request: strict JSON schema, max tokens, the catalogue with schemas.
    body = llm.requests[0].json
    assert body["response_format"]["json_schema"]["strict"] is True
    assert body["max_tokens"] == 800
    sent = json.loads(body["messages"][1]["content"])
    types = {entry["type"] for entry in sent["catalogue"] if "type" in entry}
    assert "email.send" in types and "gmail.send" in types
    email = next(e for e in sent["catalogue"] if e.get("type") == "email.send")
    assert "to" in email["config_schema"]["properties"]
    # Same prompt, same plan → same key: re-running an accepted plan never resends.
    llm.reply(answer(EMAIL_NODE))
    again = await plan(llm, registry)
    assert (
        again.workflow["nodes"][0]["config"]["client_request_id"]
        == node["config"]["client_request_id"]
    )


async def test_multi_step_flow_from_an_empty_canvas(llm, registry) -> None:
    llm.reply(
        answer(
            act("add_node", id="fetch", type="http.request", config={"url": "https://x.test/a"}),
            act("add_node", id="shape", type="data.transform", config={"value": "{{ input }}"}),
            act("add_node", id="save", type="file.write", config={"path": "out.json"}),
            act("connect", from_="fetch", to="shape"),
            act("connect", from_="shape", to="save"),
            act("set_variable", name="limit", value=10),
        )
    )
    result = await plan(llm, registry, "fetch a JSON API and save it", workflow={})
    assert result.status == "planned", result.problems
    assert [n["id"] for n in result.workflow["nodes"]] == ["fetch", "shape", "save"]
    assert result.workflow["variables"] == {"limit": 10}
    text = format_diff_of(result)
    assert "+ node fetch (http.request)" in text
    assert "+ edge fetch.out -> shape.in" in text


def format_diff_of(result: Any) -> str:
    from flowdesk.engine.planner import WorkflowDiff

    return format_diff(WorkflowDiff(**result.diff), result.workflow)


EXISTING = {
    "format": "flowdesk/workflow",
    "version": 1,
    "name": "existing",
    "nodes": [
        {"id": "a", "type": "http.request", "config": {"url": "https://x.test/a"}},
        {"id": "b", "type": "data.transform", "config": {"value": 1}},
        {"id": "c", "type": "file.write", "config": {"path": "o.json"}},
    ],
    "edges": [
        {"from": {"node": "a"}, "to": {"node": "b"}},
        {"from": {"node": "b"}, "to": {"node": "c"}},
    ],
}


async def test_edit_of_an_existing_flow_leaves_the_input_untouched(llm, registry) -> None:
    before = json.dumps(EXISTING, sort_keys=True)
    llm.reply(
        answer(
            act("set_config", node="a", path="url", value="https://x.test/b"),
            act("remove_node", node="c"),
            act("disconnect", from_="a", to="b"),
            act("connect", from_="b", to="a"),
        )
    )
    result = await plan(llm, registry, "swap", workflow=EXISTING)
    assert result.status == "planned", result.problems
    assert result.diff["changed_nodes"] == {"a": ["url"]}
    assert result.diff["removed_nodes"] == ["c"]
    assert result.diff["removed_edges"] == ["a.out -> b.in", "b.out -> c.in"]
    assert result.diff["added_edges"] == ["b.out -> a.in"]
    assert json.dumps(EXISTING, sort_keys=True) == before


async def test_unknown_type_is_refused_naming_it_and_the_allow_list(llm, registry) -> None:
    llm.reply(answer(act("add_node", id="x", type="slack.post", config={})))
    result = await plan(llm, registry, "post to slack", allow="email.*")
    assert result.status == "refused"
    assert result.workflow is None
    (problem,) = result.problems
    assert problem["code"] == "PERMISSION_DENIED"
    assert "slack.post" in problem["message"] and "email.*" in problem["message"]
    assert len(llm.requests) == 1  # a permission refusal is not "repaired"


async def test_disallowed_type_is_refused_whatever_else_the_plan_does(llm, registry) -> None:
    llm.reply(
        answer(
            EMAIL_NODE,
            act("add_node", id="w", type="file.write", config={"path": "x"}),
            act("connect", from_="thank_john", to="w"),
        )
    )
    result = await plan(llm, registry, environ={"FLOWDESK_ALLOW_NODE_TYPES": "email.*,gmail.*"})
    assert result.status == "refused"
    assert result.workflow is None and result.diff == {}
    denied = [p for p in result.problems if p["code"] == "PERMISSION_DENIED"]
    assert "'file.write'" in denied[0]["message"]
    assert "FLOWDESK_ALLOW_NODE_TYPES" in denied[0]["message"]
    sent = json.loads(llm.requests[0].json["messages"][1]["content"])
    assert {e["type"] for e in sent["catalogue"]} == {"email.send", "gmail.send"}


async def test_workflow_setting_allow_list_wins(llm, registry) -> None:
    llm.reply(answer(EMAIL_NODE))
    wf = {"settings": {"allow_node_types": ["gmail.*"]}, "nodes": [], "edges": []}
    result = await plan(llm, registry, workflow=wf, environ={"FLOWDESK_ALLOW_NODE_TYPES": "*"})
    assert result.status == "refused"
    assert "settings.allow_node_types" in result.problems[0]["message"]


async def test_cycle_is_sent_back_then_reported(llm, registry) -> None:
    cyc = answer(
        act("add_node", id="p", type="data.transform", config={"value": 1}),
        act("add_node", id="q", type="data.transform", config={"value": 2}),
        act("connect", from_="p", to="q"),
        act("connect", from_="q", to="p"),
    )
    llm.reply(cyc, cyc)
    result = await plan(llm, registry, "loop")
    assert result.status == "refused"
    assert result.workflow is None
    assert any("cycle" in p["message"].lower() for p in result.problems)
    assert len(llm.requests) == 2
    repair = llm.requests[1].json["messages"][-1]["content"]
    assert "cycle" in repair.lower()


async def test_invalid_config_repaired_on_the_second_round(llm, registry) -> None:
    bad = act("add_node", id="s", type="file.write", config={"path": "x", "mode": "sideways"})
    good = act("add_node", id="s", type="file.write", config={"path": "x"})
    # The first call costs what the full catalogue really costs (~4,500 tokens).
    llm.reply(answer(bad, tokens_in=4500, tokens_out=200), answer(good))
    result = await plan(llm, registry, "save", limiter=TokenRateLimiter(8000, max_wait_s=0.1))
    assert result.status == "planned", result.problems
    assert result.repaired is True
    assert result.meta["tokens_in"] == 4800  # both rounds counted
    assert "mode" in llm.requests[1].json["messages"][-1]["content"]
    # The repair round keeps only the catalogue entries the plan used: it fits
    # the default cap of 8,000 tokens per minute after the first call.
    first, second = (json.dumps(r.json["messages"]) for r in llm.requests)
    assert len(second) < len(first) / 2
    repair_request = json.loads(llm.requests[1].json["messages"][1]["content"])
    assert [e["type"] for e in repair_request["catalogue"]] == ["file.write"]


async def test_invalid_config_not_repaired_is_reported_never_half_applied(llm, registry) -> None:
    bad = act("add_node", id="s", type="file.write", config={"path": "x", "mode": "sideways"})
    llm.reply(answer(EMAIL_NODE, bad), answer(EMAIL_NODE, bad))
    result = await plan(llm, registry, "save")
    assert result.status == "refused"
    assert result.workflow is None and result.diff == {}
    assert any("mode" in p["message"] for p in result.problems)


async def test_non_json_answer_fails_clearly(llm, registry) -> None:
    llm.reply(Reply(body=completion("Sure! I'd add an email node.")))
    result = await plan(llm, registry)
    assert result.status == "failed"
    assert result.problems[0]["code"] == "NOT_JSON"
    assert "Sure!" in result.problems[0]["message"]


async def test_429_with_retry_after_waits_then_plans(llm, registry) -> None:
    llm.reply(
        Reply(status=429, body={"error": {"message": "slow down"}}, headers={"Retry-After": "1"}),
        answer(EMAIL_NODE),
    )
    result = await plan(llm, registry)
    assert result.status == "planned"
    # the second request came no sooner than the server asked
    assert llm.requests[1].at - llm.requests[0].at >= 0.9


async def test_429_twice_is_a_clear_failure(llm, registry) -> None:
    limited = Reply(status=429, body={"error": {"message": "slow"}}, headers={"Retry-After": "0"})
    llm.reply(limited, limited)
    result = await plan(llm, registry)
    assert result.status == "failed"
    assert result.problems[0]["code"] == "RATE_LIMITED"
    assert "429" in result.problems[0]["message"]


async def test_huge_answer_cut_at_max_tokens(llm, registry) -> None:
    text = '{"intent": "x", "confidence": 1, "actions": [' + '{"action": "add_node", ' * 50
    llm.reply(Reply(body=completion(text, completion_tokens=64, finish_reason="length")))
    result = await plan(llm, registry, max_output_tokens=64)
    assert llm.requests[0].json["max_tokens"] == 64
    assert result.status == "failed"
    assert result.problems[0]["code"] == "MAX_TOKENS"
    assert "max_output_tokens (64)" in result.problems[0]["message"]


async def test_per_minute_cap_refuses_with_a_clear_message(llm, registry) -> None:
    # One call reserves its prompt (the catalogue: a few thousand tokens) + 800.
    limiter = TokenRateLimiter(per_minute=9000, max_wait_s=0.5)
    big = completion(
        {"intent": "x", "confidence": 1, "actions": [EMAIL_NODE]},
        prompt_tokens=5000,
        completion_tokens=200,
    )
    llm.reply(Reply(body=big), answer(EMAIL_NODE))
    first = await plan(llm, registry, limiter=limiter, max_output_tokens=800)
    assert first.status == "planned"
    second = await plan(llm, registry, limiter=limiter, max_output_tokens=800)
    assert second.status == "failed"
    assert second.problems[0]["code"] == "RATE_LIMITED"
    assert "9000 tokens per minute" in second.problems[0]["message"]
    assert len(llm.requests) == 1  # the second call never reached the server


async def test_events_and_metrics(llm, registry) -> None:
    seen: list[Any] = []
    unsubscribe = BUS.subscribe("*", seen.append)
    before = PLANNER_STATS.requests.get("planned", 0)
    try:
        llm.reply(answer(EMAIL_NODE))
        await plan(llm, registry)
    finally:
        unsubscribe()
    (event,) = [e for e in seen if e.name.startswith("planner.")]
    assert event.name == "planner.planned"
    assert event.tokens_in == 300 and event.tokens_out == 60
    assert PLANNER_STATS.requests["planned"] == before + 1
    text = PLANNER_STATS.prometheus_text()
    assert 'flowdesk_ai_planner_requests_total{status="planned"}' in text
    assert 'flowdesk_ai_tokens_total{direction="out"}' in text
    assert "flowdesk_ai_planner_duration_seconds_count" in text


@pytest.mark.parametrize("kind", ["bearer"])
async def test_add_credential_never_takes_a_secret(llm, registry, kind) -> None:
    bad = answer(act("add_credential", name="api", kind=kind, fields={"token": "x"}))
    llm.reply(bad, bad)
    result = await plan(llm, registry, "add creds")
    assert result.status in ("refused",)
    assert "secrets never" in result.problems[-1]["message"]


async def test_source_tools_in_the_catalogue_and_unknown_tools_refused(llm, registry) -> None:
    tools = [
        {"name": "github__list_issues", "description": "list issues", "read_only": True,
         "input_schema": {"type": "object", "properties": {"repo": {"type": "string"}}}},
        {"name": "jira__create", "description": "create", "input_schema": {"type": "object"}},
    ]  # fmt: skip
    call = act(
        "add_node", id="t", type="tool.call",
        config={"source": "github", "tool": "delete_repo", "arguments": {}},
    )  # fmt: skip
    llm.reply(answer(call))
    result = await plan(llm, registry, "delete it", allow="github__*", tools=tools)
    sent = json.loads(llm.requests[0].json["messages"][1]["content"])
    assert [e.get("tool") for e in sent["catalogue"] if "tool" in e] == ["github__list_issues"]
    assert result.status == "refused"
    assert "unknown tool 'github__delete_repo'" in result.problems[0]["message"]
    other = act(
        "add_node", id="t", type="tool.call",
        config={"source": "jira", "tool": "create", "arguments": {}},
    )  # fmt: skip
    llm.reply(answer(other))
    result = await plan(llm, registry, "create", allow="github__*", tools=tools)
    assert result.status == "refused"
    assert "'jira__create' is not in the allow-list" in result.problems[0]["message"]
