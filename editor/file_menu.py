"""The File and Help menus' entries beyond New/Open/Save: Open Recent (each
file with its folder, so that two ``flow.json`` of different folders can be
told apart), File ▸ Close, File ▸ Examples (the bundled examples, opened as
copies in the user's examples folder so that the bundled files are never
written), Help ▸ Documentation (the bundled docs in a viewer of their own:
offline), and the first save of a workflow filing its earlier runs under the
file (Run History keeps them).
May import: PySide6, editor.*, engine (public API).
"""

from __future__ import annotations

import filecmp
import json
import logging
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from flowdesk.editor.document import Document
from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QFontMetrics

if TYPE_CHECKING:
    from flowdesk.editor.window_api import Window

log = logging.getLogger(__name__)

#: the folder column of Open Recent, in pixels (longer folders are elided)
FOLDER_WIDTH = 320


def bundled_examples() -> Path:
    from importlib.resources import files

    return Path(str(files("flowdesk.resources") / "examples"))


def examples_copy_folder() -> Path:
    """Where examples are copied to be opened: ``<user data>/flowdesk/examples``
    (``FLOWDESK_DATA_DIR`` overrides, as for the run history)."""
    override = os.environ.get("FLOWDESK_DATA_DIR")
    if override:
        return Path(override) / "examples"
    from platformdirs import user_data_dir

    return Path(user_data_dir("flowdesk", appauthor=False)) / "examples"


def example_title(path: Path) -> str:
    try:
        name = json.loads(path.read_text(encoding="utf-8")).get("name")
    except (OSError, ValueError, AttributeError):
        name = None
    return str(name) if name else path.name.removesuffix(".flow.json")


def copy_example(source: Path, folder: Path) -> Path:
    """A copy of the bundled ``source`` in ``folder`` (with the examples' data
    files, never overwriting one): an unchanged copy is reused, an edited one
    is kept and a new numbered copy made."""
    folder.mkdir(parents=True, exist_ok=True)
    data = source.parent / "data"
    if data.is_dir():
        for item in data.rglob("*"):
            target = folder / "data" / item.relative_to(data)
            if item.is_dir():
                target.mkdir(parents=True, exist_ok=True)
            elif not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(item, target)
    stem = source.name.removesuffix(".flow.json")
    for n in range(1, 1000):
        target = folder / (source.name if n == 1 else f"{stem}-{n}.flow.json")
        if not target.exists():
            shutil.copyfile(source, target)
            return target
        if filecmp.cmp(source, target, shallow=False):
            return target
    raise OSError(f"too many copies of {source.name} in {folder}")


def short_folder(folder: Path) -> str:
    home = Path.home()
    try:
        return "~/" + folder.relative_to(home).as_posix()
    except ValueError:
        return str(folder)


def recent_texts(paths: list[Path], metrics: QFontMetrics | None = None) -> list[str]:
    """Menu texts: the file name, a tab, its folder (shown in the menu's
    right-hand column, elided in the middle when long)."""
    texts = []
    for path in paths:
        folder = short_folder(path.parent)
        if metrics is not None:
            folder = metrics.elidedText(folder, Qt.TextElideMode.ElideMiddle, FOLDER_WIDTH)
        texts.append(f"{path.name.replace('&', '&&')}\t{folder}")
    return texts


class FileMenu(QObject):
    def __init__(self, window: Window) -> None:
        super().__init__(window)
        self.window = window
        actions = window.ui_actions
        actions.connect_slots({"close": self.close_document, "documentation": self.documentation})
        self.docs_dialog: QObject | None = None
        self._fill_examples()
        window.files.first_saved.connect(window.bridge.file_unsaved_runs)

    # ---------------------------------------------------------------- recent
    def fill_recent(self) -> None:
        window = self.window
        menu = window.ui_actions.recent_menu
        menu.clear()
        recent = window.settings.recent_files()
        for path, text in zip(recent, recent_texts(recent, menu.fontMetrics()), strict=True):
            action = menu.addAction(text)
            action.setToolTip(str(path))
            action.setStatusTip(str(path))
            action.triggered.connect(lambda _c=False, p=path: window.files.open_path(p))
        if recent:
            menu.addSeparator()
            menu.addAction("Clear Recent", self._clear_recent)
        menu.setEnabled(bool(recent))

    def _clear_recent(self) -> None:
        self.window.settings.clear_recent()
        self.fill_recent()

    # ----------------------------------------------------------------- close
    def close_document(self) -> bool:
        """File ▸ Close: the workflow goes (asking about unsaved changes), an
        empty one takes its place."""
        files = self.window.files
        if not files.confirm_discard():
            return False
        name = self.window.controller.title_name
        controller = self.window.controller
        controller.set_document(Document.new(controller.registry), None)
        files.opened.emit()
        self.window.show_message(f"Closed {name}.")
        return True

    # -------------------------------------------------------------- examples
    def _fill_examples(self) -> None:
        menu = self.window.ui_actions.examples_menu
        menu.clear()
        try:
            sources = sorted(bundled_examples().glob("*.flow.json"))
        except (OSError, ModuleNotFoundError):
            sources = []
        for source in sources:
            action = menu.addAction(example_title(source).replace("&", "&&"))
            action.setObjectName(f"example_{source.name.removesuffix('.flow.json')}")
            action.setStatusTip(f"Open a copy of the example {source.name}")
            action.triggered.connect(lambda _c=False, s=source: self.open_example(s))
        menu.setEnabled(bool(sources))

    def open_example(self, source: Path) -> bool:
        window = self.window
        if not window.files.confirm_discard():
            return False
        try:
            copy = copy_example(source, examples_copy_folder())
        except OSError as exc:
            log.warning("could not copy the example %s: %s", source, exc)
            window.show_message(f"Could not copy the example: {exc}")
            return False
        if not window.files.open_path(copy, confirm=False):
            return False
        window.show_message(
            f"Opened a copy of the example in {short_folder(copy.parent)} "
            "(the bundled example stays as it is)."
        )
        return True

    # --------------------------------------------------------- documentation
    def documentation(self) -> None:
        from flowdesk.editor.docs_view import DocsDialog

        dialog = self.docs_dialog
        if not isinstance(dialog, DocsDialog):
            dialog = DocsDialog(self.window)
            self.docs_dialog = dialog
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
