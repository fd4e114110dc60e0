"""What a node type declares: its ports, its pydantic config model and its
async ``execute``. One module per type; adding a type never touches the
executor or the editor.

A node type is a subclass of ``NodeType`` with class attributes (``type_name``,
``title``, ``category``, ``description``, ``inputs``, ``outputs``, ``Config``)
and ``async def execute(self, ctx, config)``. ``execute`` returns the node's
output; returning ``Routed(value, ports)`` sends the value only on the named
output ports (``flow.if``), the others carry no value and their downstream
nodes are skipped.
May import: pydantic, stdlib. Main classes: ``NodeType``, ``Port``, ``Routed``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from ..context import NodeContext


@dataclass(frozen=True, slots=True)
class Port:
    """A named port. ``multiple`` inputs take several edges (a list of values)."""

    name: str
    description: str = ""
    multiple: bool = False
    type: str = "any"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "multiple": self.multiple,
            "type": self.type,
        }


@dataclass(frozen=True, slots=True)
class Routed:
    """An output sent only on some output ports (the rest carry no value)."""

    value: Any
    ports: Sequence[str] = field(default_factory=tuple)


# The built-in configs say ``defer_build=True``: pydantic builds a model's
# validator when it is first used (a node of that type validated, its schema
# shown), not when the registry loads (30 ms at every start, for 15 models).
class EmptyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class NodeType:
    """Base class of every node type. Subclasses set the class attributes."""

    #: stable dotted id written in files, e.g. ``"http.request"``
    type_name: ClassVar[str] = ""
    #: version of the config layout; raise it and implement ``upgrade_config``
    version: ClassVar[int] = 1
    title: ClassVar[str] = ""
    category: ClassVar[str] = "Other"
    description: ClassVar[str] = ""
    #: a short icon name the editor maps to a picture (``"globe"``, ``"file"``)
    icon: ClassVar[str] = ""
    inputs: ClassVar[tuple[Port, ...]] = (Port("in"),)
    outputs: ClassVar[tuple[Port, ...]] = (Port("out"),)
    Config: ClassVar[type[BaseModel]] = EmptyConfig
    #: config fields whose plain strings are whole expressions (no braces needed)
    expression_fields: ClassVar[frozenset[str]] = frozenset()
    #: config fields the executor leaves unevaluated (the node evaluates them)
    raw_fields: ClassVar[frozenset[str]] = frozenset()
    #: run even when some incoming edges carry no value (``flow.merge``)
    partial_inputs: ClassVar[bool] = False
    #: same config and inputs give the same output (safe to reuse)
    deterministic: ClassVar[bool] = True
    #: credential kinds a ``credential`` config field accepts
    credential_kinds: ClassVar[tuple[str, ...]] = ()
    #: the retry preset (``engine.retry.PRESETS``) a new node of this type
    #: starts with in the editor: ``"network"`` for types that call servers
    default_retry: ClassVar[str | None] = None
    #: checks the node makes on a config field's value when it runs (after
    #: expressions are rendered): ``check(value)`` raises ``ConfigError``.
    #: ``validate`` runs the same checks on values holding no expression.
    config_checks: ClassVar[Mapping[str, Callable[[Any], object]]] = {}

    async def execute(self, ctx: NodeContext, config: Any) -> Any:
        """Run once (or once per ``for_each`` item) and return the output."""
        raise NotImplementedError

    @classmethod
    def upgrade_config(cls, from_version: int, config: dict[str, Any]) -> dict[str, Any]:
        """Turn a config saved by version ``from_version`` into ``from_version + 1``."""
        return config

    @classmethod
    def input_port(cls, name: str) -> Port | None:
        for port in cls.inputs:
            if port.name == name:
                return port
        return None

    @classmethod
    def output_port(cls, name: str) -> Port | None:
        for port in cls.outputs:
            if port.name == name:
                return port
        return None

    @classmethod
    def config_schema(cls) -> dict[str, Any]:
        """JSON Schema of the config, for ``flowdesk nodes`` and the inspector."""
        return cls.Config.model_json_schema()

    @classmethod
    def describe(cls) -> dict[str, Any]:
        """Everything a client needs to know about the type, as JSON."""
        return {
            "type": cls.type_name,
            "version": cls.version,
            "title": cls.title or cls.type_name,
            "category": cls.category,
            "description": cls.description,
            "icon": cls.icon,
            "inputs": [p.to_json() for p in cls.inputs],
            "outputs": [p.to_json() for p in cls.outputs],
            "config_schema": cls.config_schema(),
            "default_retry": cls.default_retry,
        }
