"""Pydantic's validation errors as located ``Issue``s, in one wording — for
the workflow file (``engine.io``), a node's config before the run
(``engine.validate``) and at run time (``engine.run.config_render``), a
tool source's entry (``engine.sources``), and the editor's checks of a pasted
fragment, a workflow key and a credential reference (through the facade).

The words: a missing field is "field required"; an unknown one is "unknown
field for http.request" (for a node type or source type; in the file itself
"unknown key (not part of the format; …)"); otherwise pydantic's message,
lower-cased, with the value received when it is a short scalar — ``input
should be 'list' or 'object' (got 'dict')``. A bad node id says what an id
may hold. A credential's kind, which pydantic puts in the location
(``credentials.api.bearer.env``), is left out (``credentials.api.env``).
May import: pydantic, engine.errors, engine.model. Main function:
``issues_from_validation_error``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, get_args

from pydantic import ValidationError

from .errors import Issue, IssuePath, format_location
from .model.workflow import FORMAT, CredentialRef

#: the kinds of credential reference (a tagged union: pydantic names the kind
#: in the location), read from the file format's ``CredentialRef``
_CREDENTIAL_TAGS = frozenset(
    tag
    for member in get_args(get_args(CredentialRef)[0])
    for tag in get_args(member.model_fields["type"].annotation)
)

#: a value received is shown when its ``repr`` is at most this long
MAX_SHOWN_INPUT = 40


def issues_from_validation_error(
    exc: ValidationError,
    prefix: IssuePath = (),
    *,
    subject: str | None = None,
    node_id: str | None = None,
    skip: Callable[[tuple[Any, ...]], bool] | None = None,
) -> list[Issue]:
    """One ``Issue`` per problem of ``exc``, located at ``prefix`` + its place.

    ``subject`` names what the fields belong to (``http.request``,
    ``openapi sources``); None is the workflow file itself. ``skip(loc)``
    leaves out the problems at a place inside the value (e.g. a field whose
    value is an expression, checked at run time)."""
    issues = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        if skip is not None and skip(loc):
            continue
        path = (*prefix, *loc)
        if len(path) > 2 and path[0] == "credentials" and path[2] in _CREDENTIAL_TAGS:
            path = (*path[:2], *path[3:])
        message = issue_message(error, path, subject)
        issues.append(Issue(format_location(path), message, node_id, path=path))
    return issues


def issue_message(error: Any, path: IssuePath, subject: str | None) -> str:
    """The words for one pydantic error (``error``: one of ``exc.errors()``)."""
    kind = error.get("type", "")
    if kind == "missing":
        return "field required"
    if kind == "extra_forbidden":
        if subject is None:
            return "unknown key (not part of the format; editor state belongs under 'ui')"
        return f"unknown field for {subject}"
    received = error.get("input")
    if subject is None and kind == "string_pattern_mismatch" and path[-1:] == ("id",):
        return (
            f"invalid id {received!r}: use letters, digits and '_', "
            "starting with a letter or '_', at most 64 characters"
        )
    if subject is None and kind == "literal_error" and path == ("format",):
        message = f"must be exactly {FORMAT!r}"
    else:
        message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
        message = message[:1].lower() + message[1:]
    return message + got(received)


def got(received: Any) -> str:
    """`` (got 'dict')`` for a short scalar value received, else ""."""
    if isinstance(received, str | int | float | bool):
        shown = repr(received)
        if len(shown) <= MAX_SHOWN_INPUT:
            return f" (got {shown})"
    return ""
