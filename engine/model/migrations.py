"""Format migrations: ``MIGRATIONS[n]`` turns a raw version-``n`` dict into
version ``n + 1``. Pure dict transforms; they never import node code.

``migrate(raw)`` applies them in order up to ``FORMAT_VERSION``. A file newer
than ``FORMAT_VERSION`` is refused with both versions named.
May import: stdlib.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

FORMAT_VERSION = 1

#: version n -> function(raw dict of version n) -> raw dict of version n + 1
#: (a table of the format's history, written in code: the same for every engine)
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


class MigrationError(ValueError):
    """The file's version cannot be brought to the current one."""


def migrate(
    raw: dict[str, Any],
    *,
    target: int | None = None,
    migrations: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    """Bring ``raw`` (a parsed workflow file) to format version ``target``."""
    target = FORMAT_VERSION if target is None else target
    steps = MIGRATIONS if migrations is None else migrations
    version = raw.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise MigrationError(f"must be an integer, got {version!r}")
    if version > target:
        raise MigrationError(
            f"the file is format version {version}, but this program supports "
            f"version {target} at most; open it with a newer Flowdesk"
        )
    if version < 1:
        raise MigrationError(f"must be 1 or more, got {version}")
    while version < target:
        step = steps.get(version)
        if step is None:
            raise MigrationError(f"no migration from version {version} to {version + 1}")
        raw = step(dict(raw))
        version += 1
        raw["version"] = version
    return raw
