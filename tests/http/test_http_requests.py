"""``http.request`` against httpbin and our peer: methods, bodies, query,
headers, response decoding, ``ok_status``, redirects, and config mistakes."""

from __future__ import annotations

import base64
import json

import pytest
from flowdesk.engine import NodeRegistry, loads_workflow, validate

from .conftest import flow, http


async def test_get_json_gives_status_headers_and_parsed_body(run_flow, httpbin_url):
    run = await run_flow([http("fetch", f"{httpbin_url}/json")])
    assert run.status == "succeeded"
    out = run.output("fetch")
    assert set(out) == {"status", "headers", "body"}
    assert out["status"] == 200
    assert out["headers"]["content-type"] == "application/json"
    assert out["body"]["slideshow"]["title"] == "Sample Slide Show"


async def test_post_json_body_reaches_the_server_as_json(run_flow, httpbin_url):
    payload = {"name": "Ada", "tags": ["x", "y"], "n": 3, "ok": True, "none": None, "é": "ü"}
    run = await run_flow([http("post", f"{httpbin_url}/post", method="POST", json=payload)])
    body = run.output("post")["body"]
    assert body["json"] == payload
    assert body["headers"]["Content-Type"] == "application/json"


async def test_json_body_from_the_input_port(run_flow, httpbin_url):
    nodes = [
        {"id": "make", "type": "data.transform", "config": {"value": {"id": 7, "qty": 2}}},
        http("post", f"{httpbin_url}/anything", method="PUT", json="{{ input }}"),
    ]
    run = await run_flow(nodes, [("make", "post")])
    body = run.output("post")["body"]
    assert body["method"] == "PUT"
    assert body["json"] == {"id": 7, "qty": 2}


async def test_text_body_is_sent_as_utf8_text(run_flow, httpbin_url):
    run = await run_flow(
        [http("post", f"{httpbin_url}/post", method="post", body="héllo {{ vars.who }}")],
        variables={"who": "world"},
    )
    body = run.output("post")["body"]
    assert body["data"] == "héllo world"
    assert body["headers"]["Content-Type"] == "text/plain; charset=utf-8"


async def test_query_parameters_merge_with_the_url_lists_repeat_and_null_is_left_out(
    run_flow, httpbin_url
):
    query = {"q": "a b&c", "page": 2, "tag": ["x", "y"], "skip": None, "flag": True}
    run = await run_flow([http("get", f"{httpbin_url}/get?fixed=1", query=query)])
    args = run.output("get")["body"]["args"]
    assert args == {"fixed": "1", "q": "a b&c", "page": "2", "tag": ["x", "y"], "flag": "true"}


async def test_headers_are_sent_with_values_as_text(run_flow, peer):
    headers = {"X-Trace": "abc", "X-Count": 3, "X-Skip": None, "Accept": "application/json"}
    run = await run_flow([http("echo", f"{peer.url}/echo", headers=headers)])
    seen = run.output("echo")["body"]["headers"]
    assert seen["x-trace"] == "abc"
    assert seen["x-count"] == "3"
    assert "x-skip" not in seen
    assert seen["accept"] == "application/json"
    assert seen["user-agent"].startswith("flowdesk/")


async def test_head_request_has_no_body(run_flow, httpbin_url):
    run = await run_flow([http("head", f"{httpbin_url}/json", method="HEAD")])
    out = run.output("head")
    assert out["status"] == 200
    assert out["body"] is None


@pytest.mark.parametrize(
    ("path", "mode", "check"),
    [
        ("/html", "auto", lambda b: isinstance(b, str) and "<html>" in b),
        ("/robots.txt", "auto", lambda b: b.startswith("User-agent")),
        ("/xml", "auto", lambda b: b.startswith("<?xml")),
        ("/json", "text", lambda b: isinstance(b, str) and json.loads(b)["slideshow"]),
        ("/json", "bytes", lambda b: json.loads(base64.b64decode(b))["slideshow"]),
        ("/image/png", "auto", lambda b: base64.b64decode(b).startswith(b"\x89PNG")),
        ("/status/204", "auto", lambda b: b is None),
        ("/status/204", "json", lambda b: b is None),
        ("/gzip", "auto", lambda b: b["gzipped"] is True),
    ],
)
async def test_response_modes_decode_the_body(run_flow, httpbin_url, path, mode, check):
    run = await run_flow([http("get", f"{httpbin_url}{path}", response=mode)])
    assert run.status == "succeeded", run.node("get")
    assert check(run.output("get")["body"])


async def test_binary_body_round_trips_through_base64(run_flow, peer):
    run = await run_flow([http("bin", f"{peer.url}/binary")])
    assert base64.b64decode(run.output("bin")["body"]) == bytes(range(256))


async def test_text_uses_the_charset_the_server_declares(run_flow, peer):
    run = await run_flow([http("t", f"{peer.url}/latin1")])
    assert run.output("t")["body"] == "café crème"


async def test_body_that_is_not_json_is_a_clear_error(run_flow, peer):
    run = await run_flow([http("j", f"{peer.url}/bad-json")])
    error = run.error("j")
    assert error["code"] == "RESPONSE_NOT_JSON"
    assert "'text'" in error["message"]
    assert error["details"]["body"] == "{not json"


@pytest.mark.parametrize(
    ("ok_status", "path", "succeeds"),
    [
        ([200, 404], "/status/404", True),
        ("4xx", "/status/418", True),
        ("200-499", "/status/451", True),
        (["2xx", "304"], "/status/304", True),
        (201, "/status/200", False),
        ("2xx", "/status/404", False),
    ],
)
async def test_ok_status_decides_what_counts_as_success(
    run_flow, httpbin_url, ok_status, path, succeeds
):
    run = await run_flow([http("s", f"{httpbin_url}{path}", ok_status=ok_status)])
    assert (run.status == "succeeded") is succeeds
    if succeeds:
        assert run.output("s")["status"] == int(path.rsplit("/", 1)[1])
    else:
        assert run.error("s")["code"] == "HTTP_STATUS"


def test_a_malformed_ok_status_is_reported_when_the_file_loads(registry: NodeRegistry):
    doc = flow([http("s", "http://127.0.0.1:1/", ok_status=["2xx", "20x", 700])])
    issues = validate(loads_workflow(json.dumps(doc), registry), registry)
    assert [i.location for i in issues] == ["nodes[0].config.ok_status"]
    assert "'20x'" in issues[0].message and "'2xx'" in issues[0].message


async def test_redirects_are_followed_by_default(run_flow, httpbin_url):
    run = await run_flow([http("r", f"{httpbin_url}/redirect/3")])
    out = run.output("r")
    assert out["status"] == 200
    assert out["body"]["url"].endswith("/get")


async def test_redirects_can_be_left_unfollowed(run_flow, httpbin_url):
    run = await run_flow(
        [http("r", f"{httpbin_url}/redirect/1", follow_redirects=False, ok_status="3xx")]
    )
    out = run.output("r")
    assert out["status"] == 302
    assert out["headers"]["location"].endswith("/get")


async def test_an_unfollowed_redirect_outside_ok_status_is_an_error(run_flow, httpbin_url):
    run = await run_flow([http("r", f"{httpbin_url}/redirect/1", follow_redirects=False)])
    error = run.error("r")
    assert (error["code"], error["details"]["status"], error["retryable"]) == (
        "HTTP_STATUS",
        302,
        False,
    )


async def test_a_redirect_loop_stops_after_twenty_hops(run_flow, httpbin_url):
    run = await run_flow([http("r", f"{httpbin_url}/redirect/21")])
    error = run.error("r")
    assert error["code"] == "TOO_MANY_REDIRECTS"
    assert "20 redirects" in error["message"]


async def test_307_redirect_resends_the_body_and_303_switches_to_get(run_flow, peer):
    to = f"{peer.url}/echo"
    nodes = [
        http(
            "keep",
            f"{peer.url}/redirect",
            method="POST",
            json={"a": 1},
            query={"to": to, "status": 307},
        ),
        http(
            "get",
            f"{peer.url}/redirect",
            method="POST",
            json={"a": 1},
            query={"to": to, "status": 303},
        ),
    ]
    run = await run_flow(nodes)
    kept = run.output("keep")["body"]
    assert (kept["method"], json.loads(kept["body"])) == ("POST", {"a": 1})
    switched = run.output("get")["body"]
    assert (switched["method"], switched["body"]) == ("GET", "")


@pytest.mark.parametrize(
    "url", ["ftp://example.com/file", "example.com/no-scheme", "http://", "/relative/path"]
)
def test_a_url_that_is_not_absolute_http_is_a_config_error(registry: NodeRegistry, url):
    # a constant URL is checked before the run, as the run checks it (the
    # next test: one built by an expression, when the node runs)
    workflow = loads_workflow(json.dumps(flow([http("bad", url)])), registry)
    (issue,) = validate(workflow, registry)
    assert issue.location == "nodes[0].config.url"
    assert "http://" in issue.message


async def test_a_url_built_by_an_expression_is_checked_when_the_node_runs(run_flow):
    run = await run_flow([http("bad", "{{ vars.base }}/x")], variables={"base": "localhost"})
    error = run.error("bad")
    assert error["category"] == "CONFIG"
    assert "'localhost/x'" in error["message"]


def test_json_and_body_together_are_refused_when_the_file_loads(registry: NodeRegistry):
    doc = flow([http("both", "http://127.0.0.1:1/", json={"a": 1}, body="text")])
    issues = validate(loads_workflow(json.dumps(doc), registry), registry)
    assert len(issues) == 1
    assert "either 'json' or 'body'" in issues[0].message
    assert issues[0].location.startswith("nodes[0].config")


def test_unknown_config_keys_and_bad_methods_are_named(registry: NodeRegistry):
    doc = flow([http("n", "http://127.0.0.1:1/", method="FETCH", retries=3)])
    issues = validate(loads_workflow(json.dumps(doc), registry), registry)
    where = sorted(i.location for i in issues)
    assert where == ["nodes[0].config.method", "nodes[0].config.retries"]


def test_the_node_type_describes_itself_for_the_editor(registry: NodeRegistry):
    described = registry.get("http.request").describe()
    props = described["config_schema"]["properties"]
    assert {
        "method",
        "url",
        "query",
        "headers",
        "json",
        "body",
        "credential",
        "response",
        "ok_status",
        "follow_redirects",
        "idempotency_key",
    } <= set(props)
    assert [p["name"] for p in described["inputs"]] == ["in"]
    assert [p["name"] for p in described["outputs"]] == ["out"]
