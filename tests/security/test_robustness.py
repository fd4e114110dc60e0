"""Items 6, 9, 10 and 12 of issue 22: hostile files and a damaged history
give clear errors (exit 2 for files that cannot load), never a traceback."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

from .conftest import FLOWDESK, edge, flow_json, flowdesk, node, write_flow


def _history_path(cli_env) -> Path:
    return Path(cli_env["FLOWDESK_DATA_DIR"]) / "history.sqlite3"


def _no_traceback(done) -> None:
    assert "Traceback" not in done.stderr + done.stdout, done.stderr[-2000:]


# ------------------------------------------------------------------ item 6
def test_undefined_in_a_container_fails_the_node_and_the_history_is_complete(
    cli_env, tmp_path: Path
):
    flow = write_flow(tmp_path / "u.flow.json", [node("a", config={"value": "{{ [vars.nokey] }}"})])
    done = flowdesk(cli_env, "run", str(flow), "--json")
    _no_traceback(done)
    assert done.returncode == 1
    error = json.loads(done.stdout)["nodes"]["a"]["error"]
    assert error["category"] == "EXPRESSION"
    assert "nokey" in error["message"]
    listed = flowdesk(cli_env, "history", "--json")
    assert json.loads(listed.stdout)[0]["status"] == "failed"


# ------------------------------------------------------------------ item 9
def test_deep_nesting_is_a_load_error_not_a_traceback(cli_env, tmp_path: Path):
    deep = tmp_path / "deep.flow.json"
    text = json.dumps(flow_json([node("a", config={"value": 1})], variables={"v": 0}))
    deep.write_text(text.replace('{"v": 0}', '{"v": ' + "[" * 100_000 + "]" * 100_000 + "}"))
    value: object = 1
    for _ in range(400):
        value = {"a": value}
    nested_config = write_flow(tmp_path / "cfg.flow.json", [node("a", config={"value": value})])
    filters = write_flow(
        tmp_path / "filters.flow.json",
        [node("a", config={"value": "{{ 1" + "|abs" * 4000 + " }}"})],
    )
    plus = write_flow(
        tmp_path / "plus.flow.json", [node("a", config={"value": "{{ 1" + "+1" * 6000 + " }}"})]
    )
    for flow in (deep, nested_config, filters, plus):
        for command in ("validate", "run"):
            done = flowdesk(cli_env, command, str(flow))
            _no_traceback(done)
            assert done.returncode == 2, (flow.name, command, done.stderr[-500:])
            assert "levels deep" in done.stderr or "nests more than" in done.stderr
    simple = write_flow(tmp_path / "ok.flow.json", [node("a", config={"value": "{{ vars.v }}"})])
    # (60,000 levels: a command-line argument holds at most 128 KB)
    done = flowdesk(cli_env, "run", str(simple), "--var", "v=" + "[" * 60_000 + "]" * 60_000)
    _no_traceback(done)
    assert done.returncode == 2
    assert "--var 'v'" in done.stderr and "levels deep" in done.stderr


# ----------------------------------------------------------------- item 10
def test_a_damaged_history_is_moved_aside_with_a_message(cli_env, tmp_path: Path):
    path = _history_path(cli_env)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not a database" * 100)
    flow = write_flow(tmp_path / "f.flow.json", [node("a", config={"value": 1})])
    for args in (["history"], ["history", "show", "abc"], ["run", str(flow), "--only", "a"]):
        done = flowdesk(cli_env, *args)
        _no_traceback(done)
        assert done.returncode in (0, 1), done.stderr
    aside = [p for p in path.parent.iterdir() if ".damaged-" in p.name]
    assert len(aside) == 1
    assert aside[0].read_bytes().startswith(b"this is not a database")
    first = flowdesk(cli_env, "history")  # the new database works
    assert first.returncode == 0 and "attack" in first.stdout


def test_a_killed_run_shows_as_interrupted(cli_env, tmp_path: Path):
    flow = write_flow(
        tmp_path / "k.flow.json", [node("block", "plugin.block", config={"seconds": 60})]
    )
    process = subprocess.Popen(
        [*FLOWDESK, "run", str(flow)], env=cli_env, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    assert process.stdout.readline().startswith("Running")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the start is recorded from a worker thread
        listed = json.loads(flowdesk(cli_env, "history", "--json").stdout)
        if listed:
            break
        time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    listed = json.loads(flowdesk(cli_env, "history", "--json").stdout)
    assert listed[0]["status"] == "interrupted"


def test_a_locked_history_does_not_stall_the_run(cli_env, tmp_path: Path):
    flow = write_flow(tmp_path / "l.flow.json", [node("a", config={"value": 1})])
    assert flowdesk(cli_env, "run", str(flow)).returncode == 0  # creates the database
    locker = sqlite3.connect(_history_path(cli_env), timeout=0, check_same_thread=False)
    locker.execute("BEGIN EXCLUSIVE")
    release = threading.Timer(2.5, locker.rollback)
    release.start()
    try:
        done = flowdesk(cli_env, "run", str(flow), "--json")
    finally:
        release.join()
        locker.close()
    _no_traceback(done)
    assert done.returncode == 0
    assert json.loads(done.stdout)["duration_ms"] < 1000


# ----------------------------------------------------------------- item 12
def test_nan_is_refused_at_load_and_never_printed(cli_env, tmp_path: Path):
    flow = tmp_path / "nan.flow.json"
    flow.write_text(
        json.dumps(
            flow_json([node("a", config={"value": "{{ vars.x }}"})], variables={"x": 0})
        ).replace('"x": 0', '"x": NaN')
    )
    done = flowdesk(cli_env, "run", str(flow), "--json")
    assert done.returncode == 2
    assert "NaN" in done.stderr
    ok = write_flow(tmp_path / "ok.flow.json", [node("a", config={"value": "{{ vars.x }}"})])
    done = flowdesk(cli_env, "run", str(ok), "--json", "--var", "x=Infinity")
    assert done.returncode == 2
    assert "Infinity" in done.stderr
    computed = write_flow(
        tmp_path / "c.flow.json", [node("a", config={"value": "{{ 1e308 * 10 }}"})]
    )
    done = flowdesk(cli_env, "run", str(computed), "--json")
    assert "NaN" not in done.stdout and "Infinity" not in done.stdout
    json.loads(done.stdout, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))


def test_error_messages_do_not_echo_huge_values(cli_env, tmp_path: Path):
    flow = write_flow(
        tmp_path / "big.flow.json",
        [node("a", config={"value": "{{ {'k' * 5000000: 1}.missing }}"})],
    )
    done = flowdesk(cli_env, "run", str(flow), "--json")
    assert done.returncode == 1
    assert len(done.stdout) < 50_000
    assert len(done.stderr) < 50_000


def test_a_string_type_version_is_refused(cli_env, tmp_path: Path):
    flow = write_flow(
        tmp_path / "tv.flow.json", [node("a", type_version="99", config={"value": 1})]
    )
    done = flowdesk(cli_env, "validate", str(flow))
    assert done.returncode == 2
    assert "nodes[0].type_version: must be a whole number" in done.stderr


def test_a_fully_cyclic_graph_lists_each_cycle_once(cli_env, tmp_path: Path):
    ids = [f"n{i}" for i in range(12)]
    nodes = [node(i, "flow.merge") for i in ids]
    edges = []
    for a in ids:
        for b in ids:
            if a != b:
                edges.append({"from": {"node": a}, "to": {"node": b, "port": "in"}})
    flow = write_flow(tmp_path / "cyc.flow.json", nodes, edges)
    done = flowdesk(cli_env, "validate", str(flow))
    assert done.returncode == 2
    cycles = [line for line in done.stderr.splitlines() if line.strip().startswith("cycle:")]
    assert 1 <= len(cycles) <= 11, cycles
    assert len(set(cycles)) == len(cycles)


def test_url_passwords_stay_out_of_messages_and_history(cli_env, tmp_path: Path):
    flow = write_flow(
        tmp_path / "pw.flow.json",
        [node("a", "http.request", config={"url": "http://bob:hunter2pass@127.0.0.1:9/x"})],
    )
    done = flowdesk(cli_env, "run", str(flow), "--json")
    assert done.returncode == 1
    assert "hunter2pass" not in done.stdout + done.stderr
    run_id = json.loads(done.stdout)["run_id"]
    shown = flowdesk(cli_env, "history", "show", run_id, "--json")
    assert "hunter2pass" not in shown.stdout
    assert "bob:***@" in shown.stdout


def test_terminal_escapes_in_names_are_shown_escaped(cli_env, tmp_path: Path):
    name = "evil\x1b[2J\x1b[31mred\u202etxt.exe"
    flow = write_flow(tmp_path / "esc.flow.json", [node("a", config={"value": 1})], name=name)
    assert flowdesk(cli_env, "run", str(flow)).returncode == 0
    for args in (["history"],):
        done = flowdesk(cli_env, *args)
        assert "\x1b" not in done.stdout and "\u202e" not in done.stdout
        assert "\\x1b[31mred\\u202etxt.exe" in done.stdout
    run_id = json.loads(flowdesk(cli_env, "history", "--json").stdout)[0]["run_id"]
    shown = flowdesk(cli_env, "history", "show", run_id)
    assert "\x1b" not in shown.stdout and "\u202e" not in shown.stdout


def test_a_malformed_url_is_a_url_error_not_a_lookup(cli_env, tmp_path: Path):
    # computed at run time (a constant one is refused by validate, before the run)
    flow = write_flow(
        tmp_path / "url.flow.json",
        [node("a", "http.request", config={"url": "{{ vars.url }}"})],
        variables={"url": "http://[bad"},
    )
    done = flowdesk(cli_env, "run", str(flow), "--json")
    error = json.loads(done.stdout)["nodes"]["a"]["error"]
    assert error["code"] == "CONFIG_INVALID"
    assert "not a valid URL" in error["message"]
    constant = write_flow(
        tmp_path / "constant.flow.json", [node("a", "http.request", config={"url": "http://[bad"})]
    )
    checked = flowdesk(cli_env, "validate", str(constant))
    assert checked.returncode == 2 and "not a valid URL" in checked.stdout + checked.stderr


del edge
