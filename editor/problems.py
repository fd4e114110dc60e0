"""Problems and errors in people's words: nodes named by their title (the
canvas shows titles, not ids), fields by their label, JSON paths only as the
rest of a field's path — "“Summarise” › Value › total: field required" rather
than "nodes[2].config.value.total: field required" — and where each one is,
so that a click can jump to the node and the field.
May import: editor.document, editor.inspector.form, engine (public API).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flowdesk.editor.document import Document
from flowdesk.engine import Issue

#: ``nodes[2].config.value.total`` → ("config", "value", ".total")
LOCATION_RE = re.compile(r"^nodes\[\d+\](?:\.(config)\.|\.)?([A-Za-z0-9_]+)?(.*)$")
#: a quoted word that may be a node id: ``'transform'``
QUOTED_ID = re.compile(r"'([A-Za-z_][A-Za-z0-9_]{0,63})'")
#: the node's own settings, as the inspector labels them
COMMON_TITLES = {
    "title": "Title",
    "id": "ID",
    "type": "Type",
    "disabled": "Disabled",
    "on_error": "On error",
    "timeout_s": "Timeout per attempt",
    "retry": "Retry",
    "for_each": "For each",
    "concurrency": "Concurrency",
    "pinned": "Pinned output",
}


@dataclass(frozen=True)
class Place:
    """Where a problem is: a node, and a field of it ("" for none).
    ``section`` is "config" for a parameter, "node" for a setting."""

    node_id: str | None
    section: str = ""
    key: str = ""
    rest: str = ""


def place_of(issue: Issue) -> Place:
    if not issue.node_id:
        return Place(None)
    match = LOCATION_RE.match(issue.location or "")
    if match is None or not match.group(2):
        return Place(issue.node_id)
    section = "config" if match.group(1) else "node"
    return Place(issue.node_id, section, match.group(2), match.group(3) or "")


def field_title(doc: Document, node_id: str, section: str, key: str) -> str:
    """The label the inspector gives the field."""
    if section == "node":
        return COMMON_TITLES.get(key, key.replace("_", " ").capitalize())
    node_type = doc.node_type(node_id) if doc.has_node(node_id) else None
    if node_type is not None:
        prop = node_type.config_schema().get("properties", {}).get(key, {})
        title = prop.get("title") if isinstance(prop, dict) else None
        if isinstance(title, str) and title:
            return title
    return key.replace("_", " ").capitalize()


def humanize(text: str, doc: Document) -> str:
    """Node ids quoted in an engine message (``'transform'``) become the
    titles the canvas shows (“Transform”)."""

    def name(match: re.Match[str]) -> str:
        node_id = match.group(1)
        return doc.label(node_id) if doc.has_node(node_id) else match.group(0)

    return QUOTED_ID.sub(name, text)


def _rest(rest: str) -> str:
    """``.total[0].name`` → ``total › 0 › name``."""
    parts = [p for p in re.split(r"[.\[\]]+", rest) if p]
    return " › ".join(parts)


def where_text(doc: Document, place: Place) -> str:
    """The field part of a place: ``Value › total`` (or "")."""
    if place.node_id is None or not place.key:
        return ""
    text = field_title(doc, place.node_id, place.section, place.key)
    rest = _rest(place.rest)
    return f"{text} › {rest}" if rest else text


def describe(issue: Issue, doc: Document, with_node: bool = True) -> str:
    """One problem in words: ``“Summarise” › Value › total: field required``."""
    place = place_of(issue)
    message = humanize(issue.message, doc)
    head = []
    if with_node and place.node_id is not None:
        head.append(doc.label(place.node_id))
    where = where_text(doc, place)
    if where:
        head.append(where)
    if not head:
        return message[:1].upper() + message[1:]
    return f"{' › '.join(head)}: {message}"


def field_message(issue: Issue, doc: Document) -> str:
    """The problem as shown under its own field: the message, capitalised,
    with the path inside the field when there is one."""
    place = place_of(issue)
    message = humanize(issue.message, doc)
    message = message[:1].upper() + message[1:]
    rest = _rest(place.rest)
    return f"{rest}: {message}" if rest else message


def error_place(error: dict[str, Any] | None, node_id: str) -> Place:
    """The field an engine error names (``details.field``, or the first of
    ``details.issues`` — ``config.url``), for a jump from the error."""
    details = (error or {}).get("details") or {}
    if not isinstance(details, dict):
        return Place(node_id)
    field = details.get("field")
    if isinstance(field, str) and field:
        return Place(node_id, "config", field.removeprefix("config.").split(".")[0])
    issues = details.get("issues")
    if isinstance(issues, list) and issues and isinstance(issues[0], dict):
        path = str(issues[0].get("path", ""))
        match = re.match(r"^config\.([A-Za-z0-9_]+)(.*)$", path)
        if match:
            return Place(node_id, "config", match.group(1), match.group(2))
    return Place(node_id)
