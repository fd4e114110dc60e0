"""The run's scheduler: which nodes run, and which are ready. Pure and
synchronous — no event loop, no node execution (``engine.run.loop`` does that).

Semantics (spec, "Edge", "Node"):
- a node is ready when every edge into it has delivered, a value or "no
  value" (``deliver``); planned nodes without inputs are ready at the start;
- an edge carries no value when its source was skipped (``deliver`` with no
  ports) or it leaves a port the source did not route to (``flow.if``);
- a node an edge brought no value to is skipped (``missing_source``), except
  for types with ``partial_inputs`` (``flow.merge``), skipped only when
  nothing arrived;
- partial runs (``partial_plan``): ``only=ID`` runs one node, reusing the
  upstream outputs of an earlier run and running the upstream nodes that
  have none; ``up_to=ID`` runs that node and all its ancestors.
May import: engine.run.graph, engine.results. Main names: ``Scheduler``,
``partial_plan``, ``gather_inputs``, ``NO_VALUE``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from typing import Any

from ..results import NodeResult, RunResult
from .graph import Graph

#: what an input slot holds until a value arrives on its edge (or never does)
NO_VALUE: Any = object()

#: per node, its input ports in declared order: (name, takes several edges)
InputLayout = tuple[tuple[str, bool], ...]
#: per input port name, the (source node, value) pairs that arrived, edge order
Sources = dict[str, list[tuple[str, Any]]]


def partial_plan(
    graph: Graph, only: str | None, up_to: str | None, previous: RunResult | None
) -> tuple[set[str], set[str]]:
    """Nodes to execute, and nodes whose earlier output is reused."""
    if up_to is not None:
        return {up_to} | graph.ancestors(up_to), set()
    if only is None:
        return set(graph.order), set()
    plan, reuse = {only}, set()
    stack = [only]
    while stack:
        for source, _, _ in graph.incoming[stack.pop()]:
            if source in plan or source in reuse:
                continue
            earlier = previous.nodes.get(source) if previous else None
            if earlier is not None and earlier.status in ("succeeded", "pinned"):
                reuse.add(source)
            else:
                plan.add(source)
                stack.append(source)
    return plan, reuse


class Scheduler:
    """One run's ready set: what arrived on each input, what is ready next,
    and every node's result once decided (``results``)."""

    __slots__ = ("graph", "pending", "plan", "ready", "received", "results")

    def __init__(self, graph: Graph, plan: set[str]) -> None:
        self.graph = graph
        self.plan = plan
        incoming = graph.incoming
        self.pending = {nid: len(incoming[nid]) for nid in graph.order}
        self.received: dict[str, list[Any]] = {
            nid: [NO_VALUE] * len(incoming[nid]) for nid in graph.order
        }
        self.results: dict[str, NodeResult] = {}
        self.ready: deque[str] = deque()

    def queue_sources(self) -> None:
        """Make the planned nodes that have no input edges ready (file order)."""
        for node_id in self.graph.order:
            if node_id in self.plan and self.pending[node_id] == 0:
                self.ready.append(node_id)

    @property
    def complete(self) -> bool:
        """Whether every node has its result."""
        return len(self.results) == len(self.graph.order)

    def resolve(self, node_id: str, result: NodeResult) -> None:
        self.results[node_id] = result

    def deliver(self, node_id: str, ports: Iterable[str] | None, value: Any) -> None:
        """Send ``value`` on ``ports`` of ``node_id`` (None: every port carries
        it; no ports: every edge out of the node carries no value). Targets
        whose last edge this was become ready."""
        port_set = None if ports is None else set(ports)
        received, pending = self.received, self.pending
        for target, index, source_port in self.graph.outgoing[node_id]:
            if port_set is None or source_port in port_set:
                received[target][index] = value
            pending[target] -= 1
            if pending[target] == 0 and target in self.plan and target not in self.results:
                self.ready.append(target)

    def missing_source(self, node_id: str, partial_inputs: bool) -> str | None:
        """The source whose edge brought ``node_id`` no value, when that skips
        it (with ``partial_inputs``, only when no edge brought one); else None."""
        received = self.received[node_id]
        for value in received:
            if value is NO_VALUE:
                break
        else:
            return None  # (every edge brought a value: the usual case)
        missing = [i for i, value in enumerate(received) if value is NO_VALUE]
        if missing and (not partial_inputs or len(missing) == len(received)):
            return self.graph.incoming[node_id][missing[0]][0]
        return None


def input_layout(node_type: Any) -> InputLayout:
    """A node type's input ports in declared order: (name, takes several edges)."""
    return tuple((port.name, port.multiple) for port in node_type.inputs)


def gather_inputs(
    incoming: Sequence[tuple[str, str, str]], received: Sequence[Any], layout: InputLayout
) -> tuple[dict[str, Any], Sources]:
    """A node's inputs by port of its type's ``layout`` — a list for ports
    taking several edges (the values in edge order), else the value or None —
    and, per port, which source sent what. ``incoming``: the edges into the
    node in file order, ``(source, source port, target port)``; ``received``:
    what each brought (``NO_VALUE``: nothing). The run's rule, which the
    editor's preview of a node's inputs uses too."""
    if len(incoming) != len(received):
        raise ValueError(f"{len(received)} values received for {len(incoming)} edges")
    sources: Sources = {}
    # (``zip`` without ``strict=``, checked above: its keyword costs a node a
    # fifth of this function)
    for (source, _, port_name), value in zip(incoming, received):  # noqa: B905
        if value is not NO_VALUE:
            if port_name in sources:
                sources[port_name].append((source, value))
            else:
                sources[port_name] = [(source, value)]
    inputs: dict[str, Any] = {}
    for name, multiple in layout:
        if name in sources:
            arrived = sources[name]
            inputs[name] = [value for _, value in arrived] if multiple else arrived[0][1]
        else:
            inputs[name] = [] if multiple else None
    return inputs, sources
