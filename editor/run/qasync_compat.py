"""qasync's and asyncio's private loop state, in one file: a qasync loop made
the running loop while Qt's own event loop runs (tests, the screenshot mode),
and undone again.

Checked against qasync 0.28.0 with PySide6 6.x on CPython 3.11.7. It relies
on qasync's name-mangled running flag (``QEventLoop.__is_running``, stored as
``_QEventLoop__is_running``), on its timer object (``QEventLoop._timer``, a
``_SimpleTimer`` whose Qt timers are ``_SimpleTimer__callbacks``' keys) and on
``asyncio.events._set_running_loop``.
tests/editor/test_qasync_compat.py fails, naming the attribute, when an
upgrade moves either. The app's normal start (``editor.app.run_event_loop``)
uses qasync's public API only.

May import: PySide6, qasync, stdlib.
Main functions: ``install_loop``, ``uninstall_loop``.
"""

from __future__ import annotations

import asyncio
import logging
import time

from PySide6.QtWidgets import QApplication

log = logging.getLogger(__name__)

#: qasync's ``QEventLoop.__is_running``, as Python stores the mangled name
RUNNING_FLAG = "_QEventLoop__is_running"
#: qasync's ``_SimpleTimer.__callbacks`` (Qt timer id → the asyncio handle)
TIMER_CALLBACKS = "_SimpleTimer__callbacks"


def install_loop(app: QApplication | None = None) -> asyncio.AbstractEventLoop:
    """Make a qasync loop the running loop while Qt's own event loop runs
    (tests, the screenshot mode): ``asyncio.get_running_loop()`` then works in
    Qt slots. The app's normal start runs the loop itself (``run_event_loop``)."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        pass
    import qasync

    loop: asyncio.AbstractEventLoop = qasync.QEventLoop(
        app or QApplication.instance(), already_running=True
    )
    asyncio.set_event_loop(loop)
    return loop


def uninstall_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Undo ``install_loop`` (tests: the next test may run its own loop)."""
    tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in tasks:
        task.cancel()
    # Let them finish (an HTTP pool closes its connections when cancelled).
    deadline = time.monotonic() + 2.0
    app = QApplication.instance()
    while app is not None and any(not t.done() for t in tasks) and time.monotonic() < deadline:
        app.processEvents()
    # Not loop.stop(): qasync's stop calls QApplication.exit(), after which
    # every later QEventLoop.exec() returns at once. Mark it stopped instead.
    mark_stopped(loop)
    try:
        loop.close()  # joins the default executor's threads (file nodes use it)
    except RuntimeError:
        log.debug("the event loop could not be closed", exc_info=True)
    release_timers(loop)
    clear_running_loop()
    asyncio.set_event_loop(None)


def release_timers(loop: asyncio.AbstractEventLoop) -> None:
    """Kill the Qt timers of callbacks still scheduled on a closed qasync loop
    (an MCP client's timeouts...) and delete its timer object now, in the GUI
    thread. Left to the garbage collector, the object could be destroyed in a
    worker thread, whose QObject destructor cannot unregister the GUI thread's
    timers: the next ``processEvents`` delivered a timer event to freed
    memory (a segmentation fault a test or two after an MCP editor test)."""
    timer = getattr(loop, "_timer", None)
    callbacks = getattr(timer, TIMER_CALLBACKS, None)
    if timer is None or not isinstance(callbacks, dict):
        return
    import shiboken6

    if not shiboken6.isValid(timer):
        return
    for timer_id in list(callbacks):
        timer.killTimer(timer_id)
    callbacks.clear()
    shiboken6.delete(timer)


def mark_stopped(loop: asyncio.AbstractEventLoop) -> None:
    """Tell a qasync loop it no longer runs, without ``loop.stop()`` (which
    ends Qt's application loop too). Other loops are left alone."""
    if hasattr(loop, RUNNING_FLAG):
        setattr(loop, RUNNING_FLAG, False)


def clear_running_loop() -> None:
    """No running loop in this thread any more, as when ``asyncio.run`` ends.
    (qasync's ``already_running`` loop set it and never runs to an end that
    would clear it.)"""
    asyncio.events._set_running_loop(None)
