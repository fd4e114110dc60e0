"""The limits every ``{{ }}`` evaluation runs under: sizes (text, sequences,
numbers, nesting, what one evaluation may build in all), a deadline (10 s,
or the node's ``timeout_s``), and Ctrl+C. ``Budget`` is what one evaluation
may still spend; the sandbox's operators, filters and calls charge it
(``engine.expression_sandbox``). ``Evaluation`` runs a compiled expression
with a fresh budget.

May import: jinja2, engine.errors, engine.safe_output, stdlib.
"""

from __future__ import annotations

import asyncio
import contextvars
import sys
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .errors import ExpressionError, NodeTimeoutError
from .safe_output import structural_size

if TYPE_CHECKING:  # (Jinja loads with the first expression environment)
    from jinja2 import nodes
    from jinja2.environment import TemplateExpression

MAX_SOURCE_CHARS = 20_000
MAX_STRING_CHARS = 20_000_000
MAX_SEQUENCE_ITEMS = 2_000_000
#: numbers are JSON: integers beyond 64 bits are refused (``9 ** 9 ** 9``)
MAX_INT_BITS = 64
MAX_RANGE = 100_000
#: what one evaluation may build in all (characters of text plus items of
#: lists and objects, summed over every filter, call and operator result)
MAX_EVALUATION_OUTPUT = 100_000_000
#: a value an expression gives, measured structurally (a list repeating the
#: same big list counts every repetition: that is what JSON would write)
MAX_VALUE_SIZE = 50_000_000
#: how long one evaluation may take (a node's ``timeout_s`` shortens it)
DEFAULT_DEADLINE_S = 10.0


class LimitExceeded(Exception):
    """An operation would build a value over the size limits."""


class DeadlineExceeded(LimitExceeded):
    """The evaluation ran past its deadline."""


class Budget:
    """What one evaluation may still spend: a deadline and an output size.

    Every allowed filter, test, method call and operator checks it (the
    sandbox offers no loops: all repetition goes through those), so that a
    CPU-bound expression stops at its deadline instead of blocking the event
    loop for hours.
    """

    __slots__ = ("deadline", "node_timeout", "spent")

    def __init__(self, deadline: float, node_timeout: float | None = None) -> None:
        self.deadline = deadline
        #: the node's ``timeout_s`` when it set the deadline (then exceeding
        #: it is the node's ``TIMEOUT``)
        self.node_timeout = node_timeout
        self.spent = 0

    def check(self) -> None:
        if _interrupted:
            raise asyncio.CancelledError()
        if time.monotonic() > self.deadline:
            if self.node_timeout is not None:
                raise NodeTimeoutError(
                    f"evaluating an expression took longer than the node's timeout of "
                    f"{self.node_timeout:g} s",
                    details={"timeout_s": self.node_timeout},
                )
            raise DeadlineExceeded(
                f"it ran longer than the limit of {DEFAULT_DEADLINE_S:g} s for an expression"
            )

    def spend(self, value: Any) -> None:
        size = value_size(value)
        if size:
            self.spent += size
            if self.spent > MAX_EVALUATION_OUTPUT:
                raise LimitExceeded(
                    f"it built more than {MAX_EVALUATION_OUTPUT:,} characters and items in all"
                )


#: the budget of the evaluation in progress (None outside one)
BUDGET: contextvars.ContextVar[Budget | None] = contextvars.ContextVar(
    "flowdesk_expression_budget", default=None
)
#: ``(deadline, timeout_s)`` a node attempt sets for the expressions it evaluates
_NODE_DEADLINE: contextvars.ContextVar[tuple[float, float] | None] = contextvars.ContextVar(
    "flowdesk_node_deadline", default=None
)
#: Process-wide on purpose: set by the CLI's Ctrl+C handler (a signal reaches
#: the process), it stops every evaluation in progress, whichever engine's.
_interrupted = False


def interrupt() -> None:
    """Stop every evaluation in progress at its next check (the CLI's Ctrl+C:
    runs in a signal handler while an expression may hold the event loop)."""
    global _interrupted
    _interrupted = True


def clear_interrupt() -> None:
    global _interrupted
    _interrupted = False


def node_deadline(timeout_s: float | None) -> contextvars.Token[tuple[float, float] | None]:
    """Bound the expressions evaluated from now on in this task by a node's
    ``timeout_s`` (``reset_node_deadline(token)`` ends it)."""
    value = None if timeout_s is None else (time.monotonic() + timeout_s, timeout_s)
    return _NODE_DEADLINE.set(value)


def reset_node_deadline(token: contextvars.Token[tuple[float, float] | None]) -> None:
    _NODE_DEADLINE.reset(token)


def new_budget() -> Budget:
    deadline = time.monotonic() + DEFAULT_DEADLINE_S
    node = _NODE_DEADLINE.get()
    if node is not None and node[0] < deadline:
        return Budget(node[0], node[1])
    return Budget(deadline)


def check_budget(value: Any = None) -> None:
    budget = BUDGET.get()
    if budget is not None:
        budget.check()
        if value is not None:
            budget.spend(value)


def measure(value: Any, cap: int = MAX_VALUE_SIZE) -> int:
    """Structural size (characters of text, one per item, key and scalar),
    counting shared parts every time they appear; stops counting past ``cap``.
    Raises ``UndefinedError`` for an undefined value anywhere inside. (The
    run history's walk, ``structural_size``, with this module's counts.)"""
    # (No Jinja object exists before Jinja is imported: nothing to look for.)
    jinja = sys.modules.get("jinja2")
    undefined = jinja.Undefined if jinja is not None else ()
    return structural_size(value, cap, overhead=1, undefined=undefined)


def check_structure(value: Any) -> None:
    if isinstance(value, list | tuple | Mapping):
        size = measure(value)
        if size > MAX_VALUE_SIZE:
            raise LimitExceeded(
                f"the value is over the size limit of {MAX_VALUE_SIZE:,} characters and items"
            )


def value_size(value: Any) -> int | None:
    if isinstance(value, str | list | tuple | bytes):
        return len(value)
    return None


def check_result_size(value: Any) -> None:
    if isinstance(value, str) and len(value) > MAX_STRING_CHARS:
        raise LimitExceeded(f"a string of {len(value):,} characters is over the limit")
    check_structure(value)


def with_budget(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` checking the evaluation's budget before it runs and
    counting what it gives (Jinja's ``pass_context`` marks are kept)."""

    def budgeted(*args: Any, **kwargs: Any) -> Any:
        budget = BUDGET.get()
        if budget is None:
            return function(*args, **kwargs)
        budget.check()
        result = function(*args, **kwargs)
        budget.spend(result)
        return result

    mark = getattr(function, "jinja_pass_arg", None)
    if mark is not None:
        budgeted.jinja_pass_arg = mark  # type: ignore[attr-defined]
    return budgeted


class Evaluation:
    """A compiled expression that runs with a fresh budget each call."""

    __slots__ = ("_expression",)

    def __init__(self, expression: TemplateExpression) -> None:
        self._expression = expression

    def __call__(self, scope: Mapping[str, Any]) -> Any:
        token = BUDGET.set(new_budget())
        try:
            return self._expression(scope)
        finally:
            BUDGET.reset(token)


def bounded_range(*args: int) -> range:
    check_budget()
    rng = range(*args)
    if len(rng) > MAX_RANGE:
        raise LimitExceeded(f"range of {len(rng):,} items is over the limit of {MAX_RANGE:,}")
    return rng


#: how deeply an expression may nest (chained filters, ``+`` …): compiling
#: and checking it recurse once per level
MAX_EXPRESSION_DEPTH = 100


def check_depth(tree: nodes.Node, source: str) -> None:
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_EXPRESSION_DEPTH:
            raise ExpressionError(
                f"expression {source[:200]!r} nests more than {MAX_EXPRESSION_DEPTH} "
                "levels deep (chained filters or operators); split it into several nodes",
                category="SECURITY",
                details={"expression": source[:200], "reason": "limit"},
            )
        stack.extend((child, depth + 1) for child in node.iter_child_nodes())
