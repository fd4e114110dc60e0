"""Qt side of undo: ``QtCommand`` adapts a pure command to ``QUndoCommand`` and
``DocumentController`` owns the open document, its ``QUndoStack``, its path and
the saved (clean) state.

Every edit goes through ``DocumentController.push``; the Edit menu's texts come
from the commands ("Undo Move 3 nodes"). May import: PySide6, editor.document,
engine (public API). Main classes: ``QtCommand``, ``DocumentController``.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable
from pathlib import Path

from flowdesk.editor.document import Document
from flowdesk.editor.document.commands import Command
from flowdesk.engine import NodeRegistry
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

log = logging.getLogger(__name__)


class QtCommand(QUndoCommand):
    """A pure command on the ``QUndoStack``. ``id()`` / ``mergeWith()`` delegate
    to the command's ``merge_key`` / ``merge``."""

    def __init__(self, command: Command, document: Document, merge_id: int) -> None:
        super().__init__(command.text)
        self.command = command
        self.document = document
        self._merge_id = merge_id
        # The controller applies the command before pushing it (so that a
        # refused edit raises to the caller and never reaches the stack);
        # the stack's own first redo() is then skipped.
        self._applied = True

    def redo(self) -> None:
        if self._applied:
            self._applied = False
            return
        self.command.redo(self.document)
        self.setText(self.command.text)

    def undo(self) -> None:
        self.command.undo(self.document)

    def id(self) -> int:
        return self._merge_id

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt override
        if not isinstance(other, QtCommand) or other.document is not self.document:
            return False
        if self.command.merge(other.command):
            self.setText(self.command.text)
            return True
        return False


class DocumentController(QObject):
    """The open document and its undo history.

    ``document_replaced`` fires when New/Open swaps the document (observers
    re-subscribe); ``modified_changed`` and ``path_changed`` drive the title."""

    document_replaced = Signal(object)
    modified_changed = Signal(bool)
    path_changed = Signal(object)
    #: a command was pushed, undone or redone (the document changed)
    edited = Signal()

    def __init__(self, registry: NodeRegistry, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.registry = registry
        self.stack = QUndoStack(self)
        self.stack.setObjectName("undoStack")
        self.stack.cleanChanged.connect(self._clean_changed)
        self.stack.indexChanged.connect(self._index_changed)
        self._document = Document.new(registry)
        self._path: Path | None = None
        self._merge_ids: dict[Hashable, int] = {}
        self._next_merge_id = 0
        self._forced_dirty = False

    def _clean_changed(self, clean: bool) -> None:
        self.modified_changed.emit(not clean or self._forced_dirty)

    def _index_changed(self, _index: int) -> None:
        self.edited.emit()

    # ------------------------------------------------------------ document
    @property
    def document(self) -> Document:
        return self._document

    @property
    def path(self) -> Path | None:
        return self._path

    def set_document(self, document: Document, path: Path | None, modified: bool = False) -> None:
        """Replace the open document (New, Open, Recover); the history starts over."""
        self.stack.clear()
        self._merge_ids.clear()
        self._document = document
        self._forced_dirty = modified
        self.set_path(path)
        self.document_replaced.emit(document)
        self.modified_changed.emit(self.is_modified)

    def set_path(self, path: Path | None) -> None:
        self._path = path
        self.path_changed.emit(path)

    @property
    def is_modified(self) -> bool:
        return self._forced_dirty or not self.stack.isClean()

    def mark_saved(self) -> None:
        self._forced_dirty = False
        self.stack.setClean()
        self.modified_changed.emit(False)

    # ------------------------------------------------------------ commands
    def push(self, command: Command) -> None:
        """Apply ``command`` as one undo step (merging with the previous one
        when both share a ``merge_key``). A refused edit (``DocumentError``)
        raises here and leaves document and history unchanged."""
        command.redo(self._document)
        self.stack.push(QtCommand(command, self._document, self._merge_id(command)))

    def break_merge(self) -> None:
        """The next command starts a new step even if it could merge (focus
        left the field, the selection changed)."""
        self._merge_ids.clear()

    def _merge_id(self, command: Command) -> int:
        if command.merge_key is None:
            return -1
        if command.merge_key not in self._merge_ids:
            self._next_merge_id += 1
            self._merge_ids[command.merge_key] = self._next_merge_id
        return self._merge_ids[command.merge_key]

    @property
    def title_name(self) -> str:
        """What the window title calls the document."""
        if self._path is not None:
            return self._path.name
        return self._document.workflow.name or "Untitled"
