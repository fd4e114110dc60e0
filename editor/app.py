"""The editor's composition root: ``main(argv)`` builds the QApplication,
theme, registry and main window, opens FLOW if given, offers to recover
unsaved work, and runs the event loop (qasync, so that runs of the engine can
share it). ``--screenshot OUT.png`` renders the window at 1440×900 with the
flow loaded and fitted, saves it and exits (works offscreen).
May import: everything in editor, engine (public API), PySide6, qasync.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

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
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the editor. Returns the process exit code."""
    args = parse_args(list(sys.argv[1:] if argv is None else argv))
    level = os.environ.get("FLOWDESK_LOG", "WARNING").upper()
    logging.basicConfig(
        level=getattr(logging, level, logging.WARNING), format="%(levelname)s %(name)s: %(message)s"
    )
    os.environ.setdefault("QT_API", "pyside6")  # qasync must pick PySide6
    from PySide6.QtWidgets import QApplication

    from editor.main_window import MainWindow
    from editor.settings import Settings
    from editor.theme import app_icon, apply_theme, resolve_theme
    from engine import NodeRegistry

    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication([sys.argv[0]])
    app.setApplicationName("Flowdesk")
    app.setOrganizationName("Flowdesk")
    app.setWindowIcon(app_icon())
    settings = Settings()
    theme_choice = args.theme or settings.theme
    apply_theme(app, resolve_theme(theme_choice))
    registry = NodeRegistry.default()
    for entry, message in registry.load_errors:
        log.warning("plug-in %s not loaded: %s", entry, message)
    window = MainWindow(registry, settings)
    opened = True
    if args.flow:
        opened = window.files.open_path(Path(args.flow), confirm=False)
    if args.screenshot:
        return screenshot(app, window, Path(args.screenshot), opened)
    geometry, state = settings.window_state()
    if geometry is not None:
        window.restoreGeometry(geometry)
    if state is not None:
        window.restoreState(state)
    window.show()
    if args.flow:
        window.view.fit_all()
    else:
        offer_recovery(window)
    return run_event_loop(app)


def screenshot(app: object, window: object, out: Path, opened: bool) -> int:
    """Show the window at 1440×900, fit the flow, save a PNG."""
    from PySide6.QtWidgets import QApplication

    from editor.main_window import MainWindow

    assert isinstance(app, QApplication) and isinstance(window, MainWindow)
    window.resize(*SCREENSHOT_SIZE)
    window.show()
    for _ in range(3):
        app.processEvents()
    window.view.fit_all()
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


def offer_recovery(window: object) -> None:
    from editor.autosave import Autosave
    from editor.dialogs import RecoveryDialog
    from editor.main_window import MainWindow
    from engine import WorkflowLoadError, load_workflow

    assert isinstance(window, MainWindow)
    folder = window.autosave.folder
    orphans = Autosave.orphans(folder)
    if not orphans:
        return
    dialog = RecoveryDialog(orphans, window)
    accepted = dialog.exec()
    if dialog.discard_all:
        for recovery in orphans:
            Autosave.discard(folder, recovery)
        return
    chosen = dialog.chosen()
    if not accepted or chosen is None:
        return
    try:
        workflow = load_workflow(chosen.flow_path, window.registry)
    except WorkflowLoadError as exc:
        window.files.show_problems(
            chosen.flow_path, exc.issues, "The recovered work could not be read"
        )
        return
    window.files.open_workflow(workflow, chosen.original_path, modified=True)
    Autosave.discard(folder, chosen)
    window.autosave.write_journal()  # the recovered work is journaled again under this session


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
    return 0
