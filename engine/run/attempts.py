"""A node's attempts and the retry policy.

- each attempt holds a concurrency slot (``settings.max_concurrency`` bounds
  node attempts and ``for_each`` items in flight) and is bounded by the
  node's ``timeout_s`` (a ``NodeTimeoutError``; expressions stop at the same
  deadline while the config renders);
- an attempt that fails with a retryable error is retried, up to the
  policy's ``max_attempts`` (the node's ``retry``, else
  ``settings.retry``): after exactly the ``retry_after`` the error carries
  (a server's Retry-After; longer than ``settings.max_retry_after_s`` fails
  the node instead), else after a full-jitter exponential backoff;
- no retry once the run is stopping; each retry is a ``NodeRetrying`` event
  followed by the next attempt's ``NodeStarted``;
- ``on_error: continue`` makes a failed node's error its output
  (``continues_after``), unless the run is stopping or the error is fatal.
May import: engine.context, engine.errors, engine.events, engine.expressions,
engine.model, engine.nodes.spec, engine.retry, engine.run.config_render.
Main names: ``Attempts``, ``backoff_delay``, ``Slots``, ``Tally``.
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from collections.abc import Callable
from typing import Any

from ..context import NodeContext, RunServices, merge_usage
from ..errors import FlowdeskError, NodeTimeoutError
from ..events import NodeRetrying, NodeStarted
from ..expressions import node_deadline, reset_node_deadline
from ..model.workflow import Node, Settings
from ..nodes.spec import NodeType
from ..retry import NO_RETRY, Policy, effective_policy, resolve
from .config_render import ConfigRenderer
from .scheduler import Sources


def backoff_delay(attempt: int, base_s: float, max_s: float) -> float:
    """Full jitter: random(0, min(max, base × 2^attempt)); ``attempt`` from 0."""
    return random.uniform(0.0, min(max_s, base_s * (2.0**attempt)))


def continues_after(node: Node, error: FlowdeskError, stopping: bool) -> bool:
    """Whether a failed node's error becomes its output (``on_error:
    continue``) instead of failing the run."""
    return node.on_error == "continue" and not stopping and not error.fatal


class Slots:
    """A counting limiter whose uncontended acquire costs no coroutine (most
    nodes never wait): ``try_acquire()`` first, ``await acquire()`` when full."""

    __slots__ = ("_free", "_waiters")

    def __init__(self, size: int) -> None:
        self._free = size
        self._waiters: deque[asyncio.Future[None]] = deque()

    def try_acquire(self) -> bool:
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return True
        return False

    async def acquire(self) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter  # release() hands its slot over directly
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # the slot arrived as we were cancelled: pass it on
            else:
                self._waiters.remove(waiter)
            raise

    def release(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._free += 1


class Tally:
    """Most attempts any part of a node made (items retry independently), and
    the AI usage of every attempt, failed ones included (they were paid for)."""

    __slots__ = ("attempts", "usage")

    def __init__(self) -> None:
        self.attempts = 0
        self.usage: dict[str, Any] | None = None

    def add_usage(self, usage: dict[str, Any] | None) -> None:
        if not usage:
            return
        if self.usage is None:
            self.usage = {}
        merge_usage(self.usage, usage)


Emit = Callable[..., None]


class Attempts:
    """Runs the attempts of one run's nodes (one instance of each node type
    per run: ``execute`` keeps no state between calls but through
    ``ctx.services.shared``)."""

    def __init__(
        self,
        *,
        services: RunServices,
        settings: Settings,
        renderer: ConfigRenderer,
        slots: Slots,
        emit: Emit,
        stopping: Callable[[], bool],
    ) -> None:
        self.services = services
        self.settings = settings
        self.renderer = renderer
        self.slots = slots
        self.emit = emit
        self.stopping = stopping
        self._default_policy = resolve(settings.retry) or NO_RETRY
        self._policies: dict[str, Policy] = {}
        self._instances: dict[type[NodeType], NodeType] = {}

    def policy(self, node: Node) -> Policy:
        """The node's retry policy: its own, else the workflow's default."""
        if node.retry is None:
            return self._default_policy
        policy = self._policies.get(node.id)
        if policy is None:
            policy = self._policies[node.id] = effective_policy(node, self.settings)
        return policy

    def instance(self, node_type: type[NodeType]) -> NodeType:
        """The run's one instance of a node type."""
        instance = self._instances.get(node_type)
        if instance is None:
            instance = self._instances[node_type] = node_type()
        return instance

    async def run(
        self,
        node: Node,
        node_type: type[NodeType],
        inputs: dict[str, Any],
        sources: Sources,
        scope: dict[str, Any],
        tally: Tally,
        item: Any = None,
        index: int | None = None,
    ) -> Any:
        """Run attempts until one succeeds or the error is final."""
        policy = self._default_policy if node.retry is None else self.policy(node)
        max_attempts = policy.max_attempts
        if node.timeout_s is not None:
            # expressions stop at the node's deadline (they hold the event loop)
            token = node_deadline(node.timeout_s)
            try:
                config = self.renderer.render(node, node_type, scope)
            finally:
                reset_node_deadline(token)
        else:
            config = self.renderer.render(node, node_type, scope)
        instance = self._instances.get(node_type) or self.instance(node_type)
        slots = self.slots
        attempt = 0
        while True:
            attempt += 1
            if attempt > tally.attempts:
                tally.attempts = attempt
            ctx = NodeContext(
                self.services, node, inputs, sources, scope, attempt, self.emit, item, index
            )
            try:
                if not slots.try_acquire():
                    await slots.acquire()
                try:
                    if node.timeout_s is not None:
                        try:
                            async with asyncio.timeout(node.timeout_s):
                                out = await instance.execute(ctx, config)
                        except TimeoutError as exc:
                            raise NodeTimeoutError(
                                f"node {node.id!r} took longer than its timeout of "
                                f"{node.timeout_s:g} s",
                                details={"timeout_s": node.timeout_s},
                            ) from exc
                    else:
                        out = await instance.execute(ctx, config)
                finally:
                    slots.release()
                if ctx.usage is not None:
                    tally.add_usage(ctx.usage)
                return out
            except FlowdeskError as error:
                tally.add_usage(ctx.usage)
                if not error.retryable or attempt >= max_attempts or self.stopping():
                    raise
                delay = self.retry_delay(node, policy, attempt, error)
                self.emit(
                    NodeRetrying,
                    node_id=node.id,
                    attempt=attempt,
                    max_attempts=max_attempts,
                    delay_s=delay,
                    error=error.to_dict(),
                    item_index=index,
                )
                await asyncio.sleep(delay)
                self.emit(NodeStarted, node_id=node.id, attempt=attempt + 1)

    def retry_delay(self, node: Node, policy: Policy, attempt: int, error: FlowdeskError) -> float:
        """The wait before the next attempt: the error's ``retry_after`` (up to
        ``settings.max_retry_after_s``, else the node fails), else backoff."""
        if error.retry_after is None:
            return backoff_delay(attempt - 1, policy.base_delay_s, policy.max_delay_s)
        delay = max(0.0, float(error.retry_after))
        cap = self.settings.max_retry_after_s
        if delay > cap:
            raise _retry_after_too_long(node, error, delay, cap) from error
        return delay


def _retry_after_too_long(
    node: Node, error: FlowdeskError, wanted: float, cap: float
) -> FlowdeskError:
    return FlowdeskError(
        f"node {node.id!r}: the server asks to retry after {wanted:g} s, longer than the "
        f"longest wait allowed ({cap:g} s, settings.max_retry_after_s): the node fails "
        "instead of parking the run",
        code="RATE_LIMITED",
        category="RATE_LIMIT",
        details={
            "retry_after_s": wanted,
            "max_retry_after_s": cap,
            "error": error.to_dict(),
        },
    )
