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
from flowdesk.editor.text import field_label, plural
from flowdesk.engine import Issue, location_path

#: ``nodes[2].config.value.total`` → ("config", "value", ".total")
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
    #: the parts below the field: ``("total", 0, "name")``
    rest: tuple[str | int, ...] = ()


def place_of(issue: Issue) -> Place:
    if not issue.node_id:
        return Place(None)
    path = issue.path
    if len(path) < 3 or path[0] != "nodes" or not isinstance(path[1], int):
        return Place(issue.node_id)
    if path[2] == "config" and len(path) > 3:
        if not isinstance(path[3], str):
            return Place(issue.node_id)
        return Place(issue.node_id, "config", path[3], path[4:])
    if not isinstance(path[2], str):
        return Place(issue.node_id)
    return Place(issue.node_id, "node", path[2], path[3:])


#: a node type's config fields' titles (its JSON schema is built once, not per
#: problem: a file opened with thousands of problems described them in seconds;
#: process-wide: a pure function of a node type class, which never changes)
_TITLES: dict[type, dict[str, str]] = {}


def _titles(node_type: type) -> dict[str, str]:
    found = _TITLES.get(node_type)
    if found is None:
        props = node_type.config_schema().get("properties", {})  # type: ignore[attr-defined]
        found = {
            key: prop["title"]
            for key, prop in props.items()
            if isinstance(prop, dict) and isinstance(prop.get("title"), str) and prop["title"]
        }
        _TITLES[node_type] = found
    return found


def field_title(doc: Document, node_id: str, section: str, key: str) -> str:
    """The label the inspector gives the field."""
    if section == "node":
        return COMMON_TITLES.get(key, key.replace("_", " ").capitalize())
    node_type = doc.node_type(node_id) if doc.has_node(node_id) else None
    if node_type is not None:
        title = _titles(node_type).get(key)
        if title:
            return field_label(title)
    return field_label(key)


def humanize(text: str, doc: Document) -> str:
    """Node ids quoted in an engine message (``'transform'``) become the
    titles the canvas shows (“Transform”)."""

    def name(match: re.Match[str]) -> str:
        node_id = match.group(1)
        return doc.label(node_id) if doc.has_node(node_id) else match.group(0)

    return QUOTED_ID.sub(name, text)


def _rest(rest: tuple[str | int, ...]) -> str:
    """``("total", 0, "name")`` → ``total › 0 › name``."""
    return " › ".join(str(part) for part in rest)


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
        found = _config_field(issues[0])
        if found is not None:
            return Place(node_id, "config", *found)
    return Place(node_id)


def _config_field(issue: dict[str, Any]) -> tuple[str, tuple[str | int, ...]] | None:
    """The config field an issue's ``path`` names ("config.headers[0]" →
    ("headers", (0,))), or None when it names none."""
    path = location_path(str(issue.get("path", "")))
    if len(path) < 2 or path[0] != "config" or not isinstance(path[1], str):
        return None
    return path[1], path[2:]


# ------------------------------------------------------------------ errors
_REFUSED = re.compile(r"connect call failed|connection refused|errno 111\b|econnrefused", re.I)
_NO_HOST = re.compile(
    r"name or service not known|nodename nor servname|getaddrinfo failed|"
    r"temporary failure in name resolution|no address associated|name resolution|"
    r"domain name not found|errno -2\b|errno -3\b|errno 8\b|errno 11001\b",
    re.I,
)
_UNREACHABLE = re.compile(r"network is unreachable|no route to host|errno 101\b|errno 113\b", re.I)
_CERTIFICATE = re.compile(r"certificate verify failed|certificate_verify_failed|ssl: ", re.I)
_UNKNOWN_FILTER = re.compile(r"No (filter|test) named '([^']+)'")
_EXPRESSION_HEAD = re.compile(r"^(?:syntax error in )?expression ('.*?'):? ", re.S)


def _host_port(url: Any) -> tuple[str, str]:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(str(url or ""))
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return "", ""
    return parts.hostname or "", str(port)


#: a config refused at run time: how many of its other problems the hint lists
MAX_HINT_PROBLEMS = 5


def _config_problem(issue: dict[str, Any], node_id: Any, doc: Document | None) -> str:
    """One issue of a config refused at run time, headed by its field as the
    inspector names it ("Format: input should be …"); "" when it names no field."""
    found = _config_field(issue)
    if found is None:
        return ""
    field, inner = found
    if doc is not None and isinstance(node_id, str):
        title = field_title(doc, node_id, "config", field)
    else:
        title = field_label(field)
    rest = _rest(inner)
    return f"{f'{title} › {rest}' if rest else title}: {issue.get('message', '')}"


def human_error(error: dict[str, Any] | None, doc: Document | None = None) -> tuple[str, str]:
    """An engine error as people say it: a short headline ("Connection
    refused by 127.0.0.1:9") and a hint ("Nothing answers there: is the server
    running?"); the engine's own message stays available as the raw detail."""
    error = error or {}
    message = str(error.get("message") or "")
    details = error.get("details") if isinstance(error.get("details"), dict) else {}
    cause = details.get("cause") if isinstance(details.get("cause"), dict) else {}
    raw = f"{message} {cause.get('message', '')}"
    category = str(error.get("category") or "")
    if category == "TRANSPORT" and details.get("reason") in ("ConnectError", "ConnectTimeout"):
        host, port = _host_port(details.get("url"))
        if host and _REFUSED.search(raw):
            return (
                f"Connection refused by {host}:{port}",
                "Nothing answers there: is the server running, and is the address right?",
            )
        if host and _NO_HOST.search(raw):
            return (
                f"The host name {host} could not be found",
                "Check the URL's spelling, or the network and DNS of this computer.",
            )
        if host and _UNREACHABLE.search(raw):
            return (f"{host} cannot be reached", "Check the network connection of this computer.")
        if host and _CERTIFICATE.search(raw):
            return (
                f"The secure connection to {host} failed",
                "Its certificate is not trusted by this computer (or the server is not HTTPS).",
            )
        if host:
            return (f"Could not connect to {host}:{port}", "")
    field = details.get("field")
    if isinstance(field, str) and field:
        # "config.url 'x' must be…" → "URL 'x' must be…"
        head = re.match(
            rf"^(?:node '[^']*' has an invalid config: )?config\.{re.escape(field)}:? ", message
        )
        if head:
            message = f"{field_label(field)} {message[head.end() :]}"
    issues = details.get("issues")
    node_id = details.get("node")
    if (
        error.get("code") == "CONFIG_INVALID"
        and isinstance(issues, list)
        and issues
        and all(isinstance(issue, dict) for issue in issues)
    ):
        # a config refused at run time: each problem headed by its field as
        # the inspector names it ("Format: input should be …"); with several,
        # the first is the headline and the others are the hint
        lines = [_config_problem(issue, node_id, doc) for issue in issues]
        if all(lines):
            if len(lines) == 1:
                message = lines[0]
            else:
                more = len(lines) - 1
                hint = lines[1 : MAX_HINT_PROBLEMS + 1]
                if more > MAX_HINT_PROBLEMS:
                    hint.append(f"… and {more - MAX_HINT_PROBLEMS} more, under Issues below")
                return (
                    f"{lines[0]} (and {plural(more, 'more problem')})",
                    "\n".join(hint),
                )
    unknown = _UNKNOWN_FILTER.search(message)
    if unknown:
        expression = _EXPRESSION_HEAD.match(message)
        where = f" in {expression.group(1)}" if expression else ""
        return (f"Unknown {unknown.group(1)} '{unknown.group(2)}'{where}", "")
    text = humanize(message, doc) if doc is not None else message
    text = text[:1].upper() + text[1:]
    return (text, "")
