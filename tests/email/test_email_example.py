"""The shipped example ``resources/examples/email-smtp.flow.json`` runs as its
description says: against a plain local SMTP server (aiosmtpd, as
``python -m aiosmtpd -n`` would run it), the report arrives with both bodies
and the CSV attachment; the Gmail and Outlook examples say what they need."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from aiosmtpd.controller import Controller

from tests.helpers import EXAMPLES, free_port

from .smtpserver import Handler


def test_the_smtp_example_delivers_the_report(tmp_path: Path):
    handler = Handler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        run = subprocess.run(
            [
                *(sys.executable, "-m", "flowdesk", "run"),
                *(str(EXAMPLES / "email-smtp.flow.json"), "--json", "--var", f"smtp_port={port}"),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "FLOWDESK_DATA_DIR": str(tmp_path / "data")},
        )
    finally:
        controller.stop()
    assert run.returncode == 0, run.stderr
    output = json.loads(run.stdout)["nodes"]["send"]["output"]
    (got,) = handler.messages
    assert got.message["Message-ID"] == output["message_id"]
    assert got.message["Subject"] == "Daily numbers"
    (attachment,) = list(got.message.iter_attachments())
    assert attachment.get_filename() == "orders.csv"
    assert attachment.get_content().startswith("country,orders")


def test_the_mail_api_examples_say_what_they_need():
    for name, command in (("gmail-send", "login google"), ("outlook-send", "login outlook")):
        doc = json.loads((EXAMPLES / f"{name}.flow.json").read_text())
        assert f"flowdesk credentials {command}" in doc["description"]
        assert "client id" in doc["description"] or "client) id" in doc["description"]
