"""Item 2 of issue 22: a workflow cannot read ``FLOWDESK_SECRET_*`` through
``env``, and secrets — raw, URL-encoded or base64 (a ``Basic`` token,
standard and URL-safe) — are redacted from ``--json`` and the history."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from flowdesk.engine.history import HistoryStore

from .conftest import edge, flowdesk, node, write_flow

SECRET = "s3cr3t-p4ss?/+~"  # base64 of "alice:" + it holds '+' and '/'
OTHER = "an0ther-env-secret"


def _forms(text: str) -> list[str]:
    raw = text.encode()
    std, url = base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()
    return [text, std, std.rstrip("="), url, url.rstrip("=")]


def test_secret_env_names_are_refused(cli_env, tmp_path: Path):
    flow = write_flow(
        tmp_path / "steal.flow.json",
        [node("steal", config={"value": "{{ env.FLOWDESK_SECRET_X }}"})],
        env=["FLOWDESK_SECRET_X"],
    )
    cli_env["FLOWDESK_SECRET_X"] = OTHER
    for command in ("validate", "run"):
        done = flowdesk(cli_env, command, str(flow))
        assert done.returncode == 2, done.stdout
        assert "env[0]: variable FLOWDESK_SECRET_X holds a credential's secret" in done.stderr
        assert OTHER not in done.stdout + done.stderr


def test_secrets_in_any_spelling_are_redacted(cli_env, tmp_path: Path, server):
    def echo_encoded(handler):
        # a server that reflects what it received, in every spelling
        auth = handler.headers.get("Authorization", "")
        token = auth.removeprefix("Basic ")
        decoded = base64.b64decode(token).decode()
        url_safe = base64.urlsafe_b64encode(decoded.encode()).decode()
        env_b64 = base64.b64encode(OTHER.encode()).decode()
        body = {
            "auth": auth,
            "url_safe": url_safe,
            "unpadded": url_safe.rstrip("="),
            "decoded": decoded,
            "env": env_b64,
            "env_raw": OTHER,
        }
        return json.dumps(body).encode(), {"Content-Type": "application/json"}

    server.routes["/reflect"] = echo_encoded
    flow = write_flow(
        tmp_path / "echo.flow.json",
        [
            node(
                "call",
                "http.request",
                config={"url": f"{server.url}/reflect", "credential": "web"},
            ),
            node("keep", config={"value": "{{ input }}"}),
        ],
        [edge("call", "keep")],
        credentials={"web": {"type": "basic", "username": "alice"}},
    )
    cli_env["FLOWDESK_SECRET_WEB"] = SECRET
    cli_env["FLOWDESK_SECRET_UNUSED"] = OTHER
    done = flowdesk(cli_env, "run", str(flow), "--json")
    assert done.returncode == 0, done.stderr
    for form in [*_forms(SECRET), *_forms(f"alice:{SECRET}"), *_forms(OTHER)]:
        assert form not in done.stdout, form
    assert "***" in done.stdout
    store = HistoryStore(Path(cli_env["FLOWDESK_DATA_DIR"]) / "history.sqlite3")
    run = store.list_runs(limit=1)[0]
    shown = flowdesk(cli_env, "history", "show", run.run_id, "--json")
    assert shown.returncode == 0, shown.stderr
    for form in [*_forms(SECRET), *_forms(f"alice:{SECRET}"), *_forms(OTHER)]:
        assert form not in shown.stdout, form


def test_the_history_preview_never_keeps_a_secret_prefix(tmp_path: Path):
    from flowdesk.engine.results import NodeResult, RunResult

    store = HistoryStore(tmp_path / "h.sqlite3", max_output_bytes=100)
    secret = "TOPSECRET-" + "x" * 40
    # the preview cut falls inside the secret
    output = "a" * 1990 + secret + "b" * 500
    result = RunResult(
        "r1", "succeeded", "2026-01-01T00:00:00Z", 1.0, {"n": NodeResult("succeeded", output)}
    )
    store.record_result(result, secrets=[secret])
    _, stored = store.get_run("r1")
    preview = stored.nodes["n"].output["preview"]
    assert "TOPSECRET" not in preview


def test_secrets_echoed_in_error_messages_are_redacted_from_live_lines(
    cli_env, tmp_path: Path, server
):
    server.routes["/leak"] = lambda h: (
        json.dumps({"token": OTHER}).encode(),
        {"Content-Type": "application/json"},
    )
    flow = write_flow(
        tmp_path / "leak.flow.json",
        [
            node("call", "http.request", config={"url": f"{server.url}/leak"}),
            # fails with a message listing the keys: "no key 'zzz' (keys: …)"
            node("parse", config={"value": "{{ {input.body.token: 1}.zzz }}"}),
        ],
        [edge("call", "parse")],
    )
    cli_env["FLOWDESK_SECRET_UNUSED"] = OTHER
    done = flowdesk(cli_env, "run", str(flow))
    assert done.returncode == 1
    assert "parse" in done.stdout and "failed" in done.stdout
    assert "no key 'zzz' (keys: ***)" in done.stdout
    assert OTHER not in done.stdout + done.stderr


def test_a_one_character_secret_is_redacted_as_a_whole_value_only(cli_env, tmp_path: Path, server):
    """A secret of 1–3 characters would turn every such character of the
    output into ``***`` (and so point at the secret): it is redacted where a
    whole value is that secret, and text that merely contains it stays
    readable — in ``run --json`` and the history."""
    text = "there were seven eels here"
    server.routes["/said"] = lambda h: (
        json.dumps(
            {"key": h.headers.get("X-Key"), "pin": "ab", "text": text, "ab": "cab"}
        ).encode(),
        {"Content-Type": "application/json"},
    )
    flow = write_flow(
        tmp_path / "short.flow.json",
        [
            node(
                "call",
                "http.request",
                config={"url": f"{server.url}/said", "credential": "web"},
            ),
            node("keep", config={"value": "{{ input.body }}"}),
        ],
        [edge("call", "keep")],
        credentials={"web": {"type": "api_key", "name": "X-Key", "in": "header"}},
    )
    cli_env["FLOWDESK_SECRET_WEB"] = "e"
    cli_env["FLOWDESK_SECRET_PIN"] = "ab"
    done = flowdesk(cli_env, "run", str(flow), "--json")
    result = json.loads(done.stdout)
    body = result["nodes"]["keep"]["output"]
    # the values that are a secret are gone; the text around them is whole
    assert body == {"key": "***", "pin": "***", "text": text, "***": "cab"}
    assert result["nodes"]["call"]["output"]["body"]["text"] == text
    store = HistoryStore(Path(cli_env["FLOWDESK_DATA_DIR"]) / "history.sqlite3")
    run = store.list_runs(limit=1)[0]
    shown = json.loads(flowdesk(cli_env, "history", "show", run.run_id, "--json").stdout)
    assert shown["nodes"]["keep"]["output"] == {
        "key": "[redacted]",
        "pin": "[redacted]",
        "text": text,
        "[redacted]": "cab",
    }
    # a longer secret is still replaced inside text
    cli_env["FLOWDESK_SECRET_WEB"] = "seven eels"
    done = flowdesk(cli_env, "run", str(flow), "--json")
    body = json.loads(done.stdout)["nodes"]["keep"]["output"]
    assert body["key"] == "***" and body["text"] == "there were *** here"
