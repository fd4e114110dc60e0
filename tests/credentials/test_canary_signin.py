"""The canary for signed-in credentials: the client secret, the access and
refresh tokens of a sign-in (those from the login and the rotated ones of a
refresh during the run) appear in no file written by the login, the run and
the history — nor in what the commands printed, successful and failing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, quote, quote_plus, urlsplit

import httpx
from flowdesk.engine.credentials import tokens_key
from flowdesk.engine.keyring_store import KeyringSecretStore
from flowdesk.engine.oauth2_login import TokenRecord

from .authserver import CLIENT_SECRET, CONFIDENTIAL_CLIENT, OAuthServer


def test_no_sign_in_secret_in_any_file_or_output(
    oauth_server: OAuthServer, keyring_store: KeyringSecretStore, cred_name: str, tmp_path: Path
):
    cred = oauth_server.credential(client_id=CONFIDENTIAL_CLIENT)
    doc = {
        "format": "flowdesk/workflow",
        "version": 1,
        "name": "canary-signin",
        "credentials": {cred_name: cred},
        "nodes": [
            {
                "id": "gmail",
                "type": "gmail.send",
                "config": {
                    "credential": cred_name,
                    "base_url": oauth_server.url,
                    "to": "ann@example.com",
                    "subject": "hi",
                    "text": "hello",
                },
                "on_error": "continue",
            },
            {
                "id": "bad_address",
                "type": "outlook.send",
                "config": {
                    "credential": cred_name,
                    "base_url": f"{oauth_server.url}/v1.0",
                    "to": "ann@",
                    "text": "x",
                },
                "on_error": "continue",
            },
            {
                "id": "missing",
                "type": "http.request",
                "config": {"url": f"{oauth_server.url}/nowhere", "credential": cred_name},
                "on_error": "continue",
            },
            {
                "id": "ok",
                "type": "http.request",
                "config": {"url": f"{oauth_server.url}/api/me", "credential": cred_name},
                "on_error": "continue",
            },
        ],
        "edges": [],
    }
    flow = tmp_path / "canary.flow.json"
    flow.write_text(json.dumps(doc, indent=2))
    env = {
        **os.environ,
        "FLOWDESK_DATA_DIR": str(tmp_path / "data"),
        f"FLOWDESK_SECRET_{cred_name.upper()}": CLIENT_SECRET,
    }
    outputs = []
    login = subprocess.Popen(
        [
            *(sys.executable, "-m", "flowdesk", "credentials", "login", cred_name),
            *("--flow", str(flow), "--no-browser", "--timeout", "20"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert login.stdout is not None
    url = ""
    while not url.startswith("http"):
        url = login.stdout.readline().strip()
    assert parse_qs(urlsplit(url).query)["client_id"] == [CONFIDENTIAL_CLIENT]
    page = httpx.get(url, follow_redirects=True, timeout=10)
    outputs.append(page.text)
    out, err = login.communicate(timeout=20)
    assert login.returncode == 0, err
    outputs += [url, out, err]
    first = TokenRecord.from_json(keyring_store.get_secret(tokens_key(cred_name)) or "")
    assert first is not None and first.refresh_token
    # make the run refresh (and rotate) before sending
    first.expires_at = time.time() + 5
    keyring_store.set_secret(tokens_key(cred_name), first.to_json())

    run = subprocess.run(
        [sys.executable, "-m", "flowdesk", "run", str(flow), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    outputs += [run.stdout, run.stderr]
    result = json.loads(run.stdout)
    nodes = result["nodes"]
    assert nodes["gmail"]["output"]["deduplicated"] is False, nodes["gmail"]
    assert nodes["ok"]["output"]["body"] == {"user": "alice"}
    assert nodes["bad_address"]["error"]["code"] == "INVALID_PARAMS"
    assert nodes["missing"]["status"] == "failed"
    assert oauth_server.state.refreshes == 1
    rotated = TokenRecord.from_json(keyring_store.get_secret(tokens_key(cred_name)) or "")
    assert rotated is not None and rotated.refresh_token != first.refresh_token
    history = subprocess.run(
        [sys.executable, "-m", "flowdesk", "history", "show", result["run_id"], "--json"],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
    )
    assert history.returncode == 0, history.stderr
    outputs += [history.stdout, history.stderr]
    (tmp_path / "outputs.txt").write_text("\n".join(outputs))

    secrets = {CLIENT_SECRET, *first.secrets(), *rotated.secrets()}
    forms = {f for s in secrets for f in (s, quote(s, safe=""), quote_plus(s))}
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.suffix in (".db", ".sqlite", ".sqlite3") for p in written)
    for path in written:
        data = path.read_bytes()
        for form in forms:
            assert form.encode() not in data, f"{path.relative_to(tmp_path)} contains a secret"
