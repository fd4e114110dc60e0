"""The credential editor: declare or change one credential reference — its
name, kind and non-secret fields (user name, header name, OAuth2 endpoints and
client id, …) — and, optionally, its secret, typed twice and never echoed.

``CredentialEditor(name, ref, kinds, apply)``: ``ref`` is the reference as the
file has it (a dict, or None for a new one), ``kinds`` the kinds offered (a
node's compatible kinds; all by default). On OK, ``apply(name, ref, secret)``
is called — it pushes the undoable edit and stores the secret — and returns
why it could not (the dialog then stays open with what was typed) or None.
May import: PySide6, editor.*.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QWidget,
)


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    #: "text", "list" (space-separated → list), "json" (an object), or choices
    widget: str | tuple[str, ...] = "text"
    required: bool = False
    placeholder: str = ""


_TOKEN_URL = Field("token_url", "Token URL", required=True, placeholder="https://…/oauth/token")
_CLIENT_ID = Field("client_id", "Client ID", required=True)

#: kind → (shown name, non-secret fields, what the secret is called)
KINDS: dict[str, tuple[str, tuple[Field, ...], str]] = {
    "bearer": ("Bearer token", (), "Token"),
    "basic": (
        "Basic (user name and password)",
        (Field("username", "User name", required=True),),
        "Password",
    ),
    "api_key": (
        "API key",
        (
            Field("name", "Header / parameter", required=True, placeholder="X-API-Key"),
            Field("in", "Sent in", ("header", "query", "cookie")),
        ),
        "Key",
    ),
    "oauth2_client_credentials": (
        "OAuth2 client credentials",
        (_TOKEN_URL, _CLIENT_ID, Field("scopes", "Scopes", "list", placeholder="read write")),
        "Client secret",
    ),
    "oauth2_authorization_code": (
        "OAuth2 sign-in (authorization code)",
        (
            Field("preset", "Provider", ("", "google", "microsoft")),
            Field("authorize_url", "Authorize URL", placeholder="https://…/authorize"),
            Field("token_url", "Token URL", placeholder="https://…/token"),
            _CLIENT_ID,
            Field("scopes", "Scopes", "list", placeholder="the provider's (preset), or: a b c"),
            Field("audience", "Audience"),
            Field("authorize_params", "Authorize parameters", "json", placeholder='{"k": "v"}'),
        ),
        "Client secret (optional)",
    ),
    "custom": (
        "Plug-in (custom)",
        (
            Field("resolver", "Resolver", required=True, placeholder="an installed resolver"),
            Field("options", "Options", "json", placeholder='{"key_id": "team-a"}'),
        ),
        "Secret (optional)",
    ),
}
#: the order of the fields' rows (the kinds that share a field share its row)
ORDER = [
    "username",
    "preset",
    "authorize_url",
    "token_url",
    "client_id",
    "scopes",
    "audience",
    "authorize_params",
    "name",
    "in",
    "resolver",
    "options",
]
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_CHOICE_TEXT = {"": "— (give the URLs)", "google": "Google", "microsoft": "Microsoft"}


def kind_label(kind: str) -> str:
    return KINDS[kind][0] if kind in KINDS else kind


class CredentialEditor(QDialog):
    def __init__(
        self,
        name: str | None,
        ref: dict[str, Any] | None,
        apply: Callable[[str, dict[str, Any], str | None], str | None],
        kinds: Sequence[str] = (),
        parent: QWidget | None = None,
        declared: bool = True,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("credentialEditor")
        self.setMinimumWidth(580)  # room for a whole token URL
        self._apply = apply
        self.is_new = name is None
        kinds = [k for k in (kinds or KINDS) if k in KINDS]
        current = (ref or {}).get("type")
        if current and current not in kinds:
            kinds.insert(0, current)
        title = "New credential" if self.is_new else f"Credential “{name}”"
        self.setWindowTitle(title if declared else f"Declare credential “{name}”")
        self.form = form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.name_edit = QLineEdit(name or "")
        self.name_edit.setObjectName("credentialName")
        self.name_edit.setReadOnly(not self.is_new)
        if not self.is_new:
            self.name_edit.setToolTip("Rename… in the Credentials dialog gives it another name")
        self.name_edit.setPlaceholderText("e.g. github_api")
        self.kind_combo = QComboBox()
        self.kind_combo.setObjectName("credentialKind")
        for kind in kinds:
            self.kind_combo.addItem(kind_label(kind), kind)
        form.addRow("Name", self.name_edit)
        form.addRow("Kind", self.kind_combo)
        #: one editor per field key (shared by the kinds that have it)
        self.fields: dict[str, QLineEdit | QComboBox] = {}
        self._rows: dict[str, QWidget] = {}
        self._labels: dict[str, QLabel] = {}
        specs = {spec.key: spec for kind in kinds for spec in KINDS[kind][1]}
        for key in sorted(specs, key=ORDER.index):
            self.fields[key] = self._field_widget(specs[key])
            self._labels[key] = QLabel(specs[key].label)
            form.addRow(self._labels[key], self.fields[key])
        self.secret_label = QLabel("Secret")
        self.secret_edit = QLineEdit()
        self.secret_edit.setObjectName("credentialSecret")
        self.secret_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.again_edit = QLineEdit()
        self.again_edit.setObjectName("credentialSecretAgain")
        self.again_edit.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow(self.secret_label, self.secret_edit)
        form.addRow("Again", self.again_edit)
        self.note = QLabel("")
        self.note.setObjectName("fieldHelp")
        self.note.setWordWrap(True)
        form.addRow(self.note)
        self.problem = QLabel("")
        self.problem.setObjectName("secretProblem")
        self.problem.setWordWrap(True)
        self.problem.setMinimumWidth(460)
        form.addRow(self.problem)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)
        if ref:
            self._fill(ref)
        self.kind_combo.currentIndexChanged.connect(lambda _i: self._kind_changed())
        self._kind_changed()

    def _field_widget(self, spec: Field) -> QLineEdit | QComboBox:
        widget: QLineEdit | QComboBox
        if isinstance(spec.widget, tuple):
            widget = QComboBox()
            for choice in spec.widget:
                widget.addItem(_CHOICE_TEXT.get(choice, choice), choice)
        else:
            widget = QLineEdit()
            widget.setPlaceholderText(spec.placeholder)
        widget.setObjectName(f"credential_{spec.key}")
        widget.setAccessibleName(spec.label)
        return widget

    def _fill(self, ref: dict[str, Any]) -> None:
        index = self.kind_combo.findData(ref.get("type"))
        self.kind_combo.setCurrentIndex(max(index, 0))
        for key, widget in self.fields.items():
            value = ref.get(key)
            if isinstance(widget, QComboBox):
                widget.setCurrentIndex(max(widget.findData(value or ""), 0))
            elif isinstance(value, list):
                widget.setText(" ".join(str(v) for v in value))
            elif isinstance(value, dict):
                widget.setText(json.dumps(value) if value else "")
            elif value is not None:
                widget.setText(str(value))

    # ----------------------------------------------------------- kinds
    @property
    def kind(self) -> str:
        return str(self.kind_combo.currentData())

    def set_kind(self, kind: str) -> None:
        self.kind_combo.setCurrentIndex(self.kind_combo.findData(kind))

    def _kind_changed(self) -> None:
        shown = {spec.key: spec for spec in KINDS[self.kind][1]}
        for key, widget in self.fields.items():
            self.form.setRowVisible(widget, key in shown)
            if key in shown:  # the kind's own words for a shared field
                self._labels[key].setText(shown[key].label)
                if isinstance(widget, QLineEdit):
                    widget.setPlaceholderText(shown[key].placeholder)
        secret_name = KINDS[self.kind][2]
        self.secret_label.setText(secret_name)
        self.secret_edit.setAccessibleName(secret_name)
        self.again_edit.setAccessibleName(f"{secret_name} again")
        keep = "" if self.is_new else " Leave it empty to keep the stored one."
        where = (
            "The tokens of the sign-in are stored when you sign in (Sign in… in the list)."
            if self.kind == "oauth2_authorization_code"
            else ""
        )
        self.note.setText(
            f"The {secret_name.split(' (')[0].lower()} is stored in this computer's keyring, "
            f"never in the workflow file.{keep} {where}".strip()
        )
        self.problem.setText("")
        self.adjustSize()

    # ---------------------------------------------------------- values
    def reference(self) -> dict[str, Any]:
        """The reference as the file will have it (kind and shown fields)."""
        ref: dict[str, Any] = {"type": self.kind}
        for spec in KINDS[self.kind][1]:
            widget = self.fields[spec.key]
            if isinstance(widget, QComboBox):
                value: Any = widget.currentData() or None
            else:
                text = widget.text().strip()
                if spec.widget == "list":
                    value = text.replace(",", " ").split() or None
                elif spec.widget == "json":
                    value = json.loads(text) if text else None
                else:
                    value = text or None
            if value is not None:
                ref[spec.key] = value
        return ref

    def _problem(self) -> str | None:
        name = self.name_edit.text().strip()
        if not name:
            return "Give the credential a name."
        if self.is_new and not NAME.fullmatch(name):
            return "A name is letters, digits, “_”, “.” and “-”, starting with a letter or “_”."
        for spec in KINDS[self.kind][1]:
            widget = self.fields[spec.key]
            if isinstance(widget, QLineEdit):
                text = widget.text().strip()
                if spec.required and not text:
                    return f"{spec.label} is required."
                if spec.widget == "json" and text:
                    try:
                        value = json.loads(text)
                    except ValueError:
                        value = None
                    if not isinstance(value, dict):
                        return f'{spec.label}: write a JSON object, like {{"key": "value"}}.'
        if self.secret_edit.text() != self.again_edit.text():
            return "The two entries of the secret differ."
        return None

    def _accept(self) -> None:
        problem = self._problem()
        if problem is None:
            secret = self.secret_edit.text() or None
            problem = self._apply(self.name_edit.text().strip(), self.reference(), secret)
        if problem:
            self.problem.setText(problem)
            self.adjustSize()  # the whole explanation, not its first lines
            return
        self.accept()
