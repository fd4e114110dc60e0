"""What a planning call cost: tokens, duration and money, in one line for the
CLI and the editor's log. The cost is the server's when it reports one
(OpenRouter's ``usage.cost``), else an estimate from a small table of list
prices per million tokens, else "cost unknown" (a local model, a model not in
the table). May import: stdlib.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: USD per million tokens (input, output): public list prices, mid-2025.
#: Keys are model names without the provider prefix ("openai/").
PRICES_PER_MILLION: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
    "claude-3.5-haiku": (0.80, 4.00),
    "claude-3.5-sonnet": (3.00, 15.00),
    "claude-sonnet-4": (3.00, 15.00),
    "gemini-2.0-flash-001": (0.10, 0.40),
}


def price_of(model: str) -> tuple[float, float] | None:
    """The table's prices of ``model`` (provider prefix and date suffix ignored:
    ``openai/gpt-4o-mini-2024-07-18`` is ``gpt-4o-mini``), or None."""
    name = model.rsplit("/", 1)[-1].lower()
    for key in sorted(PRICES_PER_MILLION, key=len, reverse=True):
        dated = name.startswith(key + "-") and name[len(key) + 1 : len(key) + 2].isdigit()
        if name == key or dated:
            return PRICES_PER_MILLION[key]
    return None


def plan_cost(meta: Mapping[str, Any]) -> tuple[float | None, str]:
    """``(cost in USD, where it comes from)``: ``"reported"`` by the server,
    ``"estimated"`` from the price table, or ``(None, "unknown")``."""
    if isinstance(meta.get("cost"), int | float):
        return float(meta["cost"]), "reported"
    prices = price_of(str(meta.get("model", "")))
    if prices is None:
        return None, "unknown"
    tokens_in, tokens_out = int(meta.get("tokens_in", 0)), int(meta.get("tokens_out", 0))
    return (tokens_in * prices[0] + tokens_out * prices[1]) / 1_000_000, "estimated"


def _money(value: float) -> str:
    return f"${value:.4f}" if value >= 0.01 else f"${value:.6f}"


def usage_text(meta: Mapping[str, Any]) -> str:
    """``openai/gpt-4o-mini: 500 tokens in, 90 out, cost ≈ $0.000129 (price
    table), 1.24 s`` — ``cost $0.0012`` when the server reports it, ``cost
    unknown`` else; ``2 calls (repair round)`` after a repair round."""
    cost, source = plan_cost(meta)
    if source == "reported" and cost is not None:
        money = f"cost {_money(cost)}"
    elif cost is not None:
        money = f"cost ≈ {_money(cost)} (price table)"
    else:
        money = "cost unknown"
    rounds = int(meta.get("rounds", 1) or 1)
    calls = f", {rounds} calls (repair round)" if rounds > 1 else ""
    return (
        f"{meta.get('model', '?')}: {meta.get('tokens_in', 0)} tokens in, "
        f"{meta.get('tokens_out', 0)} out, {money}, "
        f"{float(meta.get('duration_s', 0.0)):.2f} s{calls}"
    )
