"""How a failure is reported: the error as a dict (``error.to_dict()``) with
the original exception's type and message (``details.cause``, cut to
``MAX_CAUSE_CHARS``), the whole exception chain as the event's traceback, and
every secret the run handed out redacted from both. An exception that is not
a ``FlowdeskError`` (a bug in a node) becomes an ``InternalError``.
May import: engine.errors, engine.credentials. Main names: ``failure_report``,
``internal``, ``first_error``.
"""

from __future__ import annotations

import asyncio
import traceback
from typing import Any

from ..credentials import redact
from ..errors import FlowdeskError, InternalError, cause_of

#: characters of the original exception's message kept in ``details.cause``
MAX_CAUSE_CHARS = 500


def failure_report(
    error: FlowdeskError, trace: str | None, redacted: list[str]
) -> tuple[dict[str, Any], str | None]:
    """The error's payload and traceback as the run keeps and shows them."""
    cause = cause_of(error)
    if cause is not None and "cause" not in error.details:
        # The original exception, kept: its type and message here, the
        # whole chain in the event's traceback.
        said = str(cause)
        if len(said) > MAX_CAUSE_CHARS:  # (a cause may echo a huge value)
            said = f"{said[:MAX_CAUSE_CHARS]}… ({len(said):,} characters)"
        error.details["cause"] = {"type": type(cause).__name__, "message": said}
        if trace is None:
            trace = chain_text(error)
            if len(trace) > 4 * MAX_CAUSE_CHARS * 10:
                keep = MAX_CAUSE_CHARS * 10
                trace = f"{trace[:keep]}\n…\n{trace[-keep:]}"
    payload = error.to_dict()
    if redacted:
        payload = redact(payload, redacted)
        if trace is not None:
            trace = redact(trace, redacted)
    return payload, trace


def internal(exc: BaseException) -> FlowdeskError:
    """An unexpected exception as an ``InternalError`` caused by it."""
    error = InternalError(
        f"unexpected {type(exc).__name__}: {exc}",
        details={"exception": type(exc).__name__},
    )
    error.__cause__ = exc
    return error


def chain_text(error: BaseException) -> str:
    """The traceback of ``error`` with every exception it came from."""
    seen: set[int] = set()
    link: BaseException | None = error
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        # ``raise … from None`` hides the context; the contract keeps it.
        link.__suppress_context__ = False
        link = link.__cause__ or link.__context__
    return "".join(traceback.format_exception(error))


def first_error(group: BaseExceptionGroup[Any]) -> BaseException:
    """The error to report from a task group: the first ``FlowdeskError``,
    else a cancellation, else the first exception (as an ``InternalError``)."""
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            return first_error(exc)
        if isinstance(exc, FlowdeskError):
            return exc
    first = group.exceptions[0]
    if isinstance(first, asyncio.CancelledError):
        return first
    return internal(first) if isinstance(first, Exception) else first
