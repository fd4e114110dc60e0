"""The Credentials dialog: workflow and stored credentials with kind and secret
state (never the secret), add / set / delete, and Test without freezing the UI."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from flowdesk.editor.credentials_dialog import CredentialsDialog
from flowdesk.engine.credentials import MemorySecretStore
from flowdesk.engine.model.workflow import BasicCredential, BearerCredential

SECRET = "dialog-secret-42"


@pytest.fixture
def server():
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            ok = self.headers.get("Authorization") == f"Bearer {SECRET}"
            self.send_response(200 if ok else 401)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    httpd = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()


def _dialog(qtbot, store: MemorySecretStore) -> CredentialsDialog:
    refs = {
        "api": BearerCredential(type="bearer"),
        "login": BasicCredential(type="basic", username="bob"),
    }
    dialog = CredentialsDialog(refs, store)
    qtbot.addWidget(dialog)
    return dialog


def test_lists_workflow_and_stored_credentials_without_secrets(qtbot):
    store = MemorySecretStore({"api": SECRET, "elsewhere": "other-secret"})
    dialog = _dialog(qtbot, store)
    assert dialog.names() == ["api", "elsewhere", "login"]
    assert dialog.row_texts("api") == ["api", "bearer", "stored", "yes"]
    assert dialog.row_texts("login") == ["login", "basic", "missing", "yes"]
    assert dialog.row_texts("elsewhere") == ["elsewhere", "—", "stored", "no"]
    shown = [dialog.table.item(r, c).text() for r in range(3) for c in range(4)]
    assert SECRET not in " ".join(shown)


def test_set_and_delete_secrets(qtbot, monkeypatch):
    store = MemorySecretStore()
    dialog = _dialog(qtbot, store)
    monkeypatch.setattr(dialog, "ask_secret", lambda name: ("login", "pw-1"))
    with qtbot.waitSignal(dialog.secrets_changed):
        dialog.select("login")
        dialog.set_secret_selected()
    assert store.get_secret("login") == "pw-1"
    assert dialog.row_texts("login")[2] == "stored"
    monkeypatch.setattr(dialog, "confirm", lambda question: True)
    dialog.select("login")
    dialog.delete_selected()
    assert store.get_secret("login") is None
    assert dialog.row_texts("login")[2] == "missing"


def test_test_button_reports_the_status_without_blocking(qtbot, server):
    store = MemorySecretStore({"api": SECRET})
    dialog = _dialog(qtbot, store)
    dialog.select("api")
    dialog.url_edit.setText(f"{server}/me")
    with qtbot.waitSignal(dialog.test_finished, timeout=10_000) as blocker:
        dialog.test_selected()
        assert not dialog.test_button.isEnabled()  # returned at once, test running
    assert blocker.args[1].endswith("HTTP 200")
    assert "HTTP 200" in dialog.status.text()
    store.set_secret("api", "wrong")
    with qtbot.waitSignal(dialog.test_finished, timeout=10_000) as blocker:
        dialog.test_selected()
    assert "HTTP 401 (failed)" in blocker.args[1]
    assert "wrong" not in dialog.status.text()
