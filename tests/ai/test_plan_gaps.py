"""Issue 18's last gaps, against the local OpenAI-compatible server over real
HTTP: the cost of a planning call (reported, from the price table, unknown),
idempotency keys on tool calls that are not read-only (re-running an accepted
plan calls a sending tool once), and the run's token budget when a plan runs
(``flowdesk plan --run``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flowdesk.engine import usage_text

from tests.http.peer import Peer

from .fake_llm import Reply, completion
from .test_cli_plan import flowdesk, plan_reply
from .test_planner import EMAIL_NODE, act, answer, plan

# ------------------------------------------------------------------ cost


async def test_cost_reported_estimated_or_unknown(llm, registry) -> None:
    body = {"intent": "mail", "confidence": 0.9, "actions": [EMAIL_NODE]}
    llm.reply(Reply(body=completion(body, prompt_tokens=1000, completion_tokens=200, cost=0.0123)))
    reported = await plan(llm, registry)
    assert reported.meta["cost"] == pytest.approx(0.0123)
    line = usage_text(reported.meta)
    assert "1000 tokens in, 200 out" in line and "cost $0.0123" in line

    llm.reply(answer(EMAIL_NODE, tokens_in=1_000_000, tokens_out=100_000))
    result = await plan(llm, registry)
    # gpt-4o-mini: $0.15 in and $0.60 out per million tokens
    result.meta["model"] = "openai/gpt-4o-mini-2024-07-18"
    assert "cost ≈ $0.2100 (price table)" in usage_text(result.meta)

    assert "out, cost unknown, " in usage_text({**result.meta, "model": "llama3.2:3b"})


async def test_repair_round_counts_both_calls(llm, registry) -> None:
    bad = act("add_node", id="w", type="file.write", config={"path": 3})
    good = act("add_node", id="w", type="file.write", config={"path": "o.txt"})
    llm.reply(answer(bad, tokens_in=100, tokens_out=10), answer(good, tokens_in=120, tokens_out=12))
    result = await plan(llm, registry, "write a file")
    assert result.status == "planned" and result.repaired
    assert result.meta["rounds"] == 2
    assert result.meta["tokens_in"] == 220 and result.meta["tokens_out"] == 22
    assert "2 calls (repair round)" in usage_text(result.meta)


# ----------------------------------------------------------- idempotency

SPEC = {
    "openapi": "3.0.3",
    "info": {"title": "Peer", "version": "1"},
    "paths": {
        "/echo": {
            "get": {
                "operationId": "peek",
                "parameters": [{"name": "key", "in": "query", "schema": {"type": "string"}}],
            },
            "post": {
                "operationId": "send",
                "parameters": [{"name": "key", "in": "query", "schema": {"type": "string"}}],
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {"text": {"type": "string"}},
                            }
                        }
                    }
                },
            },
        }
    },
}


@pytest.fixture
def peer() -> Iterator[Peer]:
    server = Peer().start()
    yield server
    server.stop()


def _peer_flow(tmp_path: Path, peer: Peer, **extra: Any) -> Path:
    (tmp_path / "peer.json").write_text(json.dumps(SPEC))
    flow = tmp_path / "peer.flow.json"
    flow.write_text(
        json.dumps(
            {
                "format": "flowdesk/workflow",
                "version": 1,
                "name": "peer",
                "sources": {"peer": {"type": "openapi", "spec": "peer.json", "base_url": peer.url}},
                "nodes": [],
                "edges": [],
                **extra,
            }
        )
    )
    return flow


async def test_rerunning_an_accepted_plan_never_repeats_a_sending_tool_call(
    llm, tmp_path: Path, peer: Peer
) -> None:
    flow = _peer_flow(tmp_path, peer)
    send = act(
        "add_node", id="notify", type="tool.call", title="Notify",
        config={"source": "peer", "tool": "send",
                "arguments": {"key": "plan-send", "text": "hello"}},
    )  # fmt: skip
    peek = act(
        "add_node", id="look", type="tool.call", title="Look",
        config={"source": "peer", "tool": "peek", "arguments": {"key": "plan-peek"}},
    )  # fmt: skip
    link = act("connect", from_="notify", to="look")
    for _ in range(2):  # the same request, the same plan, run twice
        llm.reply(plan_reply(send, peek, link))
        code, _out, err = await flowdesk(
            "plan", "notify the peer, then look", "--flow", str(flow),
            "--base-url", llm.base_url, "--model", "m", "--out", "new.flow.json", "--run",
            cwd=tmp_path,
        )  # fmt: skip
        assert code == 0, err
    saved = json.loads((tmp_path / "new.flow.json").read_text())
    config = {n["id"]: n["config"] for n in saved["nodes"]}
    # A POST operation is not read-only: it gets a key; the GET does not.
    assert config["notify"]["client_request_id"].startswith("plan-")
    assert "client_request_id" not in config["look"]
    assert [c.method for c in peer.calls["plan-send"]] == ["POST"]  # sent once
    assert len(peer.calls["plan-peek"]) == 2  # reads run every time
    sent = json.loads(llm.requests[0].json["messages"][1]["content"])
    entries = {e["tool"]: e for e in sent["catalogue"] if "tool" in e}
    assert entries["peer__send"]["read_only"] is False
    assert entries["peer__peek"]["read_only"] is True


# --------------------------------------------------------- token budget


async def test_plan_run_stops_at_the_runs_token_budget(llm, tmp_path: Path) -> None:
    flow = tmp_path / "budget.flow.json"
    flow.write_text(
        json.dumps(
            {
                "format": "flowdesk/workflow", "version": 1, "name": "budget",
                "settings": {"max_ai_tokens": 100},
                "credentials": {"openrouter": {"type": "bearer"}},
                "nodes": [], "edges": [],
            }
        )
    )  # fmt: skip
    ai = {"model": "m", "base_url": llm.base_url, "max_tokens": 50}
    llm.reply(
        plan_reply(
            act("add_node", id="draft", type="ai.transform", config={**ai, "user_prompt": "a"}),
            act("add_node", id="polish", type="ai.transform", config={**ai, "user_prompt": "b"}),
            act("connect", from_="draft", to="polish"),
        )
    )
    # each AI call of the run: 60 + 40 tokens, the whole budget
    llm.fallback = Reply(body=completion("ok", prompt_tokens=60, completion_tokens=40))
    code, out, err = await flowdesk(
        "plan", "draft and polish", "--flow", str(flow), "--base-url", llm.base_url,
        "--model", "m", "--run", cwd=tmp_path,
    )  # fmt: skip
    assert code == 1
    assert "+ node polish (ai.transform)" in out
    assert "token budget is spent: 100 of 100 tokens" in out + err
    assert "max_ai_tokens" in out + err
    assert "Traceback" not in err
    assert len(llm.requests) == 2  # the plan, then draft; polish never called


# ------------------------------------------------------------- allow-list

TOOLS = [
    {"name": "github__list_issues", "read_only": True, "input_schema": {"type": "object"}},
    {"name": "github__delete_repo", "read_only": False, "input_schema": {"type": "object"}},
]
WITH_TOOL = {
    "format": "flowdesk/workflow",
    "version": 1,
    "name": "issues",
    "sources": {"github": {"type": "openapi", "spec": "gh.json"}},
    "nodes": [
        {"id": "list", "type": "tool.call",
         "config": {"source": "github", "tool": "list_issues", "arguments": {}}},
    ],
    "edges": [],
}  # fmt: skip


async def test_set_config_cannot_switch_a_tool_call_outside_the_allow_list(llm, registry) -> None:
    before = json.dumps(WITH_TOOL, sort_keys=True)
    llm.reply(answer(act("set_config", node="list", path="tool", value="delete_repo")))
    result = await plan(
        llm, registry, "delete it", workflow=WITH_TOOL, allow="github__list_*", tools=TOOLS
    )
    assert result.status == "refused" and result.workflow is None
    (problem,) = result.problems
    assert problem["code"] == "PERMISSION_DENIED" and problem["action"] == 0
    assert "'github__delete_repo' is not in the allow-list" in problem["message"]
    assert json.dumps(WITH_TOOL, sort_keys=True) == before
    assert len(llm.requests) == 1  # a permission refusal is not sent back for repair


async def test_switching_to_a_sending_tool_or_method_adds_an_idempotency_key(llm, registry) -> None:
    flow = {
        **WITH_TOOL,
        "nodes": [
            *WITH_TOOL["nodes"],
            {"id": "hook", "type": "http.request", "config": {"url": "https://x.test/h"}},
        ],
    }
    llm.reply(
        answer(
            act("set_config", node="list", path="tool", value="delete_repo"),
            act("set_config", node="hook", path="method", value="POST"),
        )
    )
    result = await plan(llm, registry, "clean up", workflow=flow, allow="github__*,http.*",
                        tools=TOOLS)  # fmt: skip
    assert result.status == "planned", result.problems
    config = {n["id"]: n["config"] for n in result.workflow["nodes"]}
    assert config["list"]["client_request_id"].startswith("plan-")
    assert config["hook"]["idempotency_key"].startswith("plan-")
