"""The editor's credential wiring: the inspector's picker (compatible
credentials only, secret state shown, undoable), the canvas warning badge,
the info bar on opening a workflow whose credentials lack secrets, and the
Credentials action. Secrets live in an injected ``MemorySecretStore``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flowdesk.editor.app import build_engine
from flowdesk.editor.main_window import MainWindow
from flowdesk.engine import HistoryStore
from flowdesk.engine.credentials import MemorySecretStore
from flowdesk.engine.errors import AuthError
from PySide6.QtWidgets import QPushButton

from tests.helpers import example

from .conftest import close_window

EXAMPLE = example("ai-extract")


@pytest.fixture(autouse=True)
def _no_env_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENROUTER", "SITE", "LOCAL"):
        monkeypatch.delenv(f"FLOWDESK_SECRET_{name}", raising=False)


def _flow(tmp_path: Path) -> Path:
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["credentials"] = {
        "openrouter": {"type": "bearer"},
        "local": {"type": "bearer"},
        "site": {"type": "basic", "username": "me"},
    }
    path = tmp_path / "creds.flow.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _window(qtbot: Any, registry: Any, settings: Any, tmp_path: Path, store: Any) -> MainWindow:
    window = MainWindow(
        registry,
        settings,
        recovery_folder=tmp_path / "recovery",
        autosave_ms=200,
        engine=build_engine(registry),
        history=HistoryStore(),
        secret_store=store,
    )
    window.resize(1200, 800)
    window.show()
    qtbot.waitExposed(window)
    return window


@pytest.fixture
def store() -> MemorySecretStore:
    return MemorySecretStore({"local": "local-secret"})


@pytest.fixture
def win(qtbot, themed_app, registry, settings, tmp_path, store):
    window = _window(qtbot, registry, settings, tmp_path, store)
    assert window.files.open_path(_flow(tmp_path), confirm=False)
    yield window
    close_window(window)


def _picker(window: MainWindow) -> Any:
    window.inspector.show_nodes(["classify"])
    return window.inspector.editors["credential"]


def test_picker_lists_compatible_credentials_with_secret_state_and_undoes(win, qtbot):
    status = win.credentials.secret_status
    qtbot.waitUntil(lambda: status.known(["openrouter", "local", "site"]))
    picker = _picker(win)
    combo = picker.combo
    options = [combo.itemData(i) for i in range(combo.count())]
    # "site" is basic: not for ai.transform; the last entry declares a new one
    assert options[:-1] == [None, "local", "openrouter"]
    texts = [combo.itemText(i) for i in range(combo.count())]
    assert texts[0] == "none" and texts[-1] == "New credential…"
    assert "✓" in texts[1] and "no secret" in texts[2]
    assert combo.currentData() == "openrouter"

    combo.setCurrentIndex(options.index("local"))
    assert win.controller.document.node("classify").config["credential"] == "local"
    win.controller.break_merge()  # edits of one field merge until focus moves
    combo.setCurrentIndex(0)  # none: an explicit null (the type defaults to a credential)
    assert win.controller.document.node("classify").config["credential"] is None
    win.controller.stack.undo()
    assert win.controller.document.node("classify").config["credential"] == "local"
    win.controller.stack.undo()
    assert win.controller.document.node("classify").config["credential"] == "openrouter"
    assert _picker(win).combo.currentData() == "openrouter"


def test_missing_secret_badge_clears_after_the_secret_is_set(win, qtbot, store):
    item = win.scene.nodes["classify"]
    qtbot.waitUntil(lambda: bool(item.credential_warning))
    assert "openrouter" in item.credential_warning
    assert "Credentials" in item.credential_warning
    assert "openrouter" in item.toolTip()
    assert not win.scene.nodes["read_tickets"].credential_warning

    dialog = win.credentials.open_dialog("openrouter")
    assert dialog.selected_name() == "openrouter"
    assert dialog.store_secret("openrouter", "sk-test")  # emits secrets_changed
    qtbot.waitUntil(lambda: not item.credential_warning)
    assert "openrouter" not in item.toolTip()
    dialog.reject()
    assert win.credentials.dialog is None


def test_badge_follows_the_picked_credential(win, qtbot):
    item = win.scene.nodes["classify"]
    qtbot.waitUntil(lambda: bool(item.credential_warning))
    combo = _picker(win).combo
    combo.setCurrentIndex(combo.findData("local"))
    qtbot.waitUntil(lambda: not item.credential_warning)


def test_opening_with_missing_secrets_shows_the_bar(win, qtbot):
    bar = win.credentials.bar
    qtbot.waitUntil(bar.isVisible)
    text = win.credentials.bar_label.text()
    assert "openrouter" in text and "site" in text and "local" not in text
    assert win.credentials.missing == ["openrouter", "site"]
    set_button = bar.findChild(QPushButton, "setSecretsButton")
    set_button.click()
    dialog = win.credentials.dialog
    assert dialog is not None and dialog.selected_name() == "openrouter"
    dialog.store_secret("openrouter", "a")
    dialog.store_secret("site", "b")
    dialog.reject()
    qtbot.waitUntil(lambda: not bar.isVisible())


def test_no_bar_when_every_secret_is_stored(qtbot, themed_app, registry, settings, tmp_path):
    store = MemorySecretStore({"openrouter": "a", "local": "b", "site": "c"})
    window = _window(qtbot, registry, settings, tmp_path, store)
    try:
        assert window.files.open_path(_flow(tmp_path), confirm=False)
        qtbot.waitUntil(
            lambda: window.credentials.secret_status.known(["openrouter", "local", "site"])
        )
        assert not window.credentials.bar.isVisible()
        assert not window.scene.nodes["classify"].credential_warning
    finally:
        close_window(window)


class BrokenKeyring:
    calls = 0

    def get_secret(self, name: str) -> str | None:
        BrokenKeyring.calls += 1
        raise AuthError("No keyring backend: install gnome-keyring or use FLOWDESK_SECRET_X")

    def list_names(self) -> list[str]:
        raise AuthError("No keyring backend")


def test_unavailable_keyring_is_reported_once(qtbot, themed_app, registry, settings, tmp_path):
    window = _window(qtbot, registry, settings, tmp_path, BrokenKeyring())
    messages: list[str] = []
    window.credentials.secret_status.unavailable.connect(messages.append)
    try:
        assert window.files.open_path(_flow(tmp_path), confirm=False)
        qtbot.waitUntil(lambda: window.credentials.bar.isVisible())
        window.credentials.secret_status.invalidate()
        qtbot.waitUntil(lambda: window.credentials.secret_status.known(["openrouter"]))
        assert len(messages) == 1 and "keyring" in messages[0]
        assert window.scene.nodes["classify"].credential_warning
    finally:
        close_window(window)


def test_credentials_action_is_in_the_menu_and_toolbar(win):
    action = win.ui_actions["credentials"]
    assert action in win.toolbar.actions()
    file_menu = win.menuBar().findChild(type(win.ui_actions.recent_menu), "menu_file")
    assert action in file_menu.actions()
    action.trigger()
    assert win.credentials.dialog is not None
    assert "openrouter" in win.credentials.dialog.names()
    win.credentials.dialog.reject()
