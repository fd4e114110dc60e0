"""The typed event stream of a run: what the CLI, the history store and the
editor consume. Slotted dataclasses, read-only by convention (not frozen: a
frozen dataclass pays an ``object.__setattr__`` per field, and a run emits two
events per node). Every event carries ``run_id``, a monotonic ``seq`` and
``time`` (``time.monotonic()``).

Order for one node: ``NodeStarted`` → (``NodeRetrying`` → ``NodeStarted``)* →
``NodeSucceeded`` | ``NodeFailed`` | ``NodeCancelled``; or just ``NodeSkipped``
(also for nodes outside a partial run) or ``NodeSucceeded`` with status
``pinned``. ``RunFinished`` is always last and carries the run result.
May import: stdlib.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from .results import RunResult


@dataclass(slots=True)
class Event:
    #: the event's name on the process bus (``engine.bus``)
    name: ClassVar[str] = ""
    run_id: str
    seq: int
    time: float


@dataclass(slots=True)
class RunStarted(Event):
    name: ClassVar[str] = "run.started"
    workflow_name: str
    node_ids: tuple[str, ...]
    #: nodes this run executes (all of them, unless it is a partial run)
    planned: tuple[str, ...]
    started_at: str


@dataclass(slots=True)
class NodeStarted(Event):
    name: ClassVar[str] = "node.started"
    node_id: str
    attempt: int
    #: number of for_each items, or None
    items: int | None = None


@dataclass(slots=True)
class NodeRetrying(Event):
    name: ClassVar[str] = "node.retrying"
    node_id: str
    attempt: int
    max_attempts: int
    delay_s: float
    error: dict[str, Any]
    item_index: int | None = None


@dataclass(slots=True)
class NodeLog(Event):
    name: ClassVar[str] = "node.log"
    node_id: str
    level: str
    message: str


@dataclass(slots=True)
class NodeSucceeded(Event):
    name: ClassVar[str] = "node.succeeded"
    node_id: str
    #: "succeeded" or "pinned"
    status: str
    output: Any
    duration_ms: float
    attempts: int
    #: the output ports that carried the value; None: every one (the one
    #: encoding, as ``NodeResult.ports``: a tuple names exactly the ports, and
    #: an empty one says no port carried it)
    ports: tuple[str, ...] | None = None
    #: the output was taken from an earlier run (partial run)
    reused: bool = False
    usage: dict[str, Any] | None = None


@dataclass(slots=True)
class NodeFailed(Event):
    name: ClassVar[str] = "node.failed"
    node_id: str
    error: dict[str, Any]
    duration_ms: float
    attempts: int
    #: on_error "continue": downstream nodes run with the error object
    continued: bool = False
    #: the exception chain (the original cause first), for logs and bug
    #: reports; not part of the event's repr, which may be shown or logged
    traceback: str | None = field(default=None, repr=False)


#: ``NodeSkipped.reason`` of nodes a partial run leaves out
NOT_IN_RUN = "not part of this run"


@dataclass(slots=True)
class NodeSkipped(Event):
    name: ClassVar[str] = "node.skipped"
    node_id: str
    reason: str


@dataclass(slots=True)
class NodeCancelled(Event):
    name: ClassVar[str] = "node.cancelled"
    node_id: str
    duration_ms: float
    attempts: int
    #: why: "the run was cancelled", "the run stopped: node 'x' failed" (a
    #: node in flight when another failed), ... — the run result's ``reason``
    reason: str = ""


@dataclass(slots=True)
class RunFinished(Event):
    name: ClassVar[str] = "run.finished"
    status: str
    duration_ms: float
    result: RunResult = field(repr=False)


NODE_EVENTS = (
    NodeStarted,
    NodeRetrying,
    NodeLog,
    NodeSucceeded,
    NodeFailed,
    NodeSkipped,
    NodeCancelled,
)
