"""Offering work journaled by a session that did not end (a crash, ``kill
-9``): at start — whichever way the editor started, with a file or without —
every orphaned journal is offered, the opened file's first; later, opening a
file (File ▸ Open, Open Recent, a drop, the OS's open event) offers the
journals of that file. Recovering shows the journaled workflow under its file,
modified; "Not now" keeps the journal but puts it off for this session (opening
the file again does not ask again; File ▸ Recover Unsaved Work… offers every
kept journal, put off or not, and the next start offers it again); "Discard"
removes it.
May import: PySide6, engine (public API), editor.autosave, editor.dialogs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from flowdesk.editor.autosave import Autosave, Recovery
from flowdesk.engine import WorkflowLoadError, load_workflow
from PySide6.QtCore import QObject, QTimer

if TYPE_CHECKING:
    from flowdesk.editor.dialogs import RecoveryDialog
    from flowdesk.editor.window_api import Window

log = logging.getLogger(__name__)


def same_file(a: Path | None, b: Path | None) -> bool:
    if a is None or b is None:
        return False
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return a == b


class RecoveryOffer(QObject):
    """See the module docstring. ``ask`` runs the dialog (tests replace it)."""

    def __init__(self, window: Window) -> None:
        super().__init__(window)
        self.window = window
        self.ask: Callable[[RecoveryDialog], bool] = lambda dialog: bool(dialog.exec())
        #: the start-up offer was made: later opens offer only their file's work
        self.started = False
        #: sessions whose journals the user put off ("Not now") in this session
        self.put_off: set[str] = set()
        self._opening = False
        window.files.opened.connect(self._opened)
        window.ui_actions["recover"].triggered.connect(self.offer_all)

    @property
    def folder(self) -> Path:
        return self.window.autosave.folder

    def _opened(self) -> None:
        if self._opening or not self.started:
            return
        path = self.window.controller.path
        if path is not None:
            # once the open has finished painting (and outside its signal)
            QTimer.singleShot(0, lambda p=path: self.offer(p))

    def offer_at_start(self) -> None:
        """Every orphaned journal, those of the open file first."""
        self.started = True
        self.offer(self.window.controller.path, everything=True)

    def offer_all(self) -> bool:
        """File ▸ Recover Unsaved Work…: every kept journal, those put off too."""
        if not any(r.flow_path.is_file() for r in Autosave.orphans(self.folder)):
            self.window.show_message("No unsaved work was kept: nothing to recover.")
            return False
        # (checked before the offer: a Discard empties the folder too, and then
        # its own message stands)
        return self.offer(None, everything=True, asked=True)

    def offer(self, path: Path | None, everything: bool = False, asked: bool = False) -> bool:
        """Offer the journals of ``path`` (all of them with ``everything``);
        those put off in this session only when the user ``asked`` (the menu).
        True when work was recovered."""
        orphans = [r for r in Autosave.orphans(self.folder) if r.flow_path.is_file()]
        if not asked:
            orphans = [r for r in orphans if r.session not in self.put_off]
        mine = [r for r in orphans if same_file(r.original_path, path)]
        chosen = mine + [r for r in orphans if r not in mine] if everything else mine
        if not chosen:
            return False
        current = self.window.controller.path
        if path is not None and not same_file(current, path):
            return False  # another file was opened meanwhile
        from flowdesk.editor.dialogs import RecoveryDialog  # (only when there is work to offer)

        dialog = RecoveryDialog(chosen, self.window, opened=path if mine else None)
        accepted = self.ask(dialog)
        if dialog.discard_all:
            for recovery in chosen:
                Autosave.discard(self.folder, recovery)
            self.window.show_message(f"Discarded the unsaved work ({len(chosen)}).")
            return False
        picked = dialog.chosen()
        if not accepted or picked is None:
            # "Not now": kept on disk, not asked about again in this session
            self.put_off.update(r.session for r in chosen)
            what = "work" if len(chosen) == 1 else f"work ({len(chosen)})"
            self.window.show_message(
                f"Kept the unsaved {what} for later: File ▸ Recover Unsaved Work… offers it again."
            )
            return False
        return self.recover(picked)

    def recover(self, recovery: Recovery) -> bool:
        window = self.window
        if window.controller.is_modified and not window.files.confirm_discard():
            return False
        try:
            workflow = load_workflow(recovery.flow_path, window.registry)
        except WorkflowLoadError as exc:
            window.files.show_problems(
                recovery.flow_path, exc.issues, "The recovered work could not be read"
            )
            return False
        self._opening = True
        try:
            window.files.open_workflow(workflow, recovery.original_path, modified=True)
        finally:
            self._opening = False
        Autosave.discard(self.folder, recovery)
        window.autosave.write_journal()  # journaled again, under this session
        where = recovery.original_path.name if recovery.original_path else recovery.name
        window.show_message(f"Recovered the unsaved work of {where} — save it to keep it.")
        return True
