"""``OutputHeader``: the top line of the output dock — the node's title and
id, its run status ("● Succeeded · 12 ms · 2 attempts · reused"), AI token
usage (the node's and the run's total) and the Pin output button.
May import: PySide6, editor.document, editor.run.run_state, editor.theme, engine.history.
"""

from __future__ import annotations

import json
from typing import Any

from flowdesk.editor.document import Document
from flowdesk.editor.run.run_state import NodeRun, RunState, format_ms
from flowdesk.editor.theme import current_theme, set_icon
from flowdesk.engine import is_truncated
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget

STATUS_WORDS = {
    "queued": "Queued",
    "running": "Running",
    "retrying": "Waiting to retry",
    "succeeded": "Succeeded",
    "failed": "Failed",
    "skipped": "Skipped",
    "pinned": "Pinned output",
    "cancelled": "Cancelled",
}


def tokens_text(usage: dict[str, Any]) -> str:
    """``812 tokens (700 in, 112 out) · $0.0012``."""
    total = usage.get("total_tokens")
    prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
    text = f"{total:,} tokens" if isinstance(total, int) else "tokens"
    if isinstance(prompt, int) and isinstance(completion, int):
        text += f" ({prompt:,} in, {completion:,} out)"
    cost = usage.get("cost")
    if isinstance(cost, int | float):
        text += f" · ${cost:.4f}"
    return text


def status_html(run: NodeRun | None) -> str:
    if run is None:
        return ""
    theme = current_theme()
    colors = {
        "succeeded": "#43a047",
        "failed": theme.problem,
        "running": theme.accent,
        "retrying": "#f0a020",
        "pinned": "#8e6bd8",
    }
    color = colors.get(run.status, theme.muted)
    parts = [STATUS_WORDS.get(run.status, run.status)]
    if run.duration_ms:
        parts.append(format_ms(run.duration_ms))
    if run.attempts > 1:
        parts.append(f"{run.attempts} attempts")
    if run.reused:
        parts.append("reused from the last run")
    if run.stale:
        parts.append("from an earlier run")
    return f"<span style='color:{color}'>●</span> {' · '.join(parts)}"


class OutputHeader(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("outputHeader")
        top = QHBoxLayout(self)
        top.setContentsMargins(12, 8, 8, 4)
        top.setSpacing(10)
        self.title = QLabel(self)
        self.title.setObjectName("outputTitle")
        self.status = QLabel(self)
        self.status.setObjectName("outputStatus")
        self.status.setTextFormat(Qt.TextFormat.RichText)
        self.usage = QLabel(self)
        self.usage.setObjectName("usageLabel")
        self.pin_button = QToolButton(self)
        self.pin_button.setObjectName("pinButton")
        set_icon(self.pin_button, "pin")
        self.pin_button.setText("Pin output")
        self.pin_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.pin_button.setCheckable(True)
        self.pin_button.setToolTip(
            "Pin this output: the node is not run any more and this value is its output "
            "(saved in the workflow; undo with Ctrl+Z)"
        )
        top.addWidget(self.title)
        top.addWidget(self.status)
        top.addStretch(1)
        top.addWidget(self.usage)
        top.addWidget(self.pin_button)

    def show_node(
        self, doc: Document, node_id: str | None, run: NodeRun | None, state: RunState | None
    ) -> None:
        if node_id is None or not doc.has_node(node_id):
            self.title.setText("No node selected")
            self.status.setText("")
            self.pin_button.setEnabled(False)
            self.pin_button.setChecked(False)
            self.pin_button.setText("Pin output")
            self.usage.setText("")
            return
        node = doc.node(node_id)
        node_type = doc.node_type(node_id)
        title = node.title or (node_type.title if node_type else node.type)
        muted = current_theme().muted
        self.title.setText(f"<b>{title}</b> <span style='color:{muted}'>{node_id}</span>")
        pinned = node.pinned is not None
        self.pin_button.setChecked(pinned)
        self.pin_button.setText("Pinned" if pinned else "Pin output")
        truncated = run is not None and is_truncated(run.output)
        can_pin = run is not None and run.has_output and not truncated and not run.stale
        self.pin_button.setEnabled(pinned or can_pin)
        self.status.setText(status_html(run))
        self.show_usage(run, state)

    def show_usage(self, run: NodeRun | None, state: RunState | None) -> None:
        usage = run.usage if run is not None else None
        total = state.usage if state is not None else None
        parts = []
        if usage:
            parts.append(f"AI: {tokens_text(usage)}")
        if total and total != usage:
            parts.append(f"run total {tokens_text(total)}")
        self.usage.setText(" · ".join(parts))
        self.usage.setToolTip(json.dumps({"node": usage, "run": total}, indent=2) if parts else "")
