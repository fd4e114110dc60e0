"""The ``flowdesk`` command as a user runs it: a real subprocess, real files,
a real plug-in installed through the ``flowdesk.node_types`` entry points."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import EXAMPLES, plugin_site

FLOWDESK = [sys.executable, "-m", "flowdesk"]

PLUGIN = """
import asyncio
from pydantic import BaseModel, ConfigDict
from flowdesk.engine import NodeType, Port

class SleepConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seconds: float = 1.0
    #: a file created when the sleep starts (tests wait for it, not for a time)
    marker: str | None = None

class Sleep(NodeType):
    type_name = "plugin.sleep"
    title = "Plug-in sleep"
    category = "Plug-ins"
    description = "Sleeps (installed through an entry point)."
    Config = SleepConfig

    async def execute(self, ctx, config):
        if config.marker:
            open(config.marker, "w").close()
        await asyncio.sleep(config.seconds)
        return config.seconds
"""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    site = plugin_site(
        tmp_path / "site",
        "fd-test-plugin",
        "[flowdesk.node_types]\nsleep = fd_test_plugin:Sleep\nbroken = fd_test_plugin:Missing\n",
        PLUGIN,
    )
    environ = dict(os.environ)
    environ["PYTHONPATH"] = os.pathsep.join(
        [str(site), str(Path(__file__).parents[2]), environ.get("PYTHONPATH", "")]
    )
    environ["FLOWDESK_DATA_DIR"] = str(tmp_path / "data")
    environ["PYTHONIOENCODING"] = "utf-8"
    return environ


@pytest.fixture
def example(tmp_path: Path) -> Path:
    target = tmp_path / "examples"
    shutil.copytree(EXAMPLES, target)
    return target / "quickstart.flow.json"


def flowdesk(env: dict[str, str], *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*FLOWDESK, *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def write_flow(path: Path, nodes: list[dict[str, Any]], edges: list[Any] = ()) -> Path:
    path.write_text(
        json.dumps(
            {
                "format": "flowdesk/workflow",
                "version": 1,
                "name": path.stem,
                "nodes": nodes,
                "edges": list(edges),
            }
        )
    )
    return path


def test_version(env):
    done = flowdesk(env, "--version")
    assert done.returncode == 0
    assert done.stdout.strip() == "flowdesk 0.1.0"


def test_run_prints_a_line_per_node_and_a_summary(env, example):
    done = flowdesk(env, "run", str(example))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    for node in ("read_orders", "summarise", "is_big_day", "celebrate", "merge", "write_report"):
        assert any(node in line and "succeeded" in line and "ms" in line for line in lines)
    assert any("quiet" in line and "skipped" in line for line in lines)
    assert lines[-1].startswith("Run succeeded in ")
    report = json.loads((example.parent / "output" / "report.json").read_text())
    assert report["headline"] == "Big day: 6 orders worth 787.65"


def test_run_json_prints_the_spec_result(env, example):
    done = flowdesk(env, "run", str(example), "--json")
    assert done.returncode == 0
    result = json.loads(done.stdout)
    assert result["status"] == "succeeded"
    assert set(result["nodes"]) == {
        "read_orders",
        "summarise",
        "is_big_day",
        "celebrate",
        "quiet",
        "merge",
        "write_report",
    }
    assert result["nodes"]["write_report"]["output"] == {"path": "output/report.json", "bytes": 303}
    assert result["nodes"]["quiet"]["status"] == "skipped"


def test_var_overrides_a_variable(env, example):
    done = flowdesk(env, "run", str(example), "--json", "--var", "threshold=10000")
    result = json.loads(done.stdout)
    assert result["nodes"]["celebrate"]["status"] == "skipped"
    assert result["nodes"]["quiet"]["status"] == "succeeded"
    text = flowdesk(env, "run", str(example), "--json", "--var", "threshold=not json")
    assert text.returncode == 1  # a string compared with a number: the run fails, clearly
    failed = json.loads(text.stdout)["nodes"]["is_big_day"]["error"]
    assert failed["code"] == "EXPRESSION"
    assert flowdesk(env, "run", str(example), "--var", "oops").returncode == 2


def test_root_sets_the_data_root(env, example, tmp_path):
    root = tmp_path / "elsewhere"
    (root / "data").mkdir(parents=True)
    (root / "data" / "orders.csv").write_text("id,customer,amount,country\n1,A,1.5,GB\n")
    done = flowdesk(env, "run", str(example), "--json", "--root", str(root))
    result = json.loads(done.stdout)
    assert result["nodes"]["summarise"]["output"]["total"] == 1.5
    assert (root / "output" / "report.json").exists()
    assert flowdesk(env, "run", str(example), "--root", str(tmp_path / "nope")).returncode == 2


def test_invalid_files_exit_2_with_every_problem(env, tmp_path):
    bad = write_flow(
        tmp_path / "bad.flow.json",
        [
            {"id": "a", "type": "data.transform"},
            {"id": "b", "type": "flow.merge", "config": {"mode": "dict"}},
        ],
        [
            {"from": {"node": "ghost"}, "to": {"node": "a"}},
            {"from": {"node": "a"}, "to": {"node": "b"}},
            {"from": {"node": "b"}, "to": {"node": "a"}},
        ],
    )
    for command in ("run", "validate"):
        done = flowdesk(env, command, str(bad))
        assert done.returncode == 2
        assert "edges[0]: node 'ghost' does not exist" in done.stderr
        assert "cycle: a → b → a" in done.stderr
        assert "nodes[1].config.mode: input should be 'list' or 'object'" in done.stderr
        assert done.stdout == ""
    missing = flowdesk(env, "run", str(tmp_path / "missing.flow.json"))
    assert missing.returncode == 2 and "file not found" in missing.stderr


def test_validate_json_and_valid_file(env, example):
    done = flowdesk(env, "validate", str(example))
    assert done.returncode == 0
    assert "valid (7 nodes, 7 edges)" in done.stdout
    data = json.loads(flowdesk(env, "validate", str(example), "--json").stdout)
    assert data == {"valid": True, "problems": []}


def test_failed_run_exits_1_and_names_the_error(env, tmp_path):
    flow = write_flow(
        tmp_path / "f.flow.json",
        [{"id": "read", "type": "file.read", "config": {"path": "nope.txt"}}],
    )
    done = flowdesk(env, "run", str(flow))
    assert done.returncode == 1
    assert "FILE_NOT_FOUND" in done.stdout
    assert "Run failed" in done.stdout


def test_nodes_lists_builtins_and_plugins_with_schemas(env):
    done = flowdesk(env, "nodes", "--json")
    assert done.returncode == 0
    types = {t["type"]: t for t in json.loads(done.stdout)}
    assert {
        "data.transform",
        "flow.if",
        "flow.merge",
        "file.read",
        "file.write",
        "plugin.sleep",
    } <= set(types)
    merge = types["flow.merge"]
    assert merge["inputs"] == [
        {"name": "in", "description": "Any number of edges", "multiple": True, "type": "any"}
    ]
    assert merge["config_schema"]["properties"]["mode"]["enum"] == ["list", "object"]
    assert "fd_test_plugin:Missing" in done.stderr  # a broken plug-in is reported, not fatal
    text = flowdesk(env, "nodes")
    assert "plugin.sleep" in text.stdout and "in → true, false" in text.stdout


def test_history_lists_and_shows_runs(env, example):
    first = json.loads(flowdesk(env, "run", str(example), "--json").stdout)
    flowdesk(env, "run", str(example), "--json", "--var", "threshold=10000")
    listing = flowdesk(env, "history", "--limit", "5")
    assert listing.returncode == 0
    assert first["run_id"][:8] in listing.stdout  # short ids, like git
    assert listing.stdout.count("Quick start: orders report") == 2
    assert len(json.loads(flowdesk(env, "history", "--limit", "1", "--json").stdout)) == 1
    shown = flowdesk(env, "history", "show", first["run_id"][:8])
    assert shown.returncode == 0
    assert "celebrate" in shown.stdout and "Big day" in shown.stdout
    stored = json.loads(flowdesk(env, "history", "show", first["run_id"], "--json").stdout)
    assert stored["nodes"]["summarise"]["output"] == first["nodes"]["summarise"]["output"]
    assert flowdesk(env, "history", "show", "ffffffff").returncode == 1


def test_only_reuses_the_last_runs_upstream_outputs(env, tmp_path):
    flow = write_flow(
        tmp_path / "p.flow.json",
        [
            {"id": "slow", "type": "plugin.sleep", "config": {"seconds": 1.0}},
            {"id": "shape", "type": "data.transform", "config": {"value": "{{ input * 2 }}"}},
        ],
        [{"from": {"node": "slow"}, "to": {"node": "shape"}}],
    )
    assert flowdesk(env, "run", str(flow)).returncode == 0
    done = flowdesk(env, "run", str(flow), "--only", "shape", "--json")
    result = json.loads(done.stdout)
    assert result["nodes"]["slow"]["reused"] is True
    assert result["nodes"]["shape"]["output"] == 2.0
    assert result["nodes"]["slow"]["duration_ms"] >= 1000  # from the earlier run


def test_ctrl_c_cancels_the_run_cleanly(env, tmp_path):
    a, b = tmp_path / "a.started", tmp_path / "b.started"
    # sleeps of 10 minutes: the run can end within the wait below only by
    # being cancelled (the wait is generous: a loaded machine starts, cancels,
    # records the history and exits slowly, and that must not fail the test)
    sleep = {"seconds": 600}
    flow = write_flow(
        tmp_path / "slow.flow.json",
        [
            {"id": "a", "type": "plugin.sleep", "config": {**sleep, "marker": str(a)}},
            {"id": "b", "type": "plugin.sleep", "config": {**sleep, "marker": str(b)}},
            {"id": "after", "type": "data.transform", "config": {"value": 1}},
        ],
        [{"from": {"node": "a"}, "to": {"node": "after"}}],
    )
    process = subprocess.Popen(
        [*FLOWDESK, "run", str(flow), "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not (a.exists() and b.exists()):  # start-up, then the two sleeps are in flight
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the sleeps never started: {process.communicate()[1]}")
            time.sleep(0.02)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:  # (not cancelled: do not leave it sleeping)
            process.kill()
            process.communicate()
    assert process.returncode == 1, err
    result = json.loads(out)
    assert result["status"] == "cancelled"
    assert {n["status"] for n in result["nodes"].values()} == {"cancelled"}
    assert "cancelling" in err
    assert "Traceback" not in err


def test_no_command_without_the_editor_says_how_to_get_it(env, tmp_path):
    script = textwrap.dedent("""
        import sys, builtins
        real = builtins.__import__
        def fake(name, *a, **k):
            if name.split(".")[0] in ("PySide6", "qasync"):
                raise ImportError("No module named 'PySide6'", name="PySide6")
            return real(name, *a, **k)
        builtins.__import__ = fake
        from flowdesk.cli import main
        sys.exit(main(sys.argv[1:]))
    """)
    for argv in ([], ["edit", "flow.json"]):
        done = subprocess.run(
            [sys.executable, "-c", script, *argv],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert done.returncode == 2
        assert "Traceback" not in done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1, lines  # one line: what is missing and what to install
        assert "pip install 'PySide6-Essentials" in lines[0] and "qasync" in lines[0]


def test_a_run_imports_none_of_the_other_commands_modules(env, tmp_path):
    """``flowdesk run`` parses its own options only: the planner, the MCP
    tools, the sign-in and the service code stay unimported (start-up time);
    ``flowdesk --help`` still lists every command."""
    flow = write_flow(tmp_path / "one.flow.json", [{"id": "a", "type": "data.transform"}])
    unneeded = [
        "flowdesk.engine.cli_plan",
        "flowdesk.engine.planner",
        "flowdesk.engine.cli_tools",
        "flowdesk.engine.cli_credentials",
        "flowdesk.engine.oauth2_login",
        "flowdesk.engine.cli_service",
        "httpx",
    ]
    check = (
        "import sys\n"
        "from flowdesk.cli import main\n"
        f"code = main(['run', {str(flow)!r}, '--json', '--no-history'])\n"
        f"print('exit', code, 'loaded', [m for m in {unneeded!r} if m in sys.modules])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", check], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "exit 0 loaded []"
    listed = flowdesk(env, "--help").stdout
    for command in ("run", "validate", "nodes", "history", "credentials", "tools", "plan"):
        assert f"    {command} " in listed or f"    {command}\n" in listed, command


COUNTED_PLUGIN = """
import os
from typing import Any
from pydantic import BaseModel, model_validator
from flowdesk.engine import NodeType, Port

class CountedConfig(BaseModel):
    value: Any = None

    @model_validator(mode="after")
    def _count(self):
        with open(os.environ["FD_VALIDATIONS"], "a") as out:
            out.write("v")
        return self

class Counted(NodeType):
    type_name = "test.counted"
    title = "Counted"
    inputs = (Port("in"),)
    outputs = (Port("out"),)
    Config = CountedConfig

    async def execute(self, ctx, config):
        return config.value
"""


def test_run_validates_each_constant_config_once(env, tmp_path):
    """``flowdesk run`` checks the file, then runs it with the configs that
    check validated: a constant config is validated once, not twice."""
    site = plugin_site(
        tmp_path / "counted_site",
        "fd-counted",
        "[flowdesk.node_types]\ncounted = fd_counted:Counted\n",
        COUNTED_PLUGIN,
    )
    counted = tmp_path / "validations"
    env = {
        **env,
        "PYTHONPATH": os.pathsep.join([str(site), env["PYTHONPATH"]]),
        "FD_VALIDATIONS": str(counted),
    }
    nodes = [{"id": n, "type": "test.counted", "config": {"value": i}} for i, n in enumerate("ab")]
    edge = {"from": {"node": "a"}, "to": {"node": "b"}}
    flow = write_flow(tmp_path / "counted.flow.json", nodes, [edge])
    done = flowdesk(env, "run", str(flow), "--json", "--no-history")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["nodes"]["b"]["output"] == 1
    assert counted.read_text() == "vv"  # a's and b's, once each
