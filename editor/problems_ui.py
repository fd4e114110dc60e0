"""The problems of the open workflow in the window: the status bar's
"⚠ 2 problems" is a button listing them in words, and choosing one — there,
in the inspector or from a run's error — jumps to its node and field.
May import: PySide6, editor.*, engine (public API).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flowdesk.editor.problems import Place, describe, place_of
from flowdesk.editor.text import plural
from flowdesk.editor.theme import set_style_state
from flowdesk.engine import Issue
from PySide6.QtCore import QObject, QPoint, Qt
from PySide6.QtWidgets import QMenu, QToolButton

if TYPE_CHECKING:
    from flowdesk.editor.window_api import Window

#: the menu lists this many problems, then a count
MENU_LIMIT = 30


class ProblemsUi(QObject):
    def __init__(self, window: Window) -> None:
        super().__init__(window)
        self.window = window
        self.issues: list[Issue] = []
        self.button = QToolButton()
        self.button.setObjectName("problemsLabel")
        self.button.setAccessibleName("Problems")
        self.button.setAutoRaise(True)
        self.button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.button.clicked.connect(self.show_menu)
        self.menu: QMenu | None = None

    def set_issues(self, issues: list[Issue]) -> None:
        self.issues = list(issues)
        count = len(issues)
        self.button.setText(f"⚠ {plural(count, 'problem')}" if count else "✓ No problems")
        doc = self.window.controller.document
        lines = [describe(i, doc) for i in issues[:MENU_LIMIT]]
        tip = "\n".join(lines) + ("\n\nClick to go to one." if lines else "")
        self.button.setToolTip(tip)
        self.button.setEnabled(bool(count))
        set_style_state(self.button, "problems", bool(count))

    def show_menu(self) -> QMenu | None:
        """The problems, in words; choosing one goes to its node and field."""
        if not self.issues:
            return None
        doc = self.window.controller.document
        menu = QMenu(self.window)
        menu.setObjectName("problemsMenu")
        for issue in self.issues[:MENU_LIMIT]:
            action = menu.addAction(describe(issue, doc))
            action.triggered.connect(lambda _c=False, i=issue: self.jump(place_of(i)))
        if len(self.issues) > MENU_LIMIT:
            more = menu.addAction(f"… and {len(self.issues) - MENU_LIMIT} more")
            more.setEnabled(False)
        self.menu = menu
        top = self.button.mapToGlobal(QPoint(0, 0))
        menu.popup(QPoint(top.x(), top.y() - menu.sizeHint().height()))
        return menu

    def jump(self, place: Place) -> None:
        """Select the node, bring it into view and put the cursor in the field."""
        window = self.window
        if place.node_id is None or place.node_id not in window.scene.nodes:
            window.scene.select()
            return
        window.scene.select([place.node_id])
        item = window.scene.nodes[place.node_id]
        if not window.view.visible_rect().contains(item.scene_rect()):
            window.view.centerOn(item.scene_rect().center())
        window.inspector_dock.raise_()
        window.inspector_dock.show()
        window.inspector.focus_field(place)

    def jump_to_issues(self, issues: list[Any]) -> None:
        """A refused run: go to its first problem."""
        if issues:
            self.jump(place_of(issues[0]))
