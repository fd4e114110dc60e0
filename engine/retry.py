"""Retry policies: the named presets and how a node's effective policy is
found (the node's ``retry``, else the workflow's ``settings.retry``, else one
attempt).

A policy object may name a ``preset`` and override any of its numbers::

    "retry": {"preset": "network"}
    "retry": {"preset": "rate_limit", "max_attempts": 3}

Only errors whose category is retryable are retried (``engine.errors``).
May import: engine.model, stdlib. Main objects: ``PRESETS``, ``effective_policy``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model.workflow import Node, RetryPolicy, Settings


@dataclass(frozen=True, slots=True)
class Policy:
    """A resolved retry policy: attempts in all, and the backoff's numbers."""

    max_attempts: int = 1
    base_delay_s: float = 1.0
    max_delay_s: float = 32.0
    preset: str | None = None


#: the named presets of the runtime contract (docs/runtime-contract.md)
PRESETS: dict[str, Policy] = {
    "none": Policy(1, 1.0, 32.0, "none"),
    "conservative": Policy(3, 1.0, 10.0, "conservative"),
    "aggressive": Policy(6, 0.2, 5.0, "aggressive"),
    "network": Policy(4, 0.5, 20.0, "network"),
    "rate_limit": Policy(8, 2.0, 120.0, "rate_limit"),
}
PRESET_NAMES = tuple(PRESETS)
NO_RETRY = Policy()

#: when a preset is named, these fields of the policy object override it
_FIELDS = ("max_attempts", "base_delay_s", "max_delay_s")


def resolve(policy: RetryPolicy | None) -> Policy | None:
    """The numbers of a policy object (its preset, then the fields it sets)."""
    if policy is None:
        return None
    preset = getattr(policy, "preset", None)
    base = PRESETS[preset] if preset is not None else NO_RETRY
    values = {
        name: getattr(policy, name) if name in policy.model_fields_set else getattr(base, name)
        for name in _FIELDS
    }
    return Policy(preset=preset, **values)


def effective_policy(node: Node, settings: Settings) -> Policy:
    """The policy a node runs with: its own, else the workflow's default."""
    own = resolve(node.retry)
    if own is not None:
        return own
    default = resolve(getattr(settings, "retry", None))
    return default if default is not None else NO_RETRY
