"""The Credentials dialog: the credentials the open workflow references and
those stored on this computer, with kind and whether a secret is stored; add,
set/replace a secret (a stored secret is never shown), delete, and Test (one
GET to a URL the user gives, in a worker thread so the UI never freezes).

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
from collections.abc import Mapping
from typing import Any

from flowdesk.engine.credentials import ChainSecretStore, CredentialResolver, EnvSecretStore
from flowdesk.engine.errors import FlowdeskError
from flowdesk.engine.model.workflow import BearerCredential, CredentialRef
from PySide6.QtCore import QObject, Qt, Signal
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

    def __init__(self, name: str | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
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
            self.accept()

    def values(self) -> tuple[str, str]:
        return self.name_edit.text().strip(), self.secret_edit.text()


class _TestRelay(QObject):
    """Carries a finished test from the worker thread to the UI thread."""

    finished = Signal(str, str)  # credential name, message


class CredentialsDialog(QDialog):
    secrets_changed = Signal()
    #: emitted when a Test finished: credential name, message shown
    test_finished = Signal(str, str)

    def __init__(
        self,
        references: Mapping[str, CredentialRef],
        store: Any,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Credentials")
        self.resize(640, 380)
        self.references = dict(references)
        self.store = store
        self.env = EnvSecretStore()
        self._relay = _TestRelay(self)
        self._relay.finished.connect(self._test_done)
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
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        layout.addWidget(self.table)

        row = QHBoxLayout()
        self.add_button = QPushButton("Add…")
        self.edit_button = QPushButton("Set secret…")
        self.delete_button = QPushButton("Delete")
        for button in (self.add_button, self.edit_button, self.delete_button):
            row.addWidget(button)
        row.addStretch(1)
        layout.addLayout(row)
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
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.status)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout.addWidget(close)
        self.refresh()

    # ------------------------------------------------------------- rows
    def _stored_names(self) -> set[str]:
        try:
            names = set(self.store.list_names())
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

    def refresh(self) -> None:
        selected = self.selected_name()
        names = sorted(set(self.references) | self._stored_names())
        self.table.setRowCount(len(names))
        for row, name in enumerate(names):
            ref = self.references.get(name)
            state = self.secret_state(name)
            cells = (
                name,
                ref.type if ref is not None else "—",
                {"keyring": "stored", "environment": "from environment"}.get(state, "missing"),
                "yes" if ref is not None else "no",
            )
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

    # ---------------------------------------------------------- actions
    def ask_secret(self, name: str | None) -> tuple[str, str] | None:
        """Ask for (name, secret); None when cancelled. Replaced in tests."""
        dialog = SecretDialog(name, self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return dialog.values()

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

    def store_secret(self, name: str, secret: str) -> bool:
        try:
            self.store.set_secret(name, secret)
        except FlowdeskError as error:
            self._show_problem(error.message)
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
        from flowdesk.engine.oauth2 import probe

        references = dict(self.references)
        if name not in references:
            references[name] = BearerCredential(type="bearer")
        resolver = CredentialResolver(references, ChainSecretStore(self.env, self.store))
        self.test_button.setEnabled(False)
        shown = url.split("?", 1)[0]
        self.status.setText(f"Testing {name!r} against {shown}…")

        def work() -> None:
            try:
                status = asyncio.run(probe(resolver, name, url))
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
