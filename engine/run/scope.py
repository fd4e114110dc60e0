"""What a node's expressions can name: ``input``, ``inputs``, ``nodes.<id>``
(the outputs of its upstream nodes only), ``vars``, ``env`` (declared names;
the ones read are redacted from what the run keeps) and ``run`` (id, start).
``item`` and ``index`` are added per ``for_each`` item.
May import: engine.expressions, engine.run.graph. Main names: ``node_scope``,
``UpstreamOutputs``, ``EnvNamespace``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ..expressions import Namespace
from .graph import Graph


def node_scope(
    inputs: dict[str, Any],
    nodes: Mapping[str, Any],
    variables: Mapping[str, Any],
    env: Mapping[str, Any],
    run_info: Mapping[str, Any],
) -> dict[str, Any]:
    """The expression scope of a node with these inputs (a run passes
    ``Namespace``s; the editor's preview plain mappings of the run shown)."""
    return {
        "input": inputs.get("in"),
        "inputs": inputs,
        "nodes": nodes,
        "vars": variables,
        "env": env,
        "run": run_info,
    }


class UpstreamOutputs(Namespace):
    """``nodes.*`` for one node: the outputs of its upstream nodes only."""

    __slots__ = ("_graph", "_node_id", "_outputs")

    def __init__(self, outputs: Mapping[str, Any], graph: Graph, node_id: str) -> None:
        self._outputs = outputs
        self._graph = graph
        self._node_id = node_id

    def __getitem__(self, key: str) -> Any:
        outputs = self._outputs
        if key in outputs and self._graph.is_upstream(key, self._node_id):
            return outputs[key]
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return (k for k in self._outputs if self._graph.is_upstream(k, self._node_id))

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __contains__(self, key: object) -> bool:
        return (
            isinstance(key, str)
            and key in self._outputs
            and self._graph.is_upstream(key, self._node_id)
        )

    def hint(self, key: str) -> str:
        if key not in self._graph:
            return f"there is no node {key!r}"
        if not self._graph.is_upstream(key, self._node_id):
            return f"node {key!r} is not upstream of {self._node_id!r}"
        return f"node {key!r} produced no output in this run"


class EnvNamespace(Namespace):
    """``env.*``: records the names a run read, whose values are redacted."""

    __slots__ = ("read",)

    def __init__(self, data: Mapping[str, Any], hint: Callable[[str], str]) -> None:
        super().__init__(data, hint)
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> Any:
        value = self._data[key]
        self.read.add(key)
        return value
