"""email.send against a real SMTP server (aiosmtpd, STARTTLS required, AUTH):
headers, body parts and attachments arrive; a wrong password is AUTH, a server
that is down TRANSPORT; a retry after a dropped connection does not deliver
twice; 10 concurrent runs with the same key deliver once; the ledger survives
a restart; bad addresses are INVALID_PARAMS before anything connects."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flowdesk.engine import Engine, NodeRegistry, loads_workflow
from flowdesk.engine.credentials import MemorySecretStore

from tests.helpers import free_port

from .smtpserver import PASSWORD, USER, SmtpServer

REGISTRY = NodeRegistry.default(plugins=False)
PDF = b"%PDF-1.4 tiny test file\x00\x01\x02"


@pytest.fixture(scope="module")
def _smtp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmtpServer]:
    server = SmtpServer(tmp_path_factory.mktemp("smtp")).start()
    yield server
    server.stop()


@pytest.fixture
def smtp(_smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch) -> SmtpServer:
    monkeypatch.setenv("SSL_CERT_FILE", str(_smtp.ca_file))
    _smtp.reset()
    return _smtp


def _flow(smtp: SmtpServer, retry: int = 0, **config: Any) -> dict[str, Any]:
    node: dict[str, Any] = {
        "id": "mail",
        "type": "email.send",
        "config": {
            "host": "localhost",
            "port": smtp.port,
            "security": "starttls",
            "credential": "smtp",
            "from": f"Flowdesk Robot <{USER}>",
            "to": ["Ann <ann@example.com>", "bob@example.org"],
            "cc": "carol@example.net",
            "bcc": ["dave@example.com"],
            "reply_to": "help@example.com",
            "subject": "Report ✓",
            "text": "Hello in plain text",
            "html": "<p>Hello in <b>HTML</b></p>",
            "attachments": [
                {
                    "name": "report.pdf",
                    "mime_type": "application/pdf",
                    "content_base64": base64.b64encode(PDF).decode(),
                }
            ],
            **config,
        },
    }
    if retry:
        node["retry"] = {"max_attempts": retry, "base_delay_s": 0.01}
    return {
        "format": "flowdesk/workflow",
        "version": 1,
        "name": "mail",
        "credentials": {"smtp": {"type": "basic", "username": USER}},
        "nodes": [node],
        "edges": [],
    }


async def _run(doc: dict[str, Any], password: str = PASSWORD) -> dict[str, Any]:
    workflow = loads_workflow(json.dumps(doc), REGISTRY)
    handle = Engine(REGISTRY, secrets=MemorySecretStore({"smtp": password})).start(workflow)
    return (await handle.wait()).to_json()


async def test_a_message_arrives_with_headers_body_parts_and_attachment(smtp: SmtpServer):
    result = await _run(_flow(smtp))
    output = result["nodes"]["mail"]["output"]
    assert result["status"] == "succeeded", result
    assert output["accepted"] == [
        "ann@example.com",
        "bob@example.org",
        "carol@example.net",
        "dave@example.com",
    ]
    assert output["rejected"] == [] and output["deduplicated"] is False
    (got,) = smtp.handler.messages
    assert got.tls and got.user == USER  # STARTTLS (required by the server), then AUTH
    assert got.sender == USER and sorted(got.recipients) == sorted(output["accepted"])
    message = got.message
    assert message["Message-ID"] == output["message_id"]
    assert message["From"] == f"Flowdesk Robot <{USER}>"
    assert message["To"] == "Ann <ann@example.com>, bob@example.org"
    assert message["Cc"] == "carol@example.net" and message["Reply-To"] == "help@example.com"
    assert message["Bcc"] is None  # hidden recipients stay out of the headers
    assert message["Subject"] == "Report ✓"
    assert message.get_body(("plain",)).get_content().strip() == "Hello in plain text"
    assert "<b>HTML</b>" in message.get_body(("html",)).get_content()
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == "report.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == PDF


async def test_refused_recipients_are_listed(smtp: SmtpServer):
    result = await _run(_flow(smtp, to=["ann@example.com", "nobody@example.com"], cc=[], bcc=[]))
    output = result["nodes"]["mail"]["output"]
    assert output["accepted"] == ["ann@example.com"] and output["rejected"] == [
        "nobody@example.com"
    ]


async def test_a_wrong_password_is_an_auth_error_without_the_password(smtp: SmtpServer):
    result = await _run(_flow(smtp), password="wrong-Pa55")
    error = result["nodes"]["mail"]["error"]
    assert error["category"] == "AUTH" and error["code"] == "SMTP_AUTH_FAILED"
    assert not error["retryable"] and "wrong-Pa55" not in json.dumps(result)
    assert smtp.handler.messages == []


async def test_a_server_that_is_down_is_a_transport_error(smtp: SmtpServer):
    closed = free_port()
    result = await _run(_flow(smtp, port=closed))
    error = result["nodes"]["mail"]["error"]
    assert error["category"] == "TRANSPORT" and error["retryable"]
    assert f"localhost:{closed}" in error["message"]


async def test_a_retry_after_a_dropped_connection_does_not_deliver_twice(smtp: SmtpServer):
    smtp.handler.drop_after_data = 1  # received, then the connection drops before "250"
    result = await _run(_flow(smtp, retry=3))
    node = result["nodes"]["mail"]
    assert result["status"] == "succeeded", result
    assert node["attempts"] == 2
    assert node["output"]["deduplicated"] is True and node["output"]["uncertain"] is True
    assert len(smtp.handler.messages) == 1


async def test_a_failure_before_the_data_is_retried_and_delivers_once(smtp: SmtpServer):
    # a refused login releases the key: fixing the password and running again sends
    key = f"k-{uuid.uuid4().hex}"
    first = await _run(_flow(smtp, client_request_id=key), password="bad")
    assert first["nodes"]["mail"]["status"] == "failed"
    second = await _run(_flow(smtp, client_request_id=key))
    assert second["nodes"]["mail"]["output"]["deduplicated"] is False
    assert len(smtp.handler.messages) == 1


async def test_ten_concurrent_runs_with_the_same_key_deliver_once(smtp: SmtpServer):
    key = f"invoice-{uuid.uuid4().hex}"
    results = await asyncio.gather(*(_run(_flow(smtp, client_request_id=key)) for _ in range(10)))
    outputs = [r["nodes"]["mail"]["output"] for r in results]
    assert len(smtp.handler.messages) == 1
    assert sum(not o["deduplicated"] for o in outputs) == 1
    assert len({o["message_id"] for o in outputs}) == 1  # every run reports the one message


def test_the_ledger_survives_a_restart_and_concurrent_processes(smtp: SmtpServer, tmp_path: Path):
    key = f"cli-{uuid.uuid4().hex}"
    flow = tmp_path / "mail.flow.json"
    flow.write_text(json.dumps(_flow(smtp, client_request_id=key)))
    env = {
        **os.environ,
        "FLOWDESK_DATA_DIR": str(tmp_path / "data"),
        "FLOWDESK_SECRET_SMTP": PASSWORD,
        "SSL_CERT_FILE": str(smtp.ca_file),
    }
    command = [sys.executable, "-m", "flowdesk", "run", str(flow), "--json"]
    procs = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        for _ in range(3)
    ]
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        outputs.append(json.loads(out)["nodes"]["mail"]["output"])
    again = subprocess.run(command, capture_output=True, timeout=60, env=env)
    outputs.append(json.loads(again.stdout)["nodes"]["mail"]["output"])
    assert len(smtp.handler.messages) == 1
    assert [o["deduplicated"] for o in outputs].count(False) == 1
    assert outputs[-1]["deduplicated"] is True
    assert (tmp_path / "data" / "idempotency.sqlite3").exists()


@pytest.mark.parametrize(
    ("field", "value", "shown"),
    [
        ("to", ["ann@example.com", "not-an-address"], "not-an-address"),
        ("cc", "bob@@example.com", "bob@@example.com"),
        ("from", "robot@", "robot@"),
        ("reply_to", "help@-bad-.com", "help@-bad-.com"),
    ],
)
async def test_bad_addresses_are_invalid_params_before_connecting(
    smtp: SmtpServer, field: str, value: Any, shown: str
):
    result = await _run(_flow(smtp, port=1, **{field: value}))
    error = result["nodes"]["mail"]["error"]
    assert error["code"] == "INVALID_PARAMS" and error["category"] == "VALIDATION"
    assert error["message"].startswith(f"{field}: ") and shown in error["message"]
    assert not error["retryable"]
