"""One structural-size walk (``safe_output.structural_size``) serves the
expression limits (``measure``: one per item) and the run history (a lower
bound of the JSON text's length): each keeps its limit and its words."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flowdesk.engine import ExpressionEngine
from flowdesk.engine.errors import ExpressionError
from flowdesk.engine.expression_limits import MAX_VALUE_SIZE, measure
from flowdesk.engine.history import TRUNCATED_KEY, HistoryStore
from flowdesk.engine.results import NodeResult, RunResult
from flowdesk.engine.safe_output import structural_size
from jinja2 import StrictUndefined, UndefinedError

VALUES = [
    "",
    "héllo",
    0,
    None,
    True,
    [1, "ab", [], {}],
    {"a": {"b": [1, 2, {"c": "déf"}]}, "e": None},
    [[1, 2, 3]] * 4,  # a shared part counts each time it appears, like JSON writes it
]


@pytest.mark.parametrize("value", VALUES)
def test_the_history_count_is_a_lower_bound_of_the_json_text(value) -> None:
    size = structural_size(value, 10**9)
    assert size <= len(json.dumps(value, ensure_ascii=False))
    # the same walk, counting one per string, list and object (the expression limits)
    assert measure(value, 10**9) <= size


def test_the_two_counts_differ_only_by_what_a_container_or_string_adds() -> None:
    value = {"ab": ["cd", 1]}  # an object, a key, a list, a string, a number
    assert measure(value) == 1 + (2 + 1) + 1 + (2 + 1) + 1 == 9
    assert structural_size(value, 10**9) == 2 + (2 + 2) + 2 + (2 + 2) + 1 == 13


def test_the_walk_stops_past_its_cap() -> None:
    huge = [["x" * 10] * 1000] * 1000  # 10 million characters when written out
    assert 100 < structural_size(huge, 100) < 200
    assert 100 < measure(huge, 100) < 200


def test_an_undefined_value_inside_raises_its_hint_only_for_expressions() -> None:
    value = {"a": [1, StrictUndefined(hint="'nope' is undefined")]}
    with pytest.raises(UndefinedError, match="'nope' is undefined"):
        measure(value)
    assert structural_size(value, 10**9) > 0


def test_an_expression_value_over_the_limit_says_so() -> None:
    engine = ExpressionEngine()
    part = ["a" * 1_000_000] * (MAX_VALUE_SIZE // 3_000_000 + 1)  # a third of it, shared
    assert engine.evaluate("{{ [x, x] }}", {"x": part}) == [part, part]
    with pytest.raises(ExpressionError, match="over the size limit of 50,000,000 characters"):
        engine.evaluate("{{ [x, x, x] }}", {"x": part})


def test_the_history_stores_an_output_over_its_limit_truncated(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h.sqlite3", max_output_bytes=1000)
    shared = ["y" * 100] * 50  # 5,000+ characters, written out 1,000 times over
    result = RunResult(
        run_id="r1",
        status="succeeded",
        started_at="2026-11-21T10:00:00.000Z",
        duration_ms=5.0,
        workflow_name="wf",
        nodes={"a": NodeResult(status="succeeded", output=[shared] * 1000, attempts=1)},
    )
    store.record_result(result)
    output = store.get_run("r1")[1].nodes["a"].output
    assert output[TRUNCATED_KEY] is True and output["limit_bytes"] == 1000
    assert output["size_bytes"] > 1000
    assert output["preview"].startswith('[["yyyy')
