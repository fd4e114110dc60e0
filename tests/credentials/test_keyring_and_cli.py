"""The keyring store against the real Secret Service, the message when no
backend is usable, the ``flowdesk credentials`` commands, and the resolution
order (environment variable first, then the keyring)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from flowdesk.engine.credentials import CredentialResolver
from flowdesk.engine.keyring_store import INDEX_USER, KeyringSecretStore, default_secret_store
from flowdesk.engine.model.workflow import BearerCredential

from .server import AuthServer

FLOWDESK = [sys.executable, "-m", "flowdesk"]


def flowdesk(*args: str, stdin: str = "", env: dict[str, str] | None = None):
    return subprocess.run(
        [*FLOWDESK, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, **(env or {})},
    )


def test_secrets_round_trip_in_the_real_keyring(keyring_store: KeyringSecretStore, cred_name):
    assert keyring_store.get_secret(cred_name) is None
    keyring_store.set_secret(cred_name, "first")
    keyring_store.set_secret(cred_name, "second")
    assert keyring_store.get_secret(cred_name) == "second"
    assert cred_name in keyring_store.list_names()
    assert INDEX_USER not in keyring_store.list_names()
    # a fresh store (another process would do the same) finds it
    assert KeyringSecretStore().get_secret(cred_name) == "second"
    assert keyring_store.delete_secret(cred_name) is True
    assert keyring_store.delete_secret(cred_name) is False
    assert keyring_store.get_secret(cred_name) is None
    assert cred_name not in keyring_store.list_names()


def test_no_backend_is_a_clear_message_not_a_trace_nor_a_plain_text_file(tmp_path: Path):
    env = {
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "XDG_DATA_HOME": str(tmp_path),
    }
    result = flowdesk("credentials", "set", "api", stdin="s3cret-value\n", env=env)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    # one clear message, in sentence case, said once: what went wrong, what to do
    first, *rest = result.stderr.strip().splitlines()
    assert first.startswith("flowdesk credentials set: The system keyring can't be used")
    assert "(no keyring backend is available on this computer)" in first
    assert first.endswith(
        "To use credential 'api', start and unlock a Secret Service such as gnome-keyring "
        "or KWallet, or give its secret in the environment variable FLOWDESK_SECRET_API."
    )
    assert result.stderr.count("keyring can't be used") == 1
    assert rest == [
        "On a Linux machine without a desktop session, run Flowdesk inside 'dbus-run-session' "
        "after 'gnome-keyring-daemon --unlock'. Flowdesk never writes secrets to a plain-text "
        "file."
    ]
    assert not any(tmp_path.rglob("*")), "nothing may be written as a fallback"


def test_a_run_without_keyring_reports_an_auth_error_with_the_fix(tmp_path: Path):
    flow = tmp_path / "f.flow.json"
    flow.write_text(json.dumps(_flow("http://127.0.0.1:1/x", "api", {"type": "bearer"})))
    env = {
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "FLOWDESK_DATA_DIR": str(tmp_path / "data"),
    }
    result = flowdesk("run", str(flow), "--json", "--no-history", env=env)
    assert result.returncode == 1, result.stderr
    error = json.loads(result.stdout)["nodes"]["h"]["error"]
    assert error["category"] == "AUTH"
    assert "credential 'api'" in error["message"]
    assert "FLOWDESK_SECRET_API" in error["message"]
    assert "Traceback" not in result.stderr


def test_cli_set_list_test_delete(keyring_store, cred_name, auth_server: AuthServer, tmp_path):
    auth_server.bearer = "cli-token-+/="
    result = flowdesk("credentials", "set", cred_name, stdin=auth_server.bearer + "\n")
    assert result.returncode == 0, result.stderr
    assert keyring_store.get_secret(cred_name) == auth_server.bearer

    flow = tmp_path / "f.flow.json"
    flow.write_text(
        json.dumps(
            _flow(
                "http://x/",
                cred_name,
                {"type": "basic", "username": "alice"},
                extra={"unset": {"type": "bearer"}},
            )
        )
    )
    listed = flowdesk("credentials", "list", "--flow", str(flow), "--json")
    assert listed.returncode == 0, listed.stderr
    rows = {r["name"]: r for r in json.loads(listed.stdout)["credentials"]}
    assert rows[cred_name] == {
        "name": cred_name,
        "kind": "basic",
        "in_workflow": True,
        "secret": "keyring",
    }
    assert rows["unset"]["secret"] == "missing"
    text = flowdesk("credentials", "list")
    assert cred_name in text.stdout
    assert auth_server.bearer not in listed.stdout + text.stdout + listed.stderr + text.stderr

    ok = flowdesk("credentials", "test", cred_name, "--url", f"{auth_server.url}/secure")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "HTTP 200" in ok.stdout
    basic = flowdesk(
        "credentials", "test", cred_name, "--url", f"{auth_server.url}/secure", "--flow", str(flow)
    )
    assert "HTTP 200" in basic.stdout, basic.stderr
    bad = flowdesk(
        "credentials",
        "test",
        cred_name,
        "--url",
        f"{auth_server.url}/secure",
        env={f"FLOWDESK_SECRET_{cred_name.upper()}": "wrong"},
    )
    assert bad.returncode == 1 and "HTTP 401" in bad.stdout

    gone = flowdesk("credentials", "delete", cred_name)
    assert gone.returncode == 0, gone.stderr
    assert keyring_store.get_secret(cred_name) is None
    again = flowdesk("credentials", "delete", cred_name)
    assert again.returncode == 1


def test_the_environment_variable_wins_over_the_keyring(keyring_store, cred_name, monkeypatch):
    keyring_store.set_secret(cred_name, "from-keyring")
    resolver = CredentialResolver(
        {cred_name: BearerCredential(type="bearer")}, default_secret_store()
    )
    assert resolver.secret(cred_name) == "from-keyring"
    monkeypatch.setenv(f"FLOWDESK_SECRET_{cred_name.upper()}", "from-env")
    fresh = CredentialResolver({cred_name: BearerCredential(type="bearer")}, default_secret_store())
    assert fresh.secret(cred_name) == "from-env"
    # (the secret in every form it could show up in: raw, base64…)
    assert "from-env" in fresh.used_secrets
    assert not any("keyring" in form for form in fresh.used_secrets)


async def test_secret_async_resolves_from_the_keyring_off_the_loop(keyring_store, cred_name):
    keyring_store.set_secret(cred_name, "async-secret")
    resolver = CredentialResolver(
        {cred_name: BearerCredential(type="bearer")}, default_secret_store()
    )
    assert await resolver.secret_async(cred_name) == "async-secret"
    assert resolver.secret(cred_name) == "async-secret"  # cached for the run
    assert "async-secret" in resolver.used_secrets


def _flow(url: str, cred: str, ref: dict, extra: dict | None = None) -> dict:
    return {
        "format": "flowdesk/workflow",
        "version": 1,
        "name": "creds",
        "credentials": {cred: ref, **(extra or {})},
        "nodes": [{"id": "h", "type": "http.request", "config": {"url": url, "credential": cred}}],
        "edges": [],
    }
