"""``ErrorView``: a node's error, readable — code and category, the message,
whether it is retryable, the attempts made, and the details that explain it
(HTTP status and body excerpt, schema issues, the expression and field), with
the traceback of an internal error folded at the end. The first line says it
in people's words ("Connection refused by 127.0.0.1:9"); the engine's own
message is one click away ("Show the raw error").
May import: PySide6, editor.outputs, editor.run.run_state, editor.theme.
"""

from __future__ import annotations

import html
import json
from typing import Any

from flowdesk.editor.outputs.jsonpaths import capped_json
from flowdesk.editor.problems import Place, error_place, field_title, human_error
from flowdesk.editor.run.run_state import NodeRun, format_ms
from flowdesk.editor.theme import current_theme
from PySide6.QtCore import QUrl, Signal
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


def error_html(run: NodeRun, raw: bool = False, field: str = "", doc: Any = None) -> str:
    """The error in words first (headline and hint), then its facts; the
    engine's own message and details behind "Show the raw error" (``raw``).
    ``field``: the label of the config field the error names (a link to it)."""
    theme = current_theme()
    error = run.error or {}
    details = error.get("details") or {}
    muted, bad = theme.muted, theme.problem
    headline, hint = human_error(error, doc)
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
    links = []
    if field:
        links.append(f"<a href='#field'>Go to {_esc(field)}</a>")
    links.append(f"<a href='#raw'>{'Hide' if raw else 'Show'} the raw error</a>")
    parts = [
        f"<div style='font-size:14px;font-weight:600;color:{bad}'>{_esc(headline)}</div>",
        f"<p style='margin:3px 0 0 0'>{_esc(hint).replace(chr(10), '<br>')}</p>" if hint else "",
        f"<p style='margin:3px 0 10px 0;color:{muted}'>{_esc(error.get('code', 'ERROR'))}"
        f" · {' · '.join(links)}</p>",
    ]
    if raw:
        parts.append(_pre(str(error.get("message", ""))))
    parts.append(f"<table cellspacing=0>{table}</table>")
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
    if rest and raw:
        text, cut = capped_json(rest, 20_000, indent=2)
        parts.append(
            f"<h4 style='margin:12px 0 2px 0'>Details</h4>{_pre(text + ('…' if cut else ''))}"
        )
    if run.traceback and error.get("category") == "INTERNAL":
        # (only a bug shows its traceback; other errors name their cause in details)
        parts.append(f"<h4 style='margin:12px 0 2px 0'>Traceback</h4>{_pre(run.traceback)}")
    return "".join(parts)


class ErrorView(QTextBrowser):
    """``field_requested(Place)``: "Go to FIELD" was clicked."""

    field_requested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("errorView")
        self.setAccessibleName("Error")
        self.setOpenExternalLinks(False)
        self.setOpenLinks(False)
        self.anchorClicked.connect(self._anchor)
        self.document().setDocumentMargin(12)
        self.raw = False
        self.doc: Any = None
        self._run: NodeRun | None = None
        self._node_id = ""

    def show_error(self, run: NodeRun, node_id: str = "") -> None:
        if run is not self._run:
            self.raw = False  # another error: in words first
        self._run, self._node_id = run, node_id
        self._render()

    def place(self) -> Place:
        return error_place(self._run.error if self._run else None, self._node_id)

    def _render(self) -> None:
        if self._run is None:
            return
        place = self.place()
        field = ""
        if place.key and self.doc is not None and self.doc.has_node(self._node_id):
            field = field_title(self.doc, self._node_id, place.section, place.key)
        self.setHtml(error_html(self._run, self.raw, field, self.doc))

    def _anchor(self, url: QUrl) -> None:
        if url.fragment() == "raw":
            self.raw = not self.raw
            self._render()
        elif url.fragment() == "field":
            self.field_requested.emit(self.place())
