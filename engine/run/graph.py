"""The workflow as a graph: who feeds whom, ancestors, upstream, cycles.

Pure and synchronous (no event loop, no node types): the run's scheduler, the
validator (``engine.validate``) and the editor's ``Document`` all walk the
graph with these helpers instead of keeping traversals of their own.

- ``reachable(start, step)``: every node a walk from ``start`` reaches, for any
  adjacency (the editor's document keeps its own edge index and passes it in);
- ``Graph``: node ids in file order and edges with their ports; ``incoming``
  and ``outgoing`` per node in edge order, ``ancestors``, ``descendants``,
  ``is_upstream`` (cached), ``topological_order`` and ``cycle_from``.
May import: stdlib only. Main names: ``Graph``, ``reachable``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable

#: (source, source port, target, target port)
EdgeTuple = tuple[str, str, str, str]


def reachable(start: str, step: Callable[[str], Iterable[str]]) -> set[str]:
    """Every node reached from ``start`` through ``step`` (its neighbours);
    ``start`` itself only when a cycle leads back to it. Iterative: a long
    chain does not hit the recursion limit."""
    seen: set[str] = set()
    stack = [start]
    while stack:
        for neighbour in step(stack.pop()):
            if neighbour not in seen:
                seen.add(neighbour)
                stack.append(neighbour)
    return seen


class Graph:
    """Nodes and edges of a workflow, indexed both ways.

    ``incoming[target]``: its ``(source, source_port, target_port)`` in edge
    order (a node's input values are kept in that order);
    ``outgoing[source]``: its ``(target, position in the target's incoming,
    source_port)``. Edges naming a node not added are refused (``KeyError``).
    """

    __slots__ = ("_upstream", "incoming", "order", "outgoing")

    def __init__(self, node_ids: Iterable[str] = (), edges: Iterable[EdgeTuple] = ()) -> None:
        self.order: list[str] = []
        self.incoming: dict[str, list[tuple[str, str, str]]] = {}
        self.outgoing: dict[str, list[tuple[str, int, str]]] = {}
        self._upstream: dict[tuple[str, str], bool] = {}
        for node_id in node_ids:
            self.add_node(node_id)
        for edge in edges:
            self.add_edge(*edge)

    @classmethod
    def of(cls, workflow: object) -> Graph:
        """The graph of a ``Workflow`` (anything with ``nodes`` and ``edges``)."""
        graph = cls()
        # (``add_node``/``add_edge`` inlined: a run builds this for every node)
        order = graph.order = [node.id for node in workflow.nodes]  # type: ignore[attr-defined]
        incoming = graph.incoming = {node_id: [] for node_id in order}
        outgoing = graph.outgoing = {node_id: [] for node_id in order}
        # The edges name their ends with strings of their own: keep the node's
        # own id object instead, so that every later look-up by it (a run
        # makes about twenty per node) finds its key by identity.
        same = {node_id: node_id for node_id in order}
        for edge in workflow.edges:  # type: ignore[attr-defined]
            source, target = edge.source, edge.target
            source_id, target_id = same[source.node], same[target.node]
            into = incoming[target_id]
            outgoing[source_id].append((target_id, len(into), source.port))
            into.append((source_id, source.port, target.port))
        return graph

    def add_node(self, node_id: str) -> None:
        if node_id not in self.incoming:
            self.order.append(node_id)
            self.incoming[node_id] = []
            self.outgoing[node_id] = []

    def add_edge(self, source: str, source_port: str, target: str, target_port: str) -> None:
        into = self.incoming[target]
        self.outgoing[source].append((target, len(into), source_port))
        into.append((source, source_port, target_port))
        self._upstream.clear()

    def __contains__(self, node_id: object) -> bool:
        return node_id in self.incoming

    def __len__(self) -> int:
        return len(self.order)

    def predecessors(self, node_id: str) -> list[str]:
        """The sources of the edges into ``node_id``, in edge order (repeats kept)."""
        return [source for source, _, _ in self.incoming.get(node_id, ())]

    def successors(self, node_id: str) -> list[str]:
        """The targets of the edges out of ``node_id``, in edge order (repeats kept)."""
        return [target for target, _, _ in self.outgoing.get(node_id, ())]

    def ancestors(self, node_id: str) -> set[str]:
        """Every node with a path to ``node_id`` (itself only on a cycle)."""
        return reachable(node_id, self.predecessors)

    def descendants(self, node_id: str) -> set[str]:
        """Every node ``node_id`` has a path to (itself only on a cycle)."""
        return reachable(node_id, self.successors)

    def is_upstream(self, candidate: str, node_id: str) -> bool:
        """Whether ``candidate`` has a path to ``node_id`` (cached per pair;
        the walk stops as soon as it meets ``candidate``)."""
        key = (candidate, node_id)
        cached = self._upstream.get(key)
        if cached is None:
            cached = self._upstream[key] = self._walk_finds(candidate, node_id)
        return cached

    def _walk_finds(self, candidate: str, node_id: str) -> bool:
        incoming = self.incoming
        seen = {node_id}
        stack = [node_id]
        while stack:
            for source, _, _ in incoming.get(stack.pop(), ()):
                if source == candidate:
                    return True
                if source not in seen:
                    seen.add(source)
                    stack.append(source)
        return False

    def topological_order(self) -> tuple[list[str], set[str]]:
        """Nodes sorted so that every edge goes forward (Kahn's algorithm, ties
        in file order), and the nodes left out: those in or behind a cycle."""
        indegree = {node_id: len(into) for node_id, into in self.incoming.items()}
        queue = deque(node_id for node_id in self.order if indegree[node_id] == 0)
        sorted_ids: list[str] = []
        while queue:
            current = queue.popleft()
            sorted_ids.append(current)
            for target, _, _ in self.outgoing[current]:
                indegree[target] -= 1
                if indegree[target] == 0:
                    queue.append(target)
        return sorted_ids, {node_id for node_id, count in indegree.items() if count > 0}

    def cycle_from(self, start: str, within: set[str]) -> list[str] | None:
        """A cycle met walking from ``start`` along the first successor still
        ``within`` (the nodes ``topological_order`` left out), or None."""
        path: list[str] = []
        on_path: dict[str, int] = {}
        current: str | None = start
        while current is not None and current not in on_path:
            on_path[current] = len(path)
            path.append(current)
            current = next((t for t, _, _ in self.outgoing[current] if t in within), None)
        if current is None:
            return None
        return path[on_path[current] :]
