"""gmail.send and outlook.send against local servers shaped like the Gmail API
(users.messages.send: JSON {"raw": base64url RFC 2822}) and Microsoft Graph
(me/sendMail in MIME format: text/plain, base64 RFC 2822, 202), protected by
tokens of the test authorization server: signed in, refreshed on a 401, sent
once per key, bad addresses refused before any request."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

from flowdesk.engine import Engine, NodeRegistry, loads_workflow
from flowdesk.engine.credentials import MemorySecretStore, tokens_key

from .authserver import OAuthServer
from .test_oauth2_login import _ref, _sign_in

REGISTRY = NodeRegistry.default(plugins=False)
PNG = b"\x89PNG\r\n\x1a\n fake image"


def _flow(server: OAuthServer, kind: str, **config: Any) -> dict[str, Any]:
    base = server.url if kind == "gmail.send" else f"{server.url}/v1.0"
    return {
        "format": "flowdesk/workflow",
        "version": 1,
        "name": "mail",
        "credentials": {"account": server.credential()},
        "nodes": [
            {
                "id": "send",
                "type": kind,
                "config": {
                    "credential": "account",
                    "base_url": base,
                    "to": "Ann <ann@example.com>",
                    "bcc": "boss@example.com",
                    "subject": "Weekly numbers",
                    "text": "See attached.",
                    "html": "<p>See <i>attached</i>.</p>",
                    "attachments": [
                        {
                            "name": "chart.png",
                            "mime_type": "image/png",
                            "content_base64": base64.b64encode(PNG).decode(),
                        }
                    ],
                    **config,
                },
                "retry": {"max_attempts": 3, "base_delay_s": 0.01},
            }
        ],
        "edges": [],
    }


async def _signed_in_store(server: OAuthServer) -> MemorySecretStore:
    record, _ = await _sign_in(server, _ref(server))
    return MemorySecretStore({tokens_key("account"): record.to_json()})


async def _run(doc: dict[str, Any], store: MemorySecretStore) -> dict[str, Any]:
    handle = Engine(REGISTRY, secrets=store).start(loads_workflow(json.dumps(doc), REGISTRY))
    return (await handle.wait()).to_json()


def _check_message(message: Any, output: dict[str, Any]) -> None:
    assert message["Message-ID"] == output["message_id"]
    assert message["To"] == "Ann <ann@example.com>" and message["Bcc"] is None
    assert message["Subject"] == "Weekly numbers"
    assert message.get_body(("plain",)).get_content().strip() == "See attached."
    assert "<i>attached</i>" in message.get_body(("html",)).get_content()
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == "chart.png" and attachment.get_content() == PNG


async def test_gmail_send_posts_the_raw_message_and_sends_once(oauth_server: OAuthServer):
    store = await _signed_in_store(oauth_server)
    key = f"gmail-{uuid.uuid4().hex}"
    result = await _run(_flow(oauth_server, "gmail.send", client_request_id=key), store)
    assert result["status"] == "succeeded", result
    output = result["nodes"]["send"]["output"]
    (sent,) = oauth_server.state.gmail
    _check_message(sent["message"], output)
    assert output["id"] == sent["id"] and output["deduplicated"] is False
    assert output["accepted"] == ["ann@example.com", "boss@example.com"]
    # the same key again (another run): not sent, the first result returned
    again = await _run(_flow(oauth_server, "gmail.send", client_request_id=key), store)
    assert again["nodes"]["send"]["output"]["deduplicated"] is True
    assert again["nodes"]["send"]["output"]["id"] == sent["id"]
    assert len(oauth_server.state.gmail) == 1


async def test_outlook_send_posts_mime_and_refreshes_on_a_401(oauth_server: OAuthServer):
    store = await _signed_in_store(oauth_server)
    oauth_server.state.expire_access_tokens()  # the stored token is refused: refresh, retry
    result = await _run(_flow(oauth_server, "outlook.send"), store)
    assert result["status"] == "succeeded", result
    output = result["nodes"]["send"]["output"]
    (sent,) = oauth_server.state.graph
    _check_message(sent["message"], output)
    assert sent["headers"]["Content-Type"].startswith("text/plain")
    assert uuid.UUID(sent["headers"]["Client-Request-Id"])
    assert oauth_server.state.api_401 == 1 and oauth_server.state.refreshes == 1
    assert result["nodes"]["send"]["attempts"] == 1  # the 401 was handled inside the attempt


async def test_mail_apis_refuse_bad_addresses_before_any_request(oauth_server: OAuthServer):
    store = await _signed_in_store(oauth_server)
    for kind in ("gmail.send", "outlook.send"):
        result = await _run(_flow(oauth_server, kind, to=["ok@example.com", "bad@"]), store)
        error = result["nodes"]["send"]["error"]
        assert error["code"] == "INVALID_PARAMS" and "'bad@'" in error["message"]
    assert oauth_server.state.gmail == [] and oauth_server.state.graph == []


async def test_a_revoked_sign_in_fails_the_send_with_sign_in_again(oauth_server: OAuthServer):
    store = await _signed_in_store(oauth_server)
    oauth_server.state.revoke_all()
    result = await _run(_flow(oauth_server, "gmail.send"), store)
    node = result["nodes"]["send"]
    assert node["error"]["code"] == "OAUTH2_SIGN_IN_REQUIRED" and node["attempts"] == 1
    assert "sign in again" in node["error"]["message"]
    assert oauth_server.state.gmail == []


async def test_a_connection_lost_after_the_request_is_not_sent_again():
    """The API received the message but the connection dropped before the answer:
    the retry returns the first result (uncertain) instead of posting again."""
    import asyncio

    received: list[bytes] = []

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        received.append(await reader.readexactly(length))
        writer.close()  # no answer

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    doc = {
        "format": "flowdesk/workflow",
        "version": 1,
        "name": "mail",
        "credentials": {"token": {"type": "bearer"}},
        "nodes": [
            {
                "id": "send",
                "type": "gmail.send",
                "config": {
                    "credential": "token",
                    "base_url": f"http://127.0.0.1:{port}",
                    "to": "ann@example.com",
                    "text": "once",
                },
                "retry": {"max_attempts": 3, "base_delay_s": 0.01},
            }
        ],
        "edges": [],
    }
    try:
        result = await _run(doc, MemorySecretStore({"token": "bearer-token-123"}))
    finally:
        server.close()
        await server.wait_closed()
    node = result["nodes"]["send"]
    assert result["status"] == "succeeded", result
    assert node["attempts"] == 2 and len(received) == 1
    assert node["output"]["deduplicated"] is True and node["output"]["uncertain"] is True
    assert json.loads(received[0])["raw"]
