"""Real HTTP peers for the tests, on 127.0.0.1, each in a background thread.

``HttpbinServer``: httpbin (PyPI) under werkzeug's threaded WSGI server.
``Peer``: a small aiohttp server of ours for what httpbin lacks — 429 with
``Retry-After`` (seconds or HTTP date), flaky-then-healthy endpoints, slow
responses and slow bodies, large and endless bodies, header echo, dropped
connections — recording every call (time, headers, client connection) so that
tests can check retries, waits and connection reuse from the server's side.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from email.utils import formatdate

import httpbin
from aiohttp import web
from werkzeug.serving import BaseWSGIServer, make_server


class HttpbinServer:
    """httpbin on a free port, served by a werkzeug thread."""

    def __init__(self) -> None:
        self._server: BaseWSGIServer = make_server("127.0.0.1", 0, httpbin.app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> HttpbinServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


#: longest a ``/slow?wait_for=N`` request waits for the others (then it answers
#: anyway, and the test's ``most_in_flight`` check fails)
GATE_S = 10.0


@dataclass
class Call:
    """One request the peer received."""

    time: float
    method: str
    path: str
    headers: dict[str, str]
    peer: tuple[str, int]
    body: bytes = b""


@dataclass
class Peer:
    """Our aiohttp server; ``calls[key]`` lists the requests made to endpoints
    that take a ``key`` (so each test counts its own)."""

    url: str = ""
    calls: dict[str, list[Call]] = field(default_factory=lambda: defaultdict(list))
    #: bytes the endless/large endpoints managed to send, per key
    sent: dict[str, int] = field(default_factory=dict)
    transports: list[asyncio.BaseTransport] = field(default_factory=list)
    #: requests of a key the ``/slow`` endpoint holds now, and the most it held at once
    in_flight: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    most_in_flight: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    drop_url: str = ""
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _runner: web.AppRunner | None = None
    _drop_server: asyncio.AbstractServer | None = None

    # ------------------------------------------------------------ lifecycle
    def start(self) -> Peer:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        def serve() -> None:
            assert self._loop is not None
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(self._start())
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=serve, daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the test peer did not start")
        return self

    async def _start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/echo", self.echo)
        app.router.add_get("/rate-limited/{key}", self.rate_limited)
        app.router.add_route("*", "/flaky/{key}", self.flaky)
        app.router.add_get("/fail/{status}", self.fail)
        app.router.add_get("/slow", self.slow)
        app.router.add_get("/slow-body", self.slow_body)
        app.router.add_get("/large/{key}", self.large)
        app.router.add_get("/endless/{key}", self.endless)
        app.router.add_get("/bad-json", self.bad_json)
        app.router.add_get("/gzip-bomb", self.gzip_bomb)
        app.router.add_get("/binary", self.binary)
        app.router.add_get("/latin1", self.latin1)
        app.router.add_route("*", "/redirect", self.redirect)
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        # A server that accepts a connection, reads the request and hangs up.
        self._drop_server = await asyncio.start_server(self._drop, "127.0.0.1", 0)
        drop_port = self._drop_server.sockets[0].getsockname()[1]
        self.drop_url = f"http://127.0.0.1:{drop_port}"

    def stop(self) -> None:
        if self._loop is None:
            return

        async def shutdown() -> None:
            if self._drop_server is not None:
                self._drop_server.close()
            if self._runner is not None:
                await self._runner.cleanup()
            # Handlers still sleeping (slow endpoints) end here, not with the loop.
            rest = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in rest:
                task.cancel()
            await asyncio.gather(*rest, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(5)
        self._loop.close()

    # -------------------------------------------------------------- helpers
    def _record(self, key: str, request: web.Request, body: bytes = b"") -> list[Call]:
        transport = request.transport
        peername = transport.get_extra_info("peername") if transport else ("?", 0)
        if transport is not None and transport not in self.transports:
            self.transports.append(transport)
        call = Call(
            time.monotonic(),
            request.method,
            request.path_qs,
            {k.lower(): v for k, v in request.headers.items()},
            tuple(peername[:2]),
            body,
        )
        self.calls[key].append(call)
        return self.calls[key]

    def open_connections(self) -> int:
        """Client connections the server still holds open."""
        return sum(1 for t in self.transports if not t.is_closing())

    async def _drop(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        writer.close()

    # ------------------------------------------------------------ endpoints
    async def echo(self, request: web.Request) -> web.Response:
        body = await request.read()
        key = request.query.get("key", "echo")
        self._record(key, request, body)
        return web.json_response(
            {
                "method": request.method,
                "path": request.path,
                "query": {k: request.query.getall(k) for k in request.query},
                "headers": {k.lower(): v for k, v in request.headers.items()},
                "cookies": dict(request.cookies),
                "body": body.decode("utf-8", errors="replace"),
            }
        )

    async def rate_limited(self, request: web.Request) -> web.Response:
        """429 with Retry-After for the first ``times`` calls, then 200."""
        key = request.match_info["key"]
        calls = self._record(key, request)
        times = int(request.query.get("times", "1"))
        after = float(request.query.get("after", "1"))
        if len(calls) <= times:
            if request.query.get("form") == "date":
                value = formatdate(time.time() + after, usegmt=True)
            else:
                value = f"{after:g}"
            return web.Response(status=429, text="slow down", headers={"Retry-After": value})
        return web.json_response({"calls": len(calls)})

    async def flaky(self, request: web.Request) -> web.Response:
        """``status`` (503) for the first ``times`` calls, then 200."""
        key = request.match_info["key"]
        calls = self._record(key, request, await request.read())
        if len(calls) <= int(request.query.get("times", "1")):
            status = int(request.query.get("status", "503"))
            return web.Response(status=status, text=f"temporarily down (call {len(calls)})")
        return web.json_response({"calls": len(calls)})

    async def fail(self, request: web.Request) -> web.Response:
        size = int(request.query.get("size", "0"))
        text = request.query.get("text", "x") * size
        return web.Response(status=int(request.match_info["status"]), text=text)

    async def slow(self, request: web.Request) -> web.Response:
        """Answers after ``delay`` seconds. With ``wait_for=N`` it first holds
        the request until N requests of its ``key`` have been in flight at
        once (at most ``GATE_S``): concurrency shows in ``most_in_flight``
        without measuring time."""
        key = request.query.get("key", "slow")
        self._record(key, request)
        delay = float(request.query.get("delay", "1"))
        wait_for = int(request.query.get("wait_for", "0"))
        self.in_flight[key] += 1
        self.most_in_flight[key] = max(self.most_in_flight[key], self.in_flight[key])
        try:
            gate = time.monotonic() + GATE_S
            while self.most_in_flight[key] < wait_for and time.monotonic() < gate:
                await asyncio.sleep(0.005)
            await asyncio.sleep(delay)
        finally:
            self.in_flight[key] -= 1
        return web.json_response({"slept": delay, "tag": request.query.get("tag")})

    async def slow_body(self, request: web.Request) -> web.StreamResponse:
        """Headers at once, then the body trickles: one chunk, a pause, the rest."""
        response = web.StreamResponse(headers={"Content-Type": "text/plain"})
        await response.prepare(request)
        await response.write(b"first part, ")
        await asyncio.sleep(float(request.query.get("delay", "2")))
        await response.write(b"second part")
        await response.write_eof()
        return response

    async def large(self, request: web.Request) -> web.StreamResponse:
        """``size`` bytes, with a Content-Length unless ``length=0`` (chunked)."""
        key = request.match_info["key"]
        size = int(request.query["size"])
        response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        if request.query.get("length", "1") == "1":
            response.content_length = size
        await response.prepare(request)
        chunk = b"x" * 65536
        sent = 0
        self.sent[key] = 0
        try:
            while sent < size:
                part = chunk[: min(len(chunk), size - sent)]
                await response.write(part)
                sent += len(part)
                self.sent[key] = sent
            await response.write_eof()
        except (ConnectionError, asyncio.CancelledError):
            pass
        return response

    async def endless(self, request: web.Request) -> web.StreamResponse:
        """A chunked body that never ends (until the client hangs up)."""
        return await self.large(request)

    async def bad_json(self, request: web.Request) -> web.Response:
        return web.Response(text="{not json", content_type="application/json")

    async def gzip_bomb(self, request: web.Request) -> web.Response:
        """A small gzip body that inflates to ``size`` bytes."""
        body = gzip.compress(b"\0" * int(request.query["size"]))
        return web.Response(
            body=body,
            headers={"Content-Encoding": "gzip", "Content-Type": "application/octet-stream"},
        )

    async def binary(self, request: web.Request) -> web.Response:
        return web.Response(body=bytes(range(256)), content_type="application/octet-stream")

    async def latin1(self, request: web.Request) -> web.Response:
        return web.Response(
            body="café crème".encode("latin-1"),
            headers={"Content-Type": "text/plain; charset=iso-8859-1"},
        )

    async def redirect(self, request: web.Request) -> web.Response:
        self._record(request.query.get("key", "redirect"), request, await request.read())
        status = int(request.query.get("status", "302"))
        return web.Response(status=status, headers={"Location": request.query["to"]})
