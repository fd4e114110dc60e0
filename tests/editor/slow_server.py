"""A local HTTP server for run tests, on its own thread and event loop:
``/fast`` answers at once with JSON, ``/slow`` waits ``slow_s`` seconds.
It counts the requests it saw per path."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from typing import Any

from aiohttp import web


class LocalServer:
    def __init__(self, slow_s: float = 30.0) -> None:
        self.slow_s = slow_s
        self.hits: Counter[str] = Counter()
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="test-server", daemon=True)
        self._runner: web.AppRunner | None = None

    def start(self) -> LocalServer:
        self._thread.start()
        assert self._ready.wait(10), "the test server did not start"
        return self

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._setup())
        self._ready.set()
        self._loop.run_forever()

    async def _setup(self) -> None:
        app = web.Application()
        app.router.add_get("/fast", self._fast)
        app.router.add_get("/slow", self._slow)
        # a client that goes away cancels its handler (the slow one)
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server: Any = site._server
        port = server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    async def _fast(self, request: web.Request) -> web.Response:
        self.hits["/fast"] += 1
        return web.json_response({"items": [{"id": 1, "name": "one"}, {"id": 2, "name": "two"}]})

    async def _slow(self, request: web.Request) -> web.Response:
        self.hits["/slow"] += 1
        await asyncio.sleep(self.slow_s)
        return web.json_response({"late": True})

    def stop(self) -> None:
        async def shutdown() -> None:
            if self._runner is not None:
                await self._runner.cleanup()
            current = asyncio.current_task()
            others = [t for t in asyncio.all_tasks() if t is not current]
            for task in others:
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)

        future = asyncio.run_coroutine_threadsafe(shutdown(), self._loop)
        try:
            future.result(5)
        except Exception:  # noqa: BLE001 - a slow handler may still hold on
            pass
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()
