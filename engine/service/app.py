"""``flowdesk serve``: the HTTP side (aiohttp.web) — the job API, webhooks,
``/metrics`` — the scheduler, and the graceful stop.

Every endpoint but ``/hooks/...`` needs ``Authorization: Bearer TOKEN``.
Errors are JSON: ``{"error": {"code", "message"}}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import json
import secrets
import signal
import sys
from dataclasses import dataclass, field
from typing import Any, TextIO
from urllib.parse import urlsplit, urlunsplit

from aiohttp import web
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from ..keyring_store import default_secret_store
from ..registry import NodeRegistry
from ..triggers import TRIGGER_VARIABLE
from .flows import FlowCatalog, ServeConfigError, Trigger, allow_patterns
from .jobs import TERMINAL, JobStore, LocalJobs, QueueFull, RedisJobs, public
from .metrics import MetricStore, RedisMetricStore, RunMetrics, ServiceCollector, record
from .scheduler import LastFires, Scheduler

TOKEN_ENV = "FLOWDESK_SERVE_TOKEN"
#: the keyring entry of the token (``flowdesk credentials set serve_token``)
TOKEN_SECRET = "serve_token"
MAX_BODY = 10 * 1024 * 1024
_HIDDEN_HEADERS = {"authorization", "cookie", "proxy-authorization"}

STATE: web.AppKey[Service] = web.AppKey("service", object)  # type: ignore[arg-type]


@dataclass(slots=True)
class Service:
    catalog: FlowCatalog
    jobs: JobStore
    store: MetricStore
    token: str
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    stopping: bool = False


def _error(status: int, code: str, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message, **extra}}, status=status)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def mask_url(url: str) -> str:
    """``url`` without its password (for messages)."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


@web.middleware
async def _auth(request: web.Request, handler: Any) -> web.StreamResponse:
    if request.path.startswith("/hooks/"):
        response: web.StreamResponse = await handler(request)
        return response
    service = request.app[STATE]
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), service.token.encode()
    ):
        response = _error(
            401,
            "UNAUTHORIZED",
            "this endpoint needs 'Authorization: Bearer TOKEN' "
            f"(the server's token: {TOKEN_ENV} or the keyring entry {TOKEN_SECRET!r})",
        )
        response.headers["WWW-Authenticate"] = "Bearer"
        return response
    answer: web.StreamResponse = await handler(request)
    return answer


async def _json_body(request: web.Request) -> Any:
    try:
        return await request.json()
    except (ValueError, UnicodeDecodeError):
        raise web.HTTPBadRequest(
            text=json.dumps({"error": {"code": "BAD_REQUEST", "message": "the body is not JSON"}}),
            content_type="application/json",
        ) from None


async def post_run(request: web.Request) -> web.Response:
    service = request.app[STATE]
    if service.stopping:
        return _error(503, "STOPPING", "the server is stopping and takes no new jobs")
    body = await _json_body(request)
    if not isinstance(body, dict):
        return _error(400, "BAD_REQUEST", 'expected {"workflow", "variables", "client_request_id"}')
    name = body.get("workflow")
    variables = body.get("variables") or {}
    request_id = body.get("client_request_id")
    if not isinstance(name, str) or not name:
        return _error(400, "BAD_REQUEST", "'workflow' (the name of a served flow) is required")
    if not isinstance(variables, dict):
        return _error(400, "BAD_REQUEST", "'variables' must be an object")
    if TRIGGER_VARIABLE in variables:
        return _error(400, "BAD_REQUEST", f"the variable {TRIGGER_VARIABLE!r} is reserved")
    if request_id is not None and (
        not isinstance(request_id, str) or not 0 < len(request_id) <= 200
    ):
        return _error(
            400, "BAD_REQUEST", "'client_request_id' must be a string of 1-200 characters"
        )
    flow = service.catalog.get(name)
    if flow is None:
        served = ", ".join(sorted(service.catalog.flows)) or "none"
        return _error(404, "WORKFLOW_NOT_FOUND", f"no served workflow {name!r} (served: {served})")
    try:
        job_id, created = await service.jobs.submit(flow, variables, request_id, "api")
    except QueueFull:
        return _error(503, "QUEUE_FULL", "the job queue is full: retry later")
    return web.json_response({"job_id": job_id, "deduplicated": not created}, status=202)


async def get_runs(request: web.Request) -> web.Response:
    service = request.app[STATE]
    try:
        limit = max(1, min(1000, int(request.query.get("limit", "50"))))
    except ValueError:
        return _error(400, "BAD_REQUEST", "'limit' must be a number")
    jobs = await service.jobs.list(limit)
    return web.json_response({"jobs": [public(job) for job in jobs]})


async def get_run(request: web.Request) -> web.Response:
    service = request.app[STATE]
    record_ = await service.jobs.get(request.match_info["job_id"])
    if record_ is None:
        return _error(404, "JOB_NOT_FOUND", f"no job {request.match_info['job_id']!r}")
    return web.json_response(public(record_))


async def delete_run(request: web.Request) -> web.Response:
    service = request.app[STATE]
    job_id = request.match_info["job_id"]
    record_ = await service.jobs.cancel(job_id, "cancelled by DELETE /runs/" + job_id)
    if record_ is None:
        return _error(404, "JOB_NOT_FOUND", f"no job {job_id!r}")
    return web.json_response(public(record_), status=202)


async def get_workflows(request: web.Request) -> web.Response:
    service = request.app[STATE]
    out = []
    for name, flow in sorted(service.catalog.flows.items()):
        triggers = []
        for trigger in flow.triggers:
            if trigger.type == "trigger.webhook":
                triggers.append(
                    {
                        "node": trigger.node_id,
                        "type": trigger.type,
                        "webhook": f"{trigger.config.method} /hooks/{trigger.config.path}",
                    }
                )
            else:
                triggers.append(
                    {
                        "node": trigger.node_id,
                        "type": trigger.type,
                        "cron": trigger.config.cron,
                        "timezone": trigger.config.timezone,
                    }
                )
        out.append({"name": name, "path": str(flow.path), "triggers": triggers})
    return web.json_response({"workflows": out})


async def get_metrics(request: web.Request) -> web.Response:
    service = request.app[STATE]
    text = await asyncio.to_thread(generate_latest, service.registry)
    return web.Response(body=text, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def hook(request: web.Request) -> web.StreamResponse:
    service = request.app[STATE]
    response = await _hook(request, service)
    with contextlib.suppress(Exception):
        await asyncio.to_thread(
            record, service.store, "flowdesk_webhook_requests", (str(response.status),)
        )
    return response


async def _hook(request: web.Request, service: Service) -> web.Response:
    path = request.match_info["path"].strip("/")
    trigger = service.catalog.webhooks.get((request.method, path))
    if trigger is None:
        methods = sorted(m for (m, p) in service.catalog.webhooks if p == path)
        if methods:
            return _error(405, "METHOD_NOT_ALLOWED", f"/hooks/{path} takes {', '.join(methods)}")
        return _error(404, "HOOK_NOT_FOUND", f"no webhook /hooks/{path}")
    if service.stopping:
        return _error(503, "STOPPING", "the server is stopping and takes no new jobs")
    config = trigger.config
    if config.secret_header:
        expected = await asyncio.to_thread(default_secret_store().get_secret, config.secret)
        if not expected:
            return _error(
                503,
                "SECRET_MISSING",
                f"the webhook's secret {config.secret!r} is not set on the server",
            )
        given = request.headers.get(config.secret_header, "")
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return _error(401, "UNAUTHORIZED", f"missing or wrong {config.secret_header} header")
    flow = service.catalog.get(trigger.flow)
    assert flow is not None
    payload = await _request_payload(request, path, trigger)
    variables = {TRIGGER_VARIABLE: {"node": trigger.node_id, "data": payload}}
    request_id = request.headers.get("Idempotency-Key") or None
    try:
        job_id, _ = await service.jobs.submit(
            flow, variables, f"hook:{path}:{request_id}" if request_id else None, "webhook"
        )
    except QueueFull:
        return _error(503, "QUEUE_FULL", "the job queue is full: retry later")
    if config.respond == "job":
        return web.json_response({"job_id": job_id}, status=202)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + config.timeout_s
    while loop.time() < deadline:
        job = await service.jobs.get(job_id)
        if job is not None and job.get("status") in TERMINAL:
            if job["status"] == "error":
                return web.json_response({"job_id": job_id, "error": job.get("error")}, status=500)
            result = job.get("result") or {}
            if config.respond_node:
                node = (result.get("nodes") or {}).get(config.respond_node) or {}
                return web.json_response(node.get("output"), headers={"X-Flowdesk-Job": job_id})
            return web.json_response(result, headers={"X-Flowdesk-Job": job_id})
        await asyncio.sleep(0.05)
    return web.json_response({"job_id": job_id, "status": "running"}, status=202)


async def _request_payload(request: web.Request, path: str, trigger: Trigger) -> dict[str, Any]:
    hidden = set(_HIDDEN_HEADERS)
    if trigger.config.secret_header:
        hidden.add(trigger.config.secret_header.lower())
    headers = {k: v for k, v in request.headers.items() if k.lower() not in hidden}
    raw = await request.read()
    body: Any = None
    if raw:
        text = raw.decode("utf-8", errors="replace")
        body = text
        if "json" in request.content_type:
            with contextlib.suppress(ValueError):
                body = json.loads(text)
    return {
        "method": request.method,
        "path": path,
        "headers": headers,
        "query": dict(request.query),
        "body": body,
    }


def build_app(service: Service) -> web.Application:
    app = web.Application(middlewares=[_auth], client_max_size=MAX_BODY)
    app[STATE] = service
    app.router.add_post("/runs", post_run)
    app.router.add_get("/runs", get_runs)
    app.router.add_get("/runs/{job_id}", get_run)
    app.router.add_delete("/runs/{job_id}", delete_run)
    app.router.add_get("/workflows", get_workflows)
    app.router.add_get("/metrics", get_metrics)
    app.router.add_route("*", "/hooks/{path:.+}", hook)
    return app


def resolve_token(environ: dict[str, str] | None = None) -> str | None:
    import os

    env = os.environ if environ is None else environ
    token = env.get(TOKEN_ENV, "").strip()
    if token:
        return token
    with contextlib.suppress(Exception):
        from ..keyring_store import KeyringSecretStore

        found = KeyringSecretStore().get_secret(TOKEN_SECRET)
        if found:
            return found.strip()
    return None


@dataclass(slots=True)
class ServeOptions:
    targets: list[str]
    host: str = "127.0.0.1"
    port: int = 8787
    broker: str | None = None
    allow: str | None = None
    concurrency: int = 4
    queue_size: int = 1000
    grace_s: float = 30.0


async def serve(options: ServeOptions, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Serve until SIGTERM/SIGINT. 0 after a clean stop, 2 when it cannot start."""
    token = resolve_token()
    if token is None and not is_loopback(options.host):
        err.write(
            f"flowdesk serve: refusing to listen on {options.host} without a token: set "
            f"{TOKEN_ENV} or store one with 'flowdesk credentials set {TOKEN_SECRET}'\n"
        )
        return 2
    registry = NodeRegistry.default()
    allow, allow_source = allow_patterns(options.allow)
    try:
        catalog = FlowCatalog.load(options.targets, registry, allow, allow_source)
    except ServeConfigError as exc:
        err.write(f"flowdesk serve: cannot serve:\n{exc}\n")
        return 2
    metrics: RunMetrics | None = None
    jobs: JobStore
    last: LastFires
    if options.broker:
        import redis

        from .worker import make_app, sender

        sync = redis.Redis.from_url(options.broker, socket_connect_timeout=5)
        try:
            sync.ping()
        except (redis.RedisError, ValueError) as exc:
            err.write(
                f"flowdesk serve: cannot reach the broker {mask_url(options.broker)}: {exc}\n"
            )
            return 2
        store: MetricStore = RedisMetricStore(sync)
        redis_jobs = RedisJobs(options.broker, sender(make_app(options.broker)))
        jobs = redis_jobs
        last = LastFires(redis=redis_jobs.redis)
    else:
        from ..history import default_data_dir

        store = MetricStore()
        metrics = RunMetrics(store)
        metrics.start()
        jobs = LocalJobs(
            registry, metrics, concurrency=options.concurrency, queue_size=options.queue_size
        )
        last = LastFires(path=default_data_dir() / "schedules.json")
    if token is None:
        token = secrets.token_urlsafe(24)
        err.write(
            f"no token set ({TOKEN_ENV} or the keyring entry {TOKEN_SECRET!r}): this session's "
            f"token is {token}\n"
        )
    service = Service(catalog, jobs, store, token)
    service.registry.register(ServiceCollector(store, jobs.counts))
    app = build_app(service)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, options.host, options.port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        err.write(
            f"flowdesk serve: cannot listen on {options.host}:{options.port}: {exc.strerror}\n"
        )
        return 2
    await jobs.start()
    scheduler = Scheduler(catalog, jobs.submit, store, last)
    scheduler.start()
    mode = f"broker {mask_url(options.broker)}" if options.broker else "in-process jobs"
    out.write(
        f"serving {len(catalog.flows)} workflow(s) on http://{options.host}:{options.port} "
        f"({mode}; {len(catalog.webhooks)} webhook(s), {len(catalog.schedules)} schedule(s))\n"
    )
    out.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    out.write(f"stopping: no new jobs; running ones have {options.grace_s:g} s to finish\n")
    out.flush()
    service.stopping = True
    await scheduler.stop()
    await jobs.stop(options.grace_s)
    await runner.cleanup()
    if metrics is not None:
        metrics.stop()
    out.write("stopped\n")
    return 0
