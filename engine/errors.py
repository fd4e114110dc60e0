"""Error taxonomy of the engine: one base error with a stable code, a category,
a retryable flag and JSON details, plus the load/validation error that lists
every problem of a workflow file with its location.

May import: stdlib only. Main classes: ``FlowdeskError``, ``Issue``,
``WorkflowLoadError``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: Error categories of the runtime contract (spec, "Run result").
CATEGORIES = frozenset(
    {
        "CONFIG",
        "VALIDATION",
        "EXPRESSION",
        "TRANSPORT",
        "CONNECTION",
        "TIMEOUT",
        "AUTH",
        "RATE_LIMIT",
        "SECURITY",
        "EXECUTION",
        "CANCELLED",
        "INTERNAL",
    }
)


#: an error's message in results, history and lines is cut at this length
MAX_MESSAGE_CHARS = 2_000


#: Whether an error of each category may be retried: the ONE source of every
#: error's ``retryable`` flag (docs/runtime-contract.md).
CATEGORY_RETRYABLE: dict[str, bool] = {
    "CONFIG": False,
    "VALIDATION": False,
    "EXPRESSION": False,
    "TRANSPORT": True,
    "CONNECTION": True,
    "TIMEOUT": True,
    "AUTH": False,
    "RATE_LIMIT": True,
    "SECURITY": False,
    "EXECUTION": False,
    "CANCELLED": False,
    "INTERNAL": False,
}

#: Every code the engine raises, with the categories it may come with (the
#: first is the usual one). Retryability follows the category. A test walks
#: the engine's source and checks that every code it raises is listed here.
ERROR_CODES: dict[str, tuple[str, ...]] = {
    # the file, its config and its expressions
    "CONFIG_INVALID": ("CONFIG",),
    "SCHEMA_INVALID": ("CONFIG",),
    "CREDENTIAL_UNKNOWN": ("CONFIG",),
    "EXPRESSION": ("EXPRESSION", "SECURITY"),
    # credentials
    "AUTH": ("AUTH",),
    "CREDENTIAL_MISSING": ("AUTH",),
    "KEYRING_UNAVAILABLE": ("AUTH",),
    "OAUTH2_TOKEN_FAILED": ("AUTH", "TRANSPORT", "RATE_LIMIT"),
    "OAUTH2_TOKEN_UNREACHABLE": ("TRANSPORT", "TIMEOUT"),
    # HTTP and AI servers
    "TRANSPORT": ("TRANSPORT",),
    "HTTP_STATUS": ("TRANSPORT", "AUTH", "RATE_LIMIT", "EXECUTION"),
    "RATE_LIMITED": ("RATE_LIMIT",),
    "DECODING_ERROR": ("TRANSPORT",),
    "TOO_MANY_REDIRECTS": ("TRANSPORT",),
    "REDIRECT_REFUSED": ("SECURITY",),
    "RESPONSE_TOO_LARGE": ("EXECUTION",),
    "RESPONSE_NOT_JSON": ("VALIDATION",),
    "AI_API_ERROR": ("TRANSPORT", "AUTH", "EXECUTION"),
    "AI_REFUSED": ("EXECUTION",),
    "SCHEMA_VALIDATION": ("VALIDATION",),
    "TOKEN_BUDGET_EXCEEDED": ("EXECUTION",),
    # files
    "PATH_TRAVERSAL": ("SECURITY",),
    "FILE_NOT_FOUND": ("EXECUTION",),
    "PERMISSION_DENIED": ("EXECUTION",),
    "IS_A_DIRECTORY": ("EXECUTION",),
    "NOT_A_FILE": ("EXECUTION",),
    "NOT_A_DIRECTORY": ("EXECUTION",),
    "FILE_ERROR": ("EXECUTION",),
    "FILE_TOO_LARGE": ("EXECUTION",),
    "ENCODING": ("VALIDATION",),
    "PARSE_ERROR": ("VALIDATION",),
    "CSV_COLUMNS": ("VALIDATION",),
    # tool sources (engine.sources)
    "SOURCE_UNKNOWN": ("CONFIG",),
    "SOURCE_UNAVAILABLE": ("CONFIG", "CONNECTION"),
    "TOOL_NOT_FOUND": ("CONFIG",),
    "INVALID_PARAMS": ("VALIDATION",),
    "TOOL_ERROR": ("EXECUTION",),
    "MCP_PROCESS_DIED": ("CONNECTION",),
    # sign-in, auth resolvers, mail (issues 16, 17)
    "AUTH_RESOLVER_UNKNOWN": ("CONFIG",),
    "AUTH_RESOLVER_FAILED": ("AUTH",),
    "OAUTH2_LOGIN_FAILED": ("AUTH",),
    "OAUTH2_LOGIN_TIMEOUT": ("TIMEOUT",),
    "OAUTH2_SIGN_IN_REQUIRED": ("AUTH",),
    "IDEMPOTENCY_BUSY": ("TRANSPORT",),
    "MAIL_API_ERROR": ("TRANSPORT", "AUTH", "RATE_LIMIT", "EXECUTION"),
    "SMTP_AUTH_FAILED": ("AUTH",),
    "SMTP_REJECTED": ("EXECUTION", "TRANSPORT"),
    "SMTP_UNREACHABLE": ("TRANSPORT",),
    # the engine
    "SECURITY": ("SECURITY",),
    "EXECUTION_FAILED": ("EXECUTION",),
    "TIMEOUT": ("TIMEOUT",),
    "CANCELLED": ("CANCELLED",),
    "INTERNAL_ERROR": ("INTERNAL",),
}


def http_status_category(status: int) -> str:
    """The category of an HTTP error status: 401/403 ``AUTH``, 429
    ``RATE_LIMIT``, 408/425/5xx ``TRANSPORT`` (retryable), any other 4xx
    ``EXECUTION`` (the request itself was refused: retrying cannot help)."""
    if status == 429:
        return "RATE_LIMIT"
    if status in (401, 403):
        return "AUTH"
    if status in (408, 425) or status >= 500:
        return "TRANSPORT"
    return "EXECUTION"


def cause_of(error: BaseException) -> BaseException | None:
    """The exception an error was raised from (or while handling)."""
    return error.__cause__ or error.__context__


class FlowdeskError(Exception):
    """An error a node (or the engine) reports in a run result.

    ``retry_after`` is the delay a server asked for (``Retry-After``), in
    seconds; the executor's retry waits exactly that instead of its backoff.
    ``retryable`` always follows the category (``CATEGORY_RETRYABLE``); the
    keyword is accepted for compatibility and ignored.
    """

    code: str = "INTERNAL_ERROR"
    category: str = "INTERNAL"
    retryable: bool = False
    #: stops the run even when the node says ``on_error: continue``
    #: (e.g. ``TOKEN_BUDGET_EXCEEDED``: the run's budget is spent)
    fatal: bool = False

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        category: str | None = None,
        retryable: bool | None = None,
        details: dict[str, Any] | None = None,
        retry_after: float | None = None,
        fatal: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if category is not None:
            self.category = category
        assert self.category in CATEGORIES, self.category
        self.retryable = CATEGORY_RETRYABLE[self.category]
        allowed = ERROR_CODES.get(self.code)
        assert allowed is None or self.category in allowed, (self.code, self.category)
        self.details: dict[str, Any] = dict(details or {})
        self.retry_after = retry_after
        if fatal is not None:
            self.fatal = fatal

    def to_dict(self) -> dict[str, Any]:
        """The spec's error object: code, category, message, retryable, details."""
        message = self.message
        if len(message) > MAX_MESSAGE_CHARS:
            # (cut here, after any redaction: a value echoed in a message can be huge)
            message = f"{message[:MAX_MESSAGE_CHARS]}… ({len(message):,} characters)"
        return {
            "code": self.code,
            "category": self.category,
            "message": message,
            "retryable": self.retryable,
            "details": self.details,
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code}: {self.message})"


class ConfigError(FlowdeskError):
    code = "CONFIG_INVALID"
    category = "CONFIG"


class ExpressionError(FlowdeskError):
    """A failing expression. Forbidden ones (sandbox) use category SECURITY."""

    code = "EXPRESSION"
    category = "EXPRESSION"


class ExecutionError(FlowdeskError):
    code = "EXECUTION_FAILED"
    category = "EXECUTION"


class NodeTimeoutError(FlowdeskError):
    code = "TIMEOUT"
    category = "TIMEOUT"
    retryable = True


class RunCancelledError(FlowdeskError):
    code = "CANCELLED"
    category = "CANCELLED"


class SecurityError(FlowdeskError):
    code = "SECURITY"
    category = "SECURITY"


class AuthError(FlowdeskError):
    code = "AUTH"
    category = "AUTH"


class TransportError(FlowdeskError):
    code = "TRANSPORT"
    category = "TRANSPORT"
    retryable = True


class InvalidParamsError(FlowdeskError):
    """A value a node was given cannot be used (e.g. a malformed e-mail
    address); the message names it. Never retried: the same value fails again."""

    code = "INVALID_PARAMS"
    category = "VALIDATION"


#: Codes of sign-in and e-mail (category, retryable), raised with the classes above:
#: OAUTH2_SIGN_IN_REQUIRED (AUTH, no: not signed in, or the sign-in was revoked or
#: expired; details.action = "sign_in"), OAUTH2_LOGIN_FAILED (AUTH, no),
#: OAUTH2_LOGIN_TIMEOUT (TIMEOUT, no), AUTH_RESOLVER_UNKNOWN (CONFIG, no),
#: AUTH_RESOLVER_FAILED (AUTH, no), SMTP_AUTH_FAILED (AUTH, no), SMTP_UNREACHABLE
#: (TRANSPORT, yes), SMTP_REJECTED (EXECUTION, no; TRANSPORT and yes for 4xx
#: replies), MAIL_API_ERROR (AUTH/RATE_LIMIT/TRANSPORT/EXECUTION by HTTP status),
#: IDEMPOTENCY_BUSY (TRANSPORT, yes: another run holds the key), INVALID_PARAMS.


class InternalError(FlowdeskError):
    code = "INTERNAL_ERROR"
    category = "INTERNAL"


# Tool sources (engine.sources): codes shared by every source type.
#: a tool name that the source does not have (CONFIG; the message names near matches)
TOOL_NOT_FOUND = "TOOL_NOT_FOUND"
#: arguments that do not fit the tool's input schema (VALIDATION; every issue with its path)
INVALID_PARAMS = "INVALID_PARAMS"
#: a source that cannot be opened: spec unreadable or invalid (CONFIG), or the
#: network/server failed (CONNECTION, retryable)
SOURCE_UNAVAILABLE = "SOURCE_UNAVAILABLE"
#: the tool itself reported a failure (EXECUTION)
TOOL_ERROR = "TOOL_ERROR"
#: an MCP server process exited (CONNECTION, retryable)
MCP_PROCESS_DIED = "MCP_PROCESS_DIED"


def json_kind(value: Any) -> str:
    """A value's JSON type, named as JSON Schema does: "null", "boolean",
    "integer", "number", "string", "array", "object" (else its Python type).
    The one classification; ``json_type`` and the editor's type column are
    renderings of it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


#: ``json_kind`` in the words of messages
_KIND_WORDS = {
    "boolean": "a boolean",
    "integer": "a number",
    "number": "a number",
    "string": "text",
    "array": "a list",
    "object": "an object",
}


def json_type(value: Any) -> str:
    """A value's JSON type for messages: "null", "a number", "a list", …"""
    kind = json_kind(value)
    return _KIND_WORDS.get(kind, kind)


#: a location's parts: ``("nodes", 2, "config", "mode")``
IssuePath = tuple[str | int, ...]


def format_location(path: IssuePath | list[str | int]) -> str:
    """``('nodes', 2, 'config', 'mode')`` → ``nodes[2].config.mode``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def location_path(location: str) -> IssuePath:
    """``nodes[2].config.mode`` → ``('nodes', 2, 'config', 'mode')`` (for
    locations written as text; a key holding ``.`` or ``[`` is ambiguous there,
    which is why the mappers pass ``Issue.path`` themselves)."""
    parts: list[str | int] = []
    for dotted in location.split("."):
        name, _, indexes = dotted.partition("[")
        if name:
            parts.append(name)
        if indexes:
            for index in ("[" + indexes).split("[")[1:]:
                text = index.rstrip("]")
                parts.append(int(text) if text.isdigit() else text)
    return tuple(parts)


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem of a workflow, with its location: as text (``location``,
    what the CLI prints: ``nodes[2].config.mode``) and as parts (``path``:
    ``("nodes", 2, "config", "mode")``, what the editor places it with)."""

    location: str
    message: str
    node_id: str | None = None
    severity: str = "error"
    path: IssuePath = ()

    def __post_init__(self) -> None:
        if not self.path and self.location:
            object.__setattr__(self, "path", location_path(self.location))

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class WorkflowLoadError(Exception):
    """A workflow file could not be loaded, or is invalid; lists every problem."""

    def __init__(self, issues: list[Issue], source: str | None = None) -> None:
        self.issues = list(issues)
        self.source = source
        head = f"{source}: " if source else ""
        lines = "\n".join(f"  {issue}" for issue in self.issues)
        count = len(self.issues)
        super().__init__(f"{head}{count} problem{'s' if count != 1 else ''}\n{lines}")
