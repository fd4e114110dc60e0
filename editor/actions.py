"""The window's actions, menus and toolbar, built from one table so that every
action has a stable ``objectName`` (``action_save``…), an accessible name,
standard shortcuts and an icon (listed in ``docs/ui.md``).
May import: PySide6, editor.theme.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flowdesk.editor.theme import set_icon
from PySide6.QtCore import QObject, QSize, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence, QUndoStack
from PySide6.QtWidgets import QMainWindow, QMenu, QToolBar, QToolButton, QWidget

Key = QKeySequence.StandardKey


@dataclass(frozen=True)
class Spec:
    name: str
    text: str
    shortcuts: tuple[QKeySequence | Key | str, ...] = ()
    icon: str = ""
    tip: str = ""
    checkable: bool = False


SPECS = [
    Spec("new", "&New", (Key.New,), "new", "New workflow"),
    Spec("open", "&Open…", (Key.Open,), "open", "Open a workflow file"),
    Spec("save", "&Save", (Key.Save,), "save", "Save"),
    Spec("save_as", "Save &As…", (Key.SaveAs, "Ctrl+Shift+S"), "", "Save under a new name"),
    Spec(
        "close",
        "&Close",
        ("Ctrl+W", Key.Close),
        "",
        "Close this workflow; an empty one takes its place",
    ),
    Spec("quit", "&Quit", (Key.Quit, "Ctrl+Q"), "", "Quit Flowdesk"),
    Spec(
        "recover",
        "Recover &Unsaved Work…",
        (),
        "",
        "Unsaved work kept from a session that did not close, also what “Not now” put off",
    ),
    Spec("cut", "Cu&t", (Key.Cut,), "cut", "Cut the selection"),
    Spec("copy", "&Copy", (Key.Copy,), "copy", "Copy the selection as JSON"),
    Spec("paste", "&Paste", (Key.Paste,), "paste", "Paste nodes (JSON) at the cursor"),
    Spec("duplicate", "&Duplicate", ("Ctrl+D",), "duplicate", "Duplicate the selection"),
    Spec("delete", "De&lete", (Key.Delete, "Backspace"), "trash", "Delete the selection"),
    Spec("select_all", "Select &All", (Key.SelectAll,), "", "Select every node and note"),
    Spec(
        "add_node",
        "Add &Node…",
        ("Shift+A",),
        "plus",
        "Add a node — also Tab or double-click on the canvas",
    ),
    Spec("add_note", "Add Sticky N&ote", ("Shift+N",), "note", "Add a sticky note"),
    Spec(
        "auto_layout",
        "Auto-&layout",
        ("Ctrl+Shift+L",),
        "layout",
        "Arrange the graph (or the selection) left to right",
    ),
    *[
        Spec(f"align_{name}", text, (), "", tip)
        for name, text, tip in (
            ("left", "Align &Left", "Line up the selected nodes' left edges"),
            ("hcenter", "Align &Centers", "Line up the selected nodes' centres (a column)"),
            ("right", "Align &Right", "Line up the selected nodes' right edges"),
            ("top", "Align &Top", "Line up the selected nodes' top edges"),
            ("vcenter", "Align &Middles", "Line up the selected nodes' middles (a row)"),
            ("bottom", "Align &Bottom", "Line up the selected nodes' bottom edges"),
        )
    ],
    Spec(
        "distribute_h",
        "Distribute &Horizontally",
        (),
        "",
        "Space three or more selected nodes evenly from left to right",
    ),
    Spec(
        "distribute_v",
        "Distribute &Vertically",
        (),
        "",
        "Space three or more selected nodes evenly from top to bottom",
    ),
    Spec("fit", "&Fit", ("F",), "fit", "Fit the selection, or everything"),
    Spec("zoom_in", "Zoom &In", (Key.ZoomIn, "Ctrl+="), "zoom-in", "Zoom in"),
    Spec("zoom_out", "Zoom &Out", (Key.ZoomOut,), "zoom-out", "Zoom out"),
    Spec("zoom_reset", "&Actual Size", ("Ctrl+0",), "", "Zoom to 100 %"),
    Spec("snap", "&Snap to Grid", (), "magnet", "Snap moved nodes to the grid", checkable=True),
    Spec("minimap", "&Minimap", (), "minimap", "Show the minimap", checkable=True),
    Spec(
        "theme_system",
        "Follow &System",
        (),
        "",
        "Use the system's light or dark mode",
        checkable=True,
    ),
    Spec("theme_dark", "&Dark", (), "", "Dark theme", checkable=True),
    Spec("theme_light", "&Light", (), "", "Light theme", checkable=True),
    Spec("run", "&Run", ("Ctrl+R", "F5"), "play", "Run the workflow"),
    Spec(
        "run_node",
        "Run &Selected Node",
        ("F6", "Ctrl+Shift+R"),
        "play-node",
        "Run only the selected node, reusing the upstream outputs of the last run",
    ),
    Spec(
        "run_up_to",
        "Run &Up to Selected Node",
        ("Shift+F6",),
        "play-to",
        "Run the selected node and everything it depends on",
    ),
    Spec("stop", "S&top", ("Shift+F5", "Ctrl+."), "stop", "Stop the run"),
    Spec(
        "pin_output",
        "&Pin / Unpin Output",
        ("P",),
        "pin",
        "Pin the selected node's output (it is not run any more), or unpin it",
    ),
    Spec("live_view", "Back to &Live Run", (), "", "Show the current run again"),
    Spec(
        "credentials",
        "&Credentials…",
        (),
        "key",
        "Credentials: store, change or delete the secrets this workflow uses",
    ),
    Spec(
        "documentation",
        "&Documentation",
        (),
        "",
        "The user guide and reference (bundled: works offline)",
    ),
    Spec("shortcuts", "&Keyboard Shortcuts", (Key.HelpContents,), "info", "Keyboard shortcuts"),
    Spec("about", "&About Flowdesk", (), "", "About Flowdesk"),
]

MENUS = {
    "&File": [
        "new",
        "open",
        "@recent",
        "@examples",
        "recover",
        "-",
        "save",
        "save_as",
        "-",
        "credentials",
        "-",
        "close",
        "quit",
    ],
    "&Edit": [
        "undo",
        "redo",
        "-",
        "cut",
        "copy",
        "paste",
        "duplicate",
        "delete",
        "-",
        "select_all",
        "-",
        "add_node",
        "add_note",
    ],
    "&View": [
        "fit",
        "zoom_in",
        "zoom_out",
        "zoom_reset",
        "-",
        "snap",
        "minimap",
        "-",
        "@theme",
        "@docks",
    ],
    "&Arrange": [
        "auto_layout",
        "-",
        "align_left",
        "align_hcenter",
        "align_right",
        "-",
        "align_top",
        "align_vcenter",
        "align_bottom",
        "-",
        "distribute_h",
        "distribute_v",
    ],
    "&Run": ["run", "run_node", "run_up_to", "stop", "-", "pin_output", "-", "live_view"],
    "&Help": ["documentation", "shortcuts", "about"],
}
#: shortcuts that act on the canvas selection: only while the canvas has focus,
#: so that Delete or Ctrl+A in the palette or a form never hit the graph
CANVAS_ONLY = {"cut", "copy", "paste", "duplicate", "delete", "select_all", "pin_output"}
TOOLBAR = [
    "new",
    "open",
    "save",
    "-",
    "undo",
    "redo",
    "-",
    "add_node",
    "add_note",
    "-",
    "auto_layout",
    "fit",
    "snap",
    "-",
    "run",
    "run_node",
    "stop",
    "-",
    "credentials",
]


class Actions(QObject):
    """All actions by name (``actions["save"]``), menus and the toolbar."""

    def __init__(self, window: QMainWindow, stack: QUndoStack) -> None:
        super().__init__(window)
        self.window = window
        self.by_name: dict[str, QAction] = {}
        for spec in SPECS:
            action = QAction(spec.text.replace("&", "&"), window)
            self._setup(action, spec.name, spec.tip, spec.icon, spec.shortcuts)
            action.setCheckable(spec.checkable)
        undo = stack.createUndoAction(window, "Undo")
        redo = stack.createRedoAction(window, "Redo")
        self._setup(undo, "undo", "Undo", "undo", (Key.Undo,))
        self._setup(redo, "redo", "Redo", "redo", (Key.Redo, "Ctrl+Shift+Z", "Ctrl+Y"))
        self.theme_group = QActionGroup(window)
        for name in ("theme_system", "theme_dark", "theme_light"):
            self.theme_group.addAction(self.by_name[name])
        self.recent_menu = QMenu("Open &Recent", window)
        self.recent_menu.setObjectName("menu_recent")
        self.examples_menu = QMenu("&Examples", window)
        self.examples_menu.setObjectName("menu_examples")
        self.theme_menu = QMenu("&Theme", window)
        self.theme_menu.setObjectName("menu_theme")
        for name in ("theme_system", "theme_dark", "theme_light"):
            self.theme_menu.addAction(self.by_name[name])
        self.docks_menu = QMenu("&Panels", window)
        self.docks_menu.setObjectName("menu_panels")

    def _setup(
        self,
        action: QAction,
        name: str,
        tip: str,
        icon_name: str,
        shortcuts: tuple[QKeySequence | Key | str, ...],
    ) -> None:
        action.setObjectName(f"action_{name}")
        plain = action.text().replace("&", "").rstrip("…")
        action.setToolTip(tip or plain)
        action.setStatusTip(tip or plain)
        keys: list[QKeySequence] = []
        for shortcut in shortcuts:
            keys.extend(
                QKeySequence.keyBindings(shortcut)
                if isinstance(shortcut, Key)
                else [QKeySequence(shortcut)]
            )
        unique = []
        for key in keys:
            if not key.isEmpty() and key not in unique:
                unique.append(key)
        action.setShortcuts(unique)
        if unique:
            action.setToolTip(
                f"{tip or plain}  ({unique[0].toString(QKeySequence.SequenceFormat.NativeText)})"
            )
        if icon_name:
            set_icon(action, icon_name)
        if name in CANVAS_ONLY:
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        else:
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            self.window.addAction(action)
        self.by_name[name] = action

    def attach_canvas(self, canvas: QWidget) -> None:
        """Give the canvas its selection shortcuts (see ``CANVAS_ONLY``)."""
        for name in sorted(CANVAS_ONLY):
            canvas.addAction(self.by_name[name])

    def __getitem__(self, name: str) -> QAction:
        return self.by_name[name]

    def connect_slots(self, slots: dict[str, Callable[[], object]]) -> None:
        for name, slot in slots.items():
            self.by_name[name].triggered.connect(lambda _checked=False, s=slot: s())

    def build_menus(self, docks: list[QAction]) -> None:
        bar = self.window.menuBar()
        bar.setObjectName("menuBar")
        for title, names in MENUS.items():
            menu = bar.addMenu(title)
            menu.setObjectName("menu_" + title.replace("&", "").lower())
            for name in names:
                if name == "-":
                    menu.addSeparator()
                elif name == "@recent":
                    menu.addMenu(self.recent_menu)
                elif name == "@examples":
                    menu.addMenu(self.examples_menu)
                elif name == "@theme":
                    menu.addMenu(self.theme_menu)
                elif name == "@docks":
                    for action in docks:
                        self.docks_menu.addAction(action)
                    menu.addMenu(self.docks_menu)
                else:
                    menu.addAction(self.by_name[name])

    def build_toolbar(self) -> QToolBar:
        bar = QToolBar("Main toolbar", self.window)
        bar.setObjectName("mainToolBar")
        bar.setAccessibleName("Main toolbar")
        bar.setMovable(False)
        bar.setIconSize(QSize(18, 18))
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        for name in TOOLBAR:
            if name == "-":
                bar.addSeparator()
            else:
                bar.addAction(self.by_name[name])
        # Run is the one action shown with its name: the way to start.
        run_button = bar.widgetForAction(self.by_name["run"])
        if isinstance(run_button, QToolButton):
            run_button.setObjectName("runButton")
            run_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.window.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        return bar
