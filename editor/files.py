"""New, Open, Save, Save As and recent files. Loading goes through the engine
(``load_workflow``); a file that cannot be opened shows every problem in a
dialog and leaves the open document alone. Saving is atomic (the engine's
``save_workflow``). A modified document is never replaced or closed without
asking. May import: PySide6, engine (public API), editor.document, editor.undo,
editor.dialogs, editor.settings.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from flowdesk.editor.document import Document, DocumentError
from flowdesk.editor.settings import Settings
from flowdesk.editor.undo import DocumentController
from flowdesk.engine import (
    Issue,
    NodeRegistry,
    Workflow,
    WorkflowLoadError,
    load_workflow,
    paused_gc,
    save_workflow,
)
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

if TYPE_CHECKING:
    from flowdesk.editor.dialogs import ProblemsDialog

log = logging.getLogger(__name__)

FILE_FILTER = "Flowdesk workflows (*.flow.json);;JSON files (*.json);;All files (*)"


#: why a file could not be opened: the problems and the dialog's heading
Problems = tuple[list[Issue], str]
CANNOT_OPEN = "This file could not be opened"


def read(path: Path, registry: NodeRegistry) -> Document | Problems:
    """The document of the workflow file ``path``, or why it cannot be opened."""
    try:
        with paused_gc():
            workflow = load_workflow(path, registry)
            return Document(workflow, registry)  # (checks its integrity once)
    except WorkflowLoadError as exc:
        return exc.issues, CANNOT_OPEN
    except DocumentError as exc:
        if exc.issues:
            return exc.issues, "This file has problems the editor cannot show"
        return [Issue("", str(exc))], CANNOT_OPEN
    except Exception as exc:  # never crash on a bad file
        log.exception("unexpected error opening %s", path)
        return [Issue("", f"{type(exc).__name__}: {exc}")], CANNOT_OPEN


class FileController(QObject):
    """File operations of one window.

    ``before_save`` lets the window store editor state (the viewport) in the
    document just before writing; ``opened`` fires after a document is shown.
    """

    status_message = Signal(str)
    recent_changed = Signal()
    opened = Signal()
    #: a document without a file was saved for the first time (its path)
    first_saved = Signal(object)

    def __init__(
        self,
        window: QWidget,
        controller: DocumentController,
        settings: Settings,
        before_save: Callable[[], None] = lambda: None,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.controller = controller
        self.settings = settings
        self.before_save = before_save
        #: replaceable in tests: Save / Discard / Cancel
        self.ask_save: Callable[[QWidget, str], QMessageBox.StandardButton] = _ask_save_changes
        #: replaceable in tests: where Save As writes
        self.choose_save_path: Callable[[], Path | None] = self._choose_save_path
        self.problems_dialog: ProblemsDialog | None = None

    # ------------------------------------------------------------ guards
    def confirm_discard(self) -> bool:
        """True when the open document may be replaced or closed."""
        if not self.controller.is_modified:
            return True
        answer = self.ask_save(self.window, self.controller.title_name)
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    # -------------------------------------------------------------- new/open
    def new(self) -> None:
        if self.confirm_discard():
            self.controller.set_document(Document.new(self.controller.registry), None)
            self.opened.emit()

    def open_dialog(self) -> None:
        if not self.confirm_discard():
            return
        path, _ = QFileDialog.getOpenFileName(
            self.window, "Open workflow", self.settings.last_dir, FILE_FILTER
        )
        if path:
            self.open_path(Path(path), confirm=False)

    def open_path(self, path: Path, confirm: bool = True) -> bool:
        """Open ``path``; on failure show its problems and keep the current document."""
        if confirm and not self.confirm_discard():
            return False
        document = self.load(path)
        if document is None:
            return False
        self.controller.set_document(document, path.resolve())
        self._opened(path)
        return True

    def open_at_start(self, path: Path, loaded: Document | Problems) -> bool:
        """Finish opening ``path`` at start-up, the window having been built
        around its document (``loaded``, from ``read``: the controller holds
        it already) or, when it could not be read, around an empty one (its
        problems show now). What the user sees is what ``open_path`` shows."""
        if not isinstance(loaded, Document):
            self.show_problems(path, *loaded)
            return False
        self._opened(path)
        return True

    def _opened(self, path: Path) -> None:
        self.settings.add_recent(path)
        self.settings.last_dir = str(path.resolve().parent)
        self.recent_changed.emit()
        self.opened.emit()
        self.status_message.emit(f"Opened {path.name}")

    def load(self, path: Path) -> Document | None:
        loaded = read(path, self.controller.registry)
        if isinstance(loaded, Document):
            return loaded
        self.show_problems(path, *loaded)
        return None

    def open_workflow(self, workflow: Workflow, path: Path | None, modified: bool) -> None:
        """Show an already-loaded workflow (recovery)."""
        self.controller.set_document(
            Document(workflow, self.controller.registry), path, modified=modified
        )
        self.opened.emit()

    def show_problems(self, path: Path, issues: list[Issue], heading: str = CANNOT_OPEN) -> None:
        log.warning("cannot open %s: %s", path, "; ".join(str(i) for i in issues))
        from flowdesk.editor.dialogs import ProblemsDialog

        self.problems_dialog = ProblemsDialog(path, issues, self.window, heading)
        self.problems_dialog.open()  # window-modal, does not block the event loop

    # ------------------------------------------------------------------ save
    def save(self) -> bool:
        if self.controller.path is None:
            return self.save_as()
        return self._write(self.controller.path)

    def save_as(self) -> bool:
        path = self.choose_save_path()
        if path is None:
            return False
        if not path.name.endswith(".json"):
            path = path.with_name(path.name + ".flow.json")
        return self._write(path)

    def _choose_save_path(self) -> Path | None:
        start = self.controller.path or Path(self.settings.last_dir) / "workflow.flow.json"
        path, _ = QFileDialog.getSaveFileName(self.window, "Save workflow", str(start), FILE_FILTER)
        return Path(path) if path else None

    def _write(self, path: Path) -> bool:
        self.before_save()
        try:
            save_workflow(self.controller.document.workflow, path)
        except OSError as exc:
            log.exception("saving %s failed", path)
            QMessageBox.critical(self.window, "Could not save", f"{path}\n\n{exc.strerror or exc}")
            return False
        if self.controller.path is None:  # (before the new path lists its runs)
            self.first_saved.emit(path.resolve())
        self.controller.set_path(path.resolve())
        self.controller.mark_saved()
        self.settings.add_recent(path)
        self.settings.last_dir = str(path.resolve().parent)
        self.recent_changed.emit()
        self.status_message.emit(f"Saved {path.name}")
        return True


def _ask_save_changes(window: QWidget, name: str) -> QMessageBox.StandardButton:
    """Save / Discard / Cancel (``editor.dialogs``, loaded when first asked)."""
    from flowdesk.editor.dialogs import ask_save_changes

    return ask_save_changes(window, name)
