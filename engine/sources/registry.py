"""The source types by their ``type`` string: an instance, never a global.

Built-ins are found like node types: every module or sub-package of
``engine.sources`` other than the foundation's own modules is imported and its
``SourceType`` subclasses registered (``openapi``, ``mcp``: adding a source
type is adding a module). Third-party types load from the entry-point group
``flowdesk.source_types`` (a ``SourceType`` subclass, a list, or a module);
a broken plug-in is reported, not fatal.
May import: engine.sources.base, engine.registry (offered_classes), stdlib.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import pkgutil
import threading
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from ..registry import offered_classes
from .base import SourceType

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "flowdesk.source_types"
#: modules of the foundation, holding no source type
_FOUNDATION = frozenset(
    {"base", "registry", "manager", "schema", "catalogue", "pool", "mcp_import"}
)


class SourceTypes:
    """Source types by ``type``."""

    def __init__(self) -> None:
        self._types: dict[str, SourceType] = {}
        #: problems met while loading: (module or entry point, message)
        self.load_errors: list[tuple[str, str]] = []

    @classmethod
    def default(cls, *, plugins: bool = True) -> SourceTypes:
        """Built-ins, plus the installed plug-ins when ``plugins`` is true (cached)."""
        key = bool(plugins)
        cached = _DEFAULTS.get(key)
        if cached is None:
            # The editor validates and lists tools on worker threads: build the
            # registry whole under a lock, then publish it.
            with _DEFAULTS_LOCK:
                cached = _DEFAULTS.get(key)
                if cached is None:
                    cached = cls()
                    cached.load_builtins()
                    if plugins:
                        cached.load_entry_points()
                    _DEFAULTS[key] = cached
        return cached

    def register(self, source_type: type[SourceType] | SourceType) -> SourceType:
        instance = source_type() if isinstance(source_type, type) else source_type
        name = instance.type
        if not name:
            raise ValueError(f"{type(instance).__qualname__} has no type")
        existing = self._types.get(name)
        if existing is not None and type(existing) is not type(instance):
            raise ValueError(
                f"source type {name!r} is registered twice: {type(existing).__qualname__} "
                f"and {type(instance).__qualname__}"
            )
        self._types[name] = instance
        return instance

    def find(self, name: str) -> SourceType | None:
        return self._types.get(name)

    def get(self, name: str) -> SourceType:
        found = self._types.get(name)
        if found is None:
            raise KeyError(f"unknown source type {name!r} (known: {', '.join(self.names())})")
        return found

    def names(self) -> list[str]:
        return sorted(self._types)

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def __iter__(self) -> Iterator[SourceType]:
        return iter(self._types[name] for name in self.names())

    def load_builtins(self) -> None:
        # (this module's own folder: importing the package would import this module back)
        here = [str(Path(__file__).parent)]
        for info in pkgutil.iter_modules(here, __name__.rpartition(".")[0] + "."):
            short = info.name.rsplit(".", 1)[1]
            if short in _FOUNDATION or short.startswith("_"):
                continue
            try:
                module = importlib.import_module(info.name)
            except Exception as exc:  # noqa: BLE001 - one broken built-in must not hide the rest
                message = f"{type(exc).__name__}: {exc}"
                log.warning("source type module %s failed to load: %s", info.name, message)
                self.load_errors.append((info.name, message))
                continue
            self._register_from(module)

    def load_entry_points(self, group: str = ENTRY_POINT_GROUP) -> None:
        for entry in entry_points(group=group):
            try:
                if not self._register_from(entry.load()):
                    raise TypeError("it names no SourceType subclass")
            except Exception as exc:  # noqa: BLE001 - a broken plug-in must not stop the app
                message = f"{type(exc).__name__}: {exc}"
                log.warning("source type plug-in %s failed to load: %s", entry.value, message)
                self.load_errors.append((entry.value, message))

    def _register_from(self, obj: Any) -> int:
        count = 0
        for candidate in offered_classes(obj, prefix=True):
            if (
                inspect.isclass(candidate)
                and issubclass(candidate, SourceType)
                and not inspect.isabstract(candidate)
                and candidate.type
            ):
                self.register(candidate)
                count += 1
        return count


#: ``SourceTypes.default()``, with and without plug-ins. Process-wide on
#: purpose: the source types installed (built-ins, entry points) are the
#: process's, classes read-only once loaded, as Python imports a module once;
#: what a source reads or opens lives in its ``SourceManager`` and env.
_DEFAULTS: dict[bool, SourceTypes] = {}
_DEFAULTS_LOCK = threading.Lock()
