"""Credential references as undoable edits: declare, change and remove one
entry of the workflow's ``credentials`` (its kind and non-secret fields — a
secret never enters the document), and which nodes use a credential.

``set_credential(doc, name, ref)`` is one undo step that declares or replaces
``name`` (keeping its place in the file); ``remove_credential(doc, name)``
removes it (``editor.secrets.credential_users`` names the nodes that use
it); ``rename_credential(doc, old, new, uses, moved)`` renames it where it
stands, with every node field and source that names it, and moves what is
stored under the name (``moved``: the keyring secret) — one undo step. All
are checked by the document (a reference the file format refuses raises
``DocumentError``) when pushed. May import: editor.document,
stdlib. No Qt.
"""

from __future__ import annotations

import copy
import functools
import logging
from collections.abc import Callable, Iterable
from typing import Any

from flowdesk.editor.document.commands import Command, Composite, SetConfig, SetWorkflowField
from flowdesk.editor.document.document import UNSET, Document, JsonDict
from flowdesk.engine import format_location, issues_from_validation_error

log = logging.getLogger(__name__)


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


class _Moved(Command):
    """What is stored under a credential's name follows a rename: ``moved(old,
    new)``, and ``moved(new, old)`` on undo (the last step of the rename: when
    it fails, the document edits are rolled back)."""

    def __init__(self, old: str, new: str, moved: Callable[[str, str], None]) -> None:
        self.old, self.new, self.moved = old, new, moved
        self.text = f"Move what is stored under “{old}”"

    def redo(self, doc: Document) -> None:
        self.moved(self.old, self.new)

    def undo(self, doc: Document) -> None:
        try:
            self.moved(self.new, self.old)
        except Exception:  # (an undo cannot be refused: the document goes back anyway)
            log.warning("the secret of %r could not be moved back", self.new, exc_info=True)


def rename_credential(
    doc: Document,
    old: str,
    new: str,
    uses: Iterable[tuple[str, str]],
    moved: Callable[[str, str], None] | None = None,
) -> Command:
    """Rename the reference ``old`` to ``new`` at its place in the file; every
    ``(node id, config key)`` of ``uses`` and every source whose
    ``credential`` is ``old`` name ``new`` instead; ``moved`` moves what is
    stored under the name. One undo step."""
    renamed = {(new if key == old else key): ref for key, ref in references(doc).items()}
    children: list[Command] = [SetWorkflowField("credentials", renamed)]
    children.extend(SetConfig(node_id, key, new) for node_id, key in uses)
    sources = copy.deepcopy(doc.workflow.sources)  # (plain JSON already)
    following = [e for e in sources.values() if isinstance(e, dict) and e.get("credential") == old]
    for entry in following:
        entry["credential"] = new
    if following:
        children.append(SetWorkflowField("sources", sources))
    if moved is not None:
        children.append(_Moved(old, new, moved))
    return Composite(f"Rename credential “{old}” to “{new}”", children)


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
        # (as declared under "credentials": the engine leaves the kind out of the places)
        issues = issues_from_validation_error(exc, ("credentials", "_"))
        parts = []
        for issue in issues:
            where = format_location(issue.path[2:])
            parts.append(f"{where}: {issue.message}" if where else issue.message)
        text = "; ".join(parts)
        return text[:1].upper() + text[1:] + "."
    return None


def parse_reference(ref: JsonDict) -> Any:
    """The engine's reference object of a checked JSON reference."""
    return _reference_adapter().validate_python(ref)
