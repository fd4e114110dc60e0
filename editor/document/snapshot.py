"""``run_copy(workflow)``: the copy of a workflow handed to a run — cheap
even at 10,000 nodes, where a deep copy took 0.6 s on the GUI thread.

Nodes, edges (and their port references) and config dicts are copied, since
the document's mutators change those in place (``rename_node`` rewrites ids,
``set_config_value`` replaces one key); values are shared, since no mutator
changes a value in place. May import: engine (public API), stdlib. No Qt.
"""

from __future__ import annotations

import gc
from typing import Any

from flowdesk.engine import Workflow


def _shallow(model: Any, **fields: Any) -> Any:
    """A shallow copy of a pydantic model with some fields replaced — what
    ``model_copy(update=…)`` does, 20× faster (no validation, no hooks)."""
    twin = model.__class__.__new__(model.__class__)
    object.__setattr__(twin, "__dict__", {**model.__dict__, **fields})
    object.__setattr__(twin, "__pydantic_fields_set__", set(model.__pydantic_fields_set__))
    object.__setattr__(twin, "__pydantic_extra__", model.__pydantic_extra__)
    object.__setattr__(twin, "__pydantic_private__", model.__pydantic_private__)
    return twin


def run_copy(workflow: Workflow) -> Workflow:
    enabled = gc.isenabled()
    gc.disable()  # tens of thousands of new objects: no collection passes meanwhile
    try:
        nodes = [_shallow(n, config=dict(n.config)) for n in workflow.nodes]
        edges = [
            _shallow(e, source=_shallow(e.source), target=_shallow(e.target))
            for e in workflow.edges
        ]
        snapshot: Workflow = _shallow(workflow, nodes=nodes, edges=edges, ui={})
        return snapshot
    finally:
        if enabled:
            gc.enable()
