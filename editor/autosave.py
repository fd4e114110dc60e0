"""Crash safety: unsaved work is journaled to the user data folder a few
seconds after each change, and a journal left behind by a session that is no
longer running is offered for recovery on the next start.

Each window is a session with three files in the recovery folder:
``SID.lock`` (the owning process id), ``SID.flow.json`` (the workflow, written
atomically by the engine) and ``SID.json`` (original path, name, time). A
clean save or close removes the journal. May import: PySide6, engine (public
API), editor.undo, stdlib.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from flowdesk.editor.undo import DocumentController
from flowdesk.engine import save_workflow
from PySide6.QtCore import QObject, QTimer

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_MS = 5_000


def default_folder() -> Path:
    """``<user data>/flowdesk/recovery`` (``FLOWDESK_DATA_DIR`` overrides)."""
    override = os.environ.get("FLOWDESK_DATA_DIR")
    if override:
        return Path(override) / "recovery"
    from platformdirs import user_data_dir

    return Path(user_data_dir("flowdesk", appauthor=False)) / "recovery"


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    if sys.platform == "win32":  # pragma: no cover - not testable here
        import ctypes

        handle = ctypes.windll.kernel32.OpenProcess(0x1000, False, pid)
        if handle:
            ctypes.windll.kernel32.CloseHandle(handle)
            return True
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class Recovery:
    """An orphaned journal: what it holds and where it came from."""

    session: str
    flow_path: Path
    original_path: Path | None
    name: str
    saved_at: str

    def files(self, folder: Path) -> list[Path]:
        return [folder / f"{self.session}{ext}" for ext in (".flow.json", ".json", ".lock")]


class Autosave(QObject):
    """Journals the controller's document while it has unsaved changes."""

    def __init__(
        self, controller: DocumentController, folder: Path, interval_ms: int = DEFAULT_INTERVAL_MS
    ) -> None:
        super().__init__(controller)
        self.controller = controller
        self.folder = folder
        self.session = f"{int(time.time())}-{uuid.uuid4().hex[:8]}"
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.write_journal)
        self._locked = False
        controller.edited.connect(self._changed)
        controller.document_replaced.connect(lambda _doc: self._changed())
        controller.modified_changed.connect(self._modified_changed)

    @property
    def journal_path(self) -> Path:
        return self.folder / f"{self.session}.flow.json"

    def _changed(self) -> None:
        # At most one write per interval after the first unsaved change:
        # a burst of edits does not restart the clock (work is never more
        # than one interval old).
        if self.controller.is_modified and not self._timer.isActive():
            self._timer.start()

    def _modified_changed(self, modified: bool) -> None:
        if not modified:
            self._timer.stop()
            self.remove_journal()

    def write_journal(self) -> None:
        if not self.controller.is_modified:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            if not self._locked:
                (self.folder / f"{self.session}.lock").write_text(str(os.getpid()))
                self._locked = True
            save_workflow(self.controller.document.workflow, self.journal_path)
            meta = {
                "path": str(self.controller.path) if self.controller.path else None,
                "name": self.controller.document.workflow.name,
                "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            tmp = self.folder / f".{self.session}.json.tmp"
            tmp.write_text(json.dumps(meta), encoding="utf-8")
            os.replace(tmp, self.folder / f"{self.session}.json")
            log.debug("journaled unsaved work to %s", self.journal_path)
        except OSError:
            log.exception("could not write the recovery journal")

    def remove_journal(self) -> None:
        for ext in (".flow.json", ".json"):
            try:
                (self.folder / f"{self.session}{ext}").unlink()
            except FileNotFoundError:
                pass
            except OSError:
                log.warning("could not remove %s%s", self.session, ext)

    def close(self) -> None:
        """A clean end of the session: nothing to recover."""
        self._timer.stop()
        self.remove_journal()
        try:
            (self.folder / f"{self.session}.lock").unlink()
        except OSError:
            pass

    # ------------------------------------------------------------- recovery
    @staticmethod
    def orphans(folder: Path) -> list[Recovery]:
        """Journals whose session is no longer running, newest first."""
        found: list[Recovery] = []
        if not folder.is_dir():
            return found
        for flow in folder.glob("*.flow.json"):
            session = flow.name[: -len(".flow.json")]
            lock = folder / f"{session}.lock"
            try:
                pid = int(lock.read_text().strip())
            except (OSError, ValueError):
                pid = -1
            if _pid_alive(pid):
                continue  # a running session (possibly another window of this process)
            try:
                meta = json.loads((folder / f"{session}.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                meta = {}
            original = meta.get("path")
            found.append(
                Recovery(
                    session=session,
                    flow_path=flow,
                    original_path=Path(original) if isinstance(original, str) else None,
                    name=str(meta.get("name") or flow.name),
                    saved_at=str(meta.get("saved_at") or ""),
                )
            )
        found.sort(key=lambda r: r.saved_at, reverse=True)
        return found

    @staticmethod
    def discard(folder: Path, recovery: Recovery) -> None:
        for path in recovery.files(folder):
            try:
                path.unlink()
            except OSError:
                pass
