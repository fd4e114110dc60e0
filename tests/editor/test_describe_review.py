"""The Describe panel's review, against the local OpenAI-compatible server over
real HTTP: the inspector marks the fields a proposal changes (old → new), each
planning call's tokens and cost appear in the log dock, the sources' tools are
offered to the planner, and "Accept and run" stops at the run's token budget."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flowdesk.editor.main_window import MainWindow
from PySide6.QtWidgets import QLabel

from tests.ai.fake_llm import Reply, completion
from tests.ai.test_planner import act

from .conftest import open_flow, write_flow
from .test_describe import PLAN, existing, llm, propose, reply

assert llm


def log_lines(window: MainWindow) -> list[tuple[str, ...]]:
    model = window.run.log.model
    return [
        tuple(str(model.index(r, c).data() or "") for c in range(4))
        for r in range(model.rowCount())
    ]


def test_changed_fields_are_marked_in_the_inspector(window: MainWindow, qtbot: Any, llm) -> None:
    existing(window)
    llm.reply(reply(*PLAN, intent="save to b.txt instead"))
    panel = propose(window, qtbot, llm, "save to b.txt instead")
    # A click on the changed node's line shows it in the inspector, marked.
    lines = [panel.changes.item(i) for i in range(panel.changes.count())]
    changed = next(item for item in lines if item.text() == "~ node fetch")
    panel.changes.itemClicked.emit(changed)
    inspector = window.inspector
    assert inspector.node_id == "fetch"
    marks = panel.marks
    assert marks is not None and set(marks.lines) == {"url"}
    line = marks.lines["url"]
    assert "<s>https://x.test/a</s>" in line.text() and "<b>https://x.test/b</b>" in line.text()
    assert "now:  https://x.test/a" in line.toolTip()
    assert "plan: https://x.test/b" in line.toolTip()
    editor = inspector.editors["url"]
    assert editor.property("planChanged") is True
    assert marks.banner is not None and "changes 1 field" in marks.banner.text()
    labels = [w.text() for w in inspector.findChildren(QLabel) if w.buddy() is editor]
    assert any("changed by the plan" in text for text in labels)
    # The field itself still shows the document's value: nothing changed yet.
    assert window.controller.document.node("fetch").config["url"] == "https://x.test/a"
    # The removed node says so.
    removed = next(item for item in lines if item.text() == "- node old")
    panel.changes.itemClicked.emit(removed)
    assert inspector.node_id == "old"
    assert marks.banner is not None and "removes this node" in marks.banner.text()
    # Reject: no mark is left.
    panel.changes.itemClicked.emit(changed)
    panel.reject_button.click()
    assert inspector.node_id == "fetch"
    assert not inspector.findChildren(QLabel, "planChange")
    assert not inspector.findChildren(QLabel, "proposalBanner")
    assert not inspector.editors["url"].property("planChanged")


def test_each_planning_call_is_logged_with_tokens_and_cost(
    window: MainWindow, qtbot: Any, llm
) -> None:
    body = {"intent": "write", "confidence": 0.9, "actions": [
        act("add_node", id="w", type="file.write", config={"path": "a.txt", "content": "a"})
    ]}  # fmt: skip
    llm.reply(Reply(body=completion(body, prompt_tokens=700, completion_tokens=80, cost=0.00042)))
    propose(window, qtbot, llm, "write a file")
    llm.reply(reply(act("add_node", id="x", type="slack.post", config={})))
    panel = window.describe
    panel.prompt.setPlainText("post to slack")  # the panel is still open: plan again
    with qtbot.waitSignal(panel._relay.done, timeout=15_000):
        panel.plan_button.click()
    notes = [line for line in log_lines(window) if line[2] == "Planner"]
    assert len(notes) == 2
    first, second = notes
    assert first[1] == "info"
    assert first[3].startswith("Planned: 700 tokens in, 80 out") and "cost $0.000420" in first[3]
    assert second[1] == "warning" and second[3].startswith("Refused: ")
    assert "500 tokens in, 90 out" in second[3] and "cost unknown" in second[3]
    assert len(first[0]) == 8 and first[0][2] == ":"  # the local clock time


def test_the_sources_tools_are_offered_to_the_planner(
    window: MainWindow, qtbot: Any, llm, tmp_path: Path
) -> None:
    spec = {
        "openapi": "3.0.3",
        "info": {"title": "Peer", "version": "1"},
        "paths": {"/items": {
            "get": {"operationId": "listItems"},
            "post": {"operationId": "createItem", "requestBody": {"content": {
                "application/json": {"schema": {"type": "object",
                                                "properties": {"name": {"type": "string"}}}}}}},
        }},
    }  # fmt: skip
    (tmp_path / "items.json").write_text(json.dumps(spec))
    path = write_flow(
        tmp_path,
        [],
        sources={
            "shop": {"type": "openapi", "spec": "items.json", "base_url": "http://127.0.0.1:9"}
        },
    )
    open_flow(window, path)
    call = act(
        "add_node", id="make", type="tool.call", title="Create item",
        config={"source": "shop", "tool": "createItem", "arguments": {"name": "a"}},
    )  # fmt: skip
    llm.reply(reply(call, intent="create an item"))
    panel = propose(window, qtbot, llm, "create an item named a")
    assert llm.requests, panel.status.text()
    sent = json.loads(llm.requests[0].json["messages"][1]["content"])
    tools = {e["tool"]: e for e in sent["catalogue"] if "tool" in e}
    assert set(tools) == {"shop__listItems", "shop__createItem"}
    assert tools["shop__createItem"]["read_only"] is False
    assert tools["shop__listItems"]["read_only"] is True
    assert panel.accept_button.isEnabled(), panel.status.text()
    panel.accept_button.click()
    config = window.controller.document.node("make").config
    assert config["client_request_id"].startswith("plan-")  # not read-only: a key


def test_accept_and_run_stops_at_the_runs_token_budget(
    run_window: MainWindow, qtbot: Any, llm, tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setenv("FLOWDESK_SECRET_OPENROUTER", "sk-test")
    window = run_window
    path = write_flow(
        tmp_path,
        [],
        settings={"max_ai_tokens": 100},
        credentials={"openrouter": {"type": "bearer"}},
    )
    open_flow(window, path)
    ai = {"model": "m", "base_url": llm.base_url, "max_tokens": 50}
    llm.reply(
        reply(
            act("add_node", id="draft", type="ai.transform", title="Draft",
                config={**ai, "user_prompt": "a"}, position=[0, 200]),
            act("add_node", id="polish", type="ai.transform", title="Polish",
                config={**ai, "user_prompt": "b"}, position=[260, 200]),
            act("connect", from_="draft", to="polish"),
            intent="draft, then polish",
        )
    )  # fmt: skip
    llm.fallback = Reply(body=completion("ok", prompt_tokens=60, completion_tokens=40))
    panel = propose(window, qtbot, llm, "draft and polish a text")
    with qtbot.waitSignal(window.bridge.run_finished, timeout=20_000) as blocker:
        panel.accept_run_button.click()
    result = blocker.args[0]
    assert result.status == "failed"
    error = result.nodes["polish"].error
    assert error["code"] == "TOKEN_BUDGET_EXCEEDED"
    assert "100 of 100 tokens" in error["message"]
    assert len(llm.requests) == 2  # the plan, then draft: polish was never sent
    qtbot.waitUntil(
        lambda: any("token budget" in line[3] for line in log_lines(window)), timeout=3000
    )
    # the planning call's line is still there above the run's
    assert log_lines(window)[0][2] == "Planner"
