"""What a node's ``execute`` receives.

``RunServices``: one per run, shared by every node — the data root, variables,
the expression engine, the credential resolver, the shared HTTP client
(created on first use, closed when the run ends, also on cancel) and the AI
usage ledger. ``NodeContext``: one per node attempt (per ``for_each`` item) —
its inputs, item/index, attempt number, a logger into the event stream, and
an ``evaluate`` for config fields the node evaluates itself.
May import: engine.errors, engine.expressions, engine.credentials, stdlib;
never engine.sources (``ToolSources`` names what a node needs of them);
engine.oauth2 lazily (OAuth2 credentials);
httpx lazily (only nodes that use HTTP pay for it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from .credentials import CredentialResolver
from .events import NodeLog
from .expressions import ExpressionEngine

if TYPE_CHECKING:
    import httpx

    from .model.workflow import Node, Settings


class ToolSources(Protocol):
    """The run's tool sources as nodes (``tool.call``) and the run use them;
    ``engine.sources.SourceManager`` is the implementation (a protocol here:
    sources receive a ``NodeContext``, so this module does not import them)."""

    async def tool(self, name: str, tool_name: str) -> tuple[Any, Any]:
        """The source (``ToolSource``) and the tool (``ToolInfo``)."""
        ...

    async def aclose(self) -> None: ...


def merge_usage(total: dict[str, Any], usage: dict[str, Any]) -> None:
    """Add the numeric fields of ``usage`` (tokens, cost) into ``total``."""
    for key, value in usage.items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            summed = total.get(key, 0) + value
            # costs are floats: keep sums free of binary noise (0.1 + 0.2)
            total[key] = round(summed, 10) if isinstance(summed, float) else summed


class RunServices:
    """Run-wide resources shared by all nodes of one run."""

    def __init__(
        self,
        *,
        run_id: str,
        started_at: str,
        data_root: Path,
        variables: dict[str, Any],
        settings: Settings,
        credentials: CredentialResolver,
        expressions: ExpressionEngine,
        http_client_factory: Callable[[], httpx.AsyncClient] | None = None,
    ) -> None:
        self.run_id = run_id
        self.started_at = started_at
        self.data_root = data_root
        self.variables = variables
        self.settings = settings
        self.credentials = credentials
        self.expressions = expressions
        self._http_client_factory = http_client_factory
        self._http_client: httpx.AsyncClient | None = None
        self._usage_lock = asyncio.Lock()
        #: summed AI usage of the run
        self.usage: dict[str, Any] = {}
        #: anything a node type wants to share across its nodes in one run
        self.shared: dict[str, Any] = {}
        #: the run's tool sources (``tool.call``); None when the workflow has none
        self.tool_sources: ToolSources | None = None

    def http_client(self) -> httpx.AsyncClient:
        """The run's shared HTTP client (connection pooling across nodes)."""
        if self._http_client is None:
            if self._http_client_factory is not None:
                self._http_client = self._http_client_factory()
            else:
                from .http_client import make_http_client

                self._http_client = make_http_client()
            if self.credentials.uses_oauth2():
                # OAuth2 credentials: the client swaps the placeholder token
                # http_credential puts on a request for the run's access token.
                from .oauth2 import OAuth2Auth

                self._http_client.auth = OAuth2Auth(self.credentials, self._http_client)
        return self._http_client

    def add_usage(self, usage: dict[str, Any]) -> None:
        merge_usage(self.usage, usage)

    async def aclose(self) -> None:
        client, self._http_client = self._http_client, None
        if client is not None:
            await client.aclose()


class NodeContext:
    """Handed to ``NodeType.execute``: inputs, item, services, logging."""

    __slots__ = (
        "_log",
        "attempt",
        "index",
        "inputs",
        "item",
        "node",
        "scope",
        "services",
        "sources",
        "usage",
    )

    def __init__(
        self,
        services: RunServices,
        node: Node,
        inputs: dict[str, Any],
        sources: dict[str, list[tuple[str, Any]]],
        scope: dict[str, Any],
        attempt: int,
        log: Callable[..., None],
        item: Any = None,
        index: int | None = None,
    ) -> None:
        self.services = services
        self.node = node
        self.inputs = inputs
        self.sources = sources
        self.scope = scope
        self.attempt = attempt
        self.item = item
        self.index = index
        self._log = log
        #: AI usage of this attempt, recorded on the node's result
        self.usage: dict[str, Any] | None = None

    @property
    def node_id(self) -> str:
        return self.node.id

    @property
    def input(self) -> Any:
        """The value on the input port ``in`` (``None`` without an edge)."""
        return self.inputs.get("in")

    @property
    def data_root(self) -> Path:
        return self.services.data_root

    def input_sources(self, port: str = "in") -> list[tuple[str, Any]]:
        """``(source node id, value)`` of every edge into ``port`` that carried a value."""
        return self.sources.get(port, [])

    def log(self, message: str, level: str = "info") -> None:
        """A line in the run's log (a ``NodeLog`` event)."""
        self._log(NodeLog, node_id=self.node.id, level=level, message=message)

    def evaluate(self, source: str, *, bare: bool = False, **extra: Any) -> Any:
        """Evaluate an expression string in this node's scope (plus ``extra`` names)."""
        scope = {**self.scope, **extra} if extra else self.scope
        return self.services.expressions.evaluate(source, scope, bare=bare)

    def record_usage(self, usage: dict[str, Any]) -> None:
        """Record AI token usage on the node's result and the run's total."""
        if self.usage is None:
            self.usage = {}
        merge_usage(self.usage, usage)
        self.services.add_usage(usage)
