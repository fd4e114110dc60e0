"""``flowdesk worker``: a Celery worker (Redis broker) that runs the jobs
``flowdesk serve --broker`` sends.

A job's message carries the workflow document, its variables and the data
root, so a worker needs no copy of the flow files (file nodes need the data
root's files). Late acknowledgement: a message is acknowledged when its run
has ended, so a worker killed mid-run leaves it unacknowledged and Redis
delivers it again after ``FLOWDESK_VISIBILITY_TIMEOUT`` seconds. A lease key
(``flowdesk:lease:JOB``, renewed while the run lasts by a thread of its own, so
that a busy event loop — a long synchronous node, a loaded machine — cannot
let it lapse while the worker lives) makes sure one worker runs a job at a
time; a redelivered job that already ended is
acknowledged and not run again. Email sends with an idempotency key are not
repeated by the second run (the send ledger). Status, results and metrics go
to Redis, where serve reads them.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
import time
import uuid
from typing import Any

from ..registry import NodeRegistry
from . import runner
from .jobs import CANCEL, JOB, LEASE, STATE, TERMINAL, decode_record, encode_fields, now_iso, text
from .metrics import RedisMetricStore, RunMetrics

TASK = "flowdesk.run_job"
QUEUE = "flowdesk"
log = logging.getLogger(__name__)


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


VISIBILITY_TIMEOUT_S = _env_float("FLOWDESK_VISIBILITY_TIMEOUT", 60.0)
LEASE_S = _env_float("FLOWDESK_LEASE_S", 15.0)
MAX_DELIVERIES = 5
#: kombu's lock around putting unacknowledged messages back in the queue: a
#: worker killed while holding it (default 300 s) would stop every redelivery
#: for five minutes. Held for milliseconds; a second worker sweeping at the same
#: time is harmless (kombu restores each message in a WATCH transaction).
UNACKED_MUTEX_EXPIRE_S = max(1, min(10, int(VISIBILITY_TIMEOUT_S)))
#: renew the lease only while it still holds our token (a lapsed lease that
#: another worker took is not extended for it)
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
#: delete the lease only while it still holds our token
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""
#: how long a finished run retries writing its outcome while Redis is unreachable
WRITE_RETRY_S = 300.0


def make_app(broker: str) -> Any:
    """The Celery app of serve (sends) and workers (runs)."""
    from celery import Celery

    app = Celery("flowdesk", broker=broker, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        task_default_queue=QUEUE,
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        broker_transport_options={
            "visibility_timeout": VISIBILITY_TIMEOUT_S,
            "unacked_restore_interval": max(1, int(VISIBILITY_TIMEOUT_S / 10)),
            "unacked_restore_throttle": 1,
            "unacked_mutex_expire": UNACKED_MUTEX_EXPIRE_S,
        },
        worker_hijack_root_logger=False,
        worker_cancel_long_running_tasks_on_connection_loss=False,
        worker_enable_remote_control=False,
    )
    app.task(name=TASK, bind=True)(_task)
    return app


def sender(app: Any) -> Any:
    def send(job_id: str, args: list[Any]) -> None:
        app.send_task(TASK, args=args, task_id=job_id, queue=QUEUE)

    return send


class _State:
    """One per worker process: Redis, the registry, the metrics subscriber."""

    _lock = threading.Lock()
    _instance: _State | None = None

    def __init__(self, broker: str) -> None:
        import redis

        self.redis = redis.Redis.from_url(broker, socket_timeout=5, socket_connect_timeout=5)
        self.registry = NodeRegistry.default()
        self.metrics = RunMetrics(RedisMetricStore(self.redis))
        self.metrics.start()
        self.name = f"{socket.gethostname()}:{os.getpid()}"

    @classmethod
    def get(cls, broker: str) -> _State:
        with cls._lock:
            if cls._instance is None:
                cls._instance = _State(broker)
            return cls._instance


def _task(task: Any, job_id: str, flow_name: str, document: Any, variables: Any, root: str) -> None:
    state = _State.get(task.app.conf.broker_url)
    run_job(state, job_id, flow_name, document, variables, root)


def _retry(action: Any, deadline_s: float = WRITE_RETRY_S) -> Any:
    """``action()``, retried while Redis is unreachable (a restart)."""
    import redis

    end = time.monotonic() + deadline_s
    while True:
        try:
            return action()
        except (redis.ConnectionError, redis.TimeoutError):
            if time.monotonic() > end:
                raise
            time.sleep(0.5)


def run_job(
    state: _State, job_id: str, flow_name: str, document: Any, variables: Any, root: str
) -> None:
    r = state.redis
    token = uuid.uuid4().hex
    lease_ms = int(LEASE_S * 1000)
    while True:
        record = decode_record(_retry(lambda: r.hgetall(JOB + job_id)))
        if record is not None and record.get("status") in TERMINAL:
            return  # already ended (a redelivery after the end, or cancelled while pending)
        if _retry(lambda: r.exists(CANCEL + job_id)):
            _finish(r, job_id, "error", None, {"code": runner.CANCELLED, "message": "cancelled"}, 0)
            return
        if _retry(lambda: r.set(LEASE + job_id, token, nx=True, px=lease_ms)):
            break
        time.sleep(1.0)  # another worker runs it: watch until it ends or its lease lapses
    stop = threading.Event()
    beat = threading.Thread(
        target=_keep_lease,
        args=(r, job_id, token, lease_ms, stop),
        name=f"lease-{job_id[:8]}",
        daemon=True,
    )
    beat.start()
    try:
        _run_leased(state, job_id, flow_name, document, variables, root, record)
    finally:
        stop.set()
        beat.join()
    release = r.register_script(_RELEASE)
    _retry(lambda: release(keys=[LEASE + job_id], args=[token]))


def _keep_lease(r: Any, job_id: str, token: str, lease_ms: int, stop: threading.Event) -> None:
    """Renew the job's lease (and heartbeat) until ``stop``. A thread of its
    own: the run's event loop may be busy for longer than the lease (a
    synchronous node, a starved process), and the job must not be handed to a
    second worker while this one still runs it."""
    import redis

    renew = r.register_script(_RENEW)
    every = min(1.0, lease_ms / 3000)
    while not stop.wait(every):
        try:
            if renew(keys=[LEASE + job_id], args=[token, lease_ms]):
                r.hset(JOB + job_id, "heartbeat", str(time.time()))
        except redis.RedisError:
            continue  # (Redis restarting: the next beat tries again)


def _run_leased(
    state: _State,
    job_id: str,
    flow_name: str,
    document: Any,
    variables: Any,
    root: str,
    record: dict[str, Any] | None,
) -> None:
    """The job run by this worker, which holds its lease."""
    r = state.redis
    deliveries = int(_retry(lambda: r.hincrby(JOB + job_id, "deliveries", 1)))
    if deliveries > MAX_DELIVERIES:
        error = {
            "code": "WORKER_LOST",
            "message": f"the job was delivered {deliveries - 1} times and never ended",
        }
        _finish(r, job_id, "error", None, error, 0)
        return
    fields = {
        "status": "running",
        "started_at": now_iso(),
        "worker": state.name,
        "heartbeat": time.time(),
    }

    def mark_running() -> None:
        pipe = r.pipeline(transaction=True)
        pipe.hset(JOB + job_id, mapping=encode_fields(fields))  # type: ignore[arg-type]
        if record is None:
            pipe.hset(JOB + job_id, mapping={"job_id": job_id, "workflow": flow_name})
        pipe.smove(STATE + "pending", STATE + "running", job_id)
        pipe.sadd(STATE + "running", job_id)
        pipe.execute()

    _retry(mark_running)

    def poll() -> str | None:
        reason = r.get(CANCEL + job_id)
        return text(reason) if reason else None

    async def cancel_requested() -> str | None:
        return await asyncio.to_thread(poll)

    outcome = asyncio.run(
        runner.execute(
            document,
            job_id=job_id,
            flow_name=flow_name,
            variables=dict(variables or {}),
            data_root=root,
            registry=state.registry,
            metrics=state.metrics,
            cancel_requested=cancel_requested,
        )
    )
    _finish(r, job_id, outcome.status, outcome.result, outcome.error, outcome.duration_ms)


def _finish(
    r: Any,
    job_id: str,
    status: str,
    result: Any,
    error: Any,
    duration_ms: float,
) -> None:
    fields = {
        "status": status,
        "result": result,
        "error": error,
        "duration_ms": round(duration_ms, 3),
        "finished_at": now_iso(),
    }

    def write() -> None:
        pipe = r.pipeline(transaction=True)
        pipe.hset(JOB + job_id, mapping=encode_fields(fields))
        pipe.srem(STATE + "running", job_id)
        pipe.srem(STATE + "pending", job_id)
        pipe.execute()

    _retry(write)


def work(broker: str, concurrency: int, loglevel: str = "WARNING") -> int:
    """Run a worker until SIGTERM (warm shutdown: running jobs finish)."""
    app = make_app(broker)
    _State.get(broker)  # connect and subscribe the metrics before the first job
    worker = app.Worker(
        pool="threads",
        concurrency=concurrency,
        loglevel=loglevel,
        hostname=f"flowdesk-{uuid.uuid4().hex[:8]}@{socket.gethostname()}",
        without_gossip=True,
        without_mingle=True,
        without_heartbeat=True,
        queues=[QUEUE],
        quiet=True,
    )
    worker.start()
    return int(worker.exitcode or 0)
