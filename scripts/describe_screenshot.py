"""Take docs/screenshots/describe-proposal.png: a proposal under review in the
Describe panel (Ctrl+K), the changed node selected so that the inspector marks
the fields the plan changes, and the planning calls' tokens and cost in the
log dock. The model is the tests' local OpenAI-compatible server with a
scripted answer, so the picture needs no network and no API key.

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/describe_screenshot.py [OUT.png]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiohttp import web  # noqa: E402
from flowdesk.editor.app import build_window  # noqa: E402
from flowdesk.editor.document.commands import (  # noqa: E402
    AddEdge,
    AddNode,
    Composite,
    SetWorkflowField,
)
from flowdesk.editor.theme import DARK, apply_theme  # noqa: E402
from flowdesk.engine import NodeRegistry  # noqa: E402
from flowdesk.engine.planner import TokenRateLimiter  # noqa: E402
from PySide6.QtCore import Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from tests.ai.fake_llm import FakeLLM, Reply, completion  # noqa: E402
from tests.ai.test_planner import act  # noqa: E402

PROMPT = (
    "Send email to john@example.com saying thanks for the meeting, with the summary, "
    "instead of archiving it"
)
PLAN = {
    "intent": "email John a thank-you with the summary instead of archiving it",
    "confidence": 0.88,
    "actions": [
        act("remove_node", node="archive"),
        act(
            "add_node", id="thank_john", type="email.send", title="Thank John",
            position=[700, 380],
            config={"from": "me@example.com", "to": ["john@example.com"],
                    "subject": "Thanks for the meeting",
                    "text": "Thanks for the meeting! Summary:\n{{ input }}",
                    "host": "smtp.example.com"},
        ),
        act("connect", from_="summary", to="thank_john"),
        act("set_config", node="summary", path="user_prompt",
            value="Summarize in 3 bullet points for John: {{ input }}"),
        act("set_config", node="summary", path="max_tokens", value=400),
    ],
}  # fmt: skip


def serve(fake: FakeLLM) -> None:
    loop = asyncio.new_event_loop()
    ready = threading.Event()

    async def start() -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", fake.handle)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        fake.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        ready.set()
        loop.run_forever()

    threading.Thread(target=run, daemon=True).start()
    ready.wait(10)


def main() -> int:
    default = ROOT / "docs" / "screenshots" / "describe-proposal.png"
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    fake = FakeLLM()
    serve(fake)
    refused = {"intent": "post to Slack", "confidence": 0.4, "actions": [
        act("add_node", id="post", type="slack.post", config={})]}  # fmt: skip
    fake.reply(Reply(body=completion(refused, prompt_tokens=4410, completion_tokens=38)))
    fake.reply(Reply(body=completion(PLAN, prompt_tokens=4630, completion_tokens=212, cost=0.0008)))
    app = QApplication([])
    apply_theme(app, DARK)
    tmp = Path(tempfile.mkdtemp())
    window = build_window(NodeRegistry.default(plugins=False), scratch=tmp)
    window.resize(1440, 900)
    window.show()
    window.controller.push(
        Composite(
            "setup",
            [
                AddNode({"id": "notes", "type": "file.read", "title": "Meeting notes",
                         "position": [40, 240], "config": {"path": "notes.md"}}),
                AddNode({"id": "summary", "type": "ai.transform", "title": "Summarize",
                         "position": [340, 240],
                         "config": {"model": "openai/gpt-4o-mini",
                                    "user_prompt": "Summarize in 3 bullet points: {{ input }}"}}),
                AddNode({"id": "archive", "type": "file.write", "title": "Archive summary",
                         "position": [700, 120],
                         "config": {"path": "summary.txt", "content": "{{ input }}"}}),
                AddEdge("notes", "out", "summary", "in"),
                AddEdge("summary", "out", "archive", "in"),
            ],
        )
    )  # fmt: skip
    window.controller.push(
        SetWorkflowField("credentials", {"openrouter": {"type": "bearer"}}, text="credentials")
    )
    window.controller.mark_saved()
    panel = window.describe
    panel.settings = {
        "base_url": fake.base_url,
        "model": "openai/gpt-4o-mini",
        "environ": {},
        "limiter": TokenRateLimiter(per_minute=1_000_000),
    }
    panel.dock.show()

    def plan(text: str, then: int) -> None:
        panel.prompt.setPlainText(text)
        panel.plan_button.click()
        QTimer.singleShot(1500, lambda: step(then))

    def step(n: int) -> None:
        if n == 0:
            plan("Also post the summary to Slack", 1)
        elif n == 1:
            plan(PROMPT, 2)
        elif n == 2:
            window.view.fit_all()
            window.view.set_zoom(window.view.zoom * 0.92)  # room for the strike marks
            window.resizeDocks(
                [window.inspector_dock, panel.dock], [430, 420], Qt.Orientation.Vertical
            )
            window.resizeDocks([window.inspector_dock], [360], Qt.Orientation.Horizontal)
            window.tabifyDockWidget(window.run.log_dock, window.run.output_dock)
            window.run.log_dock.raise_()
            panel.select("summary")
            QTimer.singleShot(600, lambda: step(3))
        else:
            window.grab().save(str(out))
            sys.stdout.write(f"wrote {out}: {panel.status.text()}\n")
            window.controller.mark_saved()
            app.quit()

    QTimer.singleShot(300, lambda: step(0))
    app.exec()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
