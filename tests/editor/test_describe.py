"""The Describe panel (Ctrl+K) against a local OpenAI-compatible server over
real HTTP (on its own thread): the proposal is drawn on the canvas as a diff,
Accept is ONE undo step, Reject leaves the document untouched."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web
from flowdesk.editor.main_window import MainWindow
from flowdesk.engine.planner import TokenRateLimiter
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QGraphicsLineItem, QGraphicsRectItem

from tests.ai.fake_llm import FakeLLM, Reply, completion
from tests.ai.test_planner import act


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    fake = FakeLLM()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, Any] = {}

    async def start() -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", fake.handle)
        runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.1)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        fake.url = f"http://127.0.0.1:{port}"
        holder["runner"] = runner

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield fake
    finally:
        asyncio.run_coroutine_threadsafe(holder["runner"].cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


def reply(*actions: dict[str, Any], intent: str = "edit") -> Reply:
    body = {"intent": intent, "confidence": 0.9, "actions": list(actions)}
    return Reply(body=completion(body, prompt_tokens=500, completion_tokens=90))


def existing(window: MainWindow) -> None:
    from flowdesk.editor.document.commands import AddEdge, AddNode, Composite

    window.controller.push(
        Composite(
            "setup",
            [
                AddNode({"id": "fetch", "type": "http.request", "position": [40, 80],
                         "config": {"url": "https://x.test/a"}}),
                AddNode({"id": "old", "type": "file.write", "position": [300, 80],
                         "config": {"path": "a.txt", "content": "a"}}),
                AddEdge("fetch", "out", "old", "in"),
            ],
        )
    )  # fmt: skip


def propose(window: MainWindow, qtbot: Any, llm: FakeLLM, text: str) -> Any:
    panel = window.describe
    # a limiter of its own: the process's per-minute cap is shared by every test
    limiter = TokenRateLimiter(per_minute=1_000_000)
    panel.settings = {"base_url": llm.base_url, "model": "m", "environ": {}, "limiter": limiter}
    QTest.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(panel.dock.isVisible, timeout=3000)
    panel.prompt.setPlainText(text)
    with qtbot.waitSignal(panel._relay.done, timeout=15_000):
        panel.plan_button.click()
    return panel


PLAN = (
    act("remove_node", node="old"),
    act("add_node", id="save", type="file.write", title="Save result", position=[300, 220],
        config={"path": "b.txt", "content": "b"}),
    act("connect", from_="fetch", to="save"),
    act("set_config", node="fetch", path="url", value="https://x.test/b"),
)  # fmt: skip


def test_proposal_drawn_accept_is_one_undo_step(window: MainWindow, qtbot: Any, llm) -> None:
    existing(window)
    before = json.dumps(window.controller.document.to_json(), sort_keys=True)
    steps = window.controller.stack.index()
    llm.reply(reply(*PLAN, intent="save to b.txt instead"))
    panel = propose(window, qtbot, llm, "save to b.txt instead")
    lines = [panel.changes.item(i).text() for i in range(panel.changes.count())]
    assert '+ node save (file.write) "Save result"' in lines
    assert "- node old" in lines and "~ node fetch" in lines
    assert panel.changes.item(lines.index("- node old")).font().strikeOut()
    # Drawn on the canvas: a ghost for the new node, the removed one struck.
    ghosts = [i for i in panel.overlay.items if isinstance(i, QGraphicsRectItem)]
    strikes = [i for i in panel.overlay.items if isinstance(i, QGraphicsLineItem)]
    assert ghosts and len(strikes) >= 2
    assert all(i.scene() is window.scene for i in panel.overlay.items)
    assert "500 tokens in, 90 out" in window.statusBar().currentMessage()
    # Still nothing changed until Accept.
    assert json.dumps(window.controller.document.to_json(), sort_keys=True) == before
    panel.accept_button.click()
    doc = window.controller.document
    assert doc.has_node("save") and not doc.has_node("old")
    assert doc.node("fetch").config["url"] == "https://x.test/b"
    assert window.controller.stack.index() == steps + 1
    assert window.controller.stack.undoText().startswith("Apply plan")
    assert not panel.overlay.items
    window.controller.stack.undo()
    assert json.dumps(window.controller.document.to_json(), sort_keys=True) == before


def test_reject_leaves_the_document_untouched(window: MainWindow, qtbot: Any, llm) -> None:
    existing(window)
    before = json.dumps(window.controller.document.to_json(), sort_keys=True)
    steps = window.controller.stack.index()
    llm.reply(reply(*PLAN))
    panel = propose(window, qtbot, llm, "save to b.txt instead")
    assert panel.overlay.items
    panel.reject_button.click()
    assert json.dumps(window.controller.document.to_json(), sort_keys=True) == before
    assert window.controller.stack.index() == steps
    assert not panel.overlay.items
    assert "unchanged" in panel.status.text()


def test_refusal_in_plain_words(window: MainWindow, qtbot: Any, llm) -> None:
    llm.reply(reply(act("add_node", id="x", type="slack.post", config={})))
    panel = propose(window, qtbot, llm, "post to slack")
    assert "refused" in panel.status.text()
    assert "slack.post" in panel.changes.item(0).text()
    assert not panel.accept_button.isEnabled()
    assert window.controller.document.to_json()["nodes"] == []


def test_describe_accept_and_run_from_an_empty_flow(
    run_window: MainWindow, qtbot: Any, llm, tmp_path
) -> None:
    window = run_window
    from .conftest import open_flow, write_flow

    open_flow(window, write_flow(tmp_path, []))
    llm.reply(
        reply(
            act("add_node", id="hello", type="file.write", title="Say hello",
                config={"path": "hello.txt", "format": "text", "content": "hello"}),
            intent="write hello to a file",
        )
    )  # fmt: skip
    panel = propose(window, qtbot, llm, "write hello to hello.txt")
    assert panel.accept_run_button.isEnabled()
    with qtbot.waitSignal(window.bridge.run_finished, timeout=20_000) as blocker:
        panel.accept_run_button.click()
    assert blocker.args[0].status == "succeeded"
    assert (tmp_path / "hello.txt").read_text() == "hello"
    assert window.controller.document.has_node("hello")
