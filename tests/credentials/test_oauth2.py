"""OAuth2 client credentials against a local token endpoint over real HTTP:
the token request, one fetch shared by concurrent nodes, refresh on expiry and
on a 401, and a refused client secret as an AUTH error with the endpoint's
message."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from typing import Any

import pytest
from flowdesk.engine import Engine, NodeRegistry, loads_workflow
from flowdesk.engine.credentials import MemorySecretStore
from flowdesk.engine.errors import AuthError

from .server import CLIENT_ID, AuthServer

SECRET = "client+secret/=&x"
REGISTRY = NodeRegistry.default(plugins=False)


def _doc(server: AuthServer, key: str, nodes: int, scopes: list[str] | None = None) -> str:
    return json.dumps(
        {
            "format": "flowdesk/workflow",
            "version": 1,
            "name": "oauth",
            "credentials": {
                "api": {
                    "type": "oauth2_client_credentials",
                    "token_url": f"{server.url}/token/{key}",
                    "client_id": CLIENT_ID,
                    "scopes": scopes or [],
                }
            },
            "nodes": [
                {
                    "id": f"n{i}",
                    "type": "http.request",
                    "config": {"url": f"{server.url}/api/{key}", "credential": "api"},
                }
                for i in range(nodes)
            ],
            "edges": [],
        }
    )


async def _run(server: AuthServer, key: str, nodes: int = 1, secret: str = SECRET, **kw: Any):
    workflow = loads_workflow(_doc(server, key, nodes, **kw), REGISTRY)
    engine = Engine(REGISTRY, secrets=MemorySecretStore({"api": secret}))
    handle = engine.start(workflow)
    result = await handle.wait()
    return result.to_json(), handle


async def test_token_fetched_with_basic_client_auth_and_form(auth_server: AuthServer):
    key = uuid.uuid4().hex
    realm = auth_server.realm(key, SECRET)
    result, handle = await _run(auth_server, key, scopes=["read", "write"])
    assert result["status"] == "succeeded", result
    assert result["nodes"]["n0"]["output"]["body"] == {"ok": True}
    assert realm.forms == [{"grant_type": "client_credentials", "scope": "read write"}]
    token = next(iter(realm.valid))
    assert SECRET in handle.secrets_used() and token in handle.secrets_used()


async def test_concurrent_nodes_share_one_token_fetch(auth_server: AuthServer):
    key = uuid.uuid4().hex
    realm = auth_server.realm(key, SECRET)
    result, _ = await _run(auth_server, key, nodes=12)
    assert result["status"] == "succeeded", result
    assert realm.fetches == 1
    assert realm.api_calls == 12 and realm.api_401 == 0


async def test_a_token_is_renewed_shortly_before_it_expires(auth_server: AuthServer):
    from flowdesk.engine.credentials import CredentialResolver
    from flowdesk.engine.model.workflow import OAuth2ClientCredentials
    from flowdesk.engine.oauth2 import probe

    key = uuid.uuid4().hex
    realm = auth_server.realm(key, SECRET, ttl=1)
    ref = OAuth2ClientCredentials(
        type="oauth2_client_credentials",
        token_url=f"{auth_server.url}/token/{key}",
        client_id=CLIENT_ID,
    )
    resolver = CredentialResolver({"api": ref}, MemorySecretStore({"api": SECRET}))
    import httpx

    async with httpx.AsyncClient() as client:
        assert await probe(resolver, "api", f"{auth_server.url}/api/{key}", client=client) == 200
        assert await probe(resolver, "api", f"{auth_server.url}/api/{key}", client=client) == 200
        assert realm.fetches == 1
        await asyncio.sleep(1.0)  # ttl 1 s, renewed 0.1 s before
        assert await probe(resolver, "api", f"{auth_server.url}/api/{key}", client=client) == 200
    assert realm.fetches == 2
    assert realm.api_401 == 0


async def test_a_401_refreshes_the_token_once_and_retries(auth_server: AuthServer):
    from flowdesk.engine.credentials import CredentialResolver
    from flowdesk.engine.model.workflow import OAuth2ClientCredentials
    from flowdesk.engine.oauth2 import probe

    key = uuid.uuid4().hex
    realm = auth_server.realm(key, SECRET)
    ref = OAuth2ClientCredentials(
        type="oauth2_client_credentials",
        token_url=f"{auth_server.url}/token/{key}",
        client_id=CLIENT_ID,
    )
    resolver = CredentialResolver({"api": ref}, MemorySecretStore({"api": SECRET}))
    import httpx

    async with httpx.AsyncClient() as client:
        url = f"{auth_server.url}/api/{key}"
        assert await probe(resolver, "api", url, client=client) == 200
        realm.valid.clear()  # the server revokes the token
        statuses = await asyncio.gather(
            *(probe(resolver, "api", url, client=client) for _ in range(5))
        )
        assert statuses == [200] * 5
        assert realm.fetches == 2  # one refresh for all five refused requests
        # a token the server refuses even when fresh: one refresh, one retry, then the 401
        realm.refuse_all = True
        assert await probe(resolver, "api", url, client=client) == 401
        assert realm.fetches == 3
        realm.refuse_all = False
        # the refresh itself refused: the endpoint's message, as an AUTH error
        realm.valid.clear()
        realm.secret = "rotated"
        with pytest.raises(AuthError, match="invalid_client") as caught:
            await probe(resolver, "api", url, client=client)
    assert SECRET not in caught.value.message


async def test_a_refused_client_secret_is_an_auth_error_with_the_endpoint_message(
    auth_server: AuthServer,
):
    key = uuid.uuid4().hex
    realm = auth_server.realm(key, "the-right-one")
    result, _ = await _run(auth_server, key, nodes=3, secret=SECRET)
    assert result["status"] == "failed"
    error = result["nodes"]["n0"]["error"]
    assert error["category"] == "AUTH"
    assert error["code"] == "OAUTH2_TOKEN_FAILED"
    assert "invalid_client: client authentication failed" in error["message"]
    assert "HTTP 401" in error["message"]
    text = json.dumps(result)
    basic = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
    assert SECRET not in text and basic not in text
    assert realm.api_calls == 0


@pytest.mark.parametrize(("status", "category"), [(503, "TRANSPORT"), (429, "RATE_LIMIT")])
async def test_a_failing_token_endpoint_is_not_an_auth_error_and_is_retried(
    auth_server: AuthServer, status: int, category: str
):
    from flowdesk.engine.bus import BUS

    key = uuid.uuid4().hex
    realm = auth_server.realm(key, SECRET)
    realm.fail_status, realm.fail_times = status, 1
    seen: list[Any] = []
    stops = [BUS.subscribe(name, seen.append) for name in ("auth.error", "auth.refresh")]
    try:
        failed, _ = await _run(auth_server, key)
        realm.fail_times = 1
        doc = json.loads(_doc(auth_server, key, 1))
        doc["settings"] = {"retry": {"preset": "network", "base_delay_s": 0.01}}
        workflow = loads_workflow(json.dumps(doc), REGISTRY)
        engine = Engine(REGISTRY, secrets=MemorySecretStore({"api": SECRET}))
        retried = (await engine.run(workflow)).to_json()
    finally:
        for stop in stops:
            stop()
    error = failed["nodes"]["n0"]["error"]
    assert (error["code"], error["category"], error["retryable"]) == (
        "OAUTH2_TOKEN_FAILED",
        category,
        True,
    )
    assert retried["status"] == "succeeded", retried
    assert retried["nodes"]["n0"]["attempts"] == 2
    names = [e.name for e in seen]
    assert names.count("auth.error") == 2 and names.count("auth.refresh") == 1
    assert all(SECRET not in repr(e) for e in seen)
