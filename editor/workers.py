"""``run_in_thread(fn, done)``: run a slow, Qt-free function (serialising a
big output, writing it to a file) on a worker thread and call ``done(result,
error)`` back on the GUI thread. Used where no asyncio is wanted (widgets).
May import: PySide6, stdlib. Main function: ``run_in_thread``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)

#: jobs in flight, kept alive until their result is delivered (process-wide:
#: a worker thread outlives whatever started it)
_jobs: set[_Job] = set()


class _Job(QObject):
    finished = Signal(object, object)

    def __init__(self, done: Callable[[Any, BaseException | None], None]) -> None:
        super().__init__()
        self._done = done
        # Emitted on the worker thread; this object lives on the GUI thread,
        # so the slot runs there (a queued connection).
        self.finished.connect(self._deliver)

    def _deliver(self, result: Any, error: BaseException | None) -> None:
        _jobs.discard(self)
        try:
            self._done(result, error)
        finally:
            self.deleteLater()


def run_in_thread(
    fn: Callable[[], Any], done: Callable[[Any, BaseException | None], None], name: str = "job"
) -> None:
    job = _Job(done)
    _jobs.add(job)

    def work() -> None:
        try:
            result = fn()
        except Exception as exc:
            log.debug("%s failed", name, exc_info=True)
            job.finished.emit(None, exc)
        else:
            job.finished.emit(result, None)

    threading.Thread(target=work, name=f"flowdesk-{name}", daemon=True).start()
