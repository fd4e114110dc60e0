"""Signing in from the editor against the real test authorization server: the
Credentials dialog's Sign in button (the 'browser' is an HTTP client that
follows the authorize URL), and the "Sign in again" action on a node that
failed because it was not signed in — after which the mail goes out."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from flowdesk.editor.context_menu import canvas_menu, sign_in_credential
from flowdesk.editor.credentials_dialog import CredentialsDialog
from flowdesk.editor.main_window import MainWindow
from flowdesk.engine import Engine
from flowdesk.engine.credentials import MemorySecretStore, tokens_key
from flowdesk.engine.model.workflow import BearerCredential, OAuth2AuthorizationCode
from PySide6.QtCore import QPoint, QPointF

from ..credentials.authserver import OAuthServer
from .conftest import _refuse_prompt, close_window, open_flow, run_and_wait, write_flow


@pytest.fixture(scope="module")
def oauth_server() -> Iterator[OAuthServer]:
    server = OAuthServer().start()
    yield server
    server.stop()


def _browser(url: str) -> None:
    """What the user's browser does: follow the sign-in page to the redirect."""
    threading.Thread(
        target=lambda: httpx.get(url, follow_redirects=True, timeout=10), daemon=True
    ).start()


def test_the_dialog_signs_in_and_shows_it(qtbot: Any, oauth_server: OAuthServer) -> None:
    store = MemorySecretStore()
    refs = {
        "google": OAuth2AuthorizationCode.model_validate(oauth_server.credential()),
        "api": BearerCredential(type="bearer"),
    }
    dialog = CredentialsDialog(refs, store)
    qtbot.addWidget(dialog)
    dialog.open_url = _browser  # type: ignore[method-assign]
    assert dialog.row_texts("google") == [
        "google",
        "OAuth2 sign-in",
        "not signed in",
        "yes",
    ]
    dialog.select("api")
    assert not dialog.sign_in_button.isEnabled()
    dialog.select("google")
    assert dialog.sign_in_button.isEnabled() and dialog.sign_in_button.text() == "Sign in…"
    with qtbot.waitSignal(dialog.sign_in_finished, timeout=15_000) as done:
        dialog.sign_in_button.click()
    assert done.args[2] is True, done.args
    assert dialog.row_texts("google")[2] == "signed in"
    assert dialog.sign_in_button.text() == "Sign in again…"
    assert "Signed in 'google'" in dialog.status.text()
    assert store.get_secret(tokens_key("google"))
    shown = " ".join(dialog.row_texts("google")) + dialog.status.text()
    assert "at-" not in shown and "rt-" not in shown  # no token on screen


def test_sign_in_again_on_the_failed_node_then_the_mail_goes_out(
    qtbot: Any,
    qloop: Any,
    registry: Any,
    settings: Any,
    tmp_path: Path,
    history: Any,
    oauth_server: OAuthServer,
) -> None:
    store = MemorySecretStore()
    win = MainWindow(
        registry,
        settings,
        recovery_folder=tmp_path / "recovery",
        autosave_ms=60_000,
        engine=Engine(registry, secrets=store),
        history=history,
        secret_store=store,
    )
    win.files.ask_save = _refuse_prompt
    win.resize(1200, 800)
    win.show()
    qtbot.waitExposed(win)
    try:
        path = write_flow(
            tmp_path / "mail",
            [
                {
                    "id": "send",
                    "type": "gmail.send",
                    "config": {
                        "credential": "google",
                        "base_url": oauth_server.url,
                        "to": "ann@example.com",
                        "subject": "From the editor",
                        "text": "hello",
                    },
                }
            ],
            [],
            credentials={"google": oauth_server.credential()},
        )
        open_flow(win, path)
        result = run_and_wait(qtbot, win)
        assert result.status == "failed"
        assert sign_in_credential(win, "send") == "google"
        win.scene.select(["send"])
        menu = canvas_menu(win, QPoint(0, 0), QPointF(0, 0), "send")
        (action,) = [a for a in menu.actions() if a.objectName() == "signInAgainAction"]
        assert action.text() == "Sign in again (google)…"
        # the action opens the Credentials dialog on the credential and signs in
        original = CredentialsDialog.open_url
        CredentialsDialog.open_url = lambda self, url: _browser(url)  # type: ignore[method-assign]
        try:
            action.trigger()
            dialog = win.credentials.dialog
            assert dialog is not None and dialog.selected_name() == "google"
            with qtbot.waitSignal(dialog.sign_in_finished, timeout=15_000) as done:
                pass
        finally:
            CredentialsDialog.open_url = original  # type: ignore[method-assign]
        assert done.args[2] is True, done.args
        dialog.close()
        result = run_and_wait(qtbot, win)
        assert result.status == "succeeded", result
        assert len(oauth_server.state.gmail) == 1
        assert sign_in_credential(win, "send") is None
    finally:
        close_window(win)
