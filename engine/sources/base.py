"""What a tool source is: ``ToolInfo`` (one tool), ``ToolSource`` (one live
source in one run or one editor session), ``SourceType`` (a kind of source,
registered by its ``type`` string: ``"openapi"``, ``"mcp"``) and ``SourceEnv``
(what a source may use while it opens).

A workflow's top-level ``sources`` maps a name to ``{"type": ..., ...}``; the
keys besides ``type`` are the source type's ``config_model`` (pydantic,
``extra="forbid"``; a model may also declare ``type`` as a Literal). The run's
``SourceManager`` (``ctx.services.tool_sources``; ``ctx.sources`` already
names a node's input edges) opens a source on first use with
``SourceType.open(name, config, env)`` and closes it at the end of the run.

May import: pydantic, engine.errors, engine.credentials, stdlib.
"""

from __future__ import annotations

import builtins
import functools
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel

if TYPE_CHECKING:
    import httpx

    from ..context import NodeContext
    from ..credentials import CredentialResolver
    from .documents import DocumentCache


@dataclass(frozen=True)
class ToolInfo:
    """One tool of a source.

    ``name`` is an identifier unique in its source (palette entry
    ``source__name``); ``input_schema`` a normalised JSON Schema of type
    object (``schema.normalise``); ``path`` e.g. ``"GET /anything"`` for an
    OpenAPI operation ("" for MCP); ``read_only`` when the source says so
    (GET/HEAD, MCP's ``readOnlyHint``). ``extra`` is the source type's own
    data (the OpenAPI operation's parameter locations), never shown.
    """

    name: str
    title: str
    description: str
    input_schema: dict[str, Any] = field(repr=False)
    tags: tuple[str, ...] = ()
    path: str = ""
    read_only: bool | None = None
    output_schema: dict[str, Any] | None = field(default=None, repr=False)
    extra: Any = field(default=None, compare=False, repr=False)

    @functools.cached_property
    def validator(self) -> Any:
        """A ``jsonschema`` validator of ``input_schema``, built on first use and
        kept with the tool (no process-wide cache: it goes when the tool goes)."""
        from .schema import schema_validator

        return schema_validator(self.input_schema)

    def to_json(self) -> dict[str, Any]:
        """For ``flowdesk tools list --json`` and the planner."""
        out: dict[str, Any] = {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "tags": list(self.tags),
            "path": self.path,
            "read_only": self.read_only,
            "input_schema": self.input_schema,
        }
        if self.output_schema is not None:
            out["output_schema"] = self.output_schema
        return out


@dataclass
class SourceEnv:
    """What a source may use while it opens (and, for long-lived sources, later).

    ``workflow_dir``: the folder relative paths of the source config resolve
    in (the run's data root; None for a workflow never saved).
    ``credentials``: the run's resolver. ``http_client()``: the run's shared
    client (pooling; created on first use). ``render(text)``: a config string
    with ``{{ vars.x }}`` / ``{{ env.X }}`` rendered. ``environ``: the user's
    environment (for MCP server processes). ``log(message, level)``: a line in
    the run's log. ``on_state(source, state, detail)``: a long-lived source's
    state changes (``starting``, ``ready`` with "N tools", ``failed`` with the
    reason, ``tools_changed``, ``closed``); ``on_stderr(source, line)``: each
    line an MCP server writes to its stderr, as it comes (None: kept for the
    error message only). ``documents``: where documents read from files are
    kept across sources (the engine's ``DocumentCache``; None: read each time).
    """

    workflow_dir: Path | None
    data_root: Path | None = None
    credentials: CredentialResolver | None = None
    http_client: Callable[[], httpx.AsyncClient] | None = None
    render: Callable[[str], str] = field(default=lambda text: text)
    environ: Mapping[str, str] = field(default_factory=dict)
    log: Callable[[str, str], None] = field(default=lambda message, level="info": None)
    on_state: Callable[[str, str, str], None] = field(default=lambda source, state, detail: None)
    on_stderr: Callable[[str, str], None] | None = None
    documents: DocumentCache | None = None


class ToolSource(ABC):
    """One live source. ``list_tools`` may be called many times: cache it."""

    #: the source's name in the workflow (set by ``SourceType.open``)
    name: str = ""
    #: changes when the source's tool list changes (``SourceManager`` re-lists then)
    tools_version: int = 0

    @abstractmethod
    async def list_tools(self) -> list[ToolInfo]:
        """Every tool of the source."""

    @abstractmethod
    async def call(
        self, tool: ToolInfo, arguments: dict[str, Any], ctx: NodeContext
    ) -> dict[str, Any]:
        """Call ``tool`` with validated ``arguments``; the node's output.

        Raise ``FlowdeskError``s (``TOOL_ERROR``, HTTP errors, …), never others.
        """

    async def aclose(self) -> None:  # noqa: B027 - optional for sources holding nothing
        """Release what the source holds (processes, connections)."""

    async def check(self) -> None:  # noqa: B027 - optional
        """A source kept open across runs (``SourcePool``) is about to be used
        by a new run: notice a dead connection so that it restarts on use."""

    def invalidate(self) -> None:
        """Forget the cached tool list (the next ``list_tools`` asks again)."""
        self.tools_version += 1


class SourceType(ABC):
    """A kind of source. Subclasses set ``type`` and ``config_model``."""

    type: ClassVar[str] = ""
    title: ClassVar[str] = ""
    #: the entry under ``sources.NAME`` minus ``type`` (``extra="forbid"``)
    config_model: ClassVar[builtins.type[BaseModel]]
    #: credential kinds a source's ``credential`` may name (empty: any)
    credential_kinds: ClassVar[tuple[str, ...]] = ()
    #: may be kept open across runs by a ``SourcePool`` (the editor's warm MCP
    #: sessions); others are opened and closed by every run
    warm: ClassVar[bool] = False

    @abstractmethod
    def open(self, name: str, config: BaseModel, env: SourceEnv) -> ToolSource:
        """A source for ``config`` (cheap: the work happens in ``list_tools``/``call``
        or in an async ``start`` the source runs itself on first use)."""

    def parse_config(self, entry: Mapping[str, Any]) -> BaseModel:
        """The entry of ``sources.NAME`` as this type's model (``type`` left out
        unless the model declares it); raises ``pydantic.ValidationError``."""
        data = dict(entry)
        if "type" not in self.config_model.model_fields:
            data.pop("type", None)
        return self.config_model.model_validate(data)
