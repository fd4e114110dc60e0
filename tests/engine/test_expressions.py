"""Expressions: the spec's rules, and hostile inputs that must fail fast."""

from __future__ import annotations

import time
import tracemalloc

import pytest
from flowdesk.engine.errors import ExpressionError
from flowdesk.engine.expressions import Compiled, ExpressionEngine, Namespace, referenced_names

SCOPE = {
    "input": {"count": 3, "name": "Ann", "items": [{"id": 7}, {"id": 8}], "ok": True},
    "vars": {"limit": 5},
    "nodes": {"fetch": {"body": {"items": [1, 2]}}},
    "env": Namespace({}, lambda key: f"env.{key} is not declared in the workflow's env list"),
}


@pytest.fixture(scope="module")
def engine() -> ExpressionEngine:
    return ExpressionEngine()


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ input.count }}", 3),
        ("  {{ input.count }}  ", 3),
        ("{{ input.ok }}", True),
        ("{{ input.missing_or_none | default(none) }}", None),
        ("{{ input.items }}", [{"id": 7}, {"id": 8}]),
        ("{{ input.items[1].id }}", 8),
        ("{{ nodes.fetch.body.items | sum }}", 3),
        ("{{ vars.limit * 2 }}", 10),
        ("Hello {{ input.name }}!", "Hello Ann!"),
        ("{{ input.count }} items", "3 items"),
        ("list: {{ input.items[0] }}", 'list: {"id": 7}'),
        ("flag={{ input.ok }}", "flag=true"),
        ("no braces", "no braces"),
        ("{{ {'a': {'b': 1}} }}", {"a": {"b": 1}}),
        ("{{ input.name | upper }}", "ANN"),
        ("{{ input.name.lower() }}", "ann"),
        ("{{ input.items | map(attribute='id') | list }}", [7, 8]),
        ("{{ range(3) }}", [0, 1, 2]),
        ("{{ '{\"a\": 1}' | fromjson }}", {"a": 1}),
        (
            "{{ input | tojson }}",
            '{"count": 3, "name": "Ann", "items": [{"id": 7}, {"id": 8}], "ok": true}',
        ),
        ("{{ input.count ~ '/' ~ vars.limit }}", "3/5"),
    ],
)
def test_values_and_text(engine: ExpressionEngine, source: str, expected: object) -> None:
    assert engine.evaluate(source, SCOPE) == expected


def test_a_key_named_like_a_dict_method_is_the_key(engine: ExpressionEngine) -> None:
    scope = {"input": {"items": [1], "keys": "k", "get": 0}}
    assert engine.evaluate("{{ input.items }}", scope) == [1]
    assert engine.evaluate("{{ input.keys }}", scope) == "k"
    assert engine.evaluate("{{ input.get }}", scope) == 0


def test_bare_expression_fields(engine: ExpressionEngine) -> None:
    assert engine.evaluate("input.count > 2", SCOPE, bare=True) is True
    assert engine.evaluate("{{ input.count > 5 }}", SCOPE, bare=True) is False


def test_compiled_once_and_cached(engine: ExpressionEngine) -> None:
    first = engine.compile("{{ input.count + 1 }}")
    assert engine.compile("{{ input.count + 1 }}") is first
    assert first.evaluate({"input": {"count": 41}}) == 42


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("{{ input.nope }}", "no key 'nope' (keys: count, name, items, ok)"),
        ("{{ env.HOME }}", "env.HOME is not declared"),
        ("{{ 1 / 0 }}", "ZeroDivisionError"),
        ("{{ input. }}", "syntax error"),
        ("{% for x in input.items %}{{ x }}{% endfor %}", "statements"),
        ("{{ undefined_name }}", "'undefined_name' is undefined"),
    ],
)
def test_failures_are_expression_errors(
    engine: ExpressionEngine, source: str, fragment: str
) -> None:
    with pytest.raises(ExpressionError) as info:
        engine.evaluate(source, SCOPE)
    error = info.value
    assert error.code == "EXPRESSION"
    assert error.category == "EXPRESSION"
    assert fragment in error.message
    assert error.details["expression"] == source


HOSTILE = [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ input.__class__ }}",
    "{{ input.items.__class__.__base__ }}",
    "{{ range.__globals__ }}",
    "{{ dict.__init__.__globals__ }}",
    "{{ input.name.__len__() }}",
    "{{ input.name.format(1) }}",
    "{{ '{0.__class__}'.format(input) }}",
    "{{ input.items.append(1) }}",
    "{{ input.items.pop() }}",
    "{{ input.clear() }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ lipsum.__globals__ }}",
    "{{ self.__init__.__globals__ }}",
    "{{ 'a' * 10**10 }}",
    "{{ [1] * 10**10 }}",
    "{{ 9 ** 9 ** 9 ** 9 }}",
    "{{ 9 ** (9 ** 9) }}",
    "{{ 2 ** 10 ** 10 }}",
    "{{ range(10**10) | list }}",
    "{{ range(10**6) | list }}",
    "{{ '%9999999999d' % 1 }}",
    "{{ '%*d' % (999999999, 1) }}",
    "{{ input.name.replace('', 'x' * 10000000) }}",
    "{{ ('x' * 10000000) ~ ('x' * 10000000) ~ ('x' * 10000000) }}",
    "{{ input.name | center(10**10) }}",
    "{{ input.name | indent(10**10) }}",
    "{{ input.name | wordwrap(1) }}",
    "{{ [1] | batch(10**9, 0) | list }}",
    "{{ 'x' + 'y' * 20000001 }}",
    "{{ (10 ** 4000) * (10 ** 4000) * (10 ** 4000) * (10 ** 4000) * (10 ** 4000) }}",
    "{{ " + "(" * 500 + "1" + ")" * 500 + " }}",
    "{{ input.name * 10**9 }}",
]


@pytest.mark.parametrize("source", HOSTILE)
def test_hostile_expressions_fail_fast_without_memory(
    engine: ExpressionEngine, source: str
) -> None:
    tracemalloc.start()
    started = time.thread_time()  # (CPU of this thread: a busy machine does not stretch it)
    try:
        with pytest.raises(ExpressionError) as info:
            engine.evaluate(source, SCOPE)
        elapsed = time.thread_time() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < 1.0, f"{source} took {elapsed:.2f} s"
    assert peak < 200 * 1024 * 1024, f"{source} allocated {peak / 1e6:.0f} MB"
    assert info.value.category in ("SECURITY", "EXPRESSION")
    assert info.value.code == "EXPRESSION"


def test_forbidden_access_is_a_security_category(engine: ExpressionEngine) -> None:
    with pytest.raises(ExpressionError) as info:
        engine.evaluate("{{ ''.__class__.__mro__ }}", SCOPE)
    assert info.value.category == "SECURITY"
    assert info.value.details["reason"] == "forbidden"


def test_very_long_expression_is_refused(engine: ExpressionEngine) -> None:
    with pytest.raises(ExpressionError) as info:
        engine.evaluate("{{ " + "1 + " * 10_000 + "1 }}", SCOPE)
    assert info.value.category == "SECURITY"


def test_referenced_names(engine: ExpressionEngine) -> None:
    compiled = engine.compile("{{ nodes.fetch.body }} {{ nodes['other'] }} {{ env.X }} {{ item }}")
    names = set(referenced_names(compiled))
    assert {("nodes", "fetch"), ("nodes", "other"), ("env", "X"), ("item", None)} <= names


# ------------------------------------------- plain references without Jinja
class _Odd:
    id = 5


REFERENCE_SCOPES: list[dict[str, object]] = [
    {
        "item": {"id": 7, "name": "é", "items": [1, 2], "keys": "k", "0": "zero", "n": None},
        "index": 3,
        "input": [10, {"a": (1, 2)}],
        "vars": Namespace({"base": "http://h"}, lambda key: f"no variable {key!r}"),
        "env": Namespace({}, lambda key: f"env.{key} is not declared"),
        "nodes": {"fetch": {"body": range(3)}},
    },
    {"item": 5, "index": 0, "input": None},
    {"item": "text", "index": 1, "input": {"__class__": "data", "count": 2}},
    {"item": [1, "two", None, {"x": 1.5}], "input": _Odd(), "range": "shadowed"},
    {"item": True, "input": "x" * 30},
]

REFERENCE_SOURCES = [
    "{{ item }}",
    "{{item}}",
    " {{ item }} ",
    "{{ item.id }}",
    "{{ item['id'] }}",
    "{{ item.name }}",
    "{{ item.items }}",
    "{{ item.keys }}",
    "{{ item.get }}",
    "{{ item.values }}",
    "{{ item.missing }}",
    "{{ item[0] }}",
    "{{ item.0 }}",
    "{{ item[3].x }}",
    "{{ item[-1] }}",
    "{{ item['0'] }}",
    "{{ item.n }}",
    "{{ item.upper }}",
    "{{ item.__class__ }}",
    "{{ input.__class__ }}",
    "{{ input.count }}",
    "{{ input[1].a }}",
    "{{ input.id }}",
    "{{ index }}",
    "{{ vars.base }}",
    "{{ vars.nope }}",
    "{{ vars['nope'] }}",
    "{{ env.HOME }}",
    "{{ nodes.fetch.body }}",
    "{{ range }}",
    "{{ null }}",
    "{{ missing }}",
    "{{ run.id }}",
    "http://h/item/{{ item }}",
    "http://h/{{ item.id }}/x?i={{ index }}",
    "{{ item }}{{ item }}",
    "a{{ item.missing }}b",
    "{{ item.name }}-{{ input }}",
]


def _jinja_only(engine: ExpressionEngine, source: str) -> object:
    compiled = engine.compile(source)
    slow = Compiled(compiled.source, compiled._single, compiled._parts, compiled.expressions)
    slow._references = [None] * len(slow._references)
    return slow


def _outcome(compiled: object, scope: dict[str, object]) -> object:
    try:
        value = compiled.evaluate(scope)  # type: ignore[attr-defined]
    except ExpressionError as error:
        return ("error", error.message, error.category, error.details)
    return ("value", type(value), value)


@pytest.mark.parametrize("source", REFERENCE_SOURCES)
def test_plain_references_match_the_sandbox(engine: ExpressionEngine, source: str) -> None:
    fast = engine.compile(source)
    slow = _jinja_only(engine, source)
    for scope in REFERENCE_SCOPES:
        assert _outcome(fast, scope) == _outcome(slow, scope), (source, scope)


def test_plain_references_are_recognised(engine: ExpressionEngine) -> None:
    assert engine.compile("{{ item }}")._references == [("item", ())]
    assert engine.compile("x/{{ item.a['b'][0] }}/y")._references == [
        ("item", ((True, "a"), (False, "b"), (False, 0)))
    ]
    for source in ("{{ item | upper }}", "{{ item[index] }}", "{{ item ~ 'x' }}", "{{ f() }}"):
        assert engine.compile(source)._references == [None]


def test_plain_reference_limits_still_hold(engine: ExpressionEngine) -> None:
    big = "x" * (20_000_001)
    with pytest.raises(ExpressionError, match="over the limit"):
        engine.evaluate("{{ item }}", {"item": big})
    with pytest.raises(ExpressionError, match="over the size limit"):
        engine.evaluate("a{{ item }}", {"item": big})
