"""editor/run/qasync_compat.py: qasync's and asyncio's private loop state is
where it expects, and a loop installed for a test is undone cleanly (the next
loop runs, and Qt's own event loop still waits instead of returning at once)."""

from __future__ import annotations

import asyncio
import importlib.metadata

import qasync
from flowdesk.editor.run import qasync_compat
from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

CHECKED = "editor/run/qasync_compat.py (checked against qasync 0.28.0, Python 3.11.7)"


def test_the_private_parts_are_there(qapp: QApplication) -> None:
    version = importlib.metadata.version("qasync")
    assert callable(getattr(asyncio.events, "_set_running_loop", None)), (
        f"asyncio.events._set_running_loop is gone; update {CHECKED}"
    )
    loop = qasync.QEventLoop(qapp, already_running=True)
    try:
        assert getattr(loop, qasync_compat.RUNNING_FLAG, None) is True, (
            f"qasync {version}: QEventLoop keeps no {qasync_compat.RUNNING_FLAG!r}; "
            f"update {CHECKED}"
        )
        timers = getattr(loop._timer, qasync_compat.TIMER_CALLBACKS, None)
        assert isinstance(timers, dict), (
            f"qasync {version}: its timer keeps no {qasync_compat.TIMER_CALLBACKS!r}; "
            f"update {CHECKED}"
        )
    finally:
        qasync_compat.mark_stopped(loop)
        loop.close()
        qasync_compat.clear_running_loop()
        asyncio.set_event_loop(None)


def test_an_installed_loop_runs_tasks_and_is_undone(qapp: QApplication) -> None:
    loop = qasync_compat.install_loop(qapp)
    assert asyncio.get_running_loop() is loop
    done: list[str] = []

    async def job() -> None:
        await asyncio.sleep(0)
        done.append("ran")

    task = loop.create_task(job())
    waiter = QEventLoop()
    task.add_done_callback(lambda _task: waiter.quit())
    waiter.exec()
    assert done == ["ran"]
    qasync_compat.uninstall_loop(loop)
    assert loop.is_closed()
    assert asyncio.events._get_running_loop() is None
    # another loop runs after it ...
    assert asyncio.run(asyncio.sleep(0, "next")) == "next"
    # ... and Qt's event loop still waits for what ends it (after qasync's
    # stop() it would return at once, before the timer)
    fired: list[bool] = []
    waiter = QEventLoop()
    QTimer.singleShot(0, lambda: (fired.append(True), waiter.quit()))
    waiter.exec()
    assert fired == [True]


def test_callbacks_left_on_an_undone_loop_are_dropped_in_the_gui_thread(
    qapp: QApplication,
) -> None:
    """A callback still scheduled when the loop is undone (an MCP client's
    timeout) must not fire into freed memory after the garbage collector —
    in whatever thread it runs — destroyed the loop (it was a segfault)."""
    import gc
    import threading
    import time
    import weakref

    loop = qasync_compat.install_loop(qapp)
    fired: list[str] = []
    loop.call_later(0.05, fired.append, "late")
    gone = weakref.ref(loop)
    qasync_compat.uninstall_loop(loop)
    del loop
    collector = threading.Thread(target=gc.collect)  # (a worker thread collects it)
    collector.start()
    collector.join()
    assert gone() is None
    time.sleep(0.1)  # the callback's time passes
    qapp.processEvents()  # (was: a timer event to a destroyed object)
    assert fired == []
