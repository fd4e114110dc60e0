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

Compiled expressions are cached by source string, in an ``ExpressionEngine``
instance (an ``Engine``'s, shared by its runs, its validation and the editor's
previews; none at module level). A whole-field reference (``{{ item.id }}``) is looked up
directly instead of through the sandbox (``Compiled``; tests pin it to the
sandbox's answer).

The parts: this module compiles and evaluates (and turns results into JSON);
``engine.expression_sandbox`` is the Jinja2 sandbox (filters, methods,
guarded operators, ``Namespace``, ``to_text``); ``engine.expression_limits``
holds the size limits, the deadline and the per-evaluation budget. Import
from here: the names of both are re-exported.
May import: jinja2, engine.errors, engine.expression_limits,
engine.expression_sandbox, stdlib. Main classes: ``ExpressionEngine``,
``Compiled``, ``Namespace``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator, Mapping
from types import GeneratorType
from typing import TYPE_CHECKING, Any

from .errors import ExpressionError, FlowdeskError
from .expression_limits import (
    MAX_EVALUATION_OUTPUT,
    MAX_EXPRESSION_DEPTH,
    MAX_INT_BITS,
    MAX_RANGE,
    MAX_SEQUENCE_ITEMS,
    MAX_SOURCE_CHARS,
    MAX_STRING_CHARS,
    MAX_VALUE_SIZE,
    Budget,
    DeadlineExceeded,
    Evaluation,
    LimitExceeded,
    check_depth,
    check_result_size,
    clear_interrupt,
    interrupt,
    measure,
    node_deadline,
    reset_node_deadline,
)
from .expression_sandbox import Namespace, concat_to_call, make_environment, to_text

if TYPE_CHECKING:
    from jinja2 import nodes
    from jinja2.sandbox import SandboxedEnvironment


class _NotLoaded:
    """Jinja's classes until Jinja is loaded (``_load_jinja``): nothing is an
    instance of it, as no Jinja object exists before Jinja is imported."""


class _NotLoadedError(Exception):
    """Jinja's exceptions until Jinja is loaded: never raised."""


# Jinja (25 ms to import) loads with the first expression environment
# (``ExpressionEngine`` compiling its first expression), not with this module:
# the editor's start evaluates no expression before its first paint.
StrictUndefined: type = _NotLoaded
Undefined: type = _NotLoaded
TemplateSyntaxError: type[Exception] = _NotLoadedError
JinjaSecurityError: type[Exception] = _NotLoadedError
UndefinedError: type[Exception] = _NotLoadedError


def _load_jinja() -> None:
    """Bind Jinja's classes this module checks values and errors against."""
    global StrictUndefined, Undefined, TemplateSyntaxError, JinjaSecurityError, UndefinedError
    import jinja2
    from jinja2 import exceptions

    StrictUndefined, Undefined = jinja2.StrictUndefined, jinja2.Undefined
    TemplateSyntaxError = exceptions.TemplateSyntaxError
    JinjaSecurityError, UndefinedError = exceptions.SecurityError, exceptions.UndefinedError


__all__ = [
    "MAX_EVALUATION_OUTPUT",
    "MAX_EXPRESSION_DEPTH",
    "MAX_INT_BITS",
    "MAX_RANGE",
    "MAX_SEQUENCE_ITEMS",
    "MAX_SOURCE_CHARS",
    "MAX_STRING_CHARS",
    "MAX_VALUE_SIZE",
    "SCOPE_NAMES",
    "Budget",
    "Compiled",
    "DeadlineExceeded",
    "ExpressionEngine",
    "LimitExceeded",
    "Namespace",
    "NotJsonError",
    "clear_interrupt",
    "expression_error",
    "has_expression",
    "interrupt",
    "measure",
    "node_deadline",
    "referenced_names",
    "reset_node_deadline",
    "to_text",
    "walk_strings",
]

#: Names an expression can read (``item``/``index`` only inside ``for_each``).
SCOPE_NAMES = ("input", "inputs", "nodes", "vars", "env", "item", "index", "run")

_EXPR_START = "{{"


def has_expression(value: object) -> bool:
    """Whether ``value`` is text holding an expression (``{{``): the one rule
    the engine and the editor use."""
    return isinstance(value, str) and _EXPR_START in value


#: what ``_lookup`` gives when a reference needs Jinja (missing, not a mapping…)
_MISS: Any = object()

#: a plain reference: a name, then ``(True, key)`` for ``.key`` and
#: ``(False, key)`` for ``[key]`` (a constant key)
_Reference = tuple[str, tuple[tuple[bool, Any], ...]]


def _reference(tree: nodes.Expr) -> _Reference | None:
    """The plain reference ``tree`` is (``item``, ``item.id``, ``input["a"][0]``), or None."""
    from jinja2 import nodes

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

    __slots__ = (
        "_names",
        "_parts",
        "_references",
        "_single",
        "expressions",
        "is_constant",
        "source",
    )

    def __init__(
        self,
        source: str,
        single: Evaluation | None,
        parts: list[str | Evaluation],
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
        #: plain text: evaluating it gives the source as it is
        self.is_constant = single is None and all(isinstance(p, str) for p in parts)

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
                check_result_size(value)
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
    if JinjaSecurityError is _NotLoadedError and "jinja2" in sys.modules:
        _load_jinja()  # (a Jinja error can only come once Jinja is imported)
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
        syntax_message: str | None = getattr(exc, "message", None)  # (Jinja's error)
        unknown = re.match(r"No (filter|test) named '([^']+)'", syntax_message or "")
        if unknown:  # well-formed, naming something that does not exist
            kind, name = unknown.groups()
            return ExpressionError(
                f"unknown {kind} {name!r} in expression {source!r}",
                details={"expression": source, "reason": f"unknown_{kind}", kind: name},
            )
        return ExpressionError(
            f"syntax error in expression {source!r}: {syntax_message}",
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
        self._environment: SandboxedEnvironment | None = None
        self._cache: dict[tuple[str, bool], Compiled] = {}

    @property
    def _env(self) -> SandboxedEnvironment:
        """The sandbox, made (and Jinja loaded) for the first expression."""
        if self._environment is None:
            _load_jinja()
            self._environment = make_environment()
        return self._environment

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
        from jinja2 import nodes

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
        built: list[str | Evaluation] = [
            p if isinstance(p, str) else self._build(p, source) for p in parts
        ]
        return Compiled(source, None, built, trees)

    def _parse_expression(self, source: str) -> nodes.Expr:
        env = self._env  # (loads Jinja: ``TemplateSyntaxError`` is bound now)
        from jinja2.parser import Parser

        try:
            parser = Parser(env, source, state="variable")
            tree = parser.parse_expression()
            if not parser.stream.eos:
                raise TemplateSyntaxError(
                    "unexpected text after the expression", parser.stream.current.lineno
                )
        except (TemplateSyntaxError, RecursionError) as exc:
            raise expression_error(exc, source) from None
        return tree

    def _build(self, tree: nodes.Expr, source: str) -> Evaluation:
        from jinja2 import nodes
        from jinja2.environment import TemplateExpression

        check_depth(tree, source)
        tree = concat_to_call().visit(tree)
        tree.set_environment(self._env)
        body = [nodes.Assign(nodes.Name("result", "store"), tree, lineno=1)]
        try:
            template = self._env.from_string(nodes.Template(body, lineno=1))
        except (TemplateSyntaxError, RecursionError, SyntaxError, MemoryError) as exc:
            raise expression_error(exc, source) from None
        return Evaluation(TemplateExpression(template, undefined_to_none=False))

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
    from jinja2 import nodes

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
