"""The Credentials dialog: the credentials the open workflow references and
those stored on this computer, with kind and whether a secret is stored; add,
set/replace a secret (a stored secret is never shown), delete, Test (one
GET to a URL the user gives, in a worker thread so the UI never freezes), and
Sign in for ``oauth2_authorization_code`` credentials (the browser opens on the
provider's page; ``engine.oauth2_login`` waits for the answer in a worker
thread and the tokens go to the store — for those credentials the Secret
column says whether they are signed in).

``CredentialsDialog(references, store)``: ``references`` is the workflow's
``credentials`` mapping (name → reference), ``store`` the secret store
(``KeyringSecretStore()`` in the app; anything with ``get_secret``,
``set_secret``, ``delete_secret`` and ``list_names``). ``secrets_changed`` is
emitted after a secret was stored or deleted (refresh warning badges).
May import: PySide6, engine (public API and credential modules).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Mapping
from typing import Any

from flowdesk.engine import (
    BearerCredential,
    ChainSecretStore,
    CredentialRef,
    CredentialResolver,
    EnvSecretStore,
    FlowdeskError,
    OAuth2AuthorizationCode,
    is_tokens_key,
    tokens_key,
)
from PySide6.QtCore import QObject, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

COLUMNS = ("Name", "Kind", "Secret", "Used by this workflow")


class SecretDialog(QDialog):
    """Asks for a name (when new) and a secret, typed twice, never echoed."""

    def __init__(
        self,
        name: str | None,
        parent: QWidget | None = None,
        store: Callable[[str, str], str | None] | None = None,
    ) -> None:
        super().__init__(parent)
        #: stores (name, secret) on OK; returns why it could not (the dialog
        #: then stays open with what was typed) or None
        self._store = store
        self.setWindowTitle("Set secret" if name else "Add credential")
        form = QFormLayout(self)
        self.name_edit = QLineEdit(name or "")
        self.name_edit.setReadOnly(bool(name))
        self.secret_edit = QLineEdit()
        self.secret_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.again_edit = QLineEdit()
        self.again_edit.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow("Name", self.name_edit)
        form.addRow("Secret", self.secret_edit)
        form.addRow("Again", self.again_edit)
        self.problem = QLabel("")
        self.problem.setObjectName("secretProblem")
        self.problem.setWordWrap(True)
        self.problem.setMinimumWidth(360)
        form.addRow(self.problem)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _accept(self) -> None:
        if not self.name_edit.text().strip():
            self.problem.setText("Give the credential a name.")
        elif not self.secret_edit.text():
            self.problem.setText("The secret is empty.")
        elif self.secret_edit.text() != self.again_edit.text():
            self.problem.setText("The two entries differ.")
        else:
            refused = self._store(*self.values()) if self._store is not None else None
            if refused:
                self.problem.setText(f"Not stored: {refused}")
                self.adjustSize()  # the whole explanation, not its first lines
                return
            self.accept()

    def values(self) -> tuple[str, str]:
        return self.name_edit.text().strip(), self.secret_edit.text()


class _TestRelay(QObject):
    """Carries a finished test from the worker thread to the UI thread."""

    finished = Signal(str, str)  # credential name, message
    #: a sign-in's authorization URL, to open in the browser (credential name, URL)
    sign_in_url = Signal(str, str)
    #: a sign-in ended (credential name, message, signed in?)
    sign_in_done = Signal(str, str, bool)


class CredentialsDialog(QDialog):
    secrets_changed = Signal()
    #: emitted when a Test finished: credential name, message shown
    test_finished = Signal(str, str)
    #: emitted when a sign-in ended: credential name, message shown, signed in?
    sign_in_finished = Signal(str, str, bool)

    def __init__(
        self,
        references: Mapping[str, CredentialRef],
        store: Any,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Credentials")
        self.resize(720, 380)
        self.references = dict(references)
        self.store = store
        self.env = EnvSecretStore()
        self._relay = _TestRelay(self)
        self._relay.finished.connect(self._test_done)
        self._relay.sign_in_url.connect(self._sign_in_url)
        self._relay.sign_in_done.connect(self._sign_in_done)
        self._signing_in: str | None = None
        self._threads: list[threading.Thread] = []

        layout = QVBoxLayout(self)
        self.banner = QLabel("")
        self.banner.setWordWrap(True)
        self.banner.setVisible(False)
        layout.addWidget(self.banner)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        # The name takes the room left; the other headers are never clipped.
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.table.verticalHeader().setVisible(False)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        layout.addWidget(self.table)

        row = QHBoxLayout()
        self.add_button = QPushButton("Add…")
        self.edit_button = QPushButton("Set secret…")
        self.delete_button = QPushButton("Delete")
        self.sign_in_button = QPushButton("Sign in…")
        self.sign_in_button.setObjectName("signInButton")
        self.sign_in_button.setToolTip(
            "Sign in with the provider in your browser (OAuth2 credentials)"
        )
        for button in (self.add_button, self.edit_button, self.delete_button):
            row.addWidget(button)
        row.addStretch(1)
        row.addWidget(self.sign_in_button)
        layout.addLayout(row)
        self.sign_in_button.clicked.connect(self.sign_in_selected)
        self.add_button.clicked.connect(self.add_credential)
        self.edit_button.clicked.connect(self.edit_selected)
        self.delete_button.clicked.connect(self.delete_selected)

        test_row = QHBoxLayout()
        self.url_edit = QLineEdit()
        self.url_edit.setPlaceholderText("https://api.example.com/me — URL to test against")
        self.test_button = QPushButton("Test")
        self.test_button.clicked.connect(self.test_selected)
        test_row.addWidget(self.url_edit, 1)
        test_row.addWidget(self.test_button)
        layout.addLayout(test_row)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.LinksAccessibleByMouse
        )
        self.status.setOpenExternalLinks(True)
        layout.addWidget(self.status)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout.addWidget(close)
        self.refresh()

    # ------------------------------------------------------------- rows
    def _stored_names(self) -> set[str]:
        try:
            # (a sign-in's token entry belongs to its credential's row)
            names = {n for n in self.store.list_names() if not is_tokens_key(n)}
        except FlowdeskError as error:
            self._show_problem(error.message)
            return set()
        return names

    def _show_problem(self, message: str) -> None:
        self.banner.setText(message)
        self.banner.setVisible(True)

    def secret_state(self, name: str) -> str:
        """ "keyring", "environment" or "missing" (never the secret)."""
        if self.env.get_secret(name):
            return "environment"
        try:
            return "keyring" if self.store.get_secret(name) else "missing"
        except FlowdeskError as error:
            self._show_problem(error.message)
            return "missing"

    def signed_in(self, name: str) -> bool:
        try:
            return bool(self.store.get_secret(tokens_key(name)))
        except FlowdeskError as error:
            self._show_problem(error.message)
            return False

    def refresh(self) -> None:
        selected = self.selected_name()
        names = sorted(set(self.references) | self._stored_names())
        self.table.setRowCount(len(names))
        for row, name in enumerate(names):
            ref = self.references.get(name)
            state = self.secret_state(name)
            shown = {"keyring": "stored", "environment": "from environment"}.get(state, "missing")
            if isinstance(ref, OAuth2AuthorizationCode):
                state = "keyring" if self.signed_in(name) else "missing"
                shown = "signed in" if state == "keyring" else "not signed in"
            kind = ref.type if ref is not None else "—"
            if isinstance(ref, OAuth2AuthorizationCode):
                kind = "OAuth2 sign-in" + (f" ({ref.preset.title()})" if ref.preset else "")
            cells = (name, kind, shown, "yes" if ref else "no")
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, name)
                if column == 2 and state == "missing":
                    item.setForeground(Qt.GlobalColor.red)
                self.table.setItem(row, column, item)
            if name == selected:
                self.table.selectRow(row)
        self._update_buttons()

    def _cell(self, row: int, column: int) -> str:
        item = self.table.item(row, column)
        return item.text() if item is not None else ""

    def names(self) -> list[str]:
        return [self._cell(r, 0) for r in range(self.table.rowCount())]

    def row_texts(self, name: str) -> list[str]:
        for r in range(self.table.rowCount()):
            if self._cell(r, 0) == name:
                return [self._cell(r, c) for c in range(len(COLUMNS))]
        raise KeyError(name)

    def selected_name(self) -> str | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows:
            return None
        return self._cell(rows[0].row(), 0)

    def select(self, name: str) -> None:
        for r in range(self.table.rowCount()):
            if self._cell(r, 0) == name:
                self.table.selectRow(r)

    def _update_buttons(self) -> None:
        name = self.selected_name()
        self.edit_button.setEnabled(name is not None)
        self.delete_button.setEnabled(name is not None)
        self.test_button.setEnabled(name is not None)
        ref = self.references.get(name) if name is not None else None
        can_sign_in = isinstance(ref, OAuth2AuthorizationCode)
        self.sign_in_button.setEnabled(can_sign_in and self._signing_in is None)
        self.sign_in_button.setText(
            "Sign in again…" if can_sign_in and name and self.signed_in(name) else "Sign in…"
        )

    # ---------------------------------------------------------- actions
    def ask_secret(self, name: str | None) -> tuple[str, str] | None:
        """Ask for a name and a secret, and store them: a store that refuses
        (no Secret Service) says why in the dialog, which keeps what was typed.
        Returns a (name, secret) still to store — None here, where the dialog
        stored it or was cancelled. Replaced in tests."""
        dialog = SecretDialog(name, self, store=self._store_from_dialog)
        self.secret_dialog = dialog
        dialog.exec()
        return None

    def _store_from_dialog(self, name: str, secret: str) -> str | None:
        problem: list[str] = []
        self.store_secret(name, secret, problem.append)
        return problem[0] if problem else None

    def confirm(self, question: str) -> bool:
        """Ask a yes/no question. Replaced in tests."""
        answer = QMessageBox.question(self, "Credentials", question)
        return answer == QMessageBox.StandardButton.Yes

    def add_credential(self) -> None:
        answer = self.ask_secret(None)
        if answer is not None:
            self.store_secret(*answer)

    def edit_selected(self) -> None:
        name = self.selected_name()
        if name is not None:
            answer = self.ask_secret(name)
            if answer is not None:
                self.store_secret(name, answer[1])

    def store_secret(
        self, name: str, secret: str, refused: Callable[[str], None] | None = None
    ) -> bool:
        """Store a secret; when the store refuses, ``refused`` (or the banner) says why."""
        try:
            self.store.set_secret(name, secret)
        except FlowdeskError as error:
            (refused or self._show_problem)(error.message)
            return False
        self.status.setText(f"Stored the secret of {name!r}.")
        self.refresh()
        self.select(name)
        self.secrets_changed.emit()
        return True

    def delete_selected(self) -> None:
        name = self.selected_name()
        if name is None or not self.confirm(f"Delete the stored secret of {name!r}?"):
            return
        try:
            deleted = self.store.delete_secret(name)
        except FlowdeskError as error:
            self._show_problem(error.message)
            return
        self.status.setText(
            f"Deleted the secret of {name!r}." if deleted else f"No secret stored for {name!r}."
        )
        self.refresh()
        self.secrets_changed.emit()

    def test_selected(self) -> None:
        name = self.selected_name()
        url = self.url_edit.text().strip()
        if name is None:
            return
        if not url:
            self.status.setText("Enter a URL to test the credential against.")
            return
        self.start_test(name, url)

    def start_test(self, name: str, url: str) -> None:
        """One GET in a worker thread; the result lands in ``status``."""
        from flowdesk.engine import probe_credential

        references = dict(self.references)
        if name not in references:
            references[name] = BearerCredential(type="bearer")
        resolver = CredentialResolver(references, ChainSecretStore(self.env, self.store))
        self.test_button.setEnabled(False)
        shown = url.split("?", 1)[0]
        self.status.setText(f"Testing {name!r} against {shown}…")

        def work() -> None:
            try:
                status = asyncio.run(probe_credential(resolver, name, url))
                ok = 200 <= status <= 299
                message = f"GET {shown}: HTTP {status}" + ("" if ok else " (failed)")
            except FlowdeskError as error:
                message = f"Failed: {error.message}"
            except Exception as exc:  # noqa: BLE001 - shown to the user, never a crash
                message = f"Failed: {type(exc).__name__}"
            self._relay.finished.emit(name, message)

        thread = threading.Thread(target=work, name="credential-test", daemon=True)
        self._threads.append(thread)
        thread.start()

    def _test_done(self, name: str, message: str) -> None:
        self.status.setText(message)
        self._update_buttons()
        self.test_finished.emit(name, message)

    # ----------------------------------------------------------- sign in
    def open_url(self, url: str) -> None:
        """Open the sign-in page in the browser. Replaced in tests."""
        QDesktopServices.openUrl(QUrl(url))

    def sign_in_selected(self) -> None:
        name = self.selected_name()
        if name is not None:
            self.start_sign_in(name)

    def start_sign_in(self, name: str) -> None:
        """Sign in ``name`` in a worker thread: the browser opens on the
        provider's page; the tokens are stored when the answer arrives."""
        from flowdesk.engine import sign_in_oauth2

        ref = self.references.get(name)
        if not isinstance(ref, OAuth2AuthorizationCode) or self._signing_in is not None:
            return
        self._signing_in = name
        self._update_buttons()
        self.status.setText(f"Opening the sign-in page for {name!r} in your browser…")
        resolver = CredentialResolver({name: ref}, ChainSecretStore(self.env, self.store))
        store = self.store

        relay = self._relay

        def emit(signal: Any, *args: Any) -> None:
            try:
                signal.emit(*args)
            except RuntimeError:  # the dialog was closed meanwhile
                pass

        def work() -> None:
            async def go() -> Any:
                secret = await resolver.optional_secret_async(name)
                return await sign_in_oauth2(
                    name, ref, secret, lambda url: emit(relay.sign_in_url, name, url)
                )

            try:
                record = asyncio.run(go())
                store.set_secret(tokens_key(name), record.to_json())
                emit(relay.sign_in_done, name, f"Signed in {name!r}.", True)
            except FlowdeskError as error:
                emit(relay.sign_in_done, name, f"Not signed in: {error.message}", False)
            except Exception as exc:  # noqa: BLE001 - shown to the user, never a crash
                emit(relay.sign_in_done, name, f"Not signed in: {type(exc).__name__}", False)

        thread = threading.Thread(target=work, name="credential-sign-in", daemon=True)
        self._threads.append(thread)
        thread.start()

    def _sign_in_url(self, name: str, url: str) -> None:
        import html

        self.status.setText(
            f"Waiting for the sign-in of {html.escape(name)!r} in your browser. If it did "
            f'not open, <a href="{html.escape(url, quote=True)}">open the sign-in page</a>.'
        )
        self.open_url(url)

    def _sign_in_done(self, name: str, message: str, ok: bool) -> None:
        self._signing_in = None
        self.status.setText(message)
        self.refresh()
        self.select(name)
        if ok:
            self.secrets_changed.emit()
        self.sign_in_finished.emit(name, message, ok)
