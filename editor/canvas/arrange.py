"""Arrange ▸ Align and Distribute: line up the selected nodes' edges, centres
or middles, or space three or more evenly — each one undoable step
(``MoveNodes``). ``aligned`` and ``distributed`` are pure (rectangles in,
positions out); ``Arranger`` applies them to the canvas selection and keeps
the result in view.
May import: PySide6, editor.document, editor.canvas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowdesk.editor.document.commands import MoveNodes
from flowdesk.editor.text import plural
from PySide6.QtCore import QObject, QRectF

if TYPE_CHECKING:
    from flowdesk.editor.actions import Actions
    from flowdesk.editor.canvas.editing import CanvasEditor

Rect = tuple[float, float, float, float]  # x, y, width, height

ALIGN = ("left", "hcenter", "right", "top", "vcenter", "bottom")
WORDS = {
    "left": "Align left",
    "hcenter": "Align centres",
    "right": "Align right",
    "top": "Align top",
    "vcenter": "Align middles",
    "bottom": "Align bottom",
    "h": "Distribute horizontally",
    "v": "Distribute vertically",
}


def aligned(rects: dict[str, Rect], how: str) -> dict[str, tuple[float, float]]:
    """New top-left corners lining the rectangles up (``how`` in ``ALIGN``)."""
    if how in ("left", "hcenter", "right"):
        lefts = [r[0] for r in rects.values()]
        rights = [r[0] + r[2] for r in rects.values()]
        if how == "left":
            edge = min(lefts)
            return {k: (edge, r[1]) for k, r in rects.items()}
        if how == "right":
            edge = max(rights)
            return {k: (edge - r[2], r[1]) for k, r in rects.items()}
        centre = (min(lefts) + max(rights)) / 2
        return {k: (centre - r[2] / 2, r[1]) for k, r in rects.items()}
    tops = [r[1] for r in rects.values()]
    bottoms = [r[1] + r[3] for r in rects.values()]
    if how == "top":
        edge = min(tops)
        return {k: (r[0], edge) for k, r in rects.items()}
    if how == "bottom":
        edge = max(bottoms)
        return {k: (r[0], edge - r[3]) for k, r in rects.items()}
    middle = (min(tops) + max(bottoms)) / 2
    return {k: (r[0], middle - r[3] / 2) for k, r in rects.items()}


def distributed(rects: dict[str, Rect], axis: str) -> dict[str, tuple[float, float]]:
    """Equal gaps between the rectangles along ``axis`` ("h" or "v"), the
    first and last staying where they are."""
    i = 0 if axis == "h" else 1
    order = sorted(rects, key=lambda k: (rects[k][i], rects[k][1 - i]))
    first, last = rects[order[0]], rects[order[-1]]
    span = last[i] + last[i + 2] - first[i]
    total = sum(rects[k][i + 2] for k in order)
    gap = (span - total) / (len(order) - 1) if len(order) > 1 else 0.0
    result = {}
    at = first[i]
    for key in order:
        r = rects[key]
        result[key] = (at, r[1]) if axis == "h" else (r[0], at)
        at += r[i + 2] + gap
    return result


class Arranger(QObject):
    """Applies Align / Distribute to the canvas selection."""

    def __init__(self, editor: CanvasEditor, actions: Actions) -> None:
        super().__init__(editor)
        self.editor = editor
        self.actions = actions
        slots = {f"align_{how}": (lambda h=how: self.align(h)) for how in ALIGN}
        slots["distribute_h"] = lambda: self.distribute("h")
        slots["distribute_v"] = lambda: self.distribute("v")
        actions.connect_slots(slots)
        editor.scene.selectionChanged.connect(self.update_actions)
        self.update_actions()

    def update_actions(self) -> None:
        """Align needs two nodes, Distribute three."""
        try:
            count = len(self.editor.scene.selected_node_ids())
        except RuntimeError:  # the scene is going away
            return
        for how in ALIGN:
            self.actions[f"align_{how}"].setEnabled(count >= 2)
        for axis in ("h", "v"):
            self.actions[f"distribute_{axis}"].setEnabled(count >= 3)

    def _rects(self) -> dict[str, Rect]:
        scene = self.editor.scene
        sizes = scene.node_sizes()
        rects = {}
        for node_id in scene.selected_node_ids():
            x, y = scene.node_position(node_id)
            w, h = sizes.get(node_id, (0.0, 0.0))
            rects[node_id] = (x, y, w, h)
        return rects

    def align(self, how: str) -> bool:
        rects = self._rects()
        if len(rects) < 2:
            self.editor.status_message.emit("Select two or more nodes to align them.")
            return False
        return self._move(aligned(rects, how), WORDS[how])

    def distribute(self, axis: str) -> bool:
        rects = self._rects()
        if len(rects) < 3:
            self.editor.status_message.emit("Select three or more nodes to distribute them.")
            return False
        return self._move(distributed(rects, axis), WORDS[axis])

    def _move(self, positions: dict[str, tuple[float, float]], words: str) -> bool:
        doc = self.editor.doc
        moves = {}
        for node_id, (x, y) in positions.items():
            new = (float(round(x)), float(round(y)))
            old = doc.node(node_id).position
            if old is None or (float(old[0]), float(old[1])) != new:
                moves[node_id] = (old, new)
        if not moves:
            self.editor.status_message.emit("Already lined up.")
            return False
        text = f"{words} ({plural(len(positions), 'node')})"
        if not self.editor.push(MoveNodes(moves, text=text)):
            return False
        self.editor.keep_in_view(self._union(positions))
        return True

    def _union(self, positions: dict[str, tuple[float, float]]) -> QRectF:
        sizes = self.editor.scene.node_sizes()
        rect = QRectF()
        for node_id, (x, y) in positions.items():
            w, h = sizes.get(node_id, (0.0, 0.0))
            rect = rect.united(QRectF(x, y, w, h))
        return rect
