"""The Credentials dialog: the credentials the open workflow declares and
those stored on this computer, with kind, whether a secret is stored (never
the secret) and the nodes that use them. Add… declares a reference (name,
kind and non-secret fields, optionally its secret; ``editor.credential_editor``),
Edit… changes one (or declares a name only stored on this computer), Rename…
gives it another name (the nodes and sources that name it follow, and so does
its stored secret), Remove takes it out of the workflow (naming the nodes that
use it) — all undoable edits of the document; Set secret… / Delete secret
change the keyring, Test and Sign in run off the UI thread (``editor.credential_checks``).

``CredentialsDialog(references, store, parent, controller)``: with a
``controller`` (the editor's ``DocumentController``) the references are its
document's and edits are pushed on its undo stack (Ctrl+Z / Ctrl+Shift+Z work
in the dialog too); without one, ``references`` is edited in place (tests,
a dialog without a document). ``store`` is the secret store
(``KeyringSecretStore()`` in the app; anything with ``get_secret``,
``set_secret``, ``delete_secret`` and ``list_names``). ``secrets_changed`` is
emitted after a secret was stored or deleted (refresh warning badges).
May import: PySide6, editor.*, engine (public API and credential modules).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flowdesk.editor.credential_checks import CheckMixin
from flowdesk.editor.credential_editor import CredentialEditor
from flowdesk.editor.document import UNSET, DocumentError
from flowdesk.editor.document.credentials import (
    parse_reference,
    reference_problem,
    remove_credential,
    rename_credential,
    set_credential,
)
from flowdesk.editor.secrets import credential_users, credential_uses
from flowdesk.editor.text import plural
from flowdesk.engine import (
    EnvSecretStore,
    FlowdeskError,
    OAuth2AuthorizationCode,
    is_tokens_key,
    tokens_key,
)
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
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


class CredentialsDialog(CheckMixin, QDialog):
    secrets_changed = Signal()
    #: a reference was declared, changed or removed (name)
    references_changed = Signal(str)
    #: emitted when a Test finished: credential name, message shown
    test_finished = Signal(str, str)
    #: emitted when a sign-in ended: credential name, message shown, signed in?
    sign_in_finished = Signal(str, str, bool)

    def __init__(
        self,
        references: Mapping[str, Any],
        store: Any,
        parent: QWidget | None = None,
        controller: Any = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Credentials")
        self.resize(760, 400)
        self.controller = controller
        self._local = dict(references)
        self.store = store
        self.env = EnvSecretStore()
        self._start_checks()
        #: the editor of the reference being added or edited (tests fill it in)
        self.secret_dialog: Any = None

        layout = QVBoxLayout(self)
        self.banner = QLabel("")
        self.banner.setWordWrap(True)
        self.banner.setVisible(False)
        layout.addWidget(self.banner)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("credentialsTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        # The name and the users take the room left; the other headers are never clipped.
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.table.verticalHeader().setVisible(False)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.itemDoubleClicked.connect(lambda _item: self.edit_selected())
        layout.addWidget(self.table)

        row = QHBoxLayout()
        self.add_button = self._button("Add…", "addCredential", "Declare a new credential")
        self.edit_button = self._button(
            "Edit…", "editCredential", "Change the kind and fields of the selected credential"
        )
        self.rename_button = self._button(
            "Rename…",
            "renameCredential",
            "Give the credential another name: the nodes and sources that use it and its "
            "stored secret follow (undoable)",
        )
        self.remove_button = self._button(
            "Remove", "removeCredential", "Remove the credential from this workflow (undoable)"
        )
        self.set_secret_button = self._button(
            "Set secret…", "setSecret", "Store or replace the secret on this computer"
        )
        self.delete_button = self._button(
            "Delete secret", "deleteSecret", "Delete the stored secret from this computer"
        )
        self.sign_in_button = self._button(
            "Sign in…", "signInButton", "Sign in with the provider in your browser (OAuth2)"
        )
        for button in (self.add_button, self.edit_button, self.rename_button, self.remove_button):
            row.addWidget(button)
        row.addStretch(1)
        for button in (self.set_secret_button, self.delete_button, self.sign_in_button):
            row.addWidget(button)
        layout.addLayout(row)
        self.add_button.clicked.connect(self.add_credential)
        self.edit_button.clicked.connect(self.edit_selected)
        self.rename_button.clicked.connect(self.rename_selected)
        self.remove_button.clicked.connect(self.remove_selected)
        self.set_secret_button.clicked.connect(self.set_secret_selected)
        self.delete_button.clicked.connect(self.delete_selected)
        self.sign_in_button.clicked.connect(self.sign_in_selected)

        test_row = QHBoxLayout()
        self.url_edit = QLineEdit()
        self.url_edit.setObjectName("testUrl")
        self.url_edit.setPlaceholderText(
            "https://api.example.com/me — a URL to test against (optional)"
        )
        self.test_button = self._button(
            "Test", "testCredential", "GET the URL with the credential; without a URL, check it"
        )
        self.test_button.clicked.connect(self.test_selected)
        test_row.addWidget(self.url_edit, 1)
        test_row.addWidget(self.test_button)
        layout.addLayout(test_row)
        self.status = QLabel("")
        self.status.setObjectName("credentialsStatus")
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
        if controller is not None:
            # The window is blocked while the dialog is open: undo here.
            QShortcut(QKeySequence.StandardKey.Undo, self, controller.stack.undo)
            QShortcut(QKeySequence.StandardKey.Redo, self, controller.stack.redo)
            controller.edited.connect(self.refresh)
        self.refresh()

    def _button(self, text: str, name: str, tip: str) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        button.setToolTip(tip)
        return button

    @property
    def references(self) -> Mapping[str, Any]:
        """The declared references (the document's, when there is one)."""
        if self.controller is not None:
            return self.controller.document.workflow.credentials
        return self._local

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

    def users(self, name: str) -> list[str]:
        """The nodes of the document that use ``name`` (titles)."""
        if self.controller is None:
            return []
        return credential_users(self.controller.document, name)

    def refresh(self) -> None:
        try:
            self.table.rowCount()
        except RuntimeError:  # the dialog is gone (a late signal)
            return
        selected = self.selected_name()
        references = self.references
        names = sorted(set(references) | self._stored_names())
        self.table.setRowCount(len(names))
        for row, name in enumerate(names):
            ref = references.get(name)
            state = self.secret_state(name)
            shown = {"keyring": "stored", "environment": "from environment"}.get(state, "missing")
            if isinstance(ref, OAuth2AuthorizationCode):
                state = "keyring" if self.signed_in(name) else "missing"
                shown = "signed in" if state == "keyring" else "not signed in"
            kind = ref.type if ref is not None else "—"
            if isinstance(ref, OAuth2AuthorizationCode):
                kind = "OAuth2 sign-in" + (f" ({ref.preset.title()})" if ref.preset else "")
            users = self.users(name)
            used = "no"
            if ref is not None:
                used = "yes" + (f" · {', '.join(users)}" if users else "")
            cells = (name, kind, shown, used)
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, name)
                if column == 2 and state == "missing":
                    item.setForeground(Qt.GlobalColor.red)
                if column == 1 and ref is None:
                    item.setToolTip("Not declared in this workflow: Edit… declares it")
                if column == 3 and users:
                    item.setToolTip("Used by " + ", ".join(users))
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
        declared = name is not None and name in self.references
        self.edit_button.setEnabled(name is not None)
        self.edit_button.setText("Edit…" if declared or name is None else "Declare…")
        self.rename_button.setEnabled(declared)
        self.remove_button.setEnabled(declared)
        self.set_secret_button.setEnabled(name is not None)
        self.delete_button.setEnabled(name is not None)
        self.test_button.setEnabled(name is not None)
        ref = self.references.get(name) if name is not None else None
        can_sign_in = isinstance(ref, OAuth2AuthorizationCode)
        self.sign_in_button.setEnabled(can_sign_in and self._signing_in is None)
        self.sign_in_button.setText(
            "Sign in again…" if can_sign_in and name and self.signed_in(name) else "Sign in…"
        )

    # ------------------------------------------------------- references
    def ask_credential(self, name: str | None, kinds: tuple[str, ...] = ()) -> CredentialEditor:
        """Open the editor of a new (``name`` None) or existing reference; it
        applies itself on OK. Returns it (shown, not blocking)."""
        ref = self.references.get(name) if name is not None else None
        declared = ref is not None or name is None
        raw = ref.model_dump(mode="json", by_alias=True, exclude_unset=True) if ref else None

        def apply(new_name: str, new_ref: dict[str, Any], secret: str | None) -> str | None:
            return self.apply_reference(new_name, new_ref, secret, is_new=name is None)

        editor = CredentialEditor(name, raw, apply, kinds, self, declared=declared)
        self.secret_dialog = editor
        editor.open()
        return editor

    def add_credential(self) -> None:
        self.ask_credential(None)

    def edit_selected(self) -> None:
        name = self.selected_name()
        if name is not None:
            self.ask_credential(name)

    def apply_reference(
        self, name: str, ref: dict[str, Any], secret: str | None, is_new: bool = False
    ) -> str | None:
        """Declare or change ``name`` (one undo step) and store ``secret`` if
        given; why not, in words, or None."""
        if is_new and name in self.references:
            return f"This workflow already has a credential named {name!r}: choose another name."
        problem = reference_problem(ref)
        if problem:
            return problem
        if secret:
            refused: list[str] = []
            self.store_secret(name, secret, refused.append, refresh=False)
            if refused:
                return (
                    f"Not stored: {refused[0]} Leave the secret empty to declare the credential "
                    "without it (a run can take it from the environment)."
                )
        current = self.references.get(name)
        unchanged = current is not None and ref == current.model_dump(
            mode="json", by_alias=True, exclude_unset=True
        )
        # (nothing changed: no empty step in the undo history)
        problem = None if unchanged else self._set_reference(name, ref)
        if problem is None:
            self.status.setText(
                f"{'Declared' if is_new else 'Saved'} the credential {name!r}"
                + (" and stored its secret." if secret else ".")
            )
            self.refresh()
            self.select(name)
        return problem

    def _set_reference(self, name: str, ref: dict[str, Any] | Any) -> str | None:
        if self.controller is None:
            if ref is UNSET:
                self._local.pop(name, None)
            else:
                self._local[name] = parse_reference(ref)
        else:
            doc = self.controller.document
            command = (
                remove_credential(doc, name) if ref is UNSET else set_credential(doc, name, ref)
            )
            try:
                self.controller.push(command)
            except DocumentError as error:
                return str(error)
        self.references_changed.emit(name)
        return None

    def ask_new_name(self, name: str) -> str | None:
        """The new name the user types for ``name`` (None: cancelled). Replaced in tests."""
        text, ok = QInputDialog.getText(
            self, "Rename credential", f"New name for the credential {name!r}:", text=name
        )
        return text if ok else None

    def rename_selected(self) -> None:
        name = self.selected_name()
        if name is None or name not in self.references:
            return
        new = self.ask_new_name(name)
        if new is None:
            return
        problem = self.rename(name, new)
        if problem:
            self._show_problem(problem)

    def rename(self, old: str, new: str) -> str | None:
        """Rename the declared credential ``old`` to ``new``: one undoable edit
        in which the node fields and sources naming it follow, and its stored
        secret (and sign-in) moves to the new name. Why not, in words, or None."""
        new = new.strip()
        if not new or new == old:
            return None
        if new in self.references:
            return f"This workflow already has a credential named {new!r}: choose another name."
        try:
            taken = bool(self.store.get_secret(new) or self.store.get_secret(tokens_key(new)))
        except FlowdeskError as error:
            return error.message
        if taken:
            return (
                f"A secret is already stored under {new!r} on this computer: choose another "
                "name, or delete that secret first."
            )
        move = _secret_mover(self.store)
        if self.controller is None:
            try:
                move(old, new)
            except FlowdeskError as error:
                return f"Not renamed: the secret could not be moved ({error.message})"
            self._local = {(new if k == old else k): v for k, v in self._local.items()}
            followers = 0
        else:
            doc = self.controller.document
            # (a node on the type's default name gets the new name written out)
            uses = credential_uses(doc, old)
            command = rename_credential(doc, old, new, uses, move)
            try:
                self.controller.push(command)
            except DocumentError as error:
                return str(error)
            except FlowdeskError as error:
                return f"Not renamed: the secret could not be moved ({error.message})"
            followers = len(uses)
        self.references_changed.emit(new)
        self.status.setText(
            f"Renamed {old!r} to {new!r}"
            + (f" in {plural(followers, 'node')}" if followers else "")
            + "; its stored secret, if any, moved with it (Undo: Ctrl+Z)."
        )
        self.refresh()
        self.select(new)
        self.secrets_changed.emit()
        return None

    def confirm(self, question: str) -> bool:
        """Ask a yes/no question. Replaced in tests."""
        answer = QMessageBox.question(self, "Credentials", question)
        return answer == QMessageBox.StandardButton.Yes

    def remove_selected(self) -> None:
        """Remove the selected reference from the workflow (undoable); when
        nodes use it, say which and ask first. Its stored secret stays."""
        name = self.selected_name()
        if name is None or name not in self.references:
            return
        users = self.users(name)
        if users:
            question = (
                f"{', '.join(users)} use{'s' if len(users) == 1 else ''} the credential "
                f"{name!r}. Without it {'that node' if len(users) == 1 else 'those nodes'} "
                f"cannot run. Remove {name!r} from this workflow anyway?"
            )
            if not self.confirm(question):
                return
        self._set_reference(name, UNSET)
        self.status.setText(
            f"Removed {name!r} from this workflow (Undo: Ctrl+Z). Its secret, if any, "
            "stays on this computer: Delete secret deletes it."
        )
        self.refresh()

    # ---------------------------------------------------------- secrets
    def ask_secret(self, name: str | None) -> tuple[str, str] | None:
        """Ask for a secret and store it: a store that refuses (no Secret
        Service) says why in the dialog, which keeps what was typed.
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

    def set_secret_selected(self) -> None:
        name = self.selected_name()
        if name is not None:
            answer = self.ask_secret(name)
            if answer is not None:
                self.store_secret(name, answer[1])

    def store_secret(
        self,
        name: str,
        secret: str,
        refused: Callable[[str], None] | None = None,
        refresh: bool = True,
    ) -> bool:
        """Store a secret; when the store refuses, ``refused`` (or the banner) says why."""
        try:
            self.store.set_secret(name, secret)
        except FlowdeskError as error:
            (refused or self._show_problem)(error.message)
            return False
        self.status.setText(f"Stored the secret of {name!r}.")
        if refresh:
            self.refresh()
            self.select(name)
        self.secrets_changed.emit()
        return True

    def delete_selected(self) -> None:
        """Delete the selected credential's stored secret (after asking)."""
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
        if name is not None:
            self.start_test(name, self.url_edit.text().strip())


def _secret_mover(store: Any) -> Callable[[str, str], None]:
    """Move what ``store`` keeps under one credential name to another: the
    secret and a sign-in's tokens (kept by the undo history: the dialog may
    be closed when a rename is undone)."""

    def move(source: str, target: str) -> None:
        for a, b in ((source, target), (tokens_key(source), tokens_key(target))):
            value = store.get_secret(a)
            if value:
                store.set_secret(b, value)
                store.delete_secret(a)

    return move
