"""``http.request``'s configuration: ``HttpRequestConfig`` (what the inspector
form and the file's ``config`` are) and the ``ok_status`` rule (codes,
classes such as ``2xx``, ranges such as ``200-399``). The exchange itself —
credentials, redirects, limits, errors — is ``http_request``; tool sources
(``openapi``) build their calls with this model too.
May import: pydantic, stdlib.
"""

from __future__ import annotations

import functools
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

DEFAULT_MAX_RESPONSE_BYTES = 50 * 1024 * 1024

Scalar = str | int | float | bool | None
_STATUS_CLASS = re.compile(r"^([1-5])xx$", re.IGNORECASE)
_STATUS_RANGE = re.compile(r"^(\d{3})\s*-\s*(\d{3})$")


def _parse_status_entry(entry: int | str) -> tuple[int, int]:
    if isinstance(entry, int) and not isinstance(entry, bool):
        if 100 <= entry <= 599:
            return entry, entry
    elif isinstance(entry, str):
        text = entry.strip()
        if text.isdigit() and 100 <= int(text) <= 599:
            return int(text), int(text)
        match = _STATUS_CLASS.match(text)
        if match:
            first = int(match.group(1)) * 100
            return first, first + 99
        match = _STATUS_RANGE.match(text)
        if match:
            low, high = int(match.group(1)), int(match.group(2))
            if 100 <= low <= high <= 599:
                return low, high
    raise ValueError(
        f"ok_status entry {entry!r} is not a status code (404), a class ('2xx') "
        "or a range ('200-399') between 100 and 599"
    )


#: the statuses of a single ``ok_status`` entry (a few distinct ones per program).
#: This and ``_ok_statuses``'s cache may be process-wide: pure functions of an
#: immutable value (an int or string, a tuple of them) to a frozenset.
_OK_BY_ENTRY: dict[int | str, frozenset[int]] = {}


@functools.lru_cache(maxsize=256)
def _ok_statuses(entries: tuple[int | str, ...]) -> frozenset[int]:
    """Every status an ``ok_status`` accepts (cached: a for_each validates it per item)."""
    if not entries:
        raise ValueError("ok_status needs at least one status, class or range")
    statuses: set[int] = set()
    for entry in entries:
        low, high = _parse_status_entry(entry)
        statuses.update(range(low, high + 1))
    return frozenset(statuses)


def _entries(value: int | str | list[int | str]) -> tuple[int | str, ...]:
    return tuple(value) if isinstance(value, list) else (value,)


class HttpRequestConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] = Field(
        "GET", description="HTTP method"
    )
    url: str = Field(
        ...,
        min_length=1,
        description="Absolute http:// or https:// URL",
        json_schema_extra={"placeholder": "https://example.com/api"},
    )
    query: dict[str, Scalar | list[Scalar]] = Field(
        default_factory=dict,
        description="Query parameters added to the URL; a list repeats the parameter, "
        "null leaves it out",
        json_schema_extra={"widget": "json"},
    )
    headers: dict[str, str | int | float | bool | None] = Field(
        default_factory=dict,
        description="Request headers; null leaves a header out",
        json_schema_extra={"widget": "json"},
    )
    json_body: Any = Field(
        None,
        alias="json",
        description="A JSON body (sent as application/json); give either json or body",
        json_schema_extra={"widget": "json"},
    )
    body: str | None = Field(
        None,
        description="A text body (text/plain; UTF-8 unless a Content-Type header says "
        "otherwise); give either json or body",
        json_schema_extra={"widget": "multiline"},
    )
    credential: str | None = Field(
        None,
        description="Name of a credential of the workflow (bearer, basic, api_key, OAuth2 "
        "or a custom auth plug-in)",
        json_schema_extra={"widget": "credential"},
    )
    response: Literal["auto", "json", "text", "bytes"] = Field(
        "auto",
        description="How to read the body: auto (JSON for JSON content types, text for "
        "text types, base64 for the rest, null when empty), json, text, or bytes (base64)",
    )
    ok_status: int | str | list[int | str] = Field(
        "2xx",
        description="Statuses that count as success: codes (404), classes ('2xx') or "
        "ranges ('200-399'), alone or in a list; default 200-299. Any other status is "
        "an HTTP_STATUS error, retryable for 408, 425, 429 and 5xx",
    )
    follow_redirects: bool = Field(
        True,
        description="Follow redirects (at most 20); the credential is re-sent only to "
        "the same origin",
    )
    idempotency_key: str | None = Field(
        None,
        description="Sent as the Idempotency-Key header, the same on every retry; 'auto' "
        "generates one per run, node and for_each item",
    )
    timeout_s: float | None = Field(
        60.0,
        gt=0,
        description="Time limit of one request in seconds, from connecting to the last "
        "byte of the body (a TIMEOUT error, retryable); null for none",
    )
    max_response_bytes: int = Field(
        DEFAULT_MAX_RESPONSE_BYTES,
        gt=0,
        description="Largest response body accepted, in bytes (default 50 MB); checked "
        "while the body arrives",
    )

    @field_validator("method", mode="before")
    @classmethod
    def _upper_method(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("ok_status")
    @classmethod
    def _check_ok_status(cls, value: int | str | list[int | str]) -> int | str | list[int | str]:
        _ok_statuses(_entries(value))
        return value

    @model_validator(mode="after")
    def _check_body(self) -> HttpRequestConfig:
        # (``__pydantic_fields_set__``: ``model_fields_set`` minus a property call)
        if self.body is not None and "json_body" in self.__pydantic_fields_set__:
            raise ValueError("give either 'json' or 'body', not both")
        return self

    def is_ok(self, status: int) -> bool:
        # Cached by ok_status (no private attribute: pydantic's are slow to set
        # and read, and a for_each validates a config per item).
        ok_status = self.ok_status
        if not isinstance(ok_status, list):
            statuses = _OK_BY_ENTRY.get(ok_status)
            if statuses is None:
                statuses = _ok_statuses((ok_status,))
                if len(_OK_BY_ENTRY) >= 256:
                    _OK_BY_ENTRY.clear()
                _OK_BY_ENTRY[ok_status] = statuses
            return status in statuses
        return status in _ok_statuses(tuple(ok_status))

    def ok_text(self) -> str:
        return ", ".join(str(entry) for entry in _entries(self.ok_status))
