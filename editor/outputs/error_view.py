"""``ErrorView``: a node's error, readable — code and category, the message,
whether it is retryable, the attempts made, and the details that explain it
(HTTP status and body excerpt, schema issues, the expression and field), with
the traceback of an internal error folded at the end.
May import: PySide6, editor.outputs, editor.run.run_state, editor.theme.
"""

from __future__ import annotations

import html
import json
from typing import Any

from flowdesk.editor.outputs.jsonpaths import capped_json
from flowdesk.editor.run.run_state import NodeRun, format_ms
from flowdesk.editor.theme import current_theme
from PySide6.QtWidgets import QTextBrowser, QWidget

#: details shown as their own rows, in this order
KNOWN = (
    "status",
    "reason",
    "method",
    "url",
    "retry_after_s",
    "node",
    "field",
    "expression",
    "path",
    "item_index",
)
BODY_KEYS = ("body_excerpt", "body", "response_excerpt", "excerpt")


def _esc(value: Any) -> str:
    return html.escape(str(value))


def _pre(text: str) -> str:
    return f"<pre style='white-space:pre-wrap;margin:2px 0'>{_esc(text)}</pre>"


def error_html(run: NodeRun) -> str:
    theme = current_theme()
    error = run.error or {}
    details = error.get("details") or {}
    muted, bad = theme.muted, theme.problem
    retryable = bool(error.get("retryable"))
    rows: list[tuple[str, str]] = [
        ("Category", _esc(error.get("category", "—"))),
        (
            "Retryable",
            "yes — a retry policy would try again" if retryable else "no",
        ),
        ("Attempts", _esc(run.attempts or 1)),
    ]
    if run.duration_ms:
        rows.append(("Time", _esc(format_ms(run.duration_ms))))
    if run.continued:
        rows.append(("On error", "continue — the error object went on as the output"))
    for key in KNOWN:
        if key in details:
            value = details[key]
            label = "HTTP status" if key == "status" else key.replace("_", " ").capitalize()
            rows.append((label, _esc(value)))
    table = "".join(
        f"<tr><td style='color:{muted};padding:2px 14px 2px 0'>{k}</td><td>{v}</td></tr>"
        for k, v in rows
    )
    parts = [
        f"<div style='font-size:15px;font-weight:600;color:{bad}'>"
        f"{_esc(error.get('code', 'ERROR'))}</div>",
        f"<p style='margin:4px 0 10px 0'>{_esc(error.get('message', ''))}</p>",
        f"<table cellspacing=0>{table}</table>",
    ]
    for key in BODY_KEYS:
        if key in details and details[key] not in (None, ""):
            body = details[key]
            text = body if isinstance(body, str) else json.dumps(body, indent=2, default=str)
            parts.append(
                f"<h4 style='margin:12px 0 2px 0'>Response body (excerpt)</h4>{_pre(text)}"
            )
            break
    issues = details.get("issues")
    if isinstance(issues, list) and issues:
        items = "".join(
            f"<li><code>{_esc(i.get('path', ''))}</code> {_esc(i.get('message', ''))}</li>"
            if isinstance(i, dict)
            else f"<li>{_esc(i)}</li>"
            for i in issues[:50]
        )
        more = f"<p>… and {len(issues) - 50} more</p>" if len(issues) > 50 else ""
        parts.append(f"<h4 style='margin:12px 0 2px 0'>Issues</h4><ul>{items}</ul>{more}")
    rest = {
        k: v for k, v in details.items() if k not in KNOWN and k not in BODY_KEYS and k != "issues"
    }
    if rest:
        text, cut = capped_json(rest, 20_000, indent=2)
        parts.append(
            f"<h4 style='margin:12px 0 2px 0'>Details</h4>{_pre(text + ('…' if cut else ''))}"
        )
    if run.traceback and error.get("category") == "INTERNAL":
        # (only a bug shows its traceback; other errors name their cause in details)
        parts.append(f"<h4 style='margin:12px 0 2px 0'>Traceback</h4>{_pre(run.traceback)}")
    return "".join(parts)


class ErrorView(QTextBrowser):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("errorView")
        self.setAccessibleName("Error")
        self.setOpenExternalLinks(False)
        self.document().setDocumentMargin(12)

    def show_error(self, run: NodeRun) -> None:
        self.setHtml(error_html(run))
