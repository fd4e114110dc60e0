"""Item 1 (and 5, 6) of issue 22: an expression cannot hold the process.

Every evaluation has a budget — a deadline (the node's ``timeout_s`` when
shorter) and an output size — checked by every filter, test, call and
operator; sizes are checked before a value is built; Ctrl+C stops an
expression in progress, and a second Ctrl+C quits without the event loop.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest
from flowdesk.engine import expression_limits
from flowdesk.engine.errors import ExpressionError
from flowdesk.engine.expressions import ExpressionEngine

from .conftest import FLOWDESK, flowdesk, node, write_flow

#: CPU-bound but within every size limit: ~2 M filter calls per map
SLOW = "{{ ((range(100000)|list)*20)|map('string')|map('upper')|map('length')|sum }}"
BOMB = "{{ (['a'*20000000]*2000000)|map('upper')|map('length')|sum }}"


def evaluate(source: str, scope: dict | None = None):
    return ExpressionEngine().evaluate(source, scope or {"input": {"a": 1}})


def test_the_reported_expression_stops_at_once():
    # (bounds on the CPU time of this thread: what the evaluation cost, which
    # other work on a busy machine does not stretch the way it stretches wall time)
    started = time.thread_time()
    with pytest.raises(ExpressionError) as caught:
        evaluate(BOMB)
    assert time.thread_time() - started < 2
    assert caught.value.category == "SECURITY"
    assert "limit" in caught.value.message


def test_a_cpu_bound_expression_stops_at_the_deadline(monkeypatch):
    monkeypatch.setattr(expression_limits, "DEFAULT_DEADLINE_S", 0.5)
    started = time.thread_time()
    with pytest.raises(ExpressionError) as caught:
        evaluate(SLOW)
    assert time.thread_time() - started < 3  # (run whole, SLOW costs far more)
    assert "longer than the limit of 0.5 s" in caught.value.message
    assert caught.value.details["reason"] == "limit"


@pytest.mark.parametrize(
    "source",
    [
        "{{ range(100)|join('a'*20000000) }}",
        "{{ ['a'*20000000]*100 }}",
        "{{ [[1]*2000000]*2000000 }}",
        "{{ '%s%s%s' % ('a'*20000000, 'b'*20000000, 'c') }}",
        "{{ ['a'*20000000, 'b'*20000000, 'c'*20000000]|tojson }}",
        "{{ [['a'*20000000], ['b'*20000000], ['c'*20000000]]|sum(start=[]) }}",
        "{{ ','.join(['a'*20000000, 'b']) }}",
        "{{ ['a'*20000000, 'a'*20000000, 'a'*20000000]|string }}",
        "{{ 'x' ~ ['a'*20000000, 'a'*20000000] }}",
    ],
)
def test_sizes_are_checked_before_the_value_is_built(source):
    started = time.thread_time()
    with pytest.raises(ExpressionError) as caught:
        evaluate(source)
    assert time.thread_time() - started < 2
    assert caught.value.category == "SECURITY", caught.value.message


def test_the_output_budget_adds_up_every_step():
    # each string is within the limits; all of them together are not
    source = "{{ (['a'*10000000]*4)|map('upper')|map('lower')|map('upper')|map('length')|sum }}"
    with pytest.raises(ExpressionError) as caught:
        evaluate(source)
    assert "in all" in caught.value.message


def test_undefined_inside_a_container_is_an_expression_error():
    for source in ("{{ [input.nokey] }}", "{{ {'a': input.nokey} }}", "{{ [[input.x]] }}"):
        with pytest.raises(ExpressionError) as caught:
            evaluate(source)
        assert caught.value.category == "EXPRESSION"
        assert "nokey" in caught.value.message or "'x'" in caught.value.message


def test_ordinary_expressions_still_work():
    assert evaluate("{{ [1, 2]|join(',') }}") == "1,2"
    assert evaluate("{{ [[1], [2]]|sum(start=[]) }}") == [1, 2]
    assert evaluate("{{ range(5)|select('odd')|list }}") == [1, 3]
    assert evaluate("{{ ' '.join(['a', 'b']) }}") == "a b"
    assert evaluate("{{ '%s-%d' % ('a', 3) }}") == "a-3"
    assert evaluate("{{ input|tojson }}") == '{"a": 1}'


def test_timeout_s_stops_an_expression_in_a_run(cli_env, tmp_path: Path):
    flow = write_flow(
        tmp_path / "slow.flow.json",
        [node("slow", timeout_s=1, config={"value": SLOW})],
    )
    done = flowdesk(cli_env, "run", str(flow), "--json", timeout=60)
    assert done.returncode == 1, done.stderr
    result = json.loads(done.stdout)
    error = result["nodes"]["slow"]["error"]
    assert error["code"] == "TIMEOUT"
    assert "timeout of 1 s" in error["message"]  # (not the 10 s limit of any expression)
    assert result["nodes"]["slow"]["duration_ms"] < 10_000
    assert "Traceback" not in done.stderr


def _start(cli_env, flow: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [*FLOWDESK, "run", str(flow)],
        env=cli_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # wait until the run has started (its first line)
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.startswith("Running"), line + process.stderr.read()
    time.sleep(0.5)
    return process


def _busy_node(cli_env) -> tuple[str, float]:
    """The status and recorded duration of the last run's "busy" node (the
    history): "cancelled" well within the 10 s limit when the expression was
    stopped in progress; run to that limit, it would have "failed"."""
    from flowdesk.engine.history import HistoryStore

    store = HistoryStore(Path(cli_env["FLOWDESK_DATA_DIR"]) / "history.sqlite3")
    try:
        _, result = store.get_run(store.list_runs(limit=1)[0].run_id)
    finally:
        store.close()
    busy = result.nodes["busy"]
    return busy.status, busy.duration_ms


def test_ctrl_c_cancels_a_run_busy_in_an_expression(cli_env, tmp_path: Path):
    flow = write_flow(tmp_path / "busy.flow.json", [node("busy", config={"value": SLOW})])
    process = _start(cli_env, flow)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)  # (generous: a busy machine is slow)
    assert process.returncode == 1
    assert "cancelling the run" in err
    assert "Run cancelled" in out
    assert "Traceback" not in err
    status, duration_ms = _busy_node(cli_env)
    assert status == "cancelled" and duration_ms < 10_000


def test_sigterm_cancels_too(cli_env, tmp_path: Path):
    flow = write_flow(tmp_path / "busy.flow.json", [node("busy", config={"value": SLOW})])
    process = _start(cli_env, flow)
    process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=60)
    assert "Run cancelled" in out
    status, duration_ms = _busy_node(cli_env)
    assert status == "cancelled" and duration_ms < 10_000


def test_a_second_ctrl_c_quits_even_when_the_loop_is_blocked(cli_env, tmp_path: Path):
    # a plug-in that blocks the event loop: the first Ctrl+C cannot cancel it
    flow = write_flow(
        tmp_path / "block.flow.json", [node("block", "plugin.block", config={"seconds": 60})]
    )
    process = _start(cli_env, flow)
    process.send_signal(signal.SIGINT)
    time.sleep(0.3)
    process.send_signal(signal.SIGINT)
    # (the plug-in blocks for 60 s: an end within the wait means it quit at once)
    _, err = process.communicate(timeout=45)
    assert process.returncode == 130
    assert "quitting at once" in err


def test_the_history_never_writes_a_huge_shared_output_whole(tmp_path: Path):
    from flowdesk.engine.history import HistoryStore
    from flowdesk.engine.results import NodeResult, RunResult

    inner = [1] * 2_000_000
    output = [inner] * 2_000_000  # 4 × 10¹² items once written out
    result = RunResult(
        "big", "succeeded", "2026-01-01T00:00:00Z", 1.0, {"n": NodeResult("succeeded", output)}
    )
    store = HistoryStore(tmp_path / "h.sqlite3")
    started = time.thread_time()
    store.record_result(result)
    assert time.thread_time() - started < 5  # (written whole: hours)
    _, stored = store.get_run("big")
    marker = stored.nodes["n"].output
    assert marker["__flowdesk_truncated__"] is True
    assert marker["preview"].startswith("[[1, 1, 1")
