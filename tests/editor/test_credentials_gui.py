"""Credential references declared in the GUI (issue 14, item 26): Add… /
Edit… / Remove in the Credentials dialog are undoable edits of the document
(kind and non-secret fields only: secrets go to the real Secret Service of
scripts/with-secret-service.sh, never into the file); removing a credential
nodes use names them first; a node's picker offers "New credential…"; Test
checks a secret or fetches an OAuth2 token from a real local token server."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flowdesk.editor.main_window import MainWindow
from flowdesk.engine.keyring_store import KeyringSecretStore
from PySide6.QtWidgets import QDialogButtonBox

from tests.helpers import example

from ..credentials.server import CLIENT_ID, AuthServer
from .conftest import close_window, make_window

EXAMPLE = example("ai-extract")


@pytest.fixture
def keyring() -> Iterator[KeyringSecretStore]:
    store = KeyringSecretStore()
    if not store.available():
        if os.environ.get("FLOWDESK_TEST_SECRET_SERVICE") == "1":
            pytest.fail("FLOWDESK_TEST_SECRET_SERVICE=1 but the Secret Service is not usable")
        pytest.skip("no Secret Service: run through scripts/with-secret-service.sh")
    names: list[str] = []
    store.names = names  # type: ignore[attr-defined]  # what to delete afterwards
    yield store
    for name in names:
        store.delete_secret(name)


def unique(keyring: Any, stem: str) -> str:
    name = f"{stem}_{uuid.uuid4().hex[:8]}"
    keyring.names.append(name)
    return name


@pytest.fixture
def win(qtbot, themed_app, registry, settings, tmp_path, keyring) -> Iterator[MainWindow]:
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["credentials"] = {
        "openrouter": {"type": "bearer"},
        "site": {"type": "basic", "username": "me"},
    }
    path = tmp_path / "creds.flow.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    window = make_window(qtbot, registry, settings, tmp_path / "recovery")
    assert window.files.open_path(path, confirm=False)
    yield window
    close_window(window)


def ok(dialog: Any) -> None:
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()


def fill(
    editor: Any, name: str | None, kind: str, fields: dict[str, str], secret: str = ""
) -> None:
    if name is not None:
        editor.name_edit.setText(name)
    editor.set_kind(kind)
    for key, value in fields.items():
        widget = editor.fields[key]
        if hasattr(widget, "setText"):
            widget.setText(value)
        else:
            widget.setCurrentIndex(widget.findData(value))
    editor.secret_edit.setText(secret)
    editor.again_edit.setText(secret)


def creds(win: MainWindow) -> dict[str, Any]:
    return win.controller.document.workflow.to_json_dict().get("credentials", {})


def test_add_declares_kind_and_fields_undoably_and_the_secret_stays_out_of_the_file(
    win, keyring, tmp_path
):
    name = unique(keyring, "github")
    dialog = win.credentials.open_dialog()
    dialog.add_button.click()
    editor = dialog.secret_dialog
    assert editor.isVisible() and editor.windowTitle() == "New credential"
    fill(editor, name, "api_key", {"name": "X-Token", "in": "query"}, "tok-1234567")
    assert editor.secret_label.text() == "Key"
    ok(editor)
    assert not editor.isVisible()
    assert creds(win)[name] == {"type": "api_key", "name": "X-Token", "in": "query"}
    assert keyring.get_secret(name) == "tok-1234567"
    assert dialog.row_texts(name) == [name, "api_key", "stored", "yes"]
    assert win.controller.stack.undoText() == f"Declare credential “{name}”"

    out = tmp_path / "saved.flow.json"
    win.files.choose_save_path = lambda: out
    assert win.files.save_as()
    text = out.read_text(encoding="utf-8")
    assert name in text and "tok-1234567" not in text

    dialog.reject()
    win.controller.stack.undo()
    assert name not in creds(win)
    win.controller.stack.redo()
    assert creds(win)[name]["name"] == "X-Token"


def test_the_editor_says_what_is_missing_and_keeps_the_input(win, keyring):
    dialog = win.credentials.open_dialog()
    dialog.add_button.click()
    editor = dialog.secret_dialog
    fill(editor, "site", "oauth2_client_credentials", {"client_id": "abc"})
    ok(editor)
    assert editor.isVisible() and editor.problem.text() == "Token URL is required."
    editor.fields["token_url"].setText("https://auth.example.com/token")
    ok(editor)
    assert "already has a credential named 'site'" in editor.problem.text()
    editor.name_edit.setText("site2")
    editor.set_kind("oauth2_authorization_code")
    editor.fields["token_url"].setText("")
    ok(editor)
    assert "preset" in editor.problem.text()  # neither URLs nor a provider
    assert editor.name_edit.text() == "site2"
    editor.reject()
    assert "site2" not in creds(win)


def test_edit_changes_fields_and_declare_gives_a_stored_secret_a_kind(win, keyring, qtbot):
    dialog = win.credentials.open_dialog()
    dialog.select("site")
    assert dialog.edit_button.text() == "Edit…"
    dialog.edit_button.click()
    editor = dialog.secret_dialog
    assert editor.name_edit.isReadOnly() and editor.fields["username"].text() == "me"
    editor.fields["username"].setText("you")
    ok(editor)
    assert creds(win)["site"] == {"type": "basic", "username": "you"}

    loose = unique(keyring, "loose")
    keyring.set_secret(loose, "loose-secret")
    dialog.refresh()
    assert dialog.row_texts(loose)[1:] == ["—", "stored", "no"]
    dialog.select(loose)
    assert dialog.edit_button.text() == "Declare…"
    dialog.edit_button.click()
    fill(dialog.secret_dialog, None, "bearer", {})
    ok(dialog.secret_dialog)
    assert creds(win)[loose] == {"type": "bearer"}
    assert dialog.row_texts(loose)[1:] == ["bearer", "stored", "yes"]
    dialog.reject()

    # the node's picker offers it now (a bearer credential, as ai.transform takes)
    win.inspector.show_nodes(["classify"])
    combo = win.inspector.editors["credential"].combo
    assert combo.findData(loose) > 0
    win.controller.stack.undo()
    assert loose not in creds(win)
    win.controller.stack.undo()
    assert creds(win)["site"]["username"] == "me"


def test_removing_a_used_credential_names_its_nodes_and_undoes(win, keyring):
    dialog = win.credentials.open_dialog()
    questions: list[str] = []
    answers = [False, True]
    dialog.confirm = lambda question: questions.append(question) or answers.pop(0)
    assert dialog.row_texts("openrouter")[3] == "yes · “Classify each ticket” (classify)"
    dialog.select("openrouter")
    dialog.remove_button.click()
    assert "“Classify each ticket” (classify)" in questions[0]
    assert "openrouter" in creds(win)  # declined
    dialog.remove_button.click()
    assert "openrouter" not in creds(win)
    assert "Undo" in dialog.status.text()
    dialog.select("site")  # used by no node: removed without a question
    dialog.remove_button.click()
    assert len(questions) == 2 and "site" not in creds(win)
    win.controller.stack.undo()
    win.controller.stack.undo()
    assert set(creds(win)) == {"openrouter", "site"}
    assert dialog.row_texts("openrouter")[1] == "bearer"  # the dialog follows the undo


def test_new_credential_from_a_node_picker_declares_and_picks_it_in_one_step(win, keyring, qtbot):
    name = unique(keyring, "router")
    win.inspector.show_nodes(["classify"])
    combo = win.inspector.editors["credential"].combo
    assert combo.itemText(combo.count() - 1) == "New credential…"
    combo.setCurrentIndex(combo.count() - 1)
    editor = win.credentials.editor
    assert editor is not None and editor.isVisible()
    kinds = [editor.kind_combo.itemData(i) for i in range(editor.kind_combo.count())]
    assert kinds == ["bearer"]  # what ai.transform takes
    assert combo.currentData() == "openrouter"  # the picker does not sit on "New…"
    fill(editor, name, "bearer", {}, "sk-new-secret")
    ok(editor)
    assert win.controller.document.node("classify").config["credential"] == name
    assert creds(win)[name] == {"type": "bearer"}
    assert keyring.get_secret(name) == "sk-new-secret"
    qtbot.waitUntil(lambda: win.inspector.editors["credential"].combo.currentData() == name)
    win.controller.stack.undo()  # one step: the pick and the declaration
    assert win.controller.document.node("classify").config["credential"] == "openrouter"
    assert name not in creds(win)


@pytest.fixture(scope="module")
def auth_server() -> Iterator[AuthServer]:
    server = AuthServer().start()
    yield server
    server.stop()


def test_test_checks_the_secret_and_fetches_an_oauth2_token(win, keyring, qtbot, auth_server):
    realm = uuid.uuid4().hex[:8]
    auth_server.realm(realm, "client-secret-1")
    name = unique(keyring, "service")
    dialog = win.credentials.open_dialog()
    dialog.add_button.click()
    fill(
        dialog.secret_dialog,
        name,
        "oauth2_client_credentials",
        {"token_url": f"{auth_server.url}/token/{realm}", "client_id": CLIENT_ID},
        "client-secret-1",
    )
    ok(dialog.secret_dialog)
    dialog.select(name)
    with qtbot.waitSignal(dialog.test_finished, timeout=10000) as got:
        dialog.test_button.click()
    assert got.args[1].startswith("✓ Got an access token") and "client-secret-1" not in got.args[1]
    assert auth_server.realms[realm].fetches == 1

    keyring.set_secret(name, "wrong-secret")
    with qtbot.waitSignal(dialog.test_finished, timeout=10000) as got:
        dialog.test_button.click()
    assert got.args[1].startswith("Failed") and "wrong-secret" not in got.args[1]

    dialog.select("site")  # basic, no secret stored: says so
    with qtbot.waitSignal(dialog.test_finished, timeout=10000) as got:
        dialog.test_button.click()
    assert got.args[1].startswith("Failed") and "site" in got.args[1]
    dialog.reject()


def test_ctrl_z_in_the_dialog_undoes_a_removal(win, keyring, qtbot):
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    dialog = win.credentials.open_dialog("site")
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    dialog.remove_button.click()
    assert "site" not in creds(win)
    QTest.keyClick(dialog.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert creds(win)["site"] == {"type": "basic", "username": "me"}
    assert dialog.row_texts("site")[1] == "basic"
    dialog.reject()


def test_ok_without_a_change_adds_no_undo_step(win, keyring):
    dialog = win.credentials.open_dialog("site")
    steps = win.controller.stack.count()
    dialog.edit_button.click()
    ok(dialog.secret_dialog)
    assert not dialog.secret_dialog.isVisible()
    assert win.controller.stack.count() == steps
    dialog.reject()


def test_rename_moves_references_sources_and_the_secret_in_one_undo_step(
    win, keyring, qtbot, tmp_path
):
    old, new, taken = unique(keyring, "api"), unique(keyring, "renamed"), unique(keyring, "taken")
    secret = f"rename-secret-{uuid.uuid4().hex[:6]}"
    data = {
        "format": "flowdesk/workflow",
        "version": 1,
        "name": "rename",
        "credentials": {"site": {"type": "basic", "username": "me"}, old: {"type": "bearer"}},
        "sources": {"api": {"type": "openapi", "spec": "api.json", "credential": old}},
        "nodes": [
            {
                "id": "fetch",
                "type": "http.request",
                "position": [0, 0],
                "config": {"url": "https://example.com/a", "credential": old},
            },
            {
                "id": "other",
                "type": "http.request",
                "position": [300, 0],
                "config": {"url": "https://example.com/b", "credential": "site"},
            },
        ],
        "edges": [],
    }
    path = tmp_path / "rename.flow.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert win.files.open_path(path, confirm=False)
    keyring.set_secret(old, secret)
    keyring.set_secret(taken, "someone-else")
    dialog = win.credentials.open_dialog(old)
    assert dialog.rename_button.isEnabled()
    doc = win.controller.document
    steps = win.controller.stack.count()
    dialog.ask_new_name = lambda name: new
    with qtbot.waitSignal(dialog.secrets_changed):
        dialog.rename_button.click()
    # one undo step; the name keeps its place; the node and the source follow
    assert win.controller.stack.count() == steps + 1
    assert win.controller.stack.text(steps) == f"Rename credential “{old}” to “{new}”"
    assert list(creds(win)) == ["site", new]
    assert doc.node("fetch").config["credential"] == new
    assert doc.node("other").config["credential"] == "site"
    assert doc.workflow.sources["api"]["credential"] == new
    # the secret moved in the real Secret Service
    assert keyring.get_secret(new) == secret and keyring.get_secret(old) is None
    assert dialog.row_texts(new)[:3] == [new, "bearer", "stored"]
    assert old not in dialog.names()
    assert f"Renamed {old!r} to {new!r} in 1 node" in dialog.status.text()
    # undo: everything (the secret too) goes back; redo: forward again
    win.controller.stack.undo()
    assert list(creds(win)) == ["site", old]
    assert doc.node("fetch").config["credential"] == old
    assert doc.workflow.sources["api"]["credential"] == old
    assert keyring.get_secret(old) == secret and keyring.get_secret(new) is None
    win.controller.stack.redo()
    assert list(creds(win)) == ["site", new] and keyring.get_secret(new) == secret
    # saved: the new name in the file, the secret never
    assert win.files.save()
    saved = path.read_text(encoding="utf-8")
    assert new in saved and old not in saved and secret not in saved
    # a name in use (declared, or with a secret stored under it) is refused, nothing changes
    steps = win.controller.stack.count()
    for clash, said in (("site", "already has a credential"), (taken, "already stored")):
        dialog.ask_new_name = lambda name, clash=clash: clash
        dialog.select(new)
        dialog.rename_button.click()
        assert said in dialog.banner.text()
    assert win.controller.stack.count() == steps and list(creds(win)) == ["site", new]
    assert keyring.get_secret(taken) == "someone-else"
    dialog.reject()
