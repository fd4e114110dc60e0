"""``{{ … }}`` expressions, evaluated in Jinja2's sandbox.

Rules (spec, "Data and expressions"):
- a string that is exactly one ``{{ expr }}`` gives the expression's value with
  its JSON type kept; a string mixing text and expressions renders to text
  (non-strings as JSON); a string without ``{{`` is returned as it is;
- only expressions: ``{% %}`` statements are refused, so there are no loops;
- the sandbox refuses Python internals (``__class__``, ``__globals__``, …);
  on top of it, operators and methods that could build huge values (``*``,
  ``**``, ``%``, ``+``, ``~``, ``replace``) check sizes before they run, only
  a whitelist of filters and methods is offered, and ranges are bounded —
  so every expression ends quickly and within memory.

Compiled expressions are cached by source string (one ``ExpressionEngine`` per
run or per process). May import: jinja2, engine.errors, stdlib. Main classes:
``ExpressionEngine``, ``Compiled``, ``Namespace``.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import json
import math
import operator
import re
import time
from collections.abc import Callable, Iterator, Mapping
from types import GeneratorType
from typing import Any, ClassVar

from jinja2 import StrictUndefined, TemplateSyntaxError, Undefined, nodes
from jinja2.environment import TemplateExpression
from jinja2.exceptions import SecurityError as JinjaSecurityError
from jinja2.exceptions import UndefinedError
from jinja2.parser import Parser
from jinja2.sandbox import SandboxedEnvironment
from jinja2.visitor import NodeTransformer

from .errors import ExpressionError, FlowdeskError, NodeTimeoutError

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

#: Names an expression can read (``item``/``index`` only inside ``for_each``).
SCOPE_NAMES = ("input", "inputs", "nodes", "vars", "env", "item", "index", "run")

_EXPR_START = "{{"


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
        size = _size(value)
        if size:
            self.spent += size
            if self.spent > MAX_EVALUATION_OUTPUT:
                raise LimitExceeded(
                    f"it built more than {MAX_EVALUATION_OUTPUT:,} characters and items in all"
                )


#: the budget of the evaluation in progress (None outside one)
_BUDGET: contextvars.ContextVar[Budget | None] = contextvars.ContextVar(
    "flowdesk_expression_budget", default=None
)
#: ``(deadline, timeout_s)`` a node attempt sets for the expressions it evaluates
_NODE_DEADLINE: contextvars.ContextVar[tuple[float, float] | None] = contextvars.ContextVar(
    "flowdesk_node_deadline", default=None
)
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


def _new_budget() -> Budget:
    deadline = time.monotonic() + DEFAULT_DEADLINE_S
    node = _NODE_DEADLINE.get()
    if node is not None and node[0] < deadline:
        return Budget(node[0], node[1])
    return Budget(deadline)


def _check_budget(value: Any = None) -> None:
    budget = _BUDGET.get()
    if budget is not None:
        budget.check()
        if value is not None:
            budget.spend(value)


def measure(value: Any, cap: int = MAX_VALUE_SIZE) -> int:
    """Structural size (characters of text, one per item, key and scalar),
    counting shared parts every time they appear; stops counting past ``cap``.
    Raises ``UndefinedError`` for an undefined value anywhere inside."""
    total = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item) + 1
        elif isinstance(item, Mapping):
            total += 1
            for key, sub in item.items():
                stack.append(key)
                stack.append(sub)
        elif isinstance(item, list | tuple):
            total += 1
            stack.extend(item)
        elif isinstance(item, Undefined):
            str(item)  # raises UndefinedError with its hint
            total += 1
        else:
            total += 1
        if total > cap:
            return total
    return total


def _check_structure(value: Any) -> None:
    if isinstance(value, list | tuple | Mapping):
        size = measure(value)
        if size > MAX_VALUE_SIZE:
            raise LimitExceeded(
                f"the value is over the size limit of {MAX_VALUE_SIZE:,} characters and items"
            )


class Namespace(Mapping[str, Any]):
    """A read-only mapping whose missing keys explain themselves.

    ``hint(key)`` gives the message shown when an expression reads a missing
    key (``env.HOME`` not declared, ``nodes.x`` not upstream, …).
    """

    __slots__ = ("_data", "_hint")

    def __init__(self, data: Mapping[str, Any], hint: Callable[[str], str]) -> None:
        self._data = data
        self._hint = hint

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def hint(self, key: str) -> str:
        return self._hint(key)

    def __repr__(self) -> str:
        return f"Namespace({list(self._data)!r})"


def _keys_hint(obj: Mapping[str, Any], key: str) -> str:
    keys = [str(k) for k in list(obj)[:12]]
    more = ", …" if len(obj) > 12 else ""
    listing = ", ".join(keys) + more if keys else "it is empty"
    return f"no key {key!r} (keys: {listing})" if keys else f"no key {key!r} ({listing})"


# Methods an expression may call on JSON values; every other callable attribute
# is refused. Values are JSON, so this covers what a person needs.
_SAFE_METHODS: dict[type, frozenset[str]] = {
    str: frozenset(
        [
            "upper",
            "lower",
            "strip",
            "lstrip",
            "rstrip",
            "split",
            "rsplit",
            "splitlines",
            "startswith",
            "endswith",
            "replace",
            "title",
            "capitalize",
            "casefold",
            "find",
            "rfind",
            "count",
            "isdigit",
            "isalpha",
            "isalnum",
            "isspace",
            "islower",
            "isupper",
            "join",
            "removeprefix",
            "removesuffix",
            "partition",
            "rpartition",
        ]
    ),
    dict: frozenset({"keys", "values", "items", "get"}),
    list: frozenset({"index", "count"}),
}


def _size(value: Any) -> int | None:
    if isinstance(value, str | list | tuple | bytes):
        return len(value)
    return None


def _check_result_size(value: Any) -> None:
    if isinstance(value, str) and len(value) > MAX_STRING_CHARS:
        raise LimitExceeded(f"a string of {len(value):,} characters is over the limit")
    _check_structure(value)


def _guarded_mul(left: Any, right: Any) -> Any:
    for seq, count in ((left, right), (right, left)):
        length = _size(seq)
        if length is not None and isinstance(count, int):
            limit = MAX_STRING_CHARS if isinstance(seq, str) else MAX_SEQUENCE_ITEMS
            if length * max(count, 0) > limit:
                raise LimitExceeded(
                    f"repeating a value of length {length:,} {count:,} times is over the limit"
                )
            if not isinstance(seq, str | bytes) and count > 1:
                # a list of big parts: what JSON would write, not its length
                if measure(seq, MAX_VALUE_SIZE // count + 1) * count > MAX_VALUE_SIZE:
                    raise LimitExceeded(
                        f"repeating a list {count:,} times would build a value over the "
                        f"limit of {MAX_VALUE_SIZE:,} characters and items"
                    )
            result = left * right
            _check_budget(result)
            return result
    if isinstance(left, int) and isinstance(right, int):
        if left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise LimitExceeded("the product is too large a number")
    return left * right


def _guarded_pow(left: Any, right: Any) -> Any:
    _check_budget()
    if isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1:
        if right * math.log2(abs(left)) > MAX_INT_BITS:
            raise LimitExceeded(f"{left} ** {right} is too large a number")
    if isinstance(left, int | float) and isinstance(right, int | float):
        try:
            return left**right
        except OverflowError:
            raise LimitExceeded("the power is too large a number") from None
    return left**right


_FORMAT_WIDTH = re.compile(r"%[-+ #0]*(\*|\d+)(?:\.(\*|\d+))?")


def _guarded_mod(left: Any, right: Any) -> Any:
    if isinstance(left, str):
        for width, precision in _FORMAT_WIDTH.findall(left):
            for part in (width, precision):
                if part == "*" or (part and int(part) > 10_000):
                    raise LimitExceeded("format width too large")
        # the arguments' text goes into the result: measure it first
        size = len(left) + measure(right, MAX_STRING_CHARS)
        if size > MAX_STRING_CHARS:
            raise LimitExceeded("the formatted text would be over the size limit")
    result = left % right
    _check_budget(result)
    return result


def _guarded_add(left: Any, right: Any) -> Any:
    a, b = _size(left), _size(right)
    if a is not None and b is not None and a + b > MAX_STRING_CHARS:
        raise LimitExceeded("the result would be over the size limit")
    result = left + right
    _check_budget(result)
    return result


def _concat(*parts: Any) -> str:
    size = sum(len(p) if isinstance(p, str) else measure(p, MAX_STRING_CHARS) for p in parts)
    if size > MAX_STRING_CHARS:
        raise LimitExceeded("the joined text would be over the size limit")
    texts = [p if isinstance(p, str) else to_text(p) for p in parts]
    result = "".join(texts)
    _check_budget(result)
    return result


def _guarded_replace(text: Any, old: Any, new: Any, count: Any = -1) -> Any:
    if isinstance(text, str) and isinstance(old, str) and isinstance(new, str):
        hits = text.count(old) if old else len(text) + 1
        if isinstance(count, int) and count >= 0:
            hits = min(hits, count)
        if len(text) + hits * (len(new) - len(old)) > MAX_STRING_CHARS:
            raise LimitExceeded("replace would build a string over the size limit")
        return text.replace(old, new, count)
    return text.replace(old, new, count)


def to_text(value: Any) -> str:
    """How a value appears inside text: strings as they are, the rest as JSON."""
    if isinstance(value, str):
        return value
    if type(value) is int:
        return int.__repr__(value)  # what json.dumps writes, minus its encoder setup
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(value)


def _tojson(value: Any, indent: int | None = None) -> str:
    if indent is not None and (not isinstance(indent, int) or not 0 <= indent <= 16):
        raise LimitExceeded("tojson indent must be 0 to 16")
    # (indented JSON writes up to ``indent`` more characters per item)
    if measure(value, MAX_STRING_CHARS) * (1 + (indent or 0)) > MAX_STRING_CHARS:
        raise LimitExceeded("tojson would write text over the size limit")
    return json.dumps(value, ensure_ascii=False, indent=indent, default=str)


def _materialize(value: Any) -> Any:
    """A generator (``map``, ``select`` …) as a list, so that it can be measured."""
    if isinstance(value, str | Mapping | list | tuple):
        return value
    try:
        return list(value)
    except TypeError:
        return value


def _guarded_join(
    join: Callable[..., Any], context: Any, value: Any, d: Any = "", attribute: Any = None
) -> Any:
    items = _materialize(value)
    if isinstance(items, list | tuple):
        sep = len(d) if isinstance(d, str) else 0
        size = sep * max(len(items) - 1, 0)
        if size <= MAX_STRING_CHARS:
            size += measure(items, MAX_STRING_CHARS)
        if size > MAX_STRING_CHARS:
            raise LimitExceeded("join would build a string over the size limit")
    return join(context, items, d, attribute)


def _guarded_sum(
    sum_: Callable[..., Any], environment: Any, iterable: Any, attribute: Any = None, start: Any = 0
) -> Any:
    items = _materialize(iterable)
    if attribute is None and isinstance(items, list | tuple):
        # adding lists or strings builds every partial result: measure the whole
        if any(isinstance(v, list | tuple | str) for v in items[:1]) or not isinstance(
            start, int | float
        ):
            if measure(items, MAX_VALUE_SIZE) + measure(start, MAX_VALUE_SIZE) > MAX_VALUE_SIZE:
                raise LimitExceeded("sum would build a value over the size limit")
            if len(items) > 10_000 and not isinstance(start, int | float):
                raise LimitExceeded("sum of more than 10,000 lists is not offered")
    return sum_(environment, items, attribute, start)


def _guarded_string(value: Any) -> str:
    if measure(value, MAX_STRING_CHARS) > MAX_STRING_CHARS:
        raise LimitExceeded("the text would be over the size limit")
    return to_text(value) if not isinstance(value, str) else value


def _fromjson(text: Any) -> Any:
    if not isinstance(text, str | bytes):
        raise TypeError("fromjson expects text")
    return json.loads(text)


_ALLOWED_FILTERS = [
    "abs",
    "attr",
    "capitalize",
    "count",
    "d",
    "default",
    "dictsort",
    "e",
    "escape",
    "first",
    "float",
    "groupby",
    "int",
    "items",
    "join",
    "last",
    "length",
    "list",
    "lower",
    "map",
    "max",
    "min",
    "reject",
    "rejectattr",
    "reverse",
    "round",
    "select",
    "selectattr",
    "sort",
    "string",
    "sum",
    "title",
    "trim",
    "truncate",
    "unique",
    "upper",
    "urlencode",
    "wordcount",
]


class _ConcatToCall(NodeTransformer):
    """Route ``~`` through a size-checked helper (Jinja does not intercept it)."""

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:  # noqa: N802 (visitor API)
        visited = self.generic_visit(node)
        assert isinstance(visited, nodes.Concat)
        return nodes.Call(nodes.Name("__fd_concat", "load"), list(visited.nodes), [], None, None)


class _Sandbox(SandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**", "%", "+", "//"})
    _BINOPS: ClassVar[dict[str, Callable[[Any, Any], Any]]] = {
        "*": _guarded_mul,
        "**": _guarded_pow,
        "%": _guarded_mod,
        "+": _guarded_add,
        "//": operator.floordiv,
    }

    def call_binop(self, context: Any, op: str, left: Any, right: Any) -> Any:
        return self._BINOPS[op](left, right)

    def wrap_str_format(self, value: Any) -> None:
        # ``str.format`` can pad to any width; it is simply not offered.
        return None

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if not super().is_safe_attribute(obj, attr, value):
            return False
        if callable(value):
            for kind, names in _SAFE_METHODS.items():
                if isinstance(obj, kind):
                    return attr in names
            if isinstance(obj, Mapping):
                return attr in _SAFE_METHODS[dict]
            return False
        return True

    def getattr(self, obj: Any, attribute: str) -> Any:
        # JSON objects: a key wins over a method of the same name, so that
        # ``input.items`` is the "items" key of the data, not ``dict.items``.
        if isinstance(obj, Mapping):
            try:
                return obj[attribute]
            except (KeyError, TypeError):
                pass
            if attribute not in _SAFE_METHODS[dict]:
                hint = obj.hint(attribute) if isinstance(obj, Namespace) else None
                return self.undefined(hint=hint or _keys_hint(obj, attribute), name=attribute)
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        if isinstance(obj, Namespace) and isinstance(argument, str) and argument not in obj:
            return self.undefined(hint=obj.hint(argument), name=argument)
        return super().getitem(obj, argument)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        budget = _BUDGET.get()
        if budget is not None:
            budget.check()
        if getattr(__obj, "__name__", None) == "replace" and isinstance(
            getattr(__obj, "__self__", None), str
        ):
            result = _guarded_replace(__obj.__self__, *args, **kwargs)
        elif getattr(__obj, "__name__", None) == "join" and isinstance(
            getattr(__obj, "__self__", None), str
        ):
            sep = __obj.__self__
            items = args[0] if args else ()
            result = _guarded_join(lambda _c, items, d, _a: d.join(items), None, items, sep)
        else:
            result = super().call(__context, __obj, *args, **kwargs)
        if budget is not None:
            budget.spend(result)
        return result


def _make_environment() -> _Sandbox:
    env = _Sandbox(
        undefined=StrictUndefined,
        autoescape=False,
        # Statements are not part of the expression language: no loops, no sets.
        block_start_string="\x00{%",
        block_end_string="%}\x00",
        line_statement_prefix=None,
        keep_trailing_newline=True,  # "line\n" in text mode keeps its newline
        cache_size=0,
    )
    env.filters = {name: env.filters[name] for name in _ALLOWED_FILTERS}
    env.filters["replace"] = lambda s, old, new, count=-1: _guarded_replace(s, old, new, count)
    env.filters["tojson"] = _tojson
    env.filters["fromjson"] = _fromjson
    env.filters["keys"] = lambda m: list(m.keys())
    env.filters["values"] = lambda m: list(m.values())
    join, sum_ = env.filters["join"], env.filters["sum"]
    guarded_join, guarded_sum = (
        functools.partial(_guarded_join, join),
        functools.partial(_guarded_sum, sum_),
    )
    # (the same Jinja mark as the filter they wrap: eval context, environment)
    guarded_join.jinja_pass_arg = join.jinja_pass_arg  # type: ignore[attr-defined]
    guarded_sum.jinja_pass_arg = sum_.jinja_pass_arg  # type: ignore[attr-defined]
    env.filters["join"] = guarded_join
    env.filters["sum"] = guarded_sum
    env.filters["string"] = _guarded_string
    # Every filter and test checks the evaluation's budget (deadline, output).
    env.filters = {name: _budgeted(f) for name, f in env.filters.items()}
    env.tests = {name: _budgeted(f) for name, f in env.tests.items()}  # type: ignore[arg-type]
    env.globals = {
        "range": _bounded_range,
        "dict": dict,
        "null": None,
        "__fd_concat": _concat,
    }
    return env


def _budgeted(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` checking the evaluation's budget before it runs and
    counting what it gives (Jinja's ``pass_context`` marks are kept)."""

    def budgeted(*args: Any, **kwargs: Any) -> Any:
        budget = _BUDGET.get()
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


class _Evaluation:
    """A compiled expression that runs with a fresh budget each call."""

    __slots__ = ("_expression",)

    def __init__(self, expression: TemplateExpression) -> None:
        self._expression = expression

    def __call__(self, scope: Mapping[str, Any]) -> Any:
        token = _BUDGET.set(_new_budget())
        try:
            return self._expression(scope)
        finally:
            _BUDGET.reset(token)


def _bounded_range(*args: int) -> range:
    _check_budget()
    rng = range(*args)
    if len(rng) > MAX_RANGE:
        raise LimitExceeded(f"range of {len(rng):,} items is over the limit of {MAX_RANGE:,}")
    return rng


#: how deeply an expression may nest (chained filters, ``+`` …): compiling
#: and checking it recurse once per level
MAX_EXPRESSION_DEPTH = 100


def _check_depth(tree: nodes.Node, source: str) -> None:
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


def has_expression(value: str) -> bool:
    return _EXPR_START in value


#: what ``_lookup`` gives when a reference needs Jinja (missing, not a mapping…)
_MISS: Any = object()

#: a plain reference: a name, then ``(True, key)`` for ``.key`` and
#: ``(False, key)`` for ``[key]`` (a constant key)
_Reference = tuple[str, tuple[tuple[bool, Any], ...]]


def _reference(tree: nodes.Expr) -> _Reference | None:
    """The plain reference ``tree`` is (``item``, ``item.id``, ``input["a"][0]``), or None."""
    steps: list[tuple[bool, Any]] = []
    node: nodes.Node = tree
    while True:
        if isinstance(node, nodes.Getattr) and isinstance(node.attr, str):
            steps.append((True, node.attr))
        elif (
            isinstance(node, nodes.Getitem)
            and isinstance(node.arg, nodes.Const)
            and type(node.arg.value) in (str, int)
        ):
            steps.append((False, node.arg.value))
        elif isinstance(node, nodes.Name) and node.ctx == "load":
            return node.name, tuple(reversed(steps))
        else:
            return None
        node = node.node


def _lookup(reference: _Reference, scope: Mapping[str, Any]) -> Any:
    """A plain reference's value, as the sandbox finds it on its first try.

    Jinja resolves the name in the scope (which overrides its few globals)
    and goes through ``_Sandbox.getattr`` / ``getitem``, whose first step is
    a plain ``obj[key]`` (for ``.key`` on mappings only). Anything else — a
    name not in the scope, a missing key, an attribute of a non-mapping —
    gives ``_MISS``, and the caller lets Jinja do it all (values, errors and
    hints then come from Jinja itself). tests/engine/test_expressions.py
    compares both.
    """
    name, steps = reference
    try:
        value = scope[name]
        for attribute, key in steps:
            if attribute and not isinstance(value, Mapping):
                return _MISS
            value = value[key]
    except Exception:  # noqa: BLE001 - Jinja redoes it and reports it its way
        return _MISS
    return value


class Compiled:
    """A compiled field value: a whole-field expression, mixed text, or plain text."""

    __slots__ = ("_names", "_parts", "_references", "_single", "expressions", "source")

    def __init__(
        self,
        source: str,
        single: _Evaluation | None,
        parts: list[str | _Evaluation],
        expressions: list[nodes.Expr],
    ) -> None:
        self.source = source
        self._single = single
        self._parts = parts
        #: parsed expression trees, for static checks (``referenced_names``)
        self.expressions = expressions
        # Plain references (``{{ item }}``, ``{{ item.id }}``) are looked up
        # directly: the sandbox costs ~10 µs a call for them, a for_each pays
        # it per item. One entry per expression: the single one, or the
        # parts' in order.
        self._references = [_reference(tree) for tree in expressions]
        #: ``referenced_names``, worked out on first use (a compiled
        #: expression is shared by every field holding the same text)
        self._names: tuple[tuple[str, str | None], ...] | None = None

    @property
    def is_constant(self) -> bool:
        return self._single is None and all(isinstance(p, str) for p in self._parts)

    def evaluate(self, scope: Mapping[str, Any]) -> Any:
        """Evaluate against ``scope``; raise ``ExpressionError`` on failure."""
        try:
            references = self._references
            if self._single is not None:
                reference = references[0]
                value = _MISS if reference is None else _lookup(reference, scope)
                if value is _MISS:
                    value = _finish(self._single(scope))
                elif type(value) not in _PLAIN:
                    # (a value from the scope is JSON already: only a
                    # namespace such as ``vars`` itself needs turning into one)
                    value = _finish(value)
                _check_result_size(value)
                return value
            out = []
            position = 0
            for part in self._parts:
                if isinstance(part, str):
                    out.append(part)
                    continue
                reference = references[position]
                position += 1
                value = _MISS if reference is None else _lookup(reference, scope)
                if value is _MISS:
                    value = part(scope)
                kind = type(value)
                if kind is str:
                    out.append(value)
                elif kind is int:
                    out.append(int.__repr__(value))  # (``to_text``, one call less)
                elif type(value) in _PLAIN and reference is not None:
                    out.append(to_text(value))
                else:
                    out.append(to_text(_finish(value)))
            # (``_concat`` minus its second pass: every part is text already)
            if sum(map(len, out)) > MAX_STRING_CHARS:
                raise LimitExceeded("the joined text would be over the size limit")
            return "".join(out)
        except FlowdeskError:
            raise  # (an ExpressionError, or the node's TIMEOUT)
        except Exception as exc:  # noqa: BLE001 - every failure becomes an EXPRESSION error
            raise expression_error(exc, self.source) from None


def _finish(value: Any) -> Any:
    """The expression's value as JSON: scalars as they are, lists and
    objects checked (tuples, ranges, dict views and generators become lists);
    anything else — a Jinja or Python object — is an error, never its repr."""
    kind = type(value)
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        return value
    if isinstance(value, StrictUndefined):
        # Touching it raises UndefinedError with the hint.
        str(value)
    return _json_value(value, 0)


#: JSON types as they come out of a run's scope (no check needed)
_PLAIN = frozenset({str, int, float, bool, type(None), dict, list})


class NotJsonError(TypeError):
    """An expression gave something that is not a JSON value."""


_MAX_JSON_DEPTH = 200
_SEQUENCES: tuple[type, ...] = (
    list,
    tuple,
    range,
    GeneratorType,
    type({}.keys()),
    type({}.values()),
    type({}.items()),
)


def _json_value(value: Any, depth: int) -> Any:
    if isinstance(value, str):
        return str(value) if type(value) is not str else value  # (Markup → str)
    if value is None or isinstance(value, bool | int | float):
        return value
    if depth > _MAX_JSON_DEPTH:
        raise LimitExceeded("the value is nested too deeply")
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                if key is None or isinstance(key, bool | int | float):
                    key = to_text(key)
                else:
                    raise NotJsonError(
                        f"gave an object with a key of type {type(key).__name__}, not a JSON value"
                    )
            out[key] = _json_value(item, depth + 1)
        return out
    if isinstance(value, _SEQUENCES):
        sequence: Any = value
        if type(sequence) is list and all(
            type(v) in (str, int, float, bool) or v is None for v in sequence
        ):
            return sequence
        return [_json_value(item, depth + 1) for item in sequence]
    if isinstance(value, Undefined):
        str(value)  # raises UndefinedError with its hint
    raise NotJsonError(
        f"gave a {type(value).__name__}, which is not a JSON value (text, number, "
        "true/false, null, list or object)"
    )


def expression_error(exc: BaseException, source: str) -> ExpressionError:
    """Turn any failure while evaluating ``source`` into an ``ExpressionError``."""
    if isinstance(exc, JinjaSecurityError):
        return ExpressionError(
            f"forbidden in expression {source!r}: {exc}",
            category="SECURITY",
            details={"expression": source, "reason": "forbidden"},
        )
    if isinstance(exc, LimitExceeded | OverflowError | MemoryError | RecursionError):
        what = str(exc) or type(exc).__name__
        return ExpressionError(
            f"expression {source!r} stopped: {what}",
            category="SECURITY",
            details={"expression": source, "reason": "limit"},
        )
    if isinstance(exc, UndefinedError):
        message = str(exc)
        return ExpressionError(
            f"expression {source!r}: {message}",
            details={"expression": source, "reason": "undefined"},
        )
    if isinstance(exc, TemplateSyntaxError):
        unknown = re.match(r"No (filter|test) named '([^']+)'", exc.message or "")
        if unknown:  # well-formed, naming something that does not exist
            kind, name = unknown.groups()
            return ExpressionError(
                f"unknown {kind} {name!r} in expression {source!r}",
                details={"expression": source, "reason": f"unknown_{kind}", kind: name},
            )
        return ExpressionError(
            f"syntax error in expression {source!r}: {exc.message}",
            details={"expression": source, "reason": "syntax"},
        )
    if isinstance(exc, NotJsonError):
        return ExpressionError(
            f"expression {source!r} {exc}",
            details={"expression": source, "reason": "not_json"},
        )
    return ExpressionError(
        f"expression {source!r} failed: {type(exc).__name__}: {exc}",
        details={"expression": source, "reason": "error"},
    )


class ExpressionEngine:
    """Compiles ``{{ }}`` strings once and caches them by source string."""

    def __init__(self) -> None:
        self._env = _make_environment()
        self._cache: dict[tuple[str, bool], Compiled] = {}

    def compile(self, source: str, *, bare: bool = False) -> Compiled:
        """Compile a field value. ``bare=True`` reads a string without ``{{``
        as one whole expression (for fields such as ``flow.if``'s condition).

        Raises ``ExpressionError`` (reason ``syntax``) on a malformed expression.
        """
        key = (source, bare)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        compiled = self._compile(source, bare)
        if len(self._cache) > 50_000:
            self._cache.clear()
        self._cache[key] = compiled
        return compiled

    def _compile(self, source: str, bare: bool) -> Compiled:
        if not has_expression(source) and not bare:
            # plain text: nothing to evaluate, whatever its length
            return Compiled(source, None, [source], [])
        if len(source) > MAX_SOURCE_CHARS:
            raise ExpressionError(
                f"expression of {len(source):,} characters is over the limit of "
                f"{MAX_SOURCE_CHARS:,}",
                category="SECURITY",
                details={"expression": source[:200], "reason": "limit"},
            )
        if "{%" in source and "%}" in source:
            raise ExpressionError(
                f"statements ({{% … %}}) are not supported in {source!r}; "
                "use {{ … }} expressions",
                details={"expression": source, "reason": "syntax"},
            )
        if bare and not has_expression(source):
            tree = self._parse_expression(source)
            return Compiled(source, self._build(tree, source), [], [tree])
        if not has_expression(source):
            return Compiled(source, None, [source], [])
        try:
            template = self._env.parse(source)
        except (TemplateSyntaxError, RecursionError) as exc:
            raise expression_error(exc, source) from None
        parts: list[str | nodes.Expr] = []
        for output in template.body:
            if not isinstance(output, nodes.Output):
                continue
            for child in output.nodes:
                if isinstance(child, nodes.TemplateData):
                    parts.append(child.data)
                else:
                    parts.append(child)
        trees = [p for p in parts if isinstance(p, nodes.Expr)]
        texts = [p for p in parts if isinstance(p, str)]
        if len(trees) == 1 and all(not t.strip() for t in texts):
            return Compiled(source, self._build(trees[0], source), [], trees)
        built: list[str | _Evaluation] = [
            p if isinstance(p, str) else self._build(p, source) for p in parts
        ]
        return Compiled(source, None, built, trees)

    def _parse_expression(self, source: str) -> nodes.Expr:
        try:
            parser = Parser(self._env, source, state="variable")
            tree = parser.parse_expression()
            if not parser.stream.eos:
                raise TemplateSyntaxError(
                    "unexpected text after the expression", parser.stream.current.lineno
                )
        except (TemplateSyntaxError, RecursionError) as exc:
            raise expression_error(exc, source) from None
        return tree

    def _build(self, tree: nodes.Expr, source: str) -> _Evaluation:
        _check_depth(tree, source)
        tree = _ConcatToCall().visit(tree)
        tree.set_environment(self._env)
        body = [nodes.Assign(nodes.Name("result", "store"), tree, lineno=1)]
        try:
            template = self._env.from_string(nodes.Template(body, lineno=1))
        except (TemplateSyntaxError, RecursionError, SyntaxError, MemoryError) as exc:
            raise expression_error(exc, source) from None
        return _Evaluation(TemplateExpression(template, undefined_to_none=False))

    def evaluate(self, source: str, scope: Mapping[str, Any], *, bare: bool = False) -> Any:
        """Compile (cached) and evaluate in one call."""
        return self.compile(source, bare=bare).evaluate(scope)


def referenced_names(compiled: Compiled) -> list[tuple[str, str | None]]:
    """``(root, key)`` pairs an expression reads: ``nodes.fetch`` →
    ``("nodes", "fetch")``, ``input`` → ``("input", None)``. Dynamic keys
    (``nodes[name]``) give ``(root, None)``."""
    names = compiled._names
    if names is None:
        names = compiled._names = tuple(_walk_names(compiled))
    return list(names)


def _walk_names(compiled: Compiled) -> list[tuple[str, str | None]]:
    found: list[tuple[str, str | None]] = []
    for tree in compiled.expressions:
        seen_roots: set[int] = set()
        # find_all walks the children only: the root may be the access itself.
        accesses = [tree, *tree.find_all((nodes.Getattr, nodes.Getitem))]
        for node in accesses:
            if not isinstance(node, nodes.Getattr | nodes.Getitem):
                continue
            root = node.node
            if isinstance(root, nodes.Name):
                seen_roots.add(id(root))
                key: str | None = None
                if isinstance(node, nodes.Getattr):
                    key = node.attr
                elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
                    key = node.arg.value
                found.append((root.name, key))
        for name in [tree, *tree.find_all(nodes.Name)]:
            if isinstance(name, nodes.Name) and id(name) not in seen_roots and name.ctx == "load":
                found.append((name.name, None))
    return found


def walk_strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string inside a JSON value, with its dotted path."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from walk_strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk_strings(item, f"{path}[{index}]")
