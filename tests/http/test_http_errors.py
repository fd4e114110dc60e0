"""Failures of ``http.request`` as structured errors, and how the executor's
retry uses them: HTTP_STATUS (retryable or not), Retry-After in seconds and
as an HTTP date, connection failures, timeouts, oversized bodies, and the
Idempotency-Key that stays the same across retries."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from flowdesk.engine import NodeRetrying
from flowdesk.engine.nodes.builtin.http_parts import parse_retry_after

from tests.helpers import free_port

from .conftest import http


def retry(attempts: int, base: float = 0.01) -> dict[str, object]:
    return {"retry": {"max_attempts": attempts, "base_delay_s": base, "max_delay_s": base}}


@pytest.mark.parametrize(
    ("status", "retryable", "category"),
    [
        (400, False, "EXECUTION"),
        (401, False, "AUTH"),
        (403, False, "AUTH"),
        (404, False, "EXECUTION"),
        (408, True, "TRANSPORT"),
        (422, False, "EXECUTION"),
        (425, True, "TRANSPORT"),
        (429, True, "RATE_LIMIT"),
        (500, True, "TRANSPORT"),
        (502, True, "TRANSPORT"),
        (503, True, "TRANSPORT"),
        (504, True, "TRANSPORT"),
    ],
)
async def test_status_errors_say_whether_a_retry_can_help(
    run_flow, httpbin_url, status, retryable, category
):
    run = await run_flow([http("s", f"{httpbin_url}/status/{status}")])
    assert run.status == "failed"
    error = run.error("s")
    assert error["code"] == "HTTP_STATUS"
    assert error["category"] == category
    assert error["retryable"] is retryable
    assert error["details"]["status"] == status
    assert f"returned {status}" in error["message"]
    assert "/status/" in error["message"]


async def test_status_error_keeps_an_excerpt_of_the_body(run_flow, peer):
    run = await run_flow(
        [
            http(
                "short",
                f"{peer.url}/fail/422",
                query={"size": 1, "text": "name is required"},
                node={"on_error": "continue"},
            ),
            http(
                "long",
                f"{peer.url}/fail/500",
                query={"size": 100_000},
                node={"on_error": "continue"},
            ),
        ],
    )
    short = run.error("short")["details"]
    assert (short["body"], short["body_truncated"]) == ("name is required", False)
    long = run.error("long")["details"]
    assert len(long["body"]) == 2000
    assert long["body_truncated"] is True


async def test_a_flaky_server_is_retried_until_it_answers(run_flow, peer):
    key = uuid.uuid4().hex
    run = await run_flow([http("f", f"{peer.url}/flaky/{key}", query={"times": 2}, node=retry(3))])
    assert run.status == "succeeded"
    assert run.node("f")["attempts"] == 3
    assert run.output("f")["body"] == {"calls": 3}
    assert len(peer.calls[key]) == 3
    assert [e.attempt for e in run.of(NodeRetrying)] == [1, 2]


async def test_retries_stop_at_max_attempts_with_the_last_error(run_flow, peer):
    key = uuid.uuid4().hex
    run = await run_flow(
        [http("f", f"{peer.url}/flaky/{key}", query={"times": 5, "status": 502}, node=retry(2))]
    )
    assert run.status == "failed"
    assert run.node("f")["attempts"] == 2
    assert run.error("f")["details"]["status"] == 502
    assert "call 2" in run.error("f")["details"]["body"]
    assert len(peer.calls[key]) == 2


async def test_a_non_retryable_status_is_not_retried(run_flow, peer):
    key = uuid.uuid4().hex
    run = await run_flow(
        [http("f", f"{peer.url}/flaky/{key}", query={"times": 5, "status": 400}, node=retry(4))]
    )
    assert run.node("f")["attempts"] == 1
    assert len(peer.calls[key]) == 1


async def test_retry_after_in_seconds_is_waited_exactly(run_flow, peer):
    key = uuid.uuid4().hex
    run = await run_flow(
        [
            http(
                "r",
                f"{peer.url}/rate-limited/{key}",
                query={"times": 1, "after": 1},
                node=retry(2, base=30.0),
            )
        ]
    )
    assert run.status == "succeeded"
    assert run.node("r")["attempts"] == 2
    (retrying,) = run.of(NodeRetrying)
    assert retrying.delay_s == 1.0
    assert retrying.error["category"] == "RATE_LIMIT"
    assert retrying.error["details"]["retry_after_s"] == 1.0
    first, second = peer.calls[key]
    # The engine waited what the server asked (the recorded delay above, not
    # the 30 s backoff cap); the server saw the retry no sooner than that.
    assert second.time - first.time >= retrying.delay_s - 0.05


async def test_retry_after_as_an_http_date_is_honoured(run_flow, peer):
    key = uuid.uuid4().hex
    run = await run_flow(
        [
            http(
                "r",
                f"{peer.url}/rate-limited/{key}",
                query={"times": 1, "after": 2, "form": "date"},
                node=retry(2, base=30.0),
            )
        ]
    )
    assert run.status == "succeeded"
    (retrying,) = run.of(NodeRetrying)
    # An HTTP date has whole seconds: "in 2 s" means between 1 and 2 s from now.
    assert 1.0 <= retrying.delay_s <= 2.0
    first, second = peer.calls[key]
    assert second.time - first.time >= retrying.delay_s - 0.05


async def test_rate_limit_without_retry_reports_when_to_come_back(run_flow, peer):
    key = uuid.uuid4().hex
    run = await run_flow([http("r", f"{peer.url}/rate-limited/{key}", query={"after": 7})])
    error = run.error("r")
    assert (error["category"], error["retryable"]) == ("RATE_LIMIT", True)
    assert error["details"]["retry_after_s"] == 7.0
    assert "retry after 7 s" in error["message"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3", 3.0),
        (" 120 ", 120.0),
        ("0", 0.0),
        ("1.5", 1.5),
        ("-4", None),
        ("soon", None),
        ("", None),
        ("Sat, 21 Nov 2026 10:00:30 GMT", 30.0),
        ("Sat, 21 Nov 2026 09:59:00 GMT", 0.0),  # in the past: retry at once
    ],
)
def test_retry_after_values(value, expected):
    now = datetime(2026, 11, 21, 10, 0, 0, tzinfo=UTC)
    assert parse_retry_after(value, now) == expected


async def test_a_refused_connection_is_a_retryable_transport_error(run_flow):
    url = f"http://127.0.0.1:{free_port()}/nothing"
    run = await run_flow([http("c", url, node=retry(2))])
    error = run.error("c")
    assert (error["code"], error["category"], error["retryable"]) == (
        "TRANSPORT",
        "TRANSPORT",
        True,
    )
    assert "could not connect" in error["message"]
    assert error["details"]["url"] == url
    assert run.node("c")["attempts"] == 2


async def test_a_server_hanging_up_is_a_transport_error(run_flow, peer):
    run = await run_flow([http("d", f"{peer.drop_url}/x")])
    error = run.error("d")
    assert (error["code"], error["retryable"]) == ("TRANSPORT", True)
    assert "closed the connection" in error["message"]


async def test_a_slow_server_times_out_per_attempt(run_flow, peer):
    key = uuid.uuid4().hex
    run = await run_flow(
        [
            http(
                "s",
                f"{peer.url}/slow",
                query={"delay": 60, "key": key},
                timeout_s=0.3,
                node=retry(2),
            )
        ]
    )
    error = run.error("s")
    assert (error["code"], error["category"], error["retryable"]) == (
        "TIMEOUT",
        "TIMEOUT",
        True,
    )
    assert "0.3 s" in error["message"]
    assert run.node("s")["attempts"] == 2
    assert len(peer.calls[key]) == 2
    # both attempts were given up while the server still held them (it
    # answers after a minute)
    assert peer.in_flight[key] == 2


async def test_a_body_that_trickles_in_too_slowly_times_out(run_flow, peer):
    run = await run_flow([http("s", f"{peer.url}/slow-body", query={"delay": 5}, timeout_s=0.3)])
    # (the body would be whole after 5 s: a TIMEOUT means the limit cut it)
    assert run.error("s")["code"] == "TIMEOUT"


async def test_the_node_level_timeout_also_bounds_a_request(run_flow, peer):
    run = await run_flow(
        [http("s", f"{peer.url}/slow", query={"delay": 5}, node={"timeout_s": 0.3})]
    )
    error = run.error("s")
    assert (error["code"], error["retryable"]) == ("TIMEOUT", True)


async def test_a_body_announced_over_the_limit_is_refused_before_reading(run_flow, peer):
    key = uuid.uuid4().hex
    # 60 MB announced, over the default limit of 50 MB.
    run = await run_flow([http("big", f"{peer.url}/large/{key}", query={"size": 60_000_000})])
    error = run.error("big")
    assert (error["code"], error["retryable"]) == ("RESPONSE_TOO_LARGE", False)
    assert error["details"]["limit_bytes"] == 50 * 1024 * 1024
    assert "max_response_bytes" in error["message"]
    # the client hung up instead of reading it
    assert peer.sent.get(key, 0) < 60_000_000


async def test_an_endless_body_is_cut_off_while_it_streams(run_flow, peer):
    key = uuid.uuid4().hex
    run = await run_flow(
        [
            http(
                "big",
                f"{peer.url}/endless/{key}",
                query={"size": 10**12, "length": 0},
                max_response_bytes=1_000_000,
            )
        ]
    )
    error = run.error("big")
    assert error["code"] == "RESPONSE_TOO_LARGE"
    assert error["details"]["received_bytes"] > 1_000_000
    # The client hung up early: the server could send only a little past the limit.
    assert peer.sent[key] < 50_000_000


async def test_a_compressed_body_is_limited_by_its_inflated_size(run_flow, peer):
    # 20 MB of zeros travel as ~20 KB of gzip: the limit applies to what it
    # becomes, checked as it inflates (within a few MB), not after.
    run = await run_flow(
        [
            http(
                "bomb",
                f"{peer.url}/gzip-bomb",
                query={"size": 20_000_000},
                max_response_bytes=1_000_000,
            )
        ]
    )
    error = run.error("bomb")
    assert error["code"] == "RESPONSE_TOO_LARGE"
    assert error["details"]["received_bytes"] < 5_000_000


async def test_a_body_within_the_limit_is_read_whole(run_flow, peer):
    key = uuid.uuid4().hex
    run = await run_flow(
        [
            http(
                "big",
                f"{peer.url}/large/{key}",
                query={"size": 3_000_000, "length": 0},
                response="text",
                max_response_bytes=3_000_000,
            )
        ]
    )
    assert len(run.output("big")["body"]) == 3_000_000


async def test_idempotency_key_is_the_same_on_every_retry(run_flow, peer):
    fixed, auto = uuid.uuid4().hex, uuid.uuid4().hex
    run = await run_flow(
        [
            http(
                "fixed",
                f"{peer.url}/flaky/{fixed}",
                method="POST",
                json={"pay": 1},
                query={"times": 2},
                idempotency_key="order-{{ vars.order }}",
                node=retry(3),
            ),
            http(
                "auto",
                f"{peer.url}/flaky/{auto}",
                method="POST",
                json={"pay": 1},
                query={"times": 2},
                idempotency_key="auto",
                node=retry(3),
            ),
        ],
        variables={"order": 42},
    )
    assert run.status == "succeeded"
    assert [c.headers["idempotency-key"] for c in peer.calls[fixed]] == ["order-42"] * 3
    keys = {c.headers["idempotency-key"] for c in peer.calls[auto]}
    assert len(peer.calls[auto]) == 3 and len(keys) == 1
    uuid.UUID(keys.pop())


async def test_auto_idempotency_keys_differ_between_items_and_runs(run_flow, peer):
    key = uuid.uuid4().hex
    node = http(
        "p",
        f"{peer.url}/echo",
        method="POST",
        query={"key": key},
        idempotency_key="auto",
        node={"for_each": "{{ [1, 2, 3] }}"},
    )
    await run_flow([node])
    await run_flow([node])
    keys = [c.headers["idempotency-key"] for c in peer.calls[key]]
    assert len(keys) == 6 and len(set(keys)) == 6
