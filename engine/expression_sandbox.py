"""The sandbox ``{{ }}`` expressions run in: Jinja2's ``SandboxedEnvironment``
with a whitelist of filters and methods, operators and methods that check
sizes before they build anything (``*``, ``**``, ``%``, ``+``, ``~``,
``replace``, ``join``, ``sum``), ``Namespace`` (read-only scopes whose
missing keys explain themselves) and ``to_text`` (a value as text in a
mixed string). Limits and budgets: ``engine.expression_limits``.

May import: jinja2, engine.expression_limits, stdlib.
"""

from __future__ import annotations

import functools
import json
import math
import operator
import re
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from .expression_limits import (
    BUDGET,
    MAX_INT_BITS,
    MAX_SEQUENCE_ITEMS,
    MAX_STRING_CHARS,
    MAX_VALUE_SIZE,
    LimitExceeded,
    bounded_range,
    check_budget,
    measure,
    value_size,
    with_budget,
)

if TYPE_CHECKING:  # Jinja itself loads with the first environment (``make_environment``)
    from jinja2 import nodes
    from jinja2.sandbox import SandboxedEnvironment
    from jinja2.visitor import NodeTransformer


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


def _guarded_mul(left: Any, right: Any) -> Any:
    for seq, count in ((left, right), (right, left)):
        length = value_size(seq)
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
            check_budget(result)
            return result
    if isinstance(left, int) and isinstance(right, int):
        if left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise LimitExceeded("the product is too large a number")
    return left * right


def _guarded_pow(left: Any, right: Any) -> Any:
    check_budget()
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
    check_budget(result)
    return result


def _guarded_add(left: Any, right: Any) -> Any:
    a, b = value_size(left), value_size(right)
    if a is not None and b is not None and a + b > MAX_STRING_CHARS:
        raise LimitExceeded("the result would be over the size limit")
    result = left + right
    check_budget(result)
    return result


def _concat(*parts: Any) -> str:
    size = sum(len(p) if isinstance(p, str) else measure(p, MAX_STRING_CHARS) for p in parts)
    if size > MAX_STRING_CHARS:
        raise LimitExceeded("the joined text would be over the size limit")
    texts = [p if isinstance(p, str) else to_text(p) for p in parts]
    result = "".join(texts)
    check_budget(result)
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


@functools.cache
def _jinja_classes() -> tuple[type[NodeTransformer], type[SandboxedEnvironment]]:
    """``ConcatToCall`` and the sandbox, made when the first environment is:
    Jinja (25 ms to import) is not loaded by a program that evaluates no
    expression (the editor's start)."""
    from jinja2 import nodes
    from jinja2.sandbox import SandboxedEnvironment
    from jinja2.visitor import NodeTransformer

    class ConcatToCall(NodeTransformer):
        """Route ``~`` through a size-checked helper (Jinja does not intercept it)."""

        def visit_Concat(self, node: nodes.Concat) -> nodes.Node:  # noqa: N802 (visitor API)
            visited = self.generic_visit(node)
            assert isinstance(visited, nodes.Concat)
            return nodes.Call(
                nodes.Name("__fd_concat", "load"), list(visited.nodes), [], None, None
            )

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
            budget = BUDGET.get()
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

    return ConcatToCall, _Sandbox


def concat_to_call() -> NodeTransformer:
    """A transformer that turns ``~`` into guarded concatenation calls
    (``ConcatToCall``, made with the sandbox on first use)."""
    return _jinja_classes()[0]()


def make_environment() -> SandboxedEnvironment:
    from jinja2 import StrictUndefined

    env = _jinja_classes()[1](
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
    env.filters = {name: with_budget(f) for name, f in env.filters.items()}
    env.tests = {name: with_budget(f) for name, f in env.tests.items()}  # type: ignore[arg-type]
    env.globals = {
        "range": bounded_range,
        "dict": dict,
        "null": None,
        "__fd_concat": _concat,
    }
    return env
