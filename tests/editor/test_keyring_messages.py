"""Issue 14 item 20: without a usable keyring the editor says so in one clear
sentence-case message at normal size (what went wrong, what to do), once in
the missing-secrets bar and as its first sentence in the status bar."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flowdesk.engine.keyring_store import KeyringSecretStore

from .conftest import close_window
from .test_credentials_wiring import _flow, _window


@pytest.fixture
def no_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    import keyring
    from keyring.backends import fail

    for name in ("OPENROUTER", "SITE", "LOCAL"):
        monkeypatch.delenv(f"FLOWDESK_SECRET_{name}", raising=False)
    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())  # what a machine without a Secret Service has
    yield
    keyring.set_keyring(before)


def test_no_keyring_is_one_clear_message(
    no_keyring: None, qtbot: Any, themed_app: Any, registry: Any, settings: Any, tmp_path: Path
) -> None:
    window = _window(qtbot, registry, settings, tmp_path, KeyringSecretStore())
    try:
        assert window.files.open_path(_flow(tmp_path), confirm=False)
        bar = window.credentials.bar
        qtbot.waitUntil(bar.isVisible, timeout=5000)
        text = window.credentials.bar_label.text()
        assert "<small>" not in text
        problem = text.split("<br>", 1)[1]
        assert problem.startswith(
            "The system keyring can&#x27;t be used (no keyring backend is available on this "
            "computer). Start and unlock a Secret Service such as gnome-keyring or KWallet, "
            "or set FLOWDESK_SECRET_LOCAL, FLOWDESK_SECRET_OPENROUTER, FLOWDESK_SECRET_SITE."
        )
        assert text.count("keyring can") == 1
        status = window.statusBar().currentMessage()
        assert status.startswith("The system keyring can't be used")
        assert status == (
            "The system keyring can't be used (no keyring backend is available on this computer)."
        )
    finally:
        close_window(window)
