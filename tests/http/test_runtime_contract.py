"""The runtime contract on real loopback servers: redirects to other schemes
are refused, Retry-After is capped, retry presets and the workflow default,
4xx are not retried, the original exception is kept, call metrics and bus
events of HTTP exchanges."""

from __future__ import annotations

from typing import Any

from flowdesk.engine.bus import BUS
from flowdesk.engine.events import NodeFailed, NodeRetrying
from flowdesk.engine.metrics import METRICS

from tests.helpers import free_port

from .conftest import http
from .peer import Peer


async def test_a_redirect_to_a_file_url_is_refused_as_security(run_flow: Any, peer: Peer) -> None:
    run = await run_flow([http("get", f"{peer.url}/redirect?to=file:///etc/passwd")])
    error = run.error("get")
    assert error["code"] == "REDIRECT_REFUSED"
    assert error["category"] == "SECURITY"
    assert error["retryable"] is False
    assert "file: URL" in error["message"]
    assert "only http:// and https:// redirects are followed" in error["message"]
    assert "root:" not in run.json_text


async def test_a_redirect_to_another_scheme_is_refused_too(run_flow: Any, peer: Peer) -> None:
    run = await run_flow([http("get", f"{peer.url}/redirect?to=ftp://127.0.0.1/x")])
    assert run.error("get")["code"] == "REDIRECT_REFUSED"
    assert "ftp: URL" in run.error("get")["message"]


async def test_an_enormous_retry_after_fails_at_once_with_rate_limited(
    run_flow: Any, peer: Peer
) -> None:
    run = await run_flow(
        [
            http(
                "get",
                f"{peer.url}/rate-limited/huge?times=5&after=999999",
                node={"retry": {"preset": "rate_limit"}},
            )
        ]
    )
    # not parked by Retry-After: no wait was asked for, one attempt made
    assert run.of(NodeRetrying) == []
    error = run.error("get")
    assert error["code"] == "RATE_LIMITED"
    assert error["category"] == "RATE_LIMIT"
    assert error["details"]["retry_after_s"] == 999999
    assert error["details"]["max_retry_after_s"] == 300
    assert "settings.max_retry_after_s" in error["message"]
    assert run.node("get")["attempts"] == 1


async def test_the_retry_after_cap_is_a_workflow_setting(run_flow: Any, peer: Peer) -> None:
    url = f"{peer.url}/rate-limited/capped?times=1&after=2"
    capped = await run_flow(
        [http("get", url, node={"retry": {"max_attempts": 3}})],
        settings={"max_retry_after_s": 1},
    )
    assert capped.error("get")["details"]["retry_after_s"] == 2
    obeyed = await run_flow(
        [
            http(
                "get",
                f"{peer.url}/rate-limited/obeyed?times=1&after=0.2",
                node={"retry": {"max_attempts": 3}},
            )
        ],
        settings={"max_retry_after_s": 1},
    )
    assert obeyed.status == "succeeded"
    assert [e.delay_s for e in obeyed.of(NodeRetrying)] == [0.2]


async def test_nodes_inherit_the_workflow_retry_policy(run_flow: Any, peer: Peer) -> None:
    run = await run_flow(
        [http("get", f"{peer.url}/flaky/inherit?times=2")],
        settings={"retry": {"preset": "aggressive", "base_delay_s": 0.01}},
    )
    assert run.status == "succeeded"
    assert run.node("get")["attempts"] == 3
    own = await run_flow(
        [http("get", f"{peer.url}/flaky/own?times=2", node={"retry": {"preset": "none"}})],
        settings={"retry": {"preset": "aggressive", "base_delay_s": 0.01}},
    )
    assert own.error("get")["code"] == "HTTP_STATUS"
    assert own.node("get")["attempts"] == 1


async def test_a_404_is_not_transport_and_not_retried(run_flow: Any, peer: Peer) -> None:
    run = await run_flow(
        [http("get", f"{peer.url}/fail/404", node={"retry": {"preset": "network"}})]
    )
    error = run.error("get")
    assert (error["code"], error["category"], error["retryable"]) == (
        "HTTP_STATUS",
        "EXECUTION",
        False,
    )
    assert run.node("get")["attempts"] == 1


async def test_the_original_exception_is_kept(run_flow: Any) -> None:
    run = await run_flow([http("get", f"http://127.0.0.1:{free_port()}/x")])
    error = run.error("get")
    assert error["category"] == "TRANSPORT"
    cause = error["details"]["cause"]
    assert cause["type"] == "ConnectError"
    assert cause["message"]
    (failed,) = run.of(NodeFailed)
    assert failed.traceback is not None
    assert "ConnectError" in failed.traceback
    assert "TransportError" in failed.traceback  # the chain: cause, then our error


async def test_calls_are_counted_per_source_and_type_and_published(
    run_flow: Any, peer: Peer
) -> None:
    before = METRICS.snapshot()
    seen: list[Any] = []
    unsubscribe = BUS.subscribe("*", seen.append)
    try:
        run = await run_flow(
            [
                http("ok", f"{peer.url}/echo"),
                http("bad", f"{peer.url}/fail/500", node={"on_error": "continue"}),
            ]
        )
    finally:
        unsubscribe()
    assert run.node("ok")["status"] == "succeeded"
    after = METRICS.snapshot()
    source = after["sources"][peer.url]
    old = before["sources"].get(peer.url, {"count": 0, "successes": 0})
    assert source["count"] - old["count"] == 2
    assert source["successes"] - old["successes"] == 1
    assert 0 < source["min_ms"] <= source["avg_ms"] <= source["max_ms"]
    kind = after["types"]["http.request"]
    old_kind = before["types"].get("http.request", {"count": 0, "successes": 0})
    assert kind["count"] - old_kind["count"] == 2
    assert kind["successes"] - old_kind["successes"] == 1
    names = [e.name for e in seen]
    assert names[0] == "run.started" and names[-1] == "run.finished"
    assert names.count("http.request") == 2 and names.count("http.response") == 2
    assert names.count("source.connect") == 1 and names.count("source.disconnect") == 1
    responses = [e for e in seen if e.name == "http.response"]
    assert sorted(e.status for e in responses) == [200, 500]
    assert all(e.source == peer.url and e.duration_ms > 0 for e in responses)
    assert all("/echo" not in repr(e) for e in seen if e.name.startswith("http."))
    disconnect = next(e for e in seen if e.name == "source.disconnect")
    assert (disconnect.source, disconnect.calls) == (peer.url, 2)


async def test_a_run_without_subscribers_publishes_nothing(run_flow: Any, peer: Peer) -> None:
    assert not BUS.active
    run = await run_flow([http("ok", f"{peer.url}/echo")])
    assert run.status == "succeeded"
