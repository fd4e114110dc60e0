"""``for_each``: a node run once per item of a list, items in parallel.

The node's ``for_each`` expression must give a list; each item runs the
node's attempts (``engine.run.attempts``, the same path as a node without
``for_each``: retries per item) with ``item`` and ``index`` in its scope, at
most ``node.concurrency`` (default ``DEFAULT_ITEM_CONCURRENCY``, never above
``settings.max_concurrency``) at a time. The output is the list of the
items' outputs in item order; the first failing item fails the node (its
error says ``item_index``) and cancels the others. Items of a routing type
(``flow.if``) are routed per item: each port carries its items.
May import: engine.errors, engine.events, engine.model, engine.nodes.spec,
engine.run. Main name: ``run_items``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ..errors import ExpressionError, FlowdeskError, cause_of, json_type
from ..events import NodeStarted
from ..model.workflow import Node
from ..nodes.spec import NodeType, Routed
from .attempts import Attempts, Tally
from .failures import first_error
from .scheduler import Sources

DEFAULT_ITEM_CONCURRENCY = 8


async def run_items(
    attempts: Attempts,
    node: Node,
    node_type: type[NodeType],
    inputs: dict[str, Any],
    sources: Sources,
    scope: dict[str, Any],
    tally: Tally,
) -> tuple[Any, tuple[str, ...] | None]:
    """The node's output (one value per item) and the ports it routed to
    (None: every port)."""
    assert node.for_each is not None
    items = attempts.renderer.evaluate(node, "for_each", node.for_each, scope)
    if not isinstance(items, list):
        raise ExpressionError(
            f"node {node.id!r}, for_each: {node.for_each!r} gave "
            f"{json_type(items)}, expected a list",
            details={"node": node.id, "field": "for_each", "expression": node.for_each},
        )
    attempts.emit(NodeStarted, node_id=node.id, attempt=1, items=len(items))
    limit = min(node.concurrency or DEFAULT_ITEM_CONCURRENCY, attempts.settings.max_concurrency)
    results: list[Any] = [None] * len(items)
    routed: list[tuple[str, ...] | None] = [None] * len(items)
    next_index = 0

    async def worker() -> None:
        nonlocal next_index
        while next_index < len(items):
            index = next_index
            next_index += 1
            item_scope = {**scope, "item": items[index], "index": index}
            try:
                out = await attempts.run(
                    node, node_type, inputs, sources, item_scope, tally, items[index], index
                )
            except FlowdeskError as error:
                error.details.setdefault("item_index", index)
                raise
            if isinstance(out, Routed):
                results[index], routed[index] = out.value, tuple(out.ports)
            else:
                results[index] = out

    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(min(limit, len(items))):
                group.create_task(worker())
    except BaseExceptionGroup as group_error:
        first = first_error(group_error)
        # (keeps the error's own cause: the group is only how it got here)
        raise first from cause_of(first)
    tally.attempts = max(tally.attempts, 1)
    if routed.count(None) == len(routed):
        return results, None
    # Routed items (flow.if in for_each): each port carries its items.
    per_port: dict[str, list[Any]] = {}
    for value, ports in zip(results, routed, strict=True):
        for port in ports or ():
            per_port.setdefault(port, []).append(value)
    return results, tuple(per_port)
