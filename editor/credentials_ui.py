"""The main window's credentials: the Credentials dialog, the "missing secrets"
bar shown when an opened workflow's credentials have no secret, the warning
badges on nodes, the inspector picker's secret states and its "New
credential…" (``new_credential``) — all fed by one
``SecretStatus`` cache whose keyring lookups run off the UI thread.
May import: PySide6, editor.*, engine (credentials, keyring store).
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from flowdesk.editor.document import DocumentError
from flowdesk.editor.secrets import SecretStatus, node_credentials
from flowdesk.engine import FlowdeskError, env_var_name
from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton

if TYPE_CHECKING:
    from flowdesk.editor.window_api import Window


class CredentialsUi(QObject):
    """Owned by the main window; ``window.credentials``."""

    def __init__(self, window: Window, secret_store: Any = None) -> None:
        super().__init__(window)
        if secret_store is None:
            from flowdesk.engine import KeyringSecretStore

            secret_store = KeyringSecretStore()
        self.window = window
        #: where the Credentials dialog stores secrets (the keyring in the app)
        self.secret_store = secret_store
        #: cached "has a secret?" per credential name, looked up off the UI thread
        self.secret_status = SecretStatus(secret_store, self)
        self.dialog: Any = None
        self.missing: list[str] = []
        self._check_on_open = False
        window.inspector.secret_status = self.secret_status
        window.inspector.new_credential = self.new_credential
        #: the editor of a credential added from a node's picker (tests fill it in)
        self.editor: Any = None
        self.bar, self.bar_label = self._build_bar()
        self.secret_status.changed.connect(self._secrets_known)
        self.secret_status.unavailable.connect(self._keyring_unavailable)

    def _build_bar(self) -> tuple[QFrame, QLabel]:
        """The info bar shown when the opened workflow's credentials lack secrets."""
        bar = QFrame(self.window)
        bar.setObjectName("credentialsBar")
        bar.setAccessibleName("Missing secrets")
        row = QHBoxLayout(bar)
        row.setContentsMargins(10, 4, 6, 4)
        label = QLabel(bar)
        label.setObjectName("credentialsBarLabel")
        label.setWordWrap(True)
        button = QPushButton("Set secrets…", bar)
        button.setObjectName("setSecretsButton")
        button.clicked.connect(lambda: self.open_dialog(self.missing[0] if self.missing else None))
        close = QToolButton(bar)
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.setAccessibleName("Dismiss")
        close.clicked.connect(bar.hide)
        row.addWidget(label, 1)
        row.addWidget(button)
        row.addWidget(close)
        bar.hide()
        return bar, label

    def _workflow_credentials(self) -> Any:
        return self.window.controller.document.workflow.credentials

    def document_shown(self) -> None:
        self.bar.hide()
        self.refresh_badges()

    def check_on_open(self) -> None:
        """Look up the declared credentials' secrets; the bar shows when known."""
        self._check_on_open = True
        self.secret_status.prefetch(self._workflow_credentials())
        self._secrets_known(badges=False)  # (``document_shown`` has just drawn them)

    def open_dialog(self, select: str | None = None) -> Any:
        """The Credentials dialog (window-modal, not blocking); badges and the
        picker refresh when a secret changed and when it closes."""
        from flowdesk.editor.credentials_dialog import CredentialsDialog

        if self.dialog is not None:
            self.dialog.raise_()
            return self.dialog
        dialog = CredentialsDialog(
            self._workflow_credentials(),
            self.secret_store,
            self.window,
            controller=self.window.controller,
        )
        dialog.setObjectName("credentialsDialog")
        dialog.secrets_changed.connect(self.secret_status.invalidate)
        dialog.references_changed.connect(lambda _name: self._secrets_known())
        dialog.finished.connect(lambda _r: self._dialog_closed())
        if select:
            dialog.select(select)
        self.dialog = dialog
        dialog.open()
        return dialog

    def new_credential(self, node_id: str, key: str, kinds: tuple[str, ...]) -> Any:
        """ "New credential…" in a node's picker: declare one of the node's
        kinds (and store its secret); OK picks it in the node — one undo step."""
        from flowdesk.editor.credential_editor import CredentialEditor
        from flowdesk.editor.document.credentials import declare_and_pick, reference_problem

        controller = self.window.controller

        def apply(name: str, ref: dict[str, Any], secret: str | None) -> str | None:
            if name in self._workflow_credentials():
                return f"This workflow already has a credential named {name!r}: choose another."
            problem = reference_problem(ref)
            if problem:
                return problem
            if secret:
                try:
                    self.secret_store.set_secret(name, secret)
                except FlowdeskError as error:
                    return (
                        f"Not stored: {error.message} Leave the secret empty to declare the "
                        "credential without it (a run can take it from the environment)."
                    )
            try:
                controller.push(declare_and_pick(controller.document, name, ref, node_id, key))
            except DocumentError as error:
                return str(error)
            self.secret_status.invalidate()
            return None

        editor = CredentialEditor(None, None, apply, kinds, self.window)
        editor.finished.connect(lambda _r: self._editor_closed())
        self.editor = editor
        editor.open()
        return editor

    def _editor_closed(self) -> None:
        editor, self.editor = self.editor, None
        if editor is not None:
            editor.deleteLater()
        self.window.inspector.refresh_pickers()

    def sign_in_again(self, name: str) -> Any:
        """The failed node's "Sign in again": the dialog on ``name``, signing in."""
        dialog = self.open_dialog(name)
        dialog.select(name)
        dialog.start_sign_in(name)
        return dialog

    def _dialog_closed(self) -> None:
        dialog, self.dialog = self.dialog, None
        if dialog is not None:
            dialog.deleteLater()
        self.secret_status.invalidate()

    def _keyring_unavailable(self, message: str) -> None:
        """Said once: the short form in the status bar (the whole message is
        in the missing-secrets bar and the Credentials dialog)."""
        short = message.split(". ", 1)[0].strip().rstrip(".")  # what went wrong
        self.window.statusBar().showMessage(f"{short[:1].upper()}{short[1:]}.", 20000)

    def _secrets_known(self, badges: bool = True) -> None:
        if badges:
            self.refresh_badges()
        self.window.inspector.refresh_credentials()
        declared = sorted(self._workflow_credentials())
        if not self.secret_status.known(declared):
            return
        missing = [n for n in declared if self.secret_status.has_secret(n) is False]
        if self._check_on_open:
            self._check_on_open = False
            self.missing = missing
            if missing:
                self._show_bar(missing)
        elif self.bar.isVisible():
            self.missing = missing
            if not missing:
                self.bar.hide()

    def _show_bar(self, missing: list[str]) -> None:
        names = ", ".join(f"<b>{html.escape(n)}</b>" for n in missing)
        several = len(missing) > 1
        text = (
            f"No secret is stored for this workflow's credential{'s' if several else ''} "
            f"{names}: nodes that use {'them' if several else 'it'} will fail until "
            f"{'they are' if several else 'it is'} set."
        )
        problem = self.secret_status.unavailable_message
        if problem:  # what went wrong, then what to do for these credentials
            first = problem.split(". ", 1)[0].rstrip(".")
            names = ", ".join(env_var_name(n) for n in missing)
            text += (
                f"<br>{html.escape(first)}. Start and unlock a Secret Service such as "
                f"gnome-keyring or KWallet, or set {html.escape(names)}."
            )
        self.bar_label.setText(text)
        self.bar.show()

    def refresh_badges(self) -> None:
        """Badge each node whose credential has no secret stored."""
        doc = self.window.controller.document
        warnings: dict[str, str] = {}
        for node in doc.workflow.nodes:
            node_id = node.id
            # (none for a type without credential fields, cached per type)
            for name in node_credentials(node.config, doc.registry.find(node.type)):
                if self.secret_status.has_secret(name) is False:
                    ref = self._workflow_credentials().get(name)
                    if getattr(ref, "type", "") == "oauth2_authorization_code":
                        warnings[node_id] = (
                            f"Credential “{name}” is not signed in. Sign in with "
                            "File ▸ Credentials… (Sign in), or right-click the node."
                        )
                        break
                    warnings[node_id] = (
                        f"Credential “{name}” has no secret stored. Set it with "
                        f"File ▸ Credentials… (or the key button in the toolbar), "
                        f"or the environment variable {env_var_name(name)}."
                    )
                    break
        self.window.scene.set_credential_warnings(warnings)
