"""``flowdesk plan`` as a user runs it (a subprocess) against the local
OpenAI-compatible server: readable diff, --json, --out, --run, exit codes."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from .fake_llm import Reply, completion
from .test_planner import act


async def flowdesk(*argv: str, cwd: Path) -> tuple[int, str, str]:
    env = {**os.environ, "FLOWDESK_SECRET_OPENROUTER": "sk-test", "PYTHONUTF8": "1"}
    env.pop("FLOWDESK_ALLOW_NODE_TYPES", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "flowdesk.cli",
        *argv,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def plan_reply(*actions: dict[str, Any]) -> Reply:
    body = {"intent": "write a greeting", "confidence": 0.8, "actions": list(actions)}
    return Reply(body=completion(body, prompt_tokens=400, completion_tokens=50))


WRITE = act(
    "add_node",
    id="greet",
    type="file.write",
    title="Greet",
    config={"path": "hello.txt", "format": "text", "content": "hello"},
)


async def test_plan_prints_a_diff_writes_out_and_runs(llm, tmp_path: Path) -> None:
    llm.reply(plan_reply(WRITE))
    code, out, err = await flowdesk(
        "plan", "write hello to a file", "--base-url", llm.base_url, "--model", "m",
        "--out", "new.flow.json", "--run", cwd=tmp_path,
    )  # fmt: skip
    assert code == 0, err
    assert "+ node greet (file.write)" in out
    assert "400 tokens in, 50 out" in err
    saved = json.loads((tmp_path / "new.flow.json").read_text())
    assert saved["nodes"][0]["type"] == "file.write"
    assert (tmp_path / "hello.txt").read_text() == "hello"
    assert llm.requests[0].headers["Authorization"] == "Bearer sk-test"


async def test_plan_json_and_refusal_exit_1(llm, tmp_path: Path) -> None:
    llm.reply(plan_reply(WRITE))
    code, out, err = await flowdesk(
        "plan", "write hello", "--base-url", llm.base_url, "--allow", "email.*", "--json",
        cwd=tmp_path,
    )  # fmt: skip
    assert code == 1
    payload = json.loads(out)
    assert set(payload) == {"plan", "meta", "diff", "problems"}
    assert payload["problems"][0]["code"] == "PERMISSION_DENIED"
    assert "Traceback" not in err


async def test_plan_edits_a_flow_and_bad_input_is_exit_2(llm, tmp_path: Path) -> None:
    flow = tmp_path / "f.flow.json"
    flow.write_text("{not json")
    code, _, err = await flowdesk("plan", "x", "--flow", str(flow), cwd=tmp_path)
    assert code == 2 and "f.flow.json" in err and "Traceback" not in err
    flow.write_text(
        json.dumps({"format": "flowdesk/workflow", "version": 1, "name": "f", "nodes": [
            {"id": "greet", "type": "file.write", "config": {"path": "a.txt", "content": "a"}}
        ], "edges": []})
    )  # fmt: skip
    llm.reply(plan_reply(act("set_config", node="greet", path="content", value="b")))
    code, out, err = await flowdesk(
        "plan", "say b", "--flow", str(flow), "--base-url", llm.base_url, cwd=tmp_path
    )
    assert code == 0, err
    assert "~ node greet" in out and "content = 'b'" in out


async def test_plan_offers_the_flow_sources_tools(llm, tmp_path: Path) -> None:
    import shutil

    spec = Path(__file__).parent.parent / "sources" / "specs"
    shutil.copy(spec / "petstore30.yaml", tmp_path / "petstore30.yaml")
    shutil.copy(spec / "common.yaml", tmp_path / "common.yaml")
    flow = tmp_path / "pets.flow.json"
    flow.write_text(json.dumps({
        "format": "flowdesk/workflow", "version": 1, "name": "pets",
        "sources": {"pets": {"type": "openapi", "spec": "petstore30.yaml",
                             "base_url": "http://127.0.0.1:9"}},
        "nodes": [], "edges": [],
    }))  # fmt: skip
    call = act(
        "add_node", id="list", type="tool.call",
        config={"source": "pets", "tool": "drop_all_pets", "arguments": {}},
    )  # fmt: skip
    llm.reply(plan_reply(call))
    code, out, err = await flowdesk(
        "plan", "list pets", "--flow", str(flow), "--base-url", llm.base_url, "--json",
        cwd=tmp_path,
    )  # fmt: skip
    assert code == 1, err
    sent = json.loads(llm.requests[0].json["messages"][1]["content"])
    tools = [e["tool"] for e in sent["catalogue"] if "tool" in e]
    assert "pets__listPets" in tools
    listing = next(e for e in sent["catalogue"] if e.get("tool") == "pets__listPets")
    assert listing["read_only"] is True and listing["input_schema"]["type"] == "object"
    problem = json.loads(out)["problems"][0]
    assert problem["code"] == "PERMISSION_DENIED" and "pets__drop_all_pets" in problem["message"]
