"""The allow-list of node types (and tools) a plan may add.

First found wins: ``settings.allow_node_types`` in the workflow (``ui`` key
``allow_node_types`` is accepted too), the user's setting, the environment
variable ``FLOWDESK_ALLOW_NODE_TYPES`` (comma-separated). Patterns use shell
wildcards (``email.*``, ``github__*``). Default: every installed built-in type.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Mapping
from typing import Any

ENV_VAR = "FLOWDESK_ALLOW_NODE_TYPES"
DEFAULT_SOURCE = "default (every installed built-in type)"


def _split(value: Any) -> list[str] | None:
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else list(value)
    out = [str(item).strip() for item in items if str(item).strip()]
    return out


def allow_list(
    workflow: Mapping[str, Any] | None,
    *,
    explicit: str | Iterable[str] | None = None,
    user: str | Iterable[str] | None = None,
    environ: Mapping[str, str] | None = None,
    installed: Iterable[str] = (),
) -> tuple[list[str], str]:
    """``(patterns, where they come from)``."""
    env = os.environ if environ is None else environ
    if explicit is not None:
        return _split(explicit) or [], "--allow"
    if workflow:
        settings = workflow.get("settings") or {}
        ui = workflow.get("ui") or {}
        for where, value in (
            ("settings.allow_node_types", settings.get("allow_node_types")),
            ("ui.allow_node_types", ui.get("allow_node_types")),
        ):
            found = _split(value)
            if found is not None:
                return found, where
    if user is not None:
        return _split(user) or [], "user setting"
    if env.get(ENV_VAR, "").strip():
        return _split(env[ENV_VAR]) or [], ENV_VAR
    return sorted(installed), DEFAULT_SOURCE


def is_allowed(name: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)
