"""``SourcePool``: sources kept open across runs — the editor's warm MCP
sessions (one server process per source, reused by every run and by the
palette, restarted when it died, closed when its entry changes or goes away).

A run's ``SourceManager`` built with ``pool=`` leases the sources whose type
is ``warm`` (MCP) from the pool instead of opening them, and leaves them open
at the end of the run; other sources (OpenAPI) stay the run's own. A lease
asks the source to ``check()`` itself once (a killed server is noticed then
and restarted on first use). Headless runs have no pool: one session per run.

The pool's sources get ``on_state`` / ``on_stderr`` / ``log`` of the pool
(the editor shows them), whatever the run that opened them.
May import: engine.errors, stdlib (not engine.sources.base: see the aliases below).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..errors import SOURCE_UNAVAILABLE, FlowdeskError

#: (sources.base's SourceEnv and ToolSource: not imported, so that the pool
#: stays out of the context <-> sources import cycle)
SourceEnv = Any
ToolSource = Any

log = logging.getLogger(__name__)


def pool_key(entry: Mapping[str, Any], env: SourceEnv) -> str:
    """What a pooled source was opened for: its rendered entry and folder."""
    return json.dumps([str(env.workflow_dir), dict(entry)], sort_keys=True, default=str)


@dataclasses.dataclass
class _Held:
    key: str
    entry: dict[str, Any]
    source: ToolSource


class SourcePool:
    """Long-lived sources by name (see the module docstring). Use it on one
    event loop only (the sources' sessions live in that loop's tasks)."""

    def __init__(
        self,
        *,
        on_state: Callable[[str, str, str], None] | None = None,
        on_stderr: Callable[[str, str], None] | None = None,
        log: Callable[[str, str], None] | None = None,
    ) -> None:
        self.on_state = on_state
        self.on_stderr = on_stderr
        self.log = log
        self._held: dict[str, _Held] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.closed = False

    def names(self) -> list[str]:
        return list(self._held)

    def entry(self, name: str) -> dict[str, Any] | None:
        """The workflow entry the pooled source ``name`` was opened for."""
        held = self._held.get(name)
        return held.entry if held is not None else None

    def source(self, name: str) -> ToolSource | None:
        held = self._held.get(name)
        return held.source if held is not None else None

    def env_for(self, env: SourceEnv) -> SourceEnv:
        """``env`` with the pool's callbacks (and no run-owned HTTP client)."""
        return dataclasses.replace(
            env,
            http_client=None,
            on_state=self.on_state or env.on_state,
            on_stderr=self.on_stderr if self.on_stderr is not None else env.on_stderr,
            log=self.log or env.log,
        )

    async def lease(
        self,
        name: str,
        entry: Mapping[str, Any],
        key: str,
        open_source: Callable[[], ToolSource],
    ) -> ToolSource:
        """The pooled source ``name`` opened for ``key`` (reopened when the key
        changed), checked once; ``entry`` is the workflow's raw entry."""
        lock = self._locks.setdefault(name, asyncio.Lock())
        async with lock:
            if self.closed:
                raise FlowdeskError(
                    f"source {name!r}: the editor is closing",
                    code=SOURCE_UNAVAILABLE,
                    category="CONNECTION",
                )
            held = self._held.get(name)
            if held is not None and held.key != key:
                del self._held[name]
                await _close(name, held.source)
                held = None
            if held is None:
                held = _Held(key, dict(entry), open_source())
                self._held[name] = held
            else:
                try:
                    await held.source.check()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.debug("check of pooled source %r failed", name, exc_info=True)
            return held.source

    async def retain(self, entries: Mapping[str, Mapping[str, Any]]) -> list[str]:
        """Close the sources whose entry changed or is gone; their names."""
        gone = [
            name
            for name, held in self._held.items()
            if name not in entries or dict(entries[name]) != held.entry
        ]
        await self.close(gone)
        return gone

    async def close(self, names: Iterable[str] | None = None) -> None:
        """Close ``names`` (all when None); failures are logged, never raised."""
        chosen = list(self._held) if names is None else [n for n in names if n in self._held]
        held = [(name, self._held.pop(name).source) for name in chosen]
        if held:
            await asyncio.gather(*(_close(name, source) for name, source in held))

    async def aclose(self) -> None:
        self.closed = True
        await self.close()


async def _close(name: str, source: ToolSource) -> None:
    try:
        await source.aclose()
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("closing pooled source %r failed", name)
