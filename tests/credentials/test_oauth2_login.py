"""Signing in with OAuth2 authorization code + PKCE against a real authorization
server (authlib's server components on loopback): the CLI login driven end to
end with --no-browser and an HTTP client following the authorize URL; state
and PKCE mismatches refused; refresh before expiry and on a 401, rotated
refresh tokens saved; a revoked sign-in an AUTH error that says to sign in
again."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from flowdesk.engine import Engine, NodeRegistry, loads_workflow
from flowdesk.engine.credentials import MemorySecretStore, tokens_key
from flowdesk.engine.errors import AuthError, FlowdeskError
from flowdesk.engine.keyring_store import KeyringSecretStore
from flowdesk.engine.model.workflow import OAuth2AuthorizationCode
from flowdesk.engine.oauth2_login import TokenRecord, endpoints, login

from .authserver import CLIENT_SECRET, CONFIDENTIAL_CLIENT, OAuthServer

REGISTRY = NodeRegistry.default(plugins=False)


def _flow(server: OAuthServer, name: str = "mail", nodes: int = 1, **cred: Any) -> dict:
    return {
        "format": "flowdesk/workflow",
        "version": 1,
        "name": "signed-in",
        "credentials": {name: server.credential(**cred)},
        "nodes": [
            {
                "id": f"n{i}",
                "type": "http.request",
                "config": {"url": f"{server.url}/api/me", "credential": name},
            }
            for i in range(nodes)
        ],
        "edges": [],
    }


async def _sign_in(
    server: OAuthServer, ref: OAuth2AuthorizationCode, secret: str | None = None, **kw: Any
) -> tuple[TokenRecord, list[httpx.Response]]:
    """``login`` with a 'browser' that follows the authorize URL."""
    pages: list[httpx.Response] = []
    tasks = []

    def announce(url: str) -> None:
        async def browse() -> None:
            async with httpx.AsyncClient() as client:
                pages.append(await client.get(url, follow_redirects=True))

        tasks.append(asyncio.create_task(browse()))

    record = await login("mail", ref, secret, announce, timeout_s=kw.pop("timeout_s", 10))
    await asyncio.gather(*tasks)
    return record, pages


async def _run(server: OAuthServer, store: MemorySecretStore, nodes: int = 1) -> dict:
    workflow = loads_workflow(json.dumps(_flow(server, nodes=nodes)), REGISTRY)
    handle = Engine(REGISTRY, secrets=store).start(workflow)
    return (await handle.wait()).to_json()


def _ref(server: OAuthServer, **kw: Any) -> OAuth2AuthorizationCode:
    return OAuth2AuthorizationCode.model_validate(server.credential(**kw))


def test_cli_login_with_no_browser_end_to_end(
    oauth_server: OAuthServer, keyring_store: KeyringSecretStore, cred_name: str, tmp_path: Path
):
    flow = tmp_path / "signed.flow.json"
    flow.write_text(json.dumps(_flow(oauth_server, cred_name)))
    env = {**os.environ, "FLOWDESK_DATA_DIR": str(tmp_path / "data")}
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "flowdesk", "credentials", "login", cred_name),
            *("--flow", str(flow), "--no-browser", "--timeout", "20"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    url = ""
    for _ in range(5):
        line = proc.stdout.readline().strip()
        if line.startswith("http"):
            url = line
            break
    assert url.startswith(f"{oauth_server.url}/authorize?"), url
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"] and len(query["state"][0]) >= 32
    assert query["redirect_uri"][0].startswith("http://127.0.0.1:")
    page = httpx.get(url, follow_redirects=True, timeout=10)
    assert page.status_code == 200 and "Signed in" in page.text
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "Signed in" in out and "refresh token" in out
    assert keyring_store.signed_in(cred_name)
    assert cred_name in keyring_store.list_names()  # one name, not the token entry
    assert not any(n.endswith("oauth2_tokens") for n in keyring_store.list_names())

    # the flow runs with the stored sign-in
    run = subprocess.run(
        [sys.executable, "-m", "flowdesk", "run", str(flow), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    result = json.loads(run.stdout)
    assert result["nodes"]["n0"]["output"]["body"] == {"user": "alice"}, result

    listing = subprocess.run(
        [sys.executable, "-m", "flowdesk", "credentials", "list", "--flow", str(flow), "--json"],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
    )
    rows = json.loads(listing.stdout)["credentials"]
    assert [r["secret"] for r in rows if r["name"] == cred_name] == ["signed in"]

    # delete = sign out: the tokens go too
    keyring_store.delete_secret(cred_name)
    assert not keyring_store.signed_in(cred_name)


async def test_login_exchanges_the_code_with_pkce_and_a_confidential_client(
    oauth_server: OAuthServer,
):
    ref = _ref(oauth_server, client_id=CONFIDENTIAL_CLIENT)
    record, pages = await _sign_in(oauth_server, ref, CLIENT_SECRET)
    assert pages[0].status_code == 200 and "You can close this tab" in pages[0].text
    assert record.refresh_token and record.expires_at and record.expires_at > time.time() + 3000
    form = oauth_server.state.token_requests[0]
    assert form["grant_type"] == "authorization_code"
    assert len(form["code_verifier"]) >= 43 and form["redirect_uri"].startswith("http://127.0.0.1")


async def test_a_wrong_state_is_refused_and_the_real_answer_still_signs_in(
    oauth_server: OAuthServer,
):
    ref = _ref(oauth_server)
    refused: list[httpx.Response] = []

    def announce(url: str) -> None:
        async def browse() -> None:
            async with httpx.AsyncClient() as client:
                first = await client.get(url, follow_redirects=False)
                callback = first.headers["location"]
                forged = callback.replace("state=", "state=forged")
                refused.append(await client.get(forged))
                await client.get(callback)

        asyncio.get_running_loop().create_task(browse())

    record = await login("mail", ref, None, announce, timeout_s=10)
    assert refused[0].status_code == 400 and "state mismatch" in refused[0].text
    assert record.access_token


async def test_the_pkce_challenge_binds_the_code_to_the_verifier(oauth_server: OAuthServer):
    """A code intercepted on its way back cannot be exchanged without the verifier."""
    ref = _ref(oauth_server)
    stolen: list[str] = []

    def announce(url: str) -> None:
        async def browse() -> None:
            async with httpx.AsyncClient() as client:
                first = await client.get(url, follow_redirects=False)
                callback = first.headers["location"]
                code = parse_qs(urlsplit(callback).query)["code"][0]
                stolen.append(code)
                attempt = await client.post(
                    f"{oauth_server.url}/token",
                    data={
                        "grant_type": "authorization_code",
                        "code": code,
                        "client_id": ref.client_id,
                        "redirect_uri": parse_qs(urlsplit(url).query)["redirect_uri"][0],
                        "code_verifier": "x" * 64,
                    },
                )
                stolen.append(attempt.json()["error"])
                await client.get(callback)

        asyncio.get_running_loop().create_task(browse())

    record = await login("mail", ref, None, announce, timeout_s=10)
    assert stolen[1] == "invalid_grant"  # a wrong verifier is refused by the server
    code = oauth_server.state.token_requests[-1]
    assert code["code"] == stolen[0] and code["code_verifier"] != "x" * 64
    assert record.access_token  # Flowdesk's own exchange, with its verifier, succeeds


async def test_a_refused_consent_and_a_timeout_are_clear_errors(oauth_server: OAuthServer):
    ref = _ref(oauth_server)
    oauth_server.state.deny = True
    with pytest.raises(AuthError, match="access_denied: the user said no"):
        await _sign_in(oauth_server, ref)
    with pytest.raises(FlowdeskError, match=r"no sign-in arrived within 0\.3 s") as caught:
        await login("mail", ref, None, lambda url: None, timeout_s=0.3)
    assert caught.value.code == "OAUTH2_LOGIN_TIMEOUT"


async def test_refresh_before_expiry_rotation_saved_and_refresh_on_401(oauth_server: OAuthServer):
    ref = _ref(oauth_server)
    record, _ = await _sign_in(oauth_server, ref)
    store = MemorySecretStore({tokens_key("mail"): record.to_json()})

    result = await _run(oauth_server, store, nodes=3)
    assert result["status"] == "succeeded", result
    assert oauth_server.state.refreshes == 0  # the token from the sign-in is used

    # shortly before expiry: refreshed once for all nodes, the rotated token saved
    near = TokenRecord.from_json(store.get_secret(tokens_key("mail")) or "")
    assert near is not None
    near.expires_at = time.time() + 20
    store.set_secret(tokens_key("mail"), near.to_json())
    result = await _run(oauth_server, store, nodes=3)
    assert result["status"] == "succeeded", result
    assert oauth_server.state.refreshes == 1
    saved = TokenRecord.from_json(store.get_secret(tokens_key("mail")) or "")
    assert saved is not None and saved.refresh_token != record.refresh_token
    assert saved.access_token != record.access_token

    # the server refuses a token the keyring still calls fresh: refreshed once, retried
    oauth_server.state.expire_access_tokens()
    result = await _run(oauth_server, store, nodes=1)
    assert result["status"] == "succeeded", result
    assert oauth_server.state.refreshes == 2 and oauth_server.state.api_401 == 1
    rotated = TokenRecord.from_json(store.get_secret(tokens_key("mail")) or "")
    assert rotated is not None and rotated.refresh_token != saved.refresh_token


async def test_a_revoked_sign_in_says_to_sign_in_again(oauth_server: OAuthServer):
    ref = _ref(oauth_server)
    record, _ = await _sign_in(oauth_server, ref)
    async with httpx.AsyncClient() as client:  # the user revokes Flowdesk's access
        answer = await client.post(
            f"{oauth_server.url}/revoke",
            data={"token": record.refresh_token, "client_id": ref.client_id},
        )
    assert answer.status_code == 200
    oauth_server.state.revoke_all()
    store = MemorySecretStore({tokens_key("mail"): record.to_json()})
    result = await _run(oauth_server, store)
    error = result["nodes"]["n0"]["error"]
    assert error["category"] == "AUTH" and error["code"] == "OAUTH2_SIGN_IN_REQUIRED"
    assert (
        "sign in again" in error["message"]
        and "flowdesk credentials login mail" in (error["message"])
    )
    assert error["details"]["action"] == "sign_in" and not error["retryable"]
    assert record.refresh_token not in json.dumps(result)


async def test_not_signed_in_is_an_auth_error_naming_the_command(oauth_server: OAuthServer):
    result = await _run(oauth_server, MemorySecretStore())
    error = result["nodes"]["n0"]["error"]
    assert error["code"] == "OAUTH2_SIGN_IN_REQUIRED"
    assert "is not signed in" in error["message"]
    assert "flowdesk credentials login mail" in error["message"]


def test_presets_fill_google_and_microsoft_endpoints():
    google = OAuth2AuthorizationCode.model_validate(
        {"type": "oauth2_authorization_code", "preset": "google", "client_id": "x"}
    )
    ends = endpoints(google)
    assert ends.authorize_url == "https://accounts.google.com/o/oauth2/v2/auth"
    assert ends.token_url == "https://oauth2.googleapis.com/token"
    assert ends.scopes == ("https://www.googleapis.com/auth/gmail.send",)
    assert ends.authorize_params["access_type"] == "offline"
    microsoft = OAuth2AuthorizationCode.model_validate(
        {"type": "oauth2_authorization_code", "preset": "microsoft", "client_id": "x"}
    )
    ends = endpoints(microsoft)
    assert "login.microsoftonline.com" in ends.authorize_url
    assert "https://graph.microsoft.com/Mail.Send" in ends.scopes
    assert "offline_access" in ends.scopes
    with pytest.raises(ValueError, match="authorize_url"):
        OAuth2AuthorizationCode.model_validate(
            {"type": "oauth2_authorization_code", "client_id": "x"}
        )


async def test_a_refresh_token_rotated_by_another_run_is_picked_up(oauth_server: OAuthServer):
    """Two runs read the same expiring sign-in; the other one refreshes first
    (the server rotates the refresh token and refuses the old one): this run
    takes the tokens the other one saved instead of asking to sign in again."""
    ref = _ref(oauth_server)
    record, _ = await _sign_in(oauth_server, ref)
    record.expires_at = time.time() + 5
    stale = record.to_json()

    class RacingStore(MemorySecretStore):
        """The first read returns what the keyring held before the other run saved."""

        reads = 0

        def get_secret(self, name: str) -> str | None:
            self.reads += 1
            return stale if self.reads == 1 else super().get_secret(name)

    other = MemorySecretStore({tokens_key("mail"): stale})
    assert (await _run(oauth_server, other))["status"] == "succeeded"  # the other run
    assert oauth_server.state.refreshes == 1
    store = RacingStore({tokens_key("mail"): other.get_secret(tokens_key("mail")) or ""})
    result = await _run(oauth_server, store)
    assert result["status"] == "succeeded", result
    assert oauth_server.state.refreshes == 1  # no second refresh: the rotated tokens were used
    assert any(r.get("grant_type") == "refresh_token" for r in oauth_server.state.token_requests)
