"""Job records and idempotent submission.

``LocalJobs`` (serve without ``--broker``): jobs run in the serving process,
at most ``concurrency`` at a time, with a bounded queue (a full queue answers
503); records and client request ids in one SQLite file of the user data
folder (``service.sqlite3``). ``RedisJobs`` (``--broker redis://...``): records
in Redis, runs sent as Celery tasks to ``flowdesk worker`` processes; a
``client_request_id`` is claimed with ``SET NX EX`` (15 minutes).

Job statuses: ``pending`` → ``running`` → ``completed`` | ``error``. A cancelled
job ends ``error`` with code ``CANCELLED``; a job whose worker vanished is
delivered again, and ends ``error`` with code ``WORKER_LOST`` when no worker
took it back in time (``STALE_S``), so no job stays ``running`` forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sqlite3
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from ..registry import NodeRegistry
from . import runner
from .flows import ServedFlow
from .metrics import RunMetrics

IDEMPOTENCY_WINDOW_S = 15 * 60
TERMINAL = ("completed", "error")
KEEP_S = 7 * 24 * 3600
#: a running job whose worker has not been heard of for this long ends WORKER_LOST
STALE_S = float(os.environ.get("FLOWDESK_JOB_STALE_S", "180"))


class QueueFull(Exception):
    """The in-process queue is full (503)."""


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JobStore(Protocol):
    async def submit(
        self,
        flow: ServedFlow,
        variables: dict[str, Any],
        client_request_id: str | None,
        source: str = "api",
    ) -> tuple[str, bool]: ...

    async def get(self, job_id: str) -> dict[str, Any] | None: ...

    async def cancel(self, job_id: str, reason: str) -> dict[str, Any] | None: ...

    async def list(self, limit: int) -> list[dict[str, Any]]: ...

    def counts(self) -> dict[str, int]: ...

    async def start(self) -> None: ...

    async def stop(self, grace_s: float) -> None: ...


def public(record: dict[str, Any]) -> dict[str, Any]:
    """A record as the API shows it."""
    keys = (
        "job_id",
        "workflow",
        "status",
        "result",
        "error",
        "duration_ms",
        "created_at",
        "started_at",
        "finished_at",
        "client_request_id",
        "source",
        "deliveries",
        "worker",
    )
    return {key: record.get(key) for key in keys}


# ------------------------------------------------------------------ local


class LocalJobs:
    """Runs in this process; records and request ids in SQLite."""

    def __init__(
        self,
        registry: NodeRegistry,
        metrics: RunMetrics | None,
        *,
        concurrency: int = 4,
        queue_size: int = 1000,
        path: Path | None = None,
    ) -> None:
        if path is None:
            from ..history import default_data_dir

            path = default_data_dir() / "service.sqlite3"
        self.path = path
        self.registry = registry
        self.metrics = metrics
        self.concurrency = concurrency
        self.queue: asyncio.Queue[tuple[str, ServedFlow, dict[str, Any]]] = asyncio.Queue(
            queue_size
        )
        self._cancel: dict[str, str] = {}
        self._running: dict[str, asyncio.Task[None]] = {}
        self._workers: list[asyncio.Task[None]] = []
        self._db = self._connect()

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(
            "CREATE TABLE IF NOT EXISTS jobs (job_id TEXT PRIMARY KEY, workflow TEXT, "
            "status TEXT, created REAL, record TEXT)"
        )
        db.execute(
            "CREATE TABLE IF NOT EXISTS requests (client_request_id TEXT PRIMARY KEY, "
            "job_id TEXT, created REAL)"
        )
        # jobs of a previous process that never ended: they never will
        for job_id, record in db.execute(
            "SELECT job_id, record FROM jobs WHERE status IN ('pending', 'running')"
        ).fetchall():
            data = json.loads(record)
            data.update(
                status="error",
                finished_at=now_iso(),
                error={"code": "SERVER_LOST", "message": "the server stopped before the job ended"},
            )
            db.execute(
                "UPDATE jobs SET status = 'error', record = ? WHERE job_id = ?",
                (json.dumps(data), job_id),
            )
        return db

    def _save(self, record: dict[str, Any]) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO jobs (job_id, workflow, status, created, record) "
            "VALUES (?, ?, ?, ?, ?)",
            (
                record["job_id"],
                record["workflow"],
                record["status"],
                time.time(),
                json.dumps(record),
            ),
        )

    def _load(self, job_id: str) -> dict[str, Any] | None:
        row = self._db.execute("SELECT record FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        return json.loads(row[0]) if row else None

    async def submit(
        self,
        flow: ServedFlow,
        variables: dict[str, Any],
        client_request_id: str | None,
        source: str = "api",
    ) -> tuple[str, bool]:
        # No await in here: one event loop makes the check-and-insert atomic.
        now = time.time()
        if client_request_id:
            self._db.execute(
                "DELETE FROM requests WHERE created < ?", (now - IDEMPOTENCY_WINDOW_S,)
            )
            row = self._db.execute(
                "SELECT job_id FROM requests WHERE client_request_id = ?", (client_request_id,)
            ).fetchone()
            if row:
                return row[0], False
        if self.queue.full():
            raise QueueFull
        job_id = uuid.uuid4().hex
        record = {
            "job_id": job_id,
            "workflow": flow.name,
            "status": "pending",
            "result": None,
            "error": None,
            "duration_ms": None,
            "created_at": now_iso(),
            "client_request_id": client_request_id,
            "source": source,
            "deliveries": 0,
        }
        self._db.execute("BEGIN IMMEDIATE")
        try:
            if client_request_id:
                self._db.execute(
                    "INSERT INTO requests (client_request_id, job_id, created) VALUES (?, ?, ?)",
                    (client_request_id, job_id, now),
                )
            self._save(record)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self.queue.put_nowait((job_id, flow, variables))
        return job_id, True

    async def get(self, job_id: str) -> dict[str, Any] | None:
        return self._load(job_id)

    async def list(self, limit: int) -> list[dict[str, Any]]:
        rows = self._db.execute(
            "SELECT record FROM jobs ORDER BY created DESC LIMIT ?", (limit,)
        ).fetchall()
        return [json.loads(row[0]) for row in rows]

    async def cancel(self, job_id: str, reason: str) -> dict[str, Any] | None:
        record = self._load(job_id)
        if record is None:
            return None
        if record["status"] == "pending":
            record.update(
                status="error",
                finished_at=now_iso(),
                error={"code": runner.CANCELLED, "message": reason},
            )
            self._save(record)
        elif record["status"] == "running":
            self._cancel[job_id] = reason
        return record

    def counts(self) -> dict[str, int]:
        rows = self._db.execute(
            "SELECT status, COUNT(*) FROM jobs WHERE status IN ('pending', 'running') "
            "GROUP BY status"
        ).fetchall()
        counts = {"pending": 0, "running": 0}
        counts.update({status: count for status, count in rows})
        return counts

    async def start(self) -> None:
        self._workers = [
            asyncio.ensure_future(self._work()) for _ in range(max(1, self.concurrency))
        ]

    async def _work(self) -> None:
        while True:
            job_id, flow, variables = await self.queue.get()
            record = self._load(job_id)
            if record is None or record["status"] != "pending":
                continue
            task = asyncio.ensure_future(self._run(record, flow, variables))
            self._running[job_id] = task
            try:
                await asyncio.shield(task)
            except asyncio.CancelledError:
                if not task.done():
                    raise
            finally:
                self._running.pop(job_id, None)

    async def _run(
        self, record: dict[str, Any], flow: ServedFlow, variables: dict[str, Any]
    ) -> None:
        job_id = record["job_id"]
        record.update(status="running", started_at=now_iso(), deliveries=1, worker="serve")
        self._save(record)

        async def cancel_requested() -> str | None:
            return self._cancel.get(job_id)

        outcome = await runner.execute(
            flow.document,
            job_id=job_id,
            flow_name=flow.name,
            variables=variables,
            data_root=str(flow.data_root),
            registry=self.registry,
            metrics=self.metrics,
            cancel_requested=cancel_requested,
            poll_s=0.05,
        )
        self._cancel.pop(job_id, None)
        record.update(
            status=outcome.status,
            result=outcome.result,
            error=outcome.error,
            duration_ms=round(outcome.duration_ms, 3),
            finished_at=now_iso(),
        )
        self._save(record)

    async def stop(self, grace_s: float) -> None:
        """Let running jobs finish for ``grace_s``, then cancel them (recorded)."""
        running = dict(self._running)
        for worker in self._workers:
            worker.cancel()
        if running:
            _, still = await asyncio.wait(running.values(), timeout=grace_s)
            if still:
                for job_id, task in running.items():
                    if task in still:
                        self._cancel[job_id] = f"the server stopped (grace period {grace_s:g} s)"
                await asyncio.wait(still, timeout=10)
        while not self.queue.empty():
            job_id, _, _ = self.queue.get_nowait()
            record = self._load(job_id)
            if record is not None and record["status"] == "pending":
                record.update(
                    status="error",
                    finished_at=now_iso(),
                    error={"code": runner.CANCELLED, "message": "the server stopped"},
                )
                self._save(record)
        self._db.close()


# ------------------------------------------------------------------ redis

JOB = "flowdesk:job:"
JOBS = "flowdesk:jobs"
REQ = "flowdesk:req:"
CANCEL = "flowdesk:cancel:"
LEASE = "flowdesk:lease:"
STATE = "flowdesk:state:"
_JSON_FIELDS = ("result", "error")
_NUMBER_FIELDS = ("duration_ms", "heartbeat")


def text(value: Any) -> str:
    """A Redis reply (bytes) as text."""
    return value.decode() if isinstance(value, bytes) else str(value)


def decode_record(raw: dict[Any, Any]) -> dict[str, Any] | None:
    if not raw:
        return None
    out: dict[str, Any] = {}
    for key, value in raw.items():
        name = key.decode() if isinstance(key, bytes) else key
        text = value.decode() if isinstance(value, bytes) else value
        if name in _JSON_FIELDS:
            out[name] = json.loads(text) if text else None
        elif name in _NUMBER_FIELDS:
            out[name] = float(text) if text else None
        elif name == "deliveries":
            out[name] = int(text)
        else:
            out[name] = text or None
    return out


def encode_fields(fields: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in fields.items():
        if key in _JSON_FIELDS:
            out[key] = json.dumps(value) if value is not None else ""
        else:
            out[key] = "" if value is None else str(value)
    return out


class RedisJobs:
    """Records in Redis, runs on Celery workers."""

    def __init__(self, broker: str, send: Callable[[str, list[Any]], None]) -> None:
        import redis
        import redis.asyncio as aioredis

        self.broker = broker
        self.redis = aioredis.from_url(broker)
        self.sync = redis.Redis.from_url(broker)
        self.send = send
        self._reaper: asyncio.Task[None] | None = None

    async def submit(
        self,
        flow: ServedFlow,
        variables: dict[str, Any],
        client_request_id: str | None,
        source: str = "api",
    ) -> tuple[str, bool]:
        job_id = uuid.uuid4().hex
        created = time.time()
        record = encode_fields(
            {
                "job_id": job_id,
                "workflow": flow.name,
                "status": "pending",
                "created_at": now_iso(),
                "client_request_id": client_request_id,
                "source": source,
                "deliveries": 0,
            }
        )
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(JOB + job_id, mapping=record)  # type: ignore[arg-type]
        pipe.expire(JOB + job_id, KEEP_S)
        await pipe.execute()
        if client_request_id:
            won = await self.redis.set(
                REQ + client_request_id, job_id, nx=True, ex=IDEMPOTENCY_WINDOW_S
            )
            if not won:
                await self.redis.delete(JOB + job_id)
                existing = await self.redis.get(REQ + client_request_id)
                if existing is not None:
                    return text(existing), False
                # expired between the two commands: claim it again
                return await self.submit(flow, variables, client_request_id, source)
        pipe = self.redis.pipeline(transaction=True)
        pipe.zadd(JOBS, {job_id: created})
        pipe.zremrangebyscore(JOBS, 0, created - KEEP_S)
        pipe.sadd(STATE + "pending", job_id)
        await pipe.execute()
        args = [job_id, flow.name, flow.document, variables, str(flow.data_root)]
        await asyncio.to_thread(self.send, job_id, args)
        return job_id, True

    async def get(self, job_id: str) -> dict[str, Any] | None:
        return decode_record(await self.redis.hgetall(JOB + job_id))

    async def list(self, limit: int) -> list[dict[str, Any]]:
        ids = await self.redis.zrevrange(JOBS, 0, max(0, limit - 1))
        pipe = self.redis.pipeline(transaction=False)
        for job_id in ids:
            pipe.hgetall(JOB + text(job_id))
        records = [decode_record(raw) for raw in await pipe.execute()]
        return [r for r in records if r]

    async def cancel(self, job_id: str, reason: str) -> dict[str, Any] | None:
        record = await self.get(job_id)
        if record is None:
            return None
        if record["status"] in TERMINAL:
            return record
        await self.redis.set(CANCEL + job_id, reason, ex=KEEP_S)
        if record["status"] == "pending":
            fields = {
                "status": "error",
                "finished_at": now_iso(),
                "error": {"code": runner.CANCELLED, "message": reason},
            }
            pipe = self.redis.pipeline(transaction=True)
            pipe.hset(JOB + job_id, mapping=encode_fields(fields))  # type: ignore[arg-type]
            pipe.srem(STATE + "pending", job_id)
            await pipe.execute()
            record.update(fields)
        return record

    def counts(self) -> dict[str, int]:
        return {
            "pending": int(self.sync.scard(STATE + "pending")),
            "running": int(self.sync.scard(STATE + "running")),
        }

    async def start(self) -> None:
        self._reaper = asyncio.ensure_future(self._reap())

    async def _reap(self) -> None:
        """Running jobs nobody has heard of for ``STALE_S`` end ``WORKER_LOST``."""
        while True:
            await asyncio.sleep(min(5.0, STALE_S / 4))
            with contextlib.suppress(Exception):
                for raw in await self.redis.smembers(STATE + "running"):
                    job_id = text(raw)
                    record = await self.get(job_id)
                    if record is None:
                        await self.redis.srem(STATE + "running", job_id)
                        continue
                    beat = record.get("heartbeat") or 0.0
                    if record["status"] != "running" or await self.redis.exists(LEASE + job_id):
                        continue
                    if time.time() - beat > STALE_S:
                        await mark_lost(self.redis, job_id, STALE_S)

    async def stop(self, grace_s: float) -> None:
        if self._reaper is not None:
            self._reaper.cancel()
        await self.redis.aclose()
        self.sync.close()


async def mark_lost(redis: Any, job_id: str, stale_s: float) -> None:
    fields = {
        "status": "error",
        "finished_at": now_iso(),
        "error": {
            "code": "WORKER_LOST",
            "message": f"no worker has run this job for {stale_s:g} s",
        },
    }
    pipe = redis.pipeline(transaction=True)
    pipe.hset(JOB + job_id, mapping=encode_fields(fields))
    pipe.srem(STATE + "running", job_id)
    await pipe.execute()
