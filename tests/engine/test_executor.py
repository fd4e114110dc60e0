"""Executor semantics, observed through run results and the event stream."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from flowdesk.engine import (
    Engine,
    NodeCancelled,
    NodeRetrying,
    NodeSkipped,
    NodeStarted,
    NodeSucceeded,
    RunFinished,
    RunStarted,
    WorkflowLoadError,
)
from flowdesk.engine.executor import backoff_delay

from tests.engine.conftest import make
from tests.engine.stub_nodes import Probe


def transform(node_id: str, value: Any, **extra: Any) -> dict[str, Any]:
    return {"id": node_id, "type": "data.transform", "config": {"value": value}, **extra}


def sleep(node_id: str, seconds: float, value: Any = None, **extra: Any) -> dict[str, Any]:
    config: dict[str, Any] = {"seconds": seconds}
    if value is not None:
        config["value"] = value
    return {"id": node_id, "type": "test.sleep", "config": config, **extra}


async def run(registry, nodes, edges=(), **kwargs):
    top = kwargs.pop("top", {})
    workflow = make(registry, nodes, edges, **top)
    return await Engine(registry).run(workflow, **kwargs)


async def test_values_flow_along_edges_with_types_kept(registry):
    result = await run(
        registry,
        [
            transform("a", {"n": 3, "name": "Ann"}),
            transform("b", {"double": "{{ input.n * 2 }}", "hi": "Hi {{ input.name }}"}),
        ],
        [("a", "b")],
    )
    assert result.status == "succeeded"
    assert result.nodes["b"].output == {"double": 6, "hi": "Hi Ann"}
    assert result.nodes["b"].attempts == 1
    assert set(result.to_json()["nodes"]) == {"a", "b"}


async def test_result_json_has_every_key_of_the_spec(registry):
    result = await run(registry, [transform("a", 1)])
    data = result.to_json()
    assert set(data) >= {"run_id", "status", "started_at", "duration_ms", "nodes"}
    assert data["started_at"].endswith("Z")
    assert set(data["nodes"]["a"]) >= {"status", "output", "attempts", "duration_ms", "error"}


async def test_independent_branches_run_concurrently(registry, probe: Probe):
    nodes = [sleep(f"s{i}", 0.3) for i in range(4)]
    result = await run(registry, nodes)
    assert result.status == "succeeded"
    # all four bodies were running at once, and all four started before any ended
    assert probe.peak == 4


async def test_max_concurrency_bounds_nodes_in_flight(registry, probe: Probe):
    nodes = [sleep(f"s{i}", 0.05) for i in range(10)]
    result = await run(registry, nodes, top={"settings": {"max_concurrency": 3}})
    assert result.status == "succeeded"
    assert probe.peak == 3


async def test_a_node_starts_when_its_inputs_are_ready_not_later(registry, probe: Probe):
    # fast → after_fast must not wait for the slow branch.
    nodes = [sleep("slow", 0.4), sleep("fast", 0.0, 1), sleep("after_fast", 0.0)]
    await run(registry, nodes, [("fast", "after_fast")])
    assert probe.finished.index("after_fast") < probe.finished.index("slow")


async def test_for_each_keeps_input_order_and_bounds_concurrency(registry, probe: Probe):
    nodes = [
        transform("items", [5, 1, 4, 2, 3, 0]),
        {
            "id": "each",
            "type": "test.sleep",
            "config": {"seconds": "{{ item / 100 }}", "value": "{{ item * 10 }}"},
            "for_each": "{{ input }}",
            "concurrency": 2,
        },
    ]
    result = await run(registry, nodes, [("items", "each")])
    assert result.nodes["each"].output == [50, 10, 40, 20, 30, 0]
    assert probe.peak == 2


async def test_for_each_over_a_non_list_is_an_expression_error(registry):
    nodes = [
        transform("obj", {"a": 1}),
        {**transform("each", "{{ item }}"), "for_each": "{{ input }}"},
    ]
    result = await run(registry, nodes, [("obj", "each")])
    error = result.nodes["each"].error
    assert result.status == "failed"
    assert error["code"] == "EXPRESSION" and error["category"] == "EXPRESSION"
    assert "expected a list" in error["message"] and "each" in error["message"]


async def test_for_each_index_and_empty_list(registry):
    nodes = [
        transform("items", ["a", "b"]),
        {**transform("each", "{{ index }}:{{ item }}"), "for_each": "{{ input }}"},
        {**transform("none", "x"), "for_each": "{{ [] }}"},
    ]
    result = await run(registry, nodes, [("items", "each")])
    assert result.nodes["each"].output == ["0:a", "1:b"]
    assert result.nodes["none"].output == []


async def test_if_skips_the_branch_not_taken_and_downstream_of_it(registry):
    nodes = [
        transform("n", 7),
        {"id": "check", "type": "flow.if", "config": {"condition": "input > 5"}},
        transform("big", "big {{ input }}"),
        transform("small", "small {{ input }}"),
        transform("after_small", "{{ input }}"),
    ]
    edges = [
        ("n", "check"),
        ("check:true", "big"),
        ("check:false", "small"),
        ("small", "after_small"),
    ]
    result = await run(registry, nodes, edges)
    assert result.status == "succeeded"
    assert result.nodes["check"].output == 7
    assert result.nodes["big"].output == "big 7"
    assert result.nodes["small"].status == "skipped"
    assert result.nodes["after_small"].status == "skipped"


async def test_merge_runs_on_what_arrived_and_object_mode_keys_by_source(registry):
    nodes = [
        transform("n", 1),
        {"id": "check", "type": "flow.if", "config": {"condition": "{{ input == 1 }}"}},
        transform("yes", "yes"),
        transform("no", "no"),
        transform("other", "other"),
        {"id": "merged", "type": "flow.merge", "config": {"mode": "list"}},
        {"id": "keyed", "type": "flow.merge", "config": {"mode": "object"}},
    ]
    edges = [
        ("n", "check"),
        ("check:true", "yes"),
        ("check:false", "no"),
        ("yes", "merged"),
        ("no", "merged"),
        ("other", "merged"),
        ("yes", "keyed"),
        ("other", "keyed"),
    ]
    result = await run(registry, nodes, edges)
    assert result.nodes["merged"].output == ["yes", "other"]
    assert result.nodes["keyed"].output == {"yes": "yes", "other": "other"}


async def test_merge_is_skipped_only_when_nothing_arrived(registry):
    nodes = [
        transform("a", 1, disabled=True),
        transform("b", 2, disabled=True),
        {"id": "m", "type": "flow.merge"},
    ]
    result = await run(registry, nodes, [("a", "m"), ("b", "m")])
    assert result.nodes["m"].status == "skipped"


async def test_disabled_node_and_its_downstream_are_skipped(registry):
    nodes = [transform("a", 1, disabled=True), transform("b", "{{ input }}")]
    result = await run(registry, nodes, [("a", "b")])
    assert result.status == "succeeded"
    assert result.nodes["a"].status == "skipped"
    assert result.nodes["b"].status == "skipped"


async def test_pinned_node_is_not_executed_and_feeds_downstream(registry, probe: Probe):
    nodes = [sleep("slow", 5, pinned={"cached": True}), transform("b", "{{ input.cached }}")]
    result = await run(registry, nodes, [("slow", "b")])
    assert result.nodes["slow"].status == "pinned"
    assert result.nodes["slow"].output == {"cached": True}
    assert result.nodes["b"].output is True
    assert probe.started == []


async def test_input_ports_and_nodes_namespace(registry):
    nodes = [
        transform("x", 1),
        transform("y", 2),
        {"id": "two", "type": "test.two"},
        transform("sum", "{{ input.a + input.b + nodes.x }}"),
    ]
    edges = [("x", "two:a"), ("y", "two:b"), ("two", "sum")]
    result = await run(registry, nodes, edges)
    assert result.nodes["two"].output == {"a": 1, "b": 2}
    assert result.nodes["sum"].output == 4


async def test_variables_env_and_run_names(registry, monkeypatch):
    monkeypatch.setenv("FD_TEST_REGION", "eu")
    monkeypatch.setenv("FD_TEST_SECRET", "hidden")
    nodes = [
        transform(
            "a",
            {
                "limit": "{{ vars.limit }}",
                "region": "{{ env.FD_TEST_REGION }}",
                "run": "{{ run.id|length }}",
            },
        ),
        transform("b", "{{ env.FD_TEST_SECRET }}"),
    ]
    workflow = make(registry, nodes, variables={"limit": 5}, env=["FD_TEST_REGION"])
    result = await Engine(registry).run(workflow, variables={"limit": 9}, check=False)
    assert result.nodes["a"].output == {"limit": 9, "region": "eu", "run": 32}
    assert result.nodes["b"].status == "failed"
    assert "not declared" in result.nodes["b"].error["message"]
    assert "hidden" not in str(result.to_json())


async def test_retry_until_success_counts_attempts_and_emits_retrying(registry):
    workflow = make(
        registry,
        [
            {
                "id": "f",
                "type": "test.flaky",
                "config": {"fail_times": 2},
                "retry": {"max_attempts": 3, "base_delay_s": 0.01, "max_delay_s": 0.02},
            }
        ],
    )
    events = []
    result = await Engine(registry).run(workflow, listeners=[events.append])
    assert result.nodes["f"].status == "succeeded"
    assert result.nodes["f"].attempts == 3
    retries = [e for e in events if isinstance(e, NodeRetrying)]
    assert [r.attempt for r in retries] == [1, 2]
    assert all(0 <= r.delay_s <= 0.02 for r in retries)
    assert [e.attempt for e in events if isinstance(e, NodeStarted)] == [1, 2, 3]


async def test_retry_gives_up_after_max_attempts(registry):
    result = await run(
        registry,
        [
            {
                "id": "f",
                "type": "test.flaky",
                "config": {"fail_times": 9},
                "retry": {"max_attempts": 3, "base_delay_s": 0},
            }
        ],
    )
    node = result.nodes["f"]
    assert result.status == "failed"
    assert node.status == "failed" and node.attempts == 3
    assert node.error == {
        "code": "HTTP_STATUS",
        "category": "TRANSPORT",
        "message": "failure 3",
        "retryable": True,
        "details": {},
    }


async def test_non_retryable_errors_are_not_retried(registry):
    result = await run(
        registry,
        [
            {
                "id": "f",
                "type": "test.flaky",
                "config": {"fail_times": 1, "retryable": False},
                "retry": {"max_attempts": 5, "base_delay_s": 0},
            }
        ],
    )
    assert result.nodes["f"].attempts == 1
    assert result.nodes["f"].status == "failed"


async def test_retry_after_is_waited_exactly(registry):
    workflow = make(
        registry,
        [
            {
                "id": "f",
                "type": "test.flaky",
                "config": {"fail_times": 1, "retry_after": 0.3},
                "retry": {"max_attempts": 2, "base_delay_s": 30, "max_delay_s": 60},
            }
        ],
    )
    events = []
    result = await Engine(registry).run(workflow, listeners=[events.append])
    assert result.nodes["f"].status == "succeeded"
    # the wait asked for is the server's, not the 30 s backoff ...
    (retrying,) = [e for e in events if isinstance(e, NodeRetrying)]
    assert retrying.delay_s == 0.3
    # ... and the second attempt started after it, by the events' own clock
    (again,) = [e for e in events if isinstance(e, NodeStarted) and e.attempt == 2]
    assert again.seq > retrying.seq
    assert again.time - retrying.time >= retrying.delay_s - 0.001


def test_backoff_is_full_jitter_within_bounds():
    for attempt in range(8):
        cap = min(10.0, 0.5 * 2**attempt)
        delays = [backoff_delay(attempt, 0.5, 10.0) for _ in range(300)]
        assert all(0 <= d <= cap for d in delays)
        # full jitter spreads over the whole range, not just near the cap
        assert min(delays) < cap * 0.2 and max(delays) > cap * 0.8


async def test_timeout_is_a_retryable_timeout_error_per_attempt(registry):
    result = await run(
        registry, [sleep("s", 5, timeout_s=0.1, retry={"max_attempts": 2, "base_delay_s": 0})]
    )
    node = result.nodes["s"]
    assert node.status == "failed"
    assert node.error["code"] == "TIMEOUT" and node.error["category"] == "TIMEOUT"
    assert node.error["retryable"] is True
    assert node.attempts == 2


async def test_on_error_continue_passes_the_error_object_downstream(registry):
    nodes = [
        {"id": "bad", "type": "test.crash", "on_error": "continue"},
        transform("handle", "caught {{ input.code }}: {{ input.message }}"),
    ]
    result = await run(registry, nodes, [("bad", "handle")])
    assert result.status == "succeeded"
    assert result.nodes["bad"].status == "failed"
    assert result.nodes["bad"].output["code"] == "INTERNAL_ERROR"
    assert result.nodes["handle"].output == "caught INTERNAL_ERROR: unexpected ValueError: boom"


async def test_on_error_stop_cancels_running_and_skips_unstarted(registry, probe: Probe):
    nodes = [
        {"id": "bad", "type": "test.crash"},
        sleep("slow", 5),
        transform("after", "{{ input }}"),
    ]
    result = await run(registry, nodes, [("slow", "after")])
    assert result.status == "failed"
    assert result.nodes["bad"].status == "failed"
    assert result.nodes["slow"].status == "cancelled"
    assert result.nodes["after"].status == "skipped"
    assert "bad" in result.nodes["after"].reason


async def test_a_node_cancelled_by_another_failure_says_why(registry, probe: Probe):
    events: list[Any] = []
    nodes = [{"id": "bad", "type": "test.crash"}, sleep("slow", 5)]
    result = await run(registry, nodes, listeners=[events.append])
    reason = "the run stopped: node 'bad' failed"
    assert result.nodes["slow"].status == "cancelled"
    assert result.nodes["slow"].reason == reason
    cancelled = [e for e in events if isinstance(e, NodeCancelled)]
    assert [(e.node_id, e.reason) for e in cancelled] == [("slow", reason)]


async def test_cancel_stops_in_flight_nodes_at_once(registry, probe: Probe):
    workflow = make(
        registry, [sleep("a", 10), sleep("b", 10), transform("c", "{{ input }}")], [("a", "c")]
    )
    handle = Engine(registry).start(workflow)
    for _ in range(100_000):  # until both sleeps are running (a few loop turns)
        if probe.active == 2:
            break
        await asyncio.sleep(0)
    assert probe.active == 2
    handle.cancel()
    result = await handle.wait()
    # the 10 s bodies were stopped, not waited for
    assert result.status == "cancelled"
    assert {n.status for n in result.nodes.values()} == {"cancelled"}
    assert probe.active == 0 and sorted(probe.finished) == ["a", "b"]


async def test_cancel_during_retry_wait(registry):
    workflow = make(
        registry,
        [
            {
                "id": "f",
                "type": "test.flaky",
                "config": {"fail_times": 5, "retry_after": 30},
                "retry": {"max_attempts": 5},
            }
        ],
    )
    waiting = asyncio.Event()
    events: list[Any] = []

    def listen(event: Any) -> None:
        events.append(event)
        if isinstance(event, NodeRetrying):
            waiting.set()

    handle = Engine(registry).start(workflow, listeners=[listen])
    await waiting.wait()  # the node now waits 30 s before its next attempt
    handle.cancel()
    result = await handle.wait()
    assert result.nodes["f"].status == "cancelled"
    # the wait was cut short: no second attempt ever started
    assert [e.attempt for e in events if isinstance(e, NodeStarted)] == [1]


async def test_unexpected_exception_is_an_internal_error_not_a_crash(registry):
    result = await run(registry, [{"id": "c", "type": "test.crash"}])
    error = result.nodes["c"].error
    assert error["category"] == "INTERNAL" and "boom" in error["message"]


async def test_invalid_config_after_expressions_is_a_config_error(registry):
    nodes = [
        transform("a", "dict"),
        {"id": "m", "type": "flow.merge", "config": {"mode": "{{ input }}"}},
    ]
    result = await run(registry, nodes, [("a", "m")])
    error = result.nodes["m"].error
    assert error["category"] == "CONFIG"
    assert "config.mode" in error["message"]


async def test_expression_error_names_node_field_and_expression(registry):
    result = await run(registry, [transform("a", {"x": "{{ input.missing.deeper }}"})])
    error = result.nodes["a"].error
    assert error["code"] == "EXPRESSION"
    assert "'a'" in error["message"] and "config.value" in error["message"]
    assert error["details"]["expression"] == "{{ input.missing.deeper }}"


async def test_start_refuses_an_invalid_workflow_with_every_problem(registry):
    workflow = make(
        registry, [transform("a", 1), transform("b", 1)], [("a", "b"), ("b", "a"), ("a", "ghost")]
    )
    with pytest.raises(WorkflowLoadError) as info:
        Engine(registry).start(workflow)
    text = str(info.value)
    assert "cycle: a → b → a" in text and "ghost" in text


async def test_event_stream_order(registry):
    workflow = make(registry, [transform("a", 1), transform("b", 2, disabled=True)])
    handle = Engine(registry).start(workflow)
    events = [event async for event in handle.events()]
    assert isinstance(events[0], RunStarted)
    assert isinstance(events[-1], RunFinished) and events[-1].status == "succeeded"
    assert [e.seq for e in events] == sorted(e.seq for e in events)
    kinds = [(type(e).__name__, getattr(e, "node_id", None)) for e in events[1:-1]]
    assert ("NodeSkipped", "b") in kinds
    assert kinds.index(("NodeStarted", "a")) < kinds.index(("NodeSucceeded", "a"))


async def test_partial_run_only_reuses_upstream_outputs(registry, probe: Probe):
    nodes = [
        sleep("fetch", 0.01, {"n": 1}),
        transform("shape", "{{ input.n + 1 }}"),
        transform("other", "x"),
    ]
    workflow = make(registry, nodes, [("fetch", "shape")])
    engine = Engine(registry)
    first = await engine.run(workflow)
    assert first.nodes["shape"].output == 2
    probe.started.clear()
    changed = make(
        registry,
        [nodes[0], transform("shape", "{{ input.n + 100 }}"), nodes[2]],
        [("fetch", "shape")],
    )
    second = await engine.run(changed, only="shape", previous=first)
    assert second.nodes["shape"].output == 101
    assert second.nodes["fetch"].reused and second.nodes["fetch"].output == {"n": 1}
    assert second.nodes["other"].status == "skipped"
    assert probe.started == []  # fetch was not called again


async def test_partial_run_only_runs_missing_upstream_first(registry, probe: Probe):
    workflow = make(
        registry,
        [sleep("fetch", 0.01, {"n": 1}), transform("shape", "{{ input.n }}")],
        [("fetch", "shape")],
    )
    result = await Engine(registry).run(workflow, only="shape", previous=None)
    assert probe.started == ["fetch"]
    assert result.nodes["shape"].output == 1


async def test_partial_run_up_to_runs_ancestors_only(registry):
    nodes = [transform("a", 1), transform("b", "{{ input + 1 }}"), transform("c", "{{ input }}")]
    result = await run(registry, nodes, [("a", "b"), ("b", "c")], up_to="b")
    assert result.nodes["b"].output == 2
    assert result.nodes["c"].status == "skipped"


async def test_partial_run_reuses_routing_of_if(registry):
    nodes = [
        transform("n", 1),
        {"id": "check", "type": "flow.if", "config": {"condition": "input > 0"}},
        transform("pos", "pos"),
        transform("neg", "neg"),
    ]
    edges = [("n", "check"), ("check:true", "pos"), ("check:false", "neg")]
    workflow = make(registry, nodes, edges)
    engine = Engine(registry)
    first = await engine.run(workflow)
    again = await engine.run(workflow, only="neg", previous=first)
    assert again.nodes["neg"].status == "skipped"


async def test_events_include_skipped_reason(registry):
    workflow = make(registry, [transform("a", 1, disabled=True)])
    events = []
    await Engine(registry).run(workflow, listeners=[events.append])
    assert [e.reason for e in events if isinstance(e, NodeSkipped)] == ["disabled"]
    assert not any(isinstance(e, NodeCancelled | NodeSucceeded) for e in events)


async def test_which_ports_carried_a_value_has_one_encoding(registry):
    """None: every output port; a tuple: exactly those — in the events, the
    result and a partial run's reused outputs alike."""
    nodes = [
        transform("n", 1),
        {"id": "check", "type": "flow.if", "config": {"condition": "input > 0"}},
        transform("pos", "pos"),
        transform("neg", "neg"),
    ]
    edges = [("n", "check"), ("check:true", "pos"), ("check:false", "neg")]
    workflow = make(registry, nodes, edges)
    engine = Engine(registry)
    events = []
    first = await engine.run(workflow, listeners=[events.append])
    ports = {e.node_id: e.ports for e in events if isinstance(e, NodeSucceeded)}
    assert ports == {"n": None, "check": ("true",), "pos": None}
    assert first.nodes["check"].ports == ["true"] and first.nodes["n"].ports is None
    events.clear()
    await engine.run(workflow, only="pos", previous=first, listeners=[events.append])
    reused = {e.node_id: e.ports for e in events if isinstance(e, NodeSucceeded) and e.reused}
    assert reused == {"check": ("true",)}


async def test_two_engines_keep_their_own_caches(registry):
    """State lives in the engine, not the module: one engine's runs compile
    into its own expression cache (shared by its runs), another's stays empty,
    and each engine has its own store of source documents."""
    workflow = make(registry, [transform("a", "{{ 6 * 7 }}")])
    first, second = Engine(registry), Engine(registry)
    result = await first.run(workflow)
    assert result.nodes["a"].output == 42
    compiled = len(first.expressions._cache)
    assert compiled > 0
    assert len(second.expressions._cache) == 0
    await first.run(workflow)
    assert len(first.expressions._cache) == compiled  # the second run reused them
    assert first.documents is not second.documents
