"""A local OAuth2 token endpoint and protected API over real HTTP (aiohttp, in
a background thread). State is per ``key`` (the last path segment) so that
each test counts its own token fetches. Nothing a client sends is echoed."""

from __future__ import annotations

import asyncio
import base64
import threading
from dataclasses import dataclass, field
from urllib.parse import unquote

from aiohttp import web

CLIENT_ID = "flowdesk-client"


@dataclass
class Realm:
    secret: str
    ttl: int | None = 3600
    fetches: int = 0
    forms: list[dict[str, str]] = field(default_factory=list)
    valid: set[str] = field(default_factory=set)
    api_calls: int = 0
    api_401: int = 0
    refuse_all: bool = False
    #: the token endpoint answers this status (and Retry-After: 0) this many times
    fail_status: int = 0
    fail_times: int = 0


class AuthServer:
    def __init__(self) -> None:
        self.url = ""
        self.realms: dict[str, Realm] = {}
        #: /secure accepts "Bearer <bearer>" or Basic "<user>:<bearer>"
        self.bearer = ""
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None

    def realm(self, key: str, secret: str, ttl: int | None = 3600) -> Realm:
        realm = self.realms[key] = Realm(secret, ttl)
        return realm

    def start(self) -> AuthServer:
        ready = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(self._start())
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=serve, daemon=True)
        self._thread.start()
        assert ready.wait(10)
        return self

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/token/{key}", self.token)
        app.router.add_get("/api/{key}", self.api)
        app.router.add_get("/secure", self.secure)
        app.router.add_get("/fail", self.fail)
        app.router.add_get("/signed", self.signed)
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        async def shutdown() -> None:
            if self._runner is not None:
                await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    async def token(self, request: web.Request) -> web.Response:
        realm = self.realms[request.match_info["key"]]
        realm.fetches += 1
        if realm.fail_times > 0:
            realm.fail_times -= 1
            return web.Response(
                status=realm.fail_status, text="token service busy", headers={"Retry-After": "0"}
            )
        form = {k: str(v) for k, v in (await request.post()).items()}
        realm.forms.append(form)
        await asyncio.sleep(0.05)  # concurrent requests overlap with the fetch
        header = request.headers.get("Authorization", "")
        ok = False
        if header.startswith("Basic "):
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            ok = unquote(user) == CLIENT_ID and unquote(password) == realm.secret
        if not ok:
            return web.json_response(
                {"error": "invalid_client", "error_description": "client authentication failed"},
                status=401,
            )
        if form.get("grant_type") != "client_credentials":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        token = f"access-{realm.fetches}-{id(realm)}"
        realm.valid.add(token)
        body: dict[str, object] = {"access_token": token, "token_type": "Bearer"}
        if realm.ttl is not None:
            body["expires_in"] = realm.ttl
        return web.json_response(body)

    async def api(self, request: web.Request) -> web.Response:
        realm = self.realms[request.match_info["key"]]
        realm.api_calls += 1
        header = request.headers.get("Authorization", "")
        if not realm.refuse_all and header.startswith("Bearer ") and header[7:] in realm.valid:
            return web.json_response({"ok": True})
        realm.api_401 += 1
        return web.json_response({"error": "invalid_token"}, status=401)

    async def secure(self, request: web.Request) -> web.Response:
        header = request.headers.get("Authorization", "")
        basic = base64.b64encode(f"alice:{self.bearer}".encode()).decode()
        if self.bearer and header in (f"Bearer {self.bearer}", f"Basic {basic}"):
            return web.json_response({"ok": True})
        return web.json_response({"error": "unauthorized"}, status=401)

    async def signed(self, request: web.Request) -> web.Response:
        """Checks the example resolver's HMAC signature (key: ``bearer``)."""
        import hashlib
        import hmac

        stamp = request.headers.get("X-Timestamp", "")
        url = str(request.url.with_query(None))
        text = f"{request.method} {url} {stamp}"
        good = hmac.new(self.bearer.encode(), text.encode(), hashlib.sha256).hexdigest()
        if self.bearer and hmac.compare_digest(request.headers.get("X-Signature", ""), good):
            return web.json_response({"ok": True, "key_id": request.headers.get("X-Key-Id")})
        return web.json_response({"error": "bad signature"}, status=401)

    async def fail(self, request: web.Request) -> web.Response:
        return web.Response(status=500, text="internal trouble, try later")
