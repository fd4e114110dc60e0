"""``SourceManager``: the tool sources of one run (or one editor session).

``await manager.get(name)`` opens a source on first use, once, shared by every
node and ``for_each`` item (one ``asyncio.Lock`` per name; a failed opening is
not remembered, so a retry tries again). ``await manager.aclose()`` closes
every opened source; the executor calls it at the end of a run — also when the
run fails or is cancelled — unless the manager was handed in from outside
(``Engine.start(..., tool_sources=manager)``). With ``pool=`` (a
``SourcePool``: the editor's warm MCP sessions, ``Engine.start(...,
source_pool=)``) the sources of a ``warm`` type are leased from the pool and
left open at the end of the run.

``tools(name)`` is cached per source and re-listed when the source's
``tools_version`` changes (an MCP server's ``notifications/tools/list_changed``);
a tool not found is looked for once more in a fresh list before
``TOOL_NOT_FOUND`` (a tool added a moment ago).

Config strings are rendered with ``env.render`` (``{{ vars.x }}``) before the
source type's model checks them; a bad entry is ``SOURCE_UNAVAILABLE``
(category CONFIG) located as ``sources.NAME.field``.
May import: pydantic, engine.errors, engine.validation_issues,
engine.sources.base/registry/pool, stdlib.
"""

from __future__ import annotations

import asyncio
import difflib
import logging
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from ..bus import BUS
from ..errors import SOURCE_UNAVAILABLE, TOOL_NOT_FOUND, ConfigError, FlowdeskError
from ..validation_issues import issues_from_validation_error
from .base import SourceEnv, ToolInfo, ToolSource
from .pool import SourcePool, pool_key
from .registry import SourceTypes

log = logging.getLogger(__name__)


def near_matches(name: str, names: list[str], count: int = 3) -> list[str]:
    """The closest of ``names`` to ``name`` (for "did you mean" messages)."""
    lowered = {candidate.lower(): candidate for candidate in names}
    found = difflib.get_close_matches(name.lower(), list(lowered), n=count, cutoff=0.5)
    hits = [lowered[f] for f in found]
    if len(hits) < count:  # substrings: "anything" finds "get_anything"
        for candidate in names:
            if name.lower() in candidate.lower() and candidate not in hits:
                hits.append(candidate)
                if len(hits) >= count:
                    break
    return hits


class SourceManager:
    """Opens the sources of a workflow lazily and closes them all at the end."""

    def __init__(
        self,
        sources: Mapping[str, Mapping[str, Any]],
        env: SourceEnv,
        types: SourceTypes | None = None,
        *,
        pool: SourcePool | None = None,
    ) -> None:
        self.entries = dict(sources)
        self.env = env
        self.types = types if types is not None else SourceTypes.default()
        self.pool = pool
        self._open: dict[str, ToolSource] = {}
        #: names of sources leased from the pool (not closed by this manager)
        self._leased: set[str] = set()
        self._locks: dict[str, asyncio.Lock] = {}
        #: per source: (its tools_version when listed, tools by name)
        self._tools: dict[str, tuple[int, dict[str, ToolInfo]]] = {}
        self.closed = False

    def names(self) -> list[str]:
        return list(self.entries)

    def is_open(self, name: str) -> bool:
        return name in self._open

    async def get(self, name: str) -> ToolSource:
        """The opened source ``name`` (opened now if it is the first use)."""
        source = self._open.get(name)
        if source is not None:
            return source
        if self.closed:
            raise FlowdeskError(
                f"source {name!r}: the run has ended", code=SOURCE_UNAVAILABLE, category="CONFIG"
            )
        lock = self._locks.setdefault(name, asyncio.Lock())
        async with lock:
            source = self._open.get(name)
            if source is None:
                source = await self._open_now(name)
                self._open[name] = source
                BUS.signal("source.connect", source=name, kind=self.entries[name].get("type"))
            return source

    async def _open_now(self, name: str) -> ToolSource:
        entry = self.entries.get(name)
        if entry is None:
            known = ", ".join(self.entries) or "none"
            raise ConfigError(
                f'source {name!r} is not declared in "sources" (declared: {known})',
                code="SOURCE_UNKNOWN",
                details={"source": name},
            )
        kind = entry.get("type")
        source_type = self.types.find(kind) if isinstance(kind, str) else None
        if source_type is None:
            raise ConfigError(
                f"sources.{name}.type: unknown source type {kind!r} "
                f"(known: {', '.join(self.types.names())})",
                code=SOURCE_UNAVAILABLE,
                details={"source": name},
            )
        rendered = self._render(entry, f"sources.{name}")
        try:
            config = source_type.parse_config(rendered)
        except ValidationError as exc:
            issues = issues_from_validation_error(exc, ("sources", name), subject=f"{kind} sources")
            lines = "; ".join(str(issue) for issue in issues)
            raise ConfigError(lines, code=SOURCE_UNAVAILABLE, details={"source": name}) from None
        pool = self.pool
        if pool is not None and source_type.warm:
            env = pool.env_for(self.env)

            def open_source() -> ToolSource:
                source = source_type.open(name, config, env)
                source.name = name
                return source

            leased: ToolSource = await pool.lease(
                name, entry, pool_key(rendered, self.env), open_source
            )
            self._leased.add(name)
            return leased
        source = source_type.open(name, config, self.env)
        source.name = name
        return source

    def _render(self, value: Any, where: str) -> Any:
        if isinstance(value, str):
            if "{{" not in value and "{%" not in value:
                return value
            try:
                return self.env.render(value)
            except FlowdeskError as error:
                error.message = f"{where}: {error.message}"
                error.args = (error.message,)
                error.details.setdefault("field", where)
                raise
        if isinstance(value, dict):
            return {key: self._render(item, f"{where}.{key}") for key, item in value.items()}
        if isinstance(value, list):
            return [self._render(item, f"{where}[{i}]") for i, item in enumerate(value)]
        return value

    async def tools(self, name: str) -> dict[str, ToolInfo]:
        """The tools of source ``name`` by tool name (listed again when the
        source says its list changed)."""
        source = await self.get(name)
        cached = self._tools.get(name)
        if cached is not None and cached[0] == source.tools_version:
            return cached[1]
        version = source.tools_version
        tools = {tool.name: tool for tool in await source.list_tools()}
        self._tools[name] = (version, tools)
        return tools

    async def tool(self, name: str, tool_name: str) -> tuple[ToolSource, ToolInfo]:
        """The source and the tool; ``TOOL_NOT_FOUND`` (CONFIG) naming near matches."""
        tools = await self.tools(name)
        info = tools.get(tool_name)
        if info is None:  # added a moment ago? one fresh list before failing
            (await self.get(name)).invalidate()
            self._tools.pop(name, None)
            tools = await self.tools(name)
            info = tools.get(tool_name)
        if info is None:
            hints = near_matches(tool_name, list(tools))
            hint = f"; did you mean {', '.join(hints)}?" if hints else ""
            raise ConfigError(
                f"source {name!r} has no tool {tool_name!r} ({len(tools)} tools){hint}",
                code=TOOL_NOT_FOUND,
                details={"source": name, "tool": tool_name, "near_matches": hints},
            )
        return await self.get(name), info

    def forget(self, name: str) -> None:
        """Drop the cached tool list of ``name`` (the editor's Refresh)."""
        self._tools.pop(name, None)

    async def close_source(self, name: str) -> None:
        """Close one source (removed or refreshed in the editor); a leased one
        is only let go (its pool closes it)."""
        self._tools.pop(name, None)
        source = self._open.pop(name, None)
        if source is not None and name not in self._leased:
            await _close(name, source)
        self._leased.discard(name)

    async def aclose(self) -> None:
        """Close every opened source (not the leased ones); failures are
        logged, never raised."""
        self.closed = True
        opened, self._open = self._open, {}
        for name in self._leased:
            opened.pop(name, None)
        self._leased.clear()
        self._tools.clear()
        if opened:
            await asyncio.gather(*(_close(name, source) for name, source in opened.items()))


async def _close(name: str, source: ToolSource) -> None:
    BUS.signal("source.disconnect", source=name)
    try:
        await source.aclose()
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("closing source %r failed", name)
