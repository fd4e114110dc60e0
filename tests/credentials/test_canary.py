"""The canary: a secret used by a run through the CLI (bearer, basic, api_key
in the query, OAuth2 client secret; successful and failing requests against a
server that never echoes it) appears in no file the run wrote — history
database, output file, captured stdout/stderr, the workflow file — neither raw,
URL-encoded nor inside a Basic token."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import quote, quote_plus

from .server import CLIENT_ID, AuthServer

CANARY = "canary-7f3+/=&Zq9"


def test_the_canary_secret_is_in_no_file_the_run_wrote(auth_server: AuthServer, tmp_path: Path):
    auth_server.bearer = CANARY
    key = uuid.uuid4().hex
    auth_server.realm(key, CANARY)
    url = auth_server.url
    cont = {"on_error": "continue"}

    def http(node_id: str, target: str, cred: str) -> dict:
        return {
            "id": node_id,
            "type": "http.request",
            "config": {"url": target, "credential": cred},
            **cont,
        }

    doc = {
        "format": "flowdesk/workflow",
        "version": 1,
        "name": "canary",
        "credentials": {
            "tok": {"type": "bearer"},
            "login": {"type": "basic", "username": "alice"},
            "qkey": {"type": "api_key", "name": "key", "in": "query"},
            "oauth": {
                "type": "oauth2_client_credentials",
                "token_url": f"{url}/token/{key}",
                "client_id": CLIENT_ID,
            },
        },
        "nodes": [
            http("ok_bearer", f"{url}/secure", "tok"),
            http("ok_basic", f"{url}/secure", "login"),
            http("fail_bearer", f"{url}/fail", "tok"),
            http("fail_query", f"{url}/fail", "qkey"),
            http("unauthorized", f"{url}/api/{key}?x=1", "qkey"),
            http("ok_oauth", f"{url}/api/{key}", "oauth"),
            {
                "id": "save",
                "type": "file.write",
                "config": {"path": "out/result.json", "format": "json"},
                **cont,
            },
        ],
        "edges": [
            {"from": {"node": "ok_bearer", "port": "out"}, "to": {"node": "save", "port": "in"}}
        ],
    }
    flow = tmp_path / "canary.flow.json"
    flow.write_text(json.dumps(doc, indent=2))
    data_dir = tmp_path / "data"
    env = {
        **os.environ,
        "FLOWDESK_DATA_DIR": str(data_dir),
        **{f"FLOWDESK_SECRET_{n}": CANARY for n in ("TOK", "LOGIN", "QKEY", "OAUTH")},
    }
    result = subprocess.run(
        [sys.executable, "-m", "flowdesk", "run", str(flow), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    (tmp_path / "stdout.txt").write_text(result.stdout)
    (tmp_path / "stderr.txt").write_text(result.stderr)
    run = json.loads(result.stdout)
    nodes = run["nodes"]
    assert nodes["ok_bearer"]["output"]["status"] == 200
    assert nodes["ok_basic"]["output"]["status"] == 200
    assert nodes["ok_oauth"]["output"]["status"] == 200
    assert nodes["fail_bearer"]["status"] == "failed"
    assert nodes["unauthorized"]["error"]["category"] == "AUTH"
    assert (tmp_path / "out" / "result.json").exists()
    history = subprocess.run(
        [sys.executable, "-m", "flowdesk", "history", "show", run["run_id"], "--json"],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
    )
    assert history.returncode == 0, history.stderr
    (tmp_path / "history.txt").write_text(history.stdout + history.stderr)

    forms = {
        CANARY,
        quote(CANARY, safe=""),
        quote_plus(CANARY),
        base64.b64encode(f"alice:{CANARY}".encode()).decode(),
        base64.b64encode(f"{CLIENT_ID}:{quote(CANARY, safe='')}".encode()).decode(),
    }
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.suffix in (".db", ".sqlite", ".sqlite3") or "history" in p.name for p in written)
    assert len(written) >= 6
    for path in written:
        data = path.read_bytes()
        for form in forms:
            assert form.encode() not in data, f"{path.relative_to(tmp_path)} contains {form!r}"
