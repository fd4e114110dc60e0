"""The runtime registry of node types: an instance, never a global.

Built-in types register themselves: every module of ``engine.nodes.builtin``
is scanned for ``NodeType`` subclasses, so adding a built-in is adding a
module. Third-party types load from the entry-point group
``flowdesk.node_types``; an entry point names a ``NodeType`` subclass, a list
of them, or a module holding them. A broken plug-in is reported, not fatal.
May import: engine.nodes.spec, stdlib. Main class: ``NodeRegistry``.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import pkgutil
from collections.abc import Iterable, Iterator
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

from .nodes.spec import NodeType

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "flowdesk.node_types"


class DuplicateNodeType(ValueError):
    """Two node types claim the same ``type_name``."""


class NodeRegistry:
    """Node types by ``type_name``."""

    def __init__(self, types: Iterable[type[NodeType]] = ()) -> None:
        self._types: dict[str, type[NodeType]] = {}
        #: problems met while loading plug-ins: (entry point, message)
        self.load_errors: list[tuple[str, str]] = []
        for node_type in types:
            self.register(node_type)

    @classmethod
    def default(cls, *, plugins: bool = True) -> NodeRegistry:
        """Built-ins, plus the installed plug-ins when ``plugins`` is true."""
        registry = cls()
        registry.load_builtins()
        if plugins:
            registry.load_entry_points()
        return registry

    def register(self, node_type: type[NodeType]) -> type[NodeType]:
        """Add a type; a duplicate ``type_name`` raises. Usable as a decorator."""
        name = node_type.type_name
        if not name:
            raise ValueError(f"{node_type.__qualname__} has no type_name")
        existing = self._types.get(name)
        if existing is not None and existing is not node_type:
            raise DuplicateNodeType(
                f"node type {name!r} is registered twice: "
                f"{existing.__module__}.{existing.__qualname__} and "
                f"{node_type.__module__}.{node_type.__qualname__}"
            )
        self._types[name] = node_type
        return node_type

    def unregister(self, type_name: str) -> type[NodeType]:
        """Remove a type and give it back; an unknown name raises ``KeyError``.
        (A plug-in unloaded, or a test undoing the ``register`` it did.)"""
        node_type = self._types.pop(type_name, None)
        if node_type is None:
            raise KeyError(f"unknown node type {type_name!r}")
        return node_type

    def find(self, type_name: str) -> type[NodeType] | None:
        return self._types.get(type_name)

    def get(self, type_name: str) -> type[NodeType]:
        node_type = self._types.get(type_name)
        if node_type is None:
            raise KeyError(f"unknown node type {type_name!r}")
        return node_type

    def __contains__(self, type_name: object) -> bool:
        return type_name in self._types

    def __iter__(self) -> Iterator[type[NodeType]]:
        return iter(sorted(self._types.values(), key=lambda t: (t.category, t.type_name)))

    def __len__(self) -> int:
        return len(self._types)

    def categories(self) -> dict[str, list[type[NodeType]]]:
        """Types grouped by category, each list sorted by title."""
        out: dict[str, list[type[NodeType]]] = {}
        for node_type in self:
            out.setdefault(node_type.category, []).append(node_type)
        for types in out.values():
            types.sort(key=lambda t: t.title or t.type_name)
        return out

    def load_builtins(self) -> None:
        from .nodes import builtin

        for info in pkgutil.iter_modules(builtin.__path__, builtin.__name__ + "."):
            self._register_from(importlib.import_module(info.name), defined_in=info.name)

    def load_entry_points(self, group: str = ENTRY_POINT_GROUP) -> None:
        for entry in entry_points(group=group):
            try:
                loaded = entry.load()
                count = self._register_from(loaded)
                if not count:
                    raise TypeError("it names no NodeType subclass")
            except Exception as exc:  # noqa: BLE001 - a broken plug-in must not stop the app
                message = f"{type(exc).__name__}: {exc}"
                log.warning("node type plug-in %s failed to load: %s", entry.value, message)
                self.load_errors.append((entry.value, message))

    def _register_from(self, obj: Any, defined_in: str | None = None) -> int:
        count = 0
        for candidate in offered_classes(obj, defined_in=defined_in):
            if (
                inspect.isclass(candidate)
                and issubclass(candidate, NodeType)
                and candidate.type_name
            ):
                self.register(candidate)
                count += 1
        return count


def offered_classes(obj: Any, *, defined_in: str | None = None, prefix: bool = False) -> list[Any]:
    """What a built-in module or a plug-in entry point offers a registry: a
    module's own classes (defined in it — or, with ``prefix``, in any module
    whose name starts with its name), the items of a list or tuple, or the
    object itself. The registry keeps those of its own base class."""
    if isinstance(obj, ModuleType):
        name = defined_in or obj.__name__
        return [
            value
            for value in vars(obj).values()
            # (a module is skipped first: a lazy one must not be loaded by the check)
            if not isinstance(value, ModuleType)
            and inspect.isclass(value)
            and (value.__module__.startswith(name) if prefix else value.__module__ == name)
        ]
    if isinstance(obj, list | tuple):
        return list(obj)
    return [obj]
