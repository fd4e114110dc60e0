"""Cron triggers: each ``trigger.schedule`` node of a served flow submits a job
at its next fire time (croniter, in the node's time zone).

A fire is submitted with the client request id ``schedule:FLOW:NODE:TIME``, so
two servers sharing one Redis start it once. The last fire time of each node
is kept (Redis hash ``flowdesk:schedule:last``, or ``schedules.json`` in the
user data folder); with ``catch_up`` the fires missed while the server was
down are submitted at start (at most ``MAX_CATCH_UP``), otherwise they are not
replayed. ``clock`` and ``sleep`` can be replaced (tests, a fake clock).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ..io import atomic_write
from ..nodes.builtin.trigger_schedule import fired_event
from ..triggers import TRIGGER_VARIABLE
from .flows import FlowCatalog, ServedFlow, Trigger
from .metrics import MetricStore, record

log = logging.getLogger(__name__)
MAX_CATCH_UP = 100
LAST_KEY = "flowdesk:schedule:last"

Submit = Callable[[ServedFlow, dict[str, Any], str | None, str], Awaitable[tuple[str, bool]]]


class LastFires:
    """The last fire time of each schedule (``FLOW:NODE`` → ISO time)."""

    def __init__(self, path: Path | None = None, redis: Any = None) -> None:
        self.path = path
        self.redis = redis

    async def get(self, key: str) -> datetime | None:
        text: Any = None
        if self.redis is not None:
            text = await self.redis.hget(LAST_KEY, key)
            text = text.decode() if isinstance(text, bytes) else text
        elif self.path is not None and self.path.is_file():
            with contextlib.suppress(ValueError, OSError):
                text = json.loads(self.path.read_text()).get(key)
        return datetime.fromisoformat(text) if text else None

    async def set(self, key: str, when: datetime) -> None:
        if self.redis is not None:
            await self.redis.hset(LAST_KEY, key, when.isoformat())
        elif self.path is not None:
            data: dict[str, Any] = {}
            with contextlib.suppress(ValueError, OSError):
                data = json.loads(self.path.read_text())
            data[key] = when.isoformat()
            atomic_write(self.path, json.dumps(data, indent=2).encode())


class Scheduler:
    def __init__(
        self,
        catalog: FlowCatalog,
        submit: Submit,
        store: MetricStore,
        last: LastFires,
        *,
        clock: Callable[[], datetime] | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        self.catalog = catalog
        self.submit = submit
        self.store = store
        self.last = last
        self.clock = clock or (lambda: datetime.now(UTC))
        self.sleep = sleep or asyncio.sleep
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        for trigger in self.catalog.schedules:
            self._tasks.append(asyncio.ensure_future(self._loop(trigger)))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    async def _fire(self, trigger: Trigger, when: datetime) -> None:
        flow = self.catalog.get(trigger.flow)
        if flow is None:
            return
        event = fired_event(trigger.config, when, self.clock())
        variables = {TRIGGER_VARIABLE: {"node": trigger.node_id, "data": event}}
        request_id = f"schedule:{trigger.flow}:{trigger.node_id}:{when.isoformat()}"
        try:
            await self.submit(flow, variables, request_id, "schedule")
        except Exception as exc:  # noqa: BLE001  (a full queue, Redis away: next fire)
            log.warning("schedule %s/%s: could not submit: %s", trigger.flow, trigger.node_id, exc)
            return
        record(self.store, "flowdesk_schedule_fires", (trigger.flow,))
        with contextlib.suppress(Exception):
            await self.last.set(f"{trigger.flow}:{trigger.node_id}", when)

    async def _loop(self, trigger: Trigger) -> None:
        from croniter import croniter

        tz = ZoneInfo(trigger.config.timezone)
        key = f"{trigger.flow}:{trigger.node_id}"
        now = self.clock().astimezone(tz)
        start = now
        if trigger.config.catch_up:
            last = None
            with contextlib.suppress(Exception):
                last = await self.last.get(key)
            if last is not None:
                missed = croniter(trigger.config.cron, last.astimezone(tz))
                for _ in range(MAX_CATCH_UP):
                    when = missed.get_next(datetime)
                    if when > now:
                        break
                    await self._fire(trigger, when)
        times = croniter(trigger.config.cron, start)
        while True:
            when = times.get_next(datetime)
            delay = (when - self.clock()).total_seconds()
            if delay > 0:
                await self.sleep(delay)
            await self._fire(trigger, when)
