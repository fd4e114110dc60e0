"""The editor's composition root: ``main(argv)`` builds the QApplication,
theme, registry, engine (``build_engine``: the one place that chooses the
secret store), run history and main window (``build_window``, which the
screenshot scripts and benchmarks use too), opens FLOW if given, offers to
recover unsaved work (FLOW's first), and runs the event loop (qasync, so that
runs of the engine share it). ``--screenshot OUT.png`` renders the window at 1440×900 with
the flow loaded and fitted, saves it and exits (works offscreen); with
``--run`` the flow is run first and the picture taken when the run has
finished (exit 0 whatever its result); ``--select NODE`` selects a node, so
that its output shows in the output dock.
May import: everything in editor, engine (public API), PySide6, qasync.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SCREENSHOT_SIZE = (1440, 900)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="flowdesk edit", description="Open the Flowdesk editor.")
    parser.add_argument("flow", nargs="?", help="a workflow file (NAME.flow.json) to open")
    parser.add_argument(
        "--screenshot",
        metavar="OUT.png",
        help="render the window with FLOW loaded and fitted to OUT.png, then exit",
    )
    parser.add_argument("--theme", choices=["system", "dark", "light"], help="override the theme")
    parser.add_argument("--run", action="store_true", help="run FLOW once the window is open")
    parser.add_argument("--select", metavar="NODE", help="select NODE (its output shows)")
    parser.add_argument(
        "--run-timeout",
        type=float,
        default=120.0,
        metavar="S",
        help="with --run --screenshot: stop the run after S seconds (default 120)",
    )
    return parser.parse_args(argv)


def build_engine(registry: Any, secrets: Any = None) -> Any:
    """The engine of the editor's runs. Secrets come from
    ``FLOWDESK_SECRET_<NAME>``, then the OS keyring (``default_secret_store``);
    tests pass a store of their own."""
    from flowdesk.engine import Engine, default_secret_store

    return Engine(registry, secrets=secrets if secrets is not None else default_secret_store())


def build_window(
    registry: Any = None,
    settings: Any = None,
    *,
    scratch: Path | None = None,
    secrets: Any = None,
    history: Any = None,
    recovery_folder: Path | None = None,
    autosave_ms: int | None = None,
    flow: Path | None = None,
) -> Any:
    """The main window as the editor builds it: ``registry`` (by default the
    built-ins and plug-ins), its engine (``build_engine``), the run history
    and the settings. ``scratch``: a folder that holds the window's settings,
    recovery journals and run history instead of the user's (screenshots and
    benchmarks never touch the user's files). ``flow``: a file the window
    opens as it is built (``window.opened_at_start``: whether it could). A
    QApplication must exist."""
    from flowdesk.editor.main_window import MainWindow
    from flowdesk.editor.settings import Settings
    from flowdesk.engine import HistoryStore, NodeRegistry

    if registry is None:
        registry = NodeRegistry.default()
    if scratch is not None:
        from PySide6.QtCore import QSettings

        scratch.mkdir(parents=True, exist_ok=True)
        if settings is None:
            ini = QSettings(str(scratch / "settings.ini"), QSettings.Format.IniFormat)
            settings = Settings(ini)
        if history is None:
            history = HistoryStore(scratch / "history.sqlite3")
        if recovery_folder is None:
            recovery_folder = scratch / "recovery"
    return MainWindow(
        registry,
        settings,
        recovery_folder,
        autosave_ms,
        engine=build_engine(registry, secrets),
        history=history if history is not None else HistoryStore(),
        secret_store=secrets,
        flow=flow,
    )


def install_file_open_filter(app: Any, window: Any) -> Any:
    """macOS opens a double-clicked document with a ``FileOpen`` event: open
    it through the window's normal path (asking about unsaved changes)."""
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtGui import QFileOpenEvent

    class FileOpenFilter(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
            if event.type() == QEvent.Type.FileOpen and isinstance(event, QFileOpenEvent):
                path = event.file() or event.url().toLocalFile()
                if path:
                    window.files.open_path(Path(path))
                    return True
            return False

    event_filter = FileOpenFilter(app)
    app.installEventFilter(event_filter)
    return event_filter


def main(argv: list[str] | None = None) -> int:
    """Run the editor. Returns the process exit code.

    Python's cyclic garbage collector is paused while the window is built
    and the file opened (start-up allocates much and frees little: its
    collections rescanned everything built so far, a tenth of the time to
    the first paint) and resumes once the canvas is painted."""
    from flowdesk.editor.pyside_compat import fast_feature_check

    fast_feature_check()  # (``flowdesk edit`` did it already; ``python -m`` not)
    args = parse_args(list(sys.argv[1:] if argv is None else argv))
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _main(args, resume_gc=collecting)
    finally:
        if collecting:
            gc.enable()


def resume_gc_after_first_paint(widget: Any) -> Any:
    """Turn the garbage collector back on once ``widget`` has been painted
    (or after a few seconds, if it never is)."""
    from PySide6.QtCore import QEvent, QObject, QTimer

    class Resume(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
            if event.type() == QEvent.Type.Paint:
                watched.removeEventFilter(self)
                QTimer.singleShot(0, gc.enable)  # once this paint is over
            return False

    resume = Resume(widget)
    widget.installEventFilter(resume)
    QTimer.singleShot(3000, gc.enable)
    return resume


def _main(args: argparse.Namespace, resume_gc: bool) -> int:
    level = os.environ.get("FLOWDESK_LOG", "WARNING").upper()
    logging.basicConfig(
        level=getattr(logging, level, logging.WARNING), format="%(levelname)s %(name)s: %(message)s"
    )
    os.environ.setdefault("QT_API", "pyside6")  # qasync must pick PySide6
    from flowdesk.editor import errors
    from flowdesk.editor.settings import Settings
    from flowdesk.editor.theme import app_icon, apply_theme, resolve_theme
    from flowdesk.engine import NodeRegistry
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication([sys.argv[0]])
    app.setApplicationName("Flowdesk")
    app.setDesktopFileName("flowdesk")
    app.setOrganizationName("Flowdesk")
    app.setWindowIcon(app_icon())
    settings = Settings()
    theme_choice = args.theme or settings.theme
    apply_theme(app, resolve_theme(theme_choice))
    registry = NodeRegistry.default()
    for entry, message in registry.load_errors:
        log.warning("plug-in %s not loaded: %s", entry, message)
    # FLOW opens as the window is built: its scene and inspector are built once
    window = build_window(registry, settings, flow=Path(args.flow) if args.flow else None)
    errors.install(window)
    if sys.platform == "darwin":  # (elsewhere no FileOpen comes: no filter on every event)
        install_file_open_filter(app, window)
    opened = window.opened_at_start
    if args.screenshot:
        if args.run and opened:
            return run_screenshot(app, window, Path(args.screenshot), args)
        if args.select:
            window.run.select(args.select)
        return screenshot(app, window, Path(args.screenshot), opened)
    geometry, state = settings.window_state()
    if geometry is not None:
        window.restoreGeometry(geometry)
    if state is not None:
        window.restoreState(state)
    window.show()
    if resume_gc:
        resume_gc_after_first_paint(window.view.viewport())
    if args.flow:
        window.show_start_view()
        # Problems show a moment after the window is up, not before its first
        # paint (the timer started when the file was read, before the window).
        window.validator.schedule()
    offer_recovery(window)  # with a file or without: journaled work is offered
    if args.select and not window.run.select(args.select):
        log.warning("no node %r to select", args.select)
    if args.run and opened:
        from PySide6.QtCore import QTimer

        QTimer.singleShot(0, window.run.runs.run_all)  # once the event loop runs
    return run_event_loop(app)


def screenshot(app: object, window: object, out: Path, opened: bool) -> int:
    """Show the window at 1440×900, fit the flow, save a PNG."""
    from flowdesk.editor.main_window import MainWindow
    from PySide6.QtWidgets import QApplication

    assert isinstance(app, QApplication) and isinstance(window, MainWindow)
    window.resize(*SCREENSHOT_SIZE)
    window.show()
    for _ in range(3):
        app.processEvents()
    window.show_start_view()
    window.validator.run()
    app.processEvents()
    out.parent.mkdir(parents=True, exist_ok=True)
    saved = window.grab().save(str(out))
    window.controller.stack.setClean()
    window.autosave.close()
    window.hide()
    if not saved:
        log.error("could not write %s", out)
        return 1
    return 0 if opened else 2


def run_screenshot(app: object, window: object, out: Path, args: argparse.Namespace) -> int:
    """Run the flow in the window, select ``--select``, save the screenshot
    when the run has finished. Exit 0 whatever the run's result."""
    from flowdesk.editor.main_window import MainWindow
    from flowdesk.editor.run.qasync_compat import install_loop, uninstall_loop
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    assert isinstance(app, QApplication) and isinstance(window, MainWindow)
    loop = install_loop(app)
    window.resize(*SCREENSHOT_SIZE)
    window.show()
    for _ in range(3):
        app.processEvents()
    window.show_start_view()
    waiter = QEventLoop()
    window.bridge.run_finished.connect(lambda _result: waiter.quit())
    window.bridge.start_refused.connect(lambda *_a: waiter.quit())
    window.bridge.internal_error.connect(lambda *_a: waiter.quit())
    if window.run.runs.run_all():
        timer = QTimer()
        timer.setSingleShot(True)
        timer.timeout.connect(window.run.runs.stop)
        timer.start(int(args.run_timeout * 1000))
        if window.bridge.running:
            waiter.exec()
        timer.stop()
    if args.select and not window.run.select(args.select):
        log.warning("no node %r to select", args.select)
    window.bridge.wait_idle()
    for _ in range(5):
        app.processEvents()
    code = screenshot(app, window, out, True)
    window.bridge.close()
    uninstall_loop(loop)
    return code


def offer_recovery(window: object) -> None:
    """Offer every journal a crashed session left, the opened file's first
    (``editor.recovery``)."""
    from flowdesk.editor.main_window import MainWindow

    assert isinstance(window, MainWindow)
    window.recovery.offer_at_start()


async def close_http_pool() -> None:
    """Close the engine's shared HTTP connections of this loop (on quit)."""
    if "aiohttp" not in sys.modules:
        return  # nothing was sent: no pool (and no need to import the HTTP stack)
    try:
        from flowdesk.engine import close_shared_http_pool

        await close_shared_http_pool()
    except Exception:  # quitting must not fail on a connection that will not close
        log.debug("closing the HTTP pool failed", exc_info=True)


def run_event_loop(app: object) -> int:
    """qasync's loop when available (the engine runs on it), else ``exec()``."""
    from PySide6.QtWidgets import QApplication

    assert isinstance(app, QApplication)
    try:
        import asyncio

        import qasync
    except ImportError:  # pragma: no cover - qasync is a declared dependency
        return int(app.exec())
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    closed = asyncio.Event()
    app.aboutToQuit.connect(closed.set)
    with loop:
        loop.run_until_complete(closed.wait())
        loop.run_until_complete(close_http_pool())
        # Tasks still pending (a shared HTTP pool's closer): let them finish.
        pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    return 0
