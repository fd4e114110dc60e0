"""What a trigger node (``trigger.schedule``, ``trigger.webhook``) outputs.

``flowdesk serve`` starts a triggered run with the variable ``_trigger`` set to
``{"node": NODE_ID, "data": {...}}``: the firing trigger node outputs ``data``,
every other trigger node of the flow sends nothing (its branch is skipped).
Without that variable (the editor, ``flowdesk run``) a trigger node outputs its
``sample`` config, or a sample built from its config, like any node with
pinned or sample data.
May import: engine.nodes.spec, stdlib.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .nodes.spec import Routed

if TYPE_CHECKING:
    from .context import NodeContext

#: the run variable through which the service hands the event to its trigger node
TRIGGER_VARIABLE = "_trigger"
TRIGGER_TYPES = ("trigger.schedule", "trigger.webhook")


def trigger_output(ctx: NodeContext, sample: Any) -> Any:
    """The event this node fired with, ``Routed(None, ())`` when another trigger
    fired, or ``sample`` when the run was not started by a trigger."""
    fired = ctx.services.variables.get(TRIGGER_VARIABLE)
    if isinstance(fired, dict) and "node" in fired:
        if fired.get("node") == ctx.node_id:
            return fired.get("data")
        return Routed(None, ())
    return sample
