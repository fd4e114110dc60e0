"""The process's event bus: one place where everything observable is published.

Subscribe to one event name or to ``"*"`` (every event)::

    from flowdesk.engine.bus import BUS
    unsubscribe = BUS.subscribe("node.failed", print)
    ...
    unsubscribe()

Events are objects with a ``name`` (see ``EVENT_NAMES``): the run events of
``engine.events`` (``run.started``, ``node.started``, ``node.retrying``,
``node.log``, ``node.succeeded``, ``node.failed``, ``node.skipped``,
``node.cancelled``, ``run.finished``) and the instrumentation ``Signal``s
(``auth.resolve``, ``auth.refresh``, ``auth.error``, ``source.connect``,
``source.disconnect``, ``http.request``, ``http.response``). A subscriber that
raises is logged and never breaks a run. Subscribers are called on the thread
that publishes (a run's event-loop thread): GUI code hands events over to its
own thread. Publishing with no subscriber costs one attribute test.

``install_logging()`` makes the bus write to the ``logging`` module (logger
``flowdesk.events``) with a level per event.
May import: stdlib only. Main objects: ``BUS``, ``EventBus``, ``Signal``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

#: every event name the engine publishes, with what it means
EVENT_NAMES: dict[str, str] = {
    "run.started": "a run started (workflow name, planned nodes)",
    "run.finished": "a run ended (status, duration, result)",
    "node.started": "an attempt of a node started",
    "node.retrying": "an attempt failed with a retryable error; the delay before the next",
    "node.log": "a log line of a node",
    "node.succeeded": "a node produced its output (or was pinned / reused)",
    "node.failed": "a node failed (error object, traceback with the cause chain)",
    "node.skipped": "a node was skipped (reason)",
    "node.cancelled": "a node was cancelled (reason)",
    "auth.resolve": "a credential's secret was looked up (never the secret itself)",
    "auth.refresh": "an OAuth2 access token was fetched or renewed",
    "auth.error": "a credential could not be resolved or its token was refused",
    "source.connect": "a run's first request to an origin (scheme://host:port)",
    "source.disconnect": "a run closed its HTTP client; per origin, with its call count",
    "http.request": "an HTTP request is sent (origin and method: no path, it may hold a token)",
    "http.response": "an HTTP exchange ended (status or error, duration)",
    "planner.planned": "the planner proposed a valid plan (duration, tokens in/out, model)",
    "planner.refused": "the planner refused a plan (PERMISSION_DENIED, invalid after repair)",
    "planner.failed": "a planner call failed (HTTP error, not JSON, token cap)",
}

Subscriber = Callable[[Any], None]


@dataclass(slots=True)
class Signal:
    """An instrumentation event: ``name``, ``time`` (monotonic) and ``data``."""

    name: str
    data: dict[str, Any] = field(default_factory=dict)
    time: float = field(default_factory=time.monotonic)

    def __getattr__(self, key: str) -> Any:
        # (slots: only called for names that are not fields) ``signal.status``
        try:
            return self.data[key]
        except KeyError:
            raise AttributeError(key) from None


class EventBus:
    """Publish/subscribe by event name. Thread-safe subscribing; subscriber
    lists are replaced, never mutated, so publishing takes no lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_name: dict[str, tuple[Subscriber, ...]] = {}
        self._all: tuple[Subscriber, ...] = ()
        #: false while nobody listens: publishers test it before building events
        self.active = False

    def subscribe(self, name: str, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback(event)`` for events named ``name`` (``"*"``: all).

        Returns a function that unsubscribes (calling it twice is harmless).
        """
        if name != "*" and name not in EVENT_NAMES:
            known = ", ".join(EVENT_NAMES)
            raise ValueError(f"no event {name!r} (events: {known}, or '*' for all)")
        with self._lock:
            if name == "*":
                self._all = (*self._all, callback)
            else:
                self._by_name[name] = (*self._by_name.get(name, ()), callback)
            self.active = True

        def unsubscribe() -> None:
            self._remove(name, callback)

        return unsubscribe

    def _remove(self, name: str, callback: Subscriber) -> None:
        with self._lock:
            if name == "*":
                subs = list(self._all)
                if callback in subs:
                    subs.remove(callback)
                self._all = tuple(subs)
            else:
                subs = list(self._by_name.get(name, ()))
                if callback in subs:
                    subs.remove(callback)
                if subs:
                    self._by_name[name] = tuple(subs)
                else:
                    self._by_name.pop(name, None)
            self.active = bool(self._all or self._by_name)

    def wants(self, name: str) -> bool:
        """Whether an event of this name would reach anyone."""
        return bool(self._all) or name in self._by_name

    def publish(self, event: Any) -> None:
        """Hand ``event`` (anything with a ``name``) to its subscribers."""
        if not self.active:
            return
        named = self._by_name.get(event.name, ())
        for callback in (*named, *self._all) if self._all else named:
            try:
                callback(event)
            except Exception:
                log.exception("event subscriber %r failed on %s", callback, event.name)

    def signal(self, name: str, **data: Any) -> None:
        """Publish a ``Signal`` (built only when someone listens)."""
        if self.active and (self._all or name in self._by_name):
            self.publish(Signal(name, data))


#: the process's bus. Process-wide on purpose: it is where the process's
#: observers (``flowdesk serve``'s metrics, logs) listen to every engine's
#: runs; it keeps no run's data, only its subscribers.
BUS = EventBus()


# ------------------------------------------------------------------ logging

_LEVELS = {
    "run.started": logging.INFO,
    "run.finished": logging.INFO,
    "node.started": logging.DEBUG,
    "node.retrying": logging.WARNING,
    "node.succeeded": logging.INFO,
    "node.failed": logging.ERROR,
    "node.skipped": logging.INFO,
    "node.cancelled": logging.WARNING,
    "auth.resolve": logging.DEBUG,
    "auth.refresh": logging.INFO,
    "auth.error": logging.ERROR,
    "source.connect": logging.DEBUG,
    "source.disconnect": logging.DEBUG,
    "http.request": logging.DEBUG,
    "http.response": logging.DEBUG,
    "planner.planned": logging.INFO,
    "planner.refused": logging.WARNING,
    "planner.failed": logging.ERROR,
}
_LOG_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


def event_level(event: Any) -> int:
    """The ``logging`` level of an event (a node's log line keeps its own)."""
    if event.name == "node.log":
        return _LOG_LEVELS.get(getattr(event, "level", "info"), logging.INFO)
    if event.name == "node.failed" and getattr(event, "continued", False):
        return logging.WARNING
    if event.name == "run.finished" and getattr(event, "status", "") != "succeeded":
        return logging.WARNING
    return _LEVELS.get(event.name, logging.INFO)


def describe(event: Any) -> str:
    """One line of text for an event (what the logging integration writes)."""
    name = event.name
    node = getattr(event, "node_id", None)
    where = f" {node}" if node else ""
    if name == "node.log":
        return f"{name}{where}: {event.message}"
    if name == "node.failed":
        error = event.error
        return (
            f"{name}{where}: {error.get('code')} ({error.get('category')}): {error.get('message')}"
        )
    if name == "node.retrying":
        error = event.error
        return (
            f"{name}{where}: attempt {event.attempt} of {event.max_attempts} failed "
            f"({error.get('code')}); next in {event.delay_s:.2f} s"
        )
    if name == "node.succeeded":
        return f"{name}{where}: {event.status} in {event.duration_ms:.1f} ms"
    if name == "node.skipped":
        return f"{name}{where}: {event.reason}"
    if name == "run.started":
        return f"{name}: {event.workflow_name!r} ({len(event.planned)} nodes)"
    if name == "run.finished":
        return f"{name}: {event.status} in {event.duration_ms:.1f} ms"
    if isinstance(event, Signal):
        fields = " ".join(f"{k}={v}" for k, v in event.data.items())
        return f"{name}: {fields}"
    return f"{name}{where}"


def install_logging(
    logger: logging.Logger | None = None, bus: EventBus | None = None
) -> Callable[[], None]:
    """Write every event to ``logger`` (default ``flowdesk.events``) at its level.

    Events below the logger's effective level cost no formatting. Returns the
    function that uninstalls it.
    """
    target = logger or logging.getLogger("flowdesk.events")

    def write(event: Any) -> None:
        level = event_level(event)
        if target.isEnabledFor(level):
            target.log(level, "%s", describe(event))

    return (bus or BUS).subscribe("*", write)
