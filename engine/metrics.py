"""Call metrics of the process: per source (an HTTP origin such as
``https://api.example.com``) and per node type, the number of calls, how many
succeeded, and the min/avg/max duration.

The engine records into ``METRICS`` (``Engine.metrics``): the executor one call
per node result (by node type), the HTTP transport one call per exchange (by
origin). A metrics endpoint reads ``METRICS.snapshot()``::

    {"sources": {"http://127.0.0.1:8080": {"count": 3, "successes": 2,
                 "failures": 1, "min_ms": 1.2, "avg_ms": 2.0, "max_ms": 3.1}},
     "types": {"http.request": {...}}}

Recording is a few additions under a lock (runs may live on several threads).
A run counts its node results in a ``CallStats`` per type of its own and
merges them in with ``merge_types`` every few milliseconds and at its end (a
lock per node cost more than the node's bookkeeping): a snapshot taken while
a run is going lags it by at most that.
May import: stdlib only. Main objects: ``CallMetrics``, ``CallStats``, ``METRICS``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class CallStats:
    """Counters of one source or node type."""

    count: int = 0
    successes: int = 0
    total_s: float = 0.0
    min_s: float = 0.0
    max_s: float = 0.0

    def add(self, duration_s: float, ok: bool) -> None:
        if self.count == 0 or duration_s < self.min_s:
            self.min_s = duration_s
        if duration_s > self.max_s:
            self.max_s = duration_s
        self.count += 1
        self.total_s += duration_s
        if ok:
            self.successes += 1

    def merge(self, other: CallStats) -> None:
        """Add ``other``'s calls to these."""
        if other.count == 0:
            return
        if self.count == 0 or other.min_s < self.min_s:
            self.min_s = other.min_s
        if other.max_s > self.max_s:
            self.max_s = other.max_s
        self.count += other.count
        self.total_s += other.total_s
        self.successes += other.successes

    def to_json(self) -> dict[str, Any]:
        avg = self.total_s / self.count if self.count else 0.0
        return {
            "count": self.count,
            "successes": self.successes,
            "failures": self.count - self.successes,
            "min_ms": round(self.min_s * 1000.0, 3),
            "avg_ms": round(avg * 1000.0, 3),
            "max_ms": round(self.max_s * 1000.0, 3),
        }


class CallMetrics:
    """Per-source and per-type call counters (``record_*``, ``snapshot``, ``reset``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sources: dict[str, CallStats] = {}
        self._types: dict[str, CallStats] = {}

    def record_source(self, source: str, duration_s: float, ok: bool) -> None:
        """One call to ``source`` (an origin) that took ``duration_s``."""
        with self._lock:
            stats = self._sources.get(source)
            if stats is None:
                stats = self._sources[source] = CallStats()
            stats.add(duration_s, ok)

    def merge_types(self, counted: dict[str, CallStats]) -> None:
        """Add node results counted elsewhere (a run's, per node type)."""
        with self._lock:
            for node_type, other in counted.items():
                stats = self._types.get(node_type)
                if stats is None:
                    stats = self._types[node_type] = CallStats()
                stats.merge(other)

    def snapshot(self) -> dict[str, dict[str, dict[str, Any]]]:
        """A JSON copy: ``{"sources": {origin: stats}, "types": {type: stats}}``."""
        with self._lock:
            return {
                "sources": {k: v.to_json() for k, v in sorted(self._sources.items())},
                "types": {k: v.to_json() for k, v in sorted(self._types.items())},
            }

    def reset(self) -> None:
        with self._lock:
            self._sources.clear()
            self._types.clear()


#: the process's metrics (what ``Engine.metrics`` is unless given another).
#: Process-wide on purpose: ``flowdesk serve`` exports one set of counters for
#: the process; an engine that wants its own passes ``metrics=``.
METRICS = CallMetrics()
