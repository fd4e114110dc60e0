"""Changed fields marked in the inspector while a proposal is under review.

For the node shown, every config field the plan changes gets an amber frame,
its label a "changed by the plan" mark, and a line under it with the current
value struck and the planned one (the whole values in its tooltip). A banner
at the top of the form says how many fields change, and lists those the form
has no editor for. The document is not touched: the editor still shows the
current value until Accept.
May import: PySide6, editor.inspector, engine (facade).
"""

from __future__ import annotations

import html
import json
from typing import Any

import flowdesk.engine as engine  # (its planner names load when a plan is shown)
from flowdesk.editor.theme import current_theme
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtWidgets import QLabel, QWidget

SHOWN_CHARS = 60
#: the mark's amber: bright on the dark theme, darker on the light one (contrast)
AMBER = {True: "#d99a1e", False: "#9a6400"}


def amber() -> str:
    return AMBER[current_theme().dark]


def shown(value: Any, limit: int = SHOWN_CHARS) -> str:
    """A value as a person reads it in one line (``(not set)`` when absent)."""
    if value is engine.ABSENT:
        return "(not set)"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class ProposalMarks:
    """Marks of the proposal under review in ``inspector`` (see module doc)."""

    def __init__(self, inspector: Any) -> None:
        self.inspector = inspector
        self.old: dict[str, Any] | None = None
        self.new: dict[str, Any] | None = None
        self.changed: dict[str, list[str]] = {}
        self.removed: set[str] = set()
        #: what the form shows now: field key → its mark line (tests read it)
        self.lines: dict[str, QLabel] = {}
        self.banner: QLabel | None = None
        inspector.decorators.append(self.decorate)

    def show(
        self,
        old: dict[str, Any],
        new: dict[str, Any],
        changed: dict[str, list[str]],
        removed: list[str] = (),  # type: ignore[assignment]
    ) -> None:
        self.old, self.new, self.changed = old, new, dict(changed)
        self.removed = set(removed)
        self._rebuild()

    def clear(self) -> None:
        had = self.old is not None
        self.old = self.new = None
        self.changed = {}
        self.removed = set()
        if had:
            self._rebuild()

    def _rebuild(self) -> None:
        self.inspector.show_nodes(list(self.inspector.selection))

    def fields(self, node_id: str) -> list[tuple[str, Any, Any]]:
        """``(path, old, new)`` the plan changes in ``node_id`` (none: not under review)."""
        if self.old is None or self.new is None or node_id not in self.changed:
            return []
        return engine.changed_fields(self.old, self.new, node_id)

    # ------------------------------------------------------------ drawing
    def decorate(self) -> None:
        """Called by the inspector after it built its form."""
        self.lines = {}
        self.banner = None
        node_id = self.inspector.node_id
        if node_id is None:
            return
        inspector = self.inspector
        if node_id in self.removed and self.old is not None:
            self._banner("<b>Under review:</b> the proposal removes this node.")
            return
        fields = self.fields(node_id)
        if not fields:
            return
        body = inspector.body
        unshown: list[str] = []
        for path, old, new in fields:
            key = path.split(".", 1)[0]
            editor = inspector.editors.get(key)
            if editor is None:
                unshown.append(_change_html(path, old, new))
                continue
            self._mark_editor(editor)
            self._mark_label(body, editor)
            line = self.lines.get(key)
            if line is None:
                line = QLabel()
                line.setObjectName("planChange")
                line.setWordWrap(True)
                line.setTextFormat(Qt.TextFormat.RichText)
                body.insertWidget(body.indexOf(editor) + 1, line)
                self.lines[key] = line
                line.setProperty("plan_paths", [])
            paths = [*line.property("plan_paths"), path]
            line.setProperty("plan_paths", paths)
            label = "" if path == key else f"{html.escape(path[len(key) + 1 :])}: "
            previous = line.text() + "<br>" if line.text() else "Plan: "
            line.setText(previous + label + _change_html("", old, new, bare=True))
            tip = line.toolTip() + ("\n" if line.toolTip() else "")
            line.setToolTip(tip + f"{path}\nnow:  {_full(old)}\nplan: {_full(new)}")
        count = len(fields)
        plural = "s" if count != 1 else ""
        text = (
            f"<b>Under review:</b> the proposal changes {count} field{plural} of this node "
            "(marked below). Accept or Reject it in the Describe panel."
        )
        if unshown:
            text += "<br>" + "<br>".join(unshown)
        self._banner(text)
        marked = [inspector.editors[k] for k in self.lines if k in inspector.editors]
        if marked:  # show the first changed field (with its label), not the description
            first = min(marked, key=body.indexOf)
            QTimer.singleShot(0, lambda: _reveal(inspector, first))

    def _banner(self, text: str) -> None:
        banner = QLabel(text)
        banner.setObjectName("proposalBanner")
        banner.setWordWrap(True)
        banner.setTextFormat(Qt.TextFormat.RichText)
        body = self.inspector.body
        box = getattr(self.inspector, "problem_box", None)
        at = body.indexOf(box) + 1 if box is not None else 1
        body.insertWidget(at, banner)
        self.banner = banner

    @staticmethod
    def _mark_editor(editor: QWidget) -> None:
        editor.setProperty("planChanged", True)
        for child in editor.findChildren(QWidget):
            if child.metaObject().className() in (
                "QLineEdit",
                "QPlainTextEdit",
                "CodeLine",
                "QSpinBox",
                "QDoubleSpinBox",
                "QComboBox",
            ):
                child.setProperty("planChanged", True)
                if not current_theme().dark:  # the style sheet's amber is for dark
                    child.setStyleSheet(f"border: 2px solid {amber()};")
                child.style().unpolish(child)
                child.style().polish(child)

    @staticmethod
    def _mark_label(body: Any, editor: QWidget) -> None:
        for i in range(body.count()):
            widget = body.itemAt(i).widget()
            if isinstance(widget, QLabel) and widget.buddy() is editor:
                if not widget.property("plan_marked"):
                    widget.setProperty("plan_marked", True)
                    widget.setText(
                        widget.text()
                        + f" <span style='color:{amber()}'>● changed by the plan</span>"
                    )
                return


def _reveal(inspector: Any, editor: QWidget) -> None:
    """Scroll the form so that ``editor``'s label is at the top."""
    try:
        content = inspector.scroll_area.widget()
        content.layout().activate()
        body = inspector.body
        label = next(
            (
                w
                for i in range(body.count())
                if isinstance(w := body.itemAt(i).widget(), QLabel) and w.buddy() is editor
            ),
            editor,
        )
        top = label.mapTo(content, QPoint(0, 0)).y()
        inspector.scroll_area.verticalScrollBar().setValue(max(0, top - 8))
    except RuntimeError:  # the form was rebuilt meanwhile
        pass


def _full(value: Any) -> str:
    if value is engine.ABSENT:
        return "(not set)"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _change_html(path: str, old: Any, new: Any, bare: bool = False) -> str:
    head = "" if bare else f"{html.escape(path)}: "
    return f"{head}<s>{html.escape(shown(old))}</s> → <b>{html.escape(shown(new))}</b>"
