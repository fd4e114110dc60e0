"""The canvas's right-click menu: what applies to the selection (edit, enable
or disable, run this node, run up to it, pin or unpin its output), or to the
empty canvas (add a node or a note, paste, select all, lay out, fit).
May import: PySide6, editor.*.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowdesk.editor.document import UNSET
from flowdesk.editor.document.commands import SetNodeField
from PySide6.QtCore import QPoint, QPointF
from PySide6.QtWidgets import QMenu

if TYPE_CHECKING:
    from flowdesk.editor.window_api import Window


def canvas_menu(win: Window, global_pos: QPoint, scene_pos: QPointF, node_id: str) -> QMenu:
    menu = QMenu(win)
    menu.setObjectName("canvasContextMenu")
    a = win.ui_actions
    if win.scene.selectedItems():
        if node_id and len(win.scene.selected_node_ids()) == 1:
            node = win.controller.document.node(node_id)
            for name in ("run_node", "run_up_to"):
                menu.addAction(a[name])
            pin = menu.addAction(
                a["pin_output"].icon(), "Unpin Output" if node.pinned is not None else "Pin Output"
            )
            pin.triggered.connect(lambda: win.run.runs.pin(node_id, node.pinned is None))
            add_sign_in_again(win, menu, node_id)
            menu.addSeparator()
        for name in ("cut", "copy", "duplicate", "delete"):
            menu.addAction(a[name])
        if node_id:
            node = win.controller.document.node(node_id)
            toggle = menu.addAction("Enable" if node.disabled else "Disable")
            toggle.triggered.connect(lambda: toggle_disabled(win, node_id))
        menu.addSeparator()
        menu.addAction(a["auto_layout"])
    else:
        add = menu.addAction(a["add_node"].icon(), "Add Node…")
        add.triggered.connect(lambda: win.quick_add.open_at(global_pos, scene_pos, None))
        note = menu.addAction(a["add_note"].icon(), "Add Sticky Note")
        note.triggered.connect(lambda: win.editor.add_note(scene_pos))
        paste = menu.addAction(a["paste"].icon(), "Paste")
        paste.triggered.connect(lambda: win.editor.paste(scene_pos))
        menu.addSeparator()
        for name in ("select_all", "auto_layout", "fit"):
            menu.addAction(a[name])
        menu.addSeparator()
        menu.addAction(a["run"])
    return menu


def sign_in_credential(win: Window, node_id: str) -> str | None:
    """The credential whose sign-in the node's last failure asks to renew."""
    run = win.run.runs.shown.node(node_id)
    error = run.error if run is not None else None
    details = error.get("details") if isinstance(error, dict) else None
    if isinstance(details, dict) and details.get("action") == "sign_in":
        name = details.get("credential")
        return name if isinstance(name, str) else None
    return None


def add_sign_in_again(win: Window, menu: QMenu, node_id: str) -> None:
    """ "Sign in again…" on a node that failed because its sign-in expired or was revoked."""
    name = sign_in_credential(win, node_id)
    if name is not None:
        action = menu.addAction(f"Sign in again ({name})…")
        action.setObjectName("signInAgainAction")
        action.triggered.connect(lambda: win.credentials.sign_in_again(name))


def toggle_disabled(win: Window, node_id: str) -> None:
    disabled = not win.controller.document.node(node_id).disabled
    text = "Disable node" if disabled else "Enable node"
    win.controller.push(SetNodeField(node_id, "disabled", True if disabled else UNSET, text))
