"""Live validation: the engine's ``validate`` runs a moment after the user
stops editing (debounced, off the hot path of typing and dragging) and its
problems go to the canvas markers, the inspector and the status bar.
May import: PySide6, engine (public API), editor.undo.
"""

from __future__ import annotations

import logging
import time

from flowdesk.editor.document import Document
from flowdesk.editor.problems import describe
from flowdesk.editor.undo import DocumentController
from flowdesk.engine import ExpressionEngine, Issue, validate
from PySide6.QtCore import QObject, QTimer, Signal

log = logging.getLogger(__name__)

#: problems show this long after the last edit: typing ``{{ inp`` does not
#: turn the field, the node and the status bar red at every keystroke
CALM_MS = 700


def problems_by_node(issues: list[Issue], doc: Document | None = None) -> dict[str, list[str]]:
    """Each node's problems, in words (field labels, titles) when ``doc`` is given."""
    out: dict[str, list[str]] = {}
    for issue in issues:
        if issue.node_id:
            text = describe(issue, doc, with_node=False) if doc is not None else issue.message
            out.setdefault(issue.node_id, []).append(text)
    return out


class LiveValidator(QObject):
    """Emits ``problems_changed(list[Issue])`` after each burst of edits."""

    problems_changed = Signal(list)

    def __init__(
        self,
        controller: DocumentController,
        delay_ms: int = CALM_MS,
        expressions: ExpressionEngine | None = None,
    ) -> None:
        super().__init__(controller)
        self.controller = controller
        #: the compiled-expression cache (the window passes its engine's: runs
        #: and validation compile each expression once)
        self.expressions = expressions or ExpressionEngine()
        self.issues: list[Issue] = []
        #: ``issues`` are those of the document as it is (no edit since)
        self._current = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self.run)
        self._doc: Document | None = None
        controller.document_replaced.connect(self._attach)
        self._attach(controller.document)

    def _attach(self, document: Document) -> None:
        if self._doc is not None:
            self._doc.changed.disconnect(self._changed)
        self._doc = document
        self._current = False
        document.changed.connect(self._changed)
        self.schedule()

    def _changed(self, _event: object) -> None:
        self._current = False
        self.schedule()

    def current_issues(self) -> list[Issue] | None:
        """The problems of the document as it is now, or None when it changed
        since the last validation (a run then validates its snapshot itself)."""
        return list(self.issues) if self._current else None

    def schedule(self) -> None:
        self._timer.start()

    def run(self) -> list[Issue]:
        """Validate now (tests and the save path call this directly)."""
        self._timer.stop()
        started = time.perf_counter()
        doc = self.controller.document
        try:
            issues = validate(doc.workflow, doc.registry, self.expressions)
            self._current = True
        except Exception:  # a validator bug must not take the editor down
            log.exception("validation failed")
            issues = []
            self._current = False
        log.debug(
            "validated %d nodes in %.1f ms",
            len(doc.workflow.nodes),
            (time.perf_counter() - started) * 1000,
        )
        self.issues = issues
        self.problems_changed.emit(issues)
        return issues
