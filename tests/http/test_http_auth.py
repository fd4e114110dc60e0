"""Credentials on requests (bearer, basic, api_key in header/query/cookie),
missing secrets, redirects across origins, and secrets kept out of every
result, event and error the program writes."""

from __future__ import annotations

import base64
import json

import pytest
from flowdesk.engine import NodeLog, NodeRegistry, loads_workflow, validate

from tests.helpers import free_port

from .conftest import flow, http

CREDENTIALS = {
    "token": {"type": "bearer"},
    "login": {"type": "basic", "username": "alice"},
    "header_key": {"type": "api_key", "name": "X-Api-Key", "in": "header"},
    "query_key": {"type": "api_key", "name": "api_key", "in": "query"},
    "cookie_key": {"type": "api_key", "name": "session", "in": "cookie"},
    "oauth": {
        "type": "oauth2_client_credentials",
        "token_url": "http://127.0.0.1:1/token",
        "client_id": "flowdesk",
    },
}
SECRET = "s3cr3t+/=&value"  # characters that change when URL- or base64-encoded
SECRETS = {name: SECRET for name in CREDENTIALS}


async def test_bearer_token_is_sent_as_authorization(run_flow, httpbin_url):
    run = await run_flow(
        [http("b", f"{httpbin_url}/bearer", credential="token")],
        credentials=CREDENTIALS,
        secrets={"token": "tok-123"},
    )
    assert run.output("b")["body"] == {"authenticated": True, "token": "tok-123"}


async def test_basic_auth_logs_in_with_username_and_secret_password(run_flow, httpbin_url):
    run = await run_flow(
        [http("b", f"{httpbin_url}/basic-auth/alice/pa:ss", credential="login")],
        credentials=CREDENTIALS,
        secrets={"login": "pa:ss"},
    )
    assert run.output("b")["body"] == {"authenticated": True, "user": "alice"}


async def test_a_wrong_password_is_an_auth_category_error_not_retried(run_flow, httpbin_url):
    run = await run_flow(
        [
            http(
                "b",
                f"{httpbin_url}/basic-auth/alice/right",
                credential="login",
                node={"retry": {"max_attempts": 3, "base_delay_s": 0}},
            )
        ],
        credentials=CREDENTIALS,
        secrets={"login": "wrong"},
    )
    error = run.error("b")
    assert (error["code"], error["category"], error["retryable"]) == (
        "HTTP_STATUS",
        "AUTH",
        False,
    )
    assert error["details"]["status"] == 401
    assert run.node("b")["attempts"] == 1


async def test_api_key_in_a_header(run_flow, peer):
    run = await run_flow(
        [http("k", f"{peer.url}/echo", credential="header_key")],
        credentials=CREDENTIALS,
        secrets=SECRETS,
    )
    assert run.output("k")["body"]["headers"]["x-api-key"] == SECRET


async def test_api_key_in_the_query_string(run_flow, httpbin_url):
    run = await run_flow(
        [http("k", f"{httpbin_url}/get", credential="query_key", query={"page": 1})],
        credentials=CREDENTIALS,
        secrets=SECRETS,
    )
    assert run.output("k")["body"]["args"] == {"page": "1", "api_key": SECRET}


async def test_api_key_in_a_cookie_alongside_a_cookie_header(run_flow, httpbin_url):
    run = await run_flow(
        [
            http(
                "k",
                f"{httpbin_url}/cookies",
                credential="cookie_key",
                headers={"Cookie": "theme=dark"},
            )
        ],
        credentials=CREDENTIALS,
        secrets={"cookie_key": "abc123"},
    )
    assert run.output("k")["body"]["cookies"] == {"theme": "dark", "session": "abc123"}


async def test_a_missing_secret_names_the_credential_and_how_to_set_it(run_flow, httpbin_url):
    run = await run_flow(
        [http("b", f"{httpbin_url}/bearer", credential="token")], credentials=CREDENTIALS
    )
    error = run.error("b")
    assert (error["code"], error["category"]) == ("CREDENTIAL_MISSING", "AUTH")
    assert "'token'" in error["message"]
    assert "FLOWDESK_SECRET_TOKEN" in error["message"]


async def test_an_unreachable_oauth2_token_endpoint_is_a_transport_error(run_flow, httpbin_url):
    # Full OAuth2 coverage (token fetch, sharing, refresh) is in tests/credentials.
    run = await run_flow(
        [http("o", f"{httpbin_url}/get", credential="oauth")],
        credentials=CREDENTIALS,
        secrets=SECRETS,
    )
    error = run.error("o")
    assert error["category"] == "TRANSPORT"
    assert "token endpoint http://127.0.0.1:1/token could not be reached" in error["message"]
    assert SECRET not in json.dumps(error)


def test_an_undeclared_credential_is_reported_when_the_file_loads(registry: NodeRegistry):
    doc = flow([http("b", "http://127.0.0.1:1/", credential="nope")], credentials=CREDENTIALS)
    issues = validate(loads_workflow(json.dumps(doc), registry), registry)
    assert [i.location for i in issues] == ["nodes[0].config.credential"]
    assert "'nope'" in issues[0].message


async def test_credentials_follow_a_redirect_on_the_same_origin(run_flow, httpbin_url):
    run = await run_flow(
        [
            http("b", f"{httpbin_url}/redirect-to", credential="token", query={"url": "/bearer"}),
            http("q", f"{httpbin_url}/redirect-to", credential="query_key", query={"url": "/get"}),
            http(
                "c",
                f"{httpbin_url}/redirect-to",
                credential="cookie_key",
                headers={"cookie": "theme=dark"},
                query={"url": "/cookies"},
            ),
        ],
        credentials=CREDENTIALS,
        secrets={"token": "tok", "query_key": SECRET, "cookie_key": "abc"},
    )
    assert run.output("c")["body"]["cookies"] == {"theme": "dark", "session": "abc"}
    assert run.output("b")["body"] == {"authenticated": True, "token": "tok"}
    assert run.output("q")["body"]["args"] == {"api_key": SECRET}


@pytest.mark.parametrize("credential", ["token", "login", "header_key", "query_key", "cookie_key"])
async def test_credentials_never_follow_a_redirect_to_another_origin(
    run_flow, httpbin_url, peer, credential
):
    # httpbin's port differs from the peer's: a different origin.
    run = await run_flow(
        [
            http(
                "r",
                f"{httpbin_url}/redirect-to",
                credential=credential,
                query={"url": f"{peer.url}/echo"},
            )
        ],
        credentials=CREDENTIALS,
        secrets=SECRETS,
    )
    seen = run.output("r")["body"]
    assert seen["path"] == "/echo"
    assert SECRET not in json.dumps(seen)
    assert "authorization" not in seen["headers"]
    assert "x-api-key" not in seen["headers"]


async def test_secrets_stay_out_of_results_events_and_errors(run_flow, httpbin_url, peer):
    dead = f"http://127.0.0.1:{free_port()}"
    nodes = [
        http("status", f"{httpbin_url}/status/500", credential="query_key"),
        http("refused", f"{dead}/x", credential="query_key"),
        http(
            "slow", f"{peer.url}/slow", credential="header_key", query={"delay": 2}, timeout_s=0.2
        ),
        http(
            "big",
            f"{peer.url}/large/secret-test",
            credential="query_key",
            query={"size": 5000},
            max_response_bytes=100,
        ),
        http("basic", f"{httpbin_url}/status/401", credential="login"),
        http(
            "ok",
            f"{httpbin_url}/redirect-to",
            credential="query_key",
            query={"url": "/status/200"},
        ),
    ]
    on_error = [{**n, "on_error": "continue"} for n in nodes]
    run = await run_flow(on_error, credentials=CREDENTIALS, secrets=SECRETS)
    codes = {n["id"]: run.node(n["id"])["error"] and run.error(n["id"])["code"] for n in nodes}
    assert codes == {
        "status": "HTTP_STATUS",
        "refused": "TRANSPORT",
        "slow": "TIMEOUT",
        "big": "RESPONSE_TOO_LARGE",
        "basic": "HTTP_STATUS",
        "ok": None,
    }
    written = run.everything_written()
    basic_token = base64.b64encode(f"alice:{SECRET}".encode()).decode()
    for form in (SECRET, "s3cr3t%2B%2F%3D%26value", "s3cr3t", basic_token):
        assert form not in written
    # The redirect was logged (the followed URL carried the key: not shown).
    logged = [e.message for e in run.of(NodeLog)]
    assert any("302 redirect to" in line and "/status/200" in line for line in logged)
