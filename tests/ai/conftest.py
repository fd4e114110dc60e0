"""Fixtures of the AI tests: ``llm``, a local OpenAI-compatible server over real
HTTP (aiohttp on 127.0.0.1, a free port), and a registry of the built-ins."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from .fake_llm import FakeLLM


@pytest.fixture
async def llm() -> AsyncIterator[FakeLLM]:
    fake = FakeLLM()
    app = web.Application()
    app.router.add_post("/v1/chat/completions", fake.handle)
    # A short shutdown: handlers still sleeping (slow-answer tests) are cancelled.
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    fake.url = f"http://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        await runner.cleanup()
