"""Credential references as undoable edits: declare, change and remove one
entry of the workflow's ``credentials`` (its kind and non-secret fields — a
secret never enters the document), and which nodes use a credential.

``set_credential(doc, name, ref)`` is one undo step that declares or replaces
``name`` (keeping its place in the file); ``remove_credential(doc, name)``
removes it (``editor.secrets.credential_users`` names the nodes that use
it). Both are checked by the document (a reference the file format
refuses raises ``DocumentError``) when pushed. May import: editor.document,
stdlib. No Qt.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from flowdesk.editor.document.commands import Command, Composite, SetConfig, SetWorkflowField
from flowdesk.editor.document.document import UNSET, Document, JsonDict


class SetCredential(SetWorkflowField):
    """Declare, change or (``ref`` UNSET) remove the reference ``name``."""

    def __init__(self, name: str, ref: JsonDict | Any, text: str) -> None:
        super().__init__("credentials", None, text=text)
        self.name = name
        self.ref = copy.deepcopy(ref)
        self.merge_key = None  # each declaration is its own undo step

    def redo(self, doc: Document) -> None:
        current = references(doc)
        if self.ref is UNSET:
            current.pop(self.name, None)
        else:
            current[self.name] = copy.deepcopy(self.ref)
        self.value = current if current else UNSET
        super().redo(doc)


def references(doc: Document) -> dict[str, JsonDict]:
    """The workflow's credential references as the file has them."""
    return copy.deepcopy(doc.workflow.to_json_dict().get("credentials", {}))


def set_credential(doc: Document, name: str, ref: JsonDict) -> Command:
    verb = "Change" if name in doc.workflow.credentials else "Declare"
    return SetCredential(name, ref, f"{verb} credential “{name}”")


def remove_credential(doc: Document, name: str) -> Command:
    return SetCredential(name, UNSET, f"Remove credential “{name}”")


def declare_and_pick(doc: Document, name: str, ref: JsonDict, node_id: str, key: str) -> Command:
    """A new credential, picked in a node's field: one undo step."""
    return Composite(
        f"New credential “{name}”",
        [set_credential(doc, name, ref), SetConfig(node_id, key, name)],
    )


# (process-wide: a pure function of the file format's CredentialRef type)
@functools.cache
def _reference_adapter() -> Any:
    """The file format's check of one credential reference (built once)."""
    from flowdesk.engine import CredentialRef
    from pydantic import TypeAdapter

    return TypeAdapter(CredentialRef)


def reference_problem(ref: JsonDict) -> str | None:
    """Why the file format refuses this reference, in words, or None."""
    from pydantic import ValidationError

    try:
        _reference_adapter().validate_python(ref)
    except ValidationError as exc:
        parts = []
        for error in exc.errors():
            # (the first element of a location is the reference's kind)
            where = ".".join(str(p) for p in error["loc"][1:])
            message = str(error["msg"]).removeprefix("Value error, ")
            parts.append(f"{where}: {message}" if where else message)
        text = "; ".join(parts)
        return text[:1].upper() + text[1:] + "."
    return None


def parse_reference(ref: JsonDict) -> Any:
    """The engine's reference object of a checked JSON reference."""
    return _reference_adapter().validate_python(ref)
