"""What a run needs of the engine that starts it: ``RunOwner``.

``engine.executor.Engine`` is the one implementation; the run loop names this
protocol instead of ``Engine`` so that ``run.loop`` does not import back the
module that imports it (issue 21, "No import cycles").
May import: engine modules below the run (credentials, expressions, metrics,
registry); never ``engine.executor``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from ..credentials import SecretStore
from ..expressions import ExpressionEngine
from ..metrics import CallMetrics
from ..registry import NodeRegistry

if TYPE_CHECKING:
    from ..sources.documents import DocumentCache


class RunOwner(Protocol):
    """The engine's parts a run reads: node types, secrets, environment, caches."""

    @property
    def registry(self) -> NodeRegistry: ...

    @property
    def metrics(self) -> CallMetrics: ...

    @property
    def secrets(self) -> SecretStore: ...

    @property
    def environ(self) -> Mapping[str, str]: ...

    @property
    def http_client_factory(self) -> Callable[[], Any] | None: ...

    @property
    def expressions(self) -> ExpressionEngine: ...

    @property
    def documents(self) -> DocumentCache: ...
