"""Prometheus metrics of the service, the one place that maps engine events to
metric samples.

Samples are plain counters in a ``MetricStore``: a dict in the serving process
without a broker, a Redis hash (``flowdesk:metrics``) shared by ``serve`` and
every worker with one, so ``GET /metrics`` on serve shows the runs of all
workers. ``ServiceCollector`` turns the store into metric families for
``prometheus_client`` (counters, histograms) and adds the ``flowdesk_jobs``
gauge read from the job store at scrape time.

``RunMetrics`` subscribes to the process's event bus (``engine.bus.BUS``):
``node.succeeded`` / ``node.failed`` (by node type: durations, error codes, AI
tokens) and ``run.finished`` (per workflow); a run's samples are kept in memory
and written in one step when it ends. The planner's events (``planner.*``) are
counted by ``PLANNER_EVENTS`` — the hook for the planner's own metrics: add a
mapping there, nothing else changes.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from ..bus import BUS, EventBus

RUN_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)
NODE_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
HASH_KEY = "flowdesk:metrics"

#: metric name → (kind, help, label names, buckets)
METRICS: dict[str, tuple[str, str, tuple[str, ...], tuple[float, ...]]] = {
    "flowdesk_runs": (
        "counter",
        "Runs that ended, by workflow and status",
        ("workflow", "status"),
        (),
    ),
    "flowdesk_run_duration_seconds": ("histogram", "Run durations", (), RUN_BUCKETS),
    "flowdesk_node_duration_seconds": (
        "histogram",
        "Node durations (all attempts), by node type",
        ("type",),
        NODE_BUCKETS,
    ),
    "flowdesk_node_errors": (
        "counter",
        "Node failures by type and error code",
        ("type", "code"),
        (),
    ),
    "flowdesk_ai_tokens": ("counter", "AI tokens, by direction (in, out)", ("direction",), ()),
    "flowdesk_webhook_requests": ("counter", "Webhook requests by HTTP status", ("status",), ()),
    "flowdesk_schedule_fires": ("counter", "Schedule triggers fired", ("workflow",), ()),
    "flowdesk_planner_requests": (
        "counter",
        "Planner calls by outcome (planned, refused, failed)",
        ("outcome",),
        (),
    ),
    "flowdesk_planner_tokens": ("counter", "Planner tokens by direction", ("direction",), ()),
}


def _field(metric: str, labels: Iterable[str], suffix: str = "") -> str:
    return json.dumps([metric + suffix, *labels], separators=(",", ":"))


class MetricStore:
    """Counters by field (a JSON list ``[metric, label values...]``), in memory."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, float] = {}

    def add(self, increments: dict[str, float]) -> None:
        with self._lock:
            for key, amount in increments.items():
                self._values[key] = self._values.get(key, 0.0) + amount

    def values(self) -> dict[str, float]:
        with self._lock:
            return dict(self._values)


class RedisMetricStore(MetricStore):
    """The same counters in a Redis hash, shared by serve and every worker."""

    def __init__(self, redis: Any) -> None:
        super().__init__()
        self.redis = redis

    def add(self, increments: dict[str, float]) -> None:
        if not increments:
            return
        pipe = self.redis.pipeline(transaction=False)
        for key, amount in increments.items():
            pipe.hincrbyfloat(HASH_KEY, key, amount)
        pipe.execute()

    def values(self) -> dict[str, float]:
        raw = self.redis.hgetall(HASH_KEY)
        return {_text(k): float(v) for k, v in raw.items()}


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class Samples:
    """Increments being gathered (one run's, one request's) before a store write."""

    def __init__(self) -> None:
        self.increments: dict[str, float] = {}

    def inc(self, metric: str, labels: Iterable[str] = (), amount: float = 1.0) -> None:
        key = _field(metric, labels)
        self.increments[key] = self.increments.get(key, 0.0) + amount

    def observe(self, metric: str, labels: Iterable[str], value: float) -> None:
        labels = tuple(labels)
        buckets = METRICS[metric][3]
        for bound in buckets:
            if value <= bound:
                self.inc(metric, (*labels, _le(bound)), 1.0)
        self.inc(metric, (*labels, "+Inf"), 1.0)
        key = _field(metric, labels, "_sum")
        self.increments[key] = self.increments.get(key, 0.0) + value


def _le(bound: float) -> str:
    return repr(float(bound))


class ServiceCollector(Collector):
    """Metric families from a ``MetricStore``, plus the jobs gauge."""

    def __init__(self, store: MetricStore, job_counts: Callable[[], dict[str, int]]) -> None:
        self.store = store
        self.job_counts = job_counts

    def collect(self) -> Iterator[Metric]:
        values = self.store.values()
        grouped: dict[str, list[tuple[list[str], str, float]]] = {}
        for key, value in values.items():
            try:
                name, *labels = json.loads(key)
            except (ValueError, TypeError):
                continue
            base, suffix = (name[:-4], "_sum") if name.endswith("_sum") else (name, "")
            grouped.setdefault(base, []).append((labels, suffix, value))
        for name, (kind, help_text, label_names, buckets) in METRICS.items():
            rows = grouped.get(name, [])
            if kind == "counter":
                family: Metric = CounterMetricFamily(name, help_text, labels=label_names)
                for labels, _, value in rows:
                    if len(labels) == len(label_names):
                        family.add_metric(labels, value)  # type: ignore[attr-defined]
                yield family
                continue
            histogram = HistogramMetricFamily(name, help_text, labels=label_names)
            series: dict[tuple[str, ...], dict[str, float]] = {}
            sums: dict[tuple[str, ...], float] = {}
            for labels, suffix, value in rows:
                if suffix == "_sum":
                    sums[tuple(labels)] = value
                elif len(labels) == len(label_names) + 1:
                    series.setdefault(tuple(labels[:-1]), {})[labels[-1]] = value
            for labels_key, counts in sorted(series.items()):
                bucket_rows = [(_le(b), counts.get(_le(b), 0.0)) for b in buckets]
                bucket_rows.append(("+Inf", counts.get("+Inf", 0.0)))
                histogram.add_metric(
                    list(labels_key), bucket_rows, sum_value=sums.get(labels_key, 0.0)
                )
            yield histogram
        gauge = GaugeMetricFamily("flowdesk_jobs", "Jobs by state", labels=("state",))
        for state, count in sorted(self.job_counts().items()):
            gauge.add_metric([state], float(count))
        yield gauge


def _planner(event: Any, samples: Samples) -> None:
    outcome = event.name.split(".", 1)[1]
    samples.inc("flowdesk_planner_requests", (outcome,))
    data = getattr(event, "data", {}) or {}
    for direction, keys in (
        ("in", ("tokens_in", "prompt_tokens")),
        ("out", ("tokens_out", "completion_tokens")),
    ):
        for key in keys:
            value = data.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                samples.inc("flowdesk_planner_tokens", (direction,), float(value))
                break


#: event name → how it becomes samples (the planner's metrics hook)
PLANNER_EVENTS: dict[str, Callable[[Any, Samples], None]] = {
    "planner.planned": _planner,
    "planner.refused": _planner,
    "planner.failed": _planner,
}


class RunMetrics:
    """Records the runs this process executes into ``store`` (from the bus)."""

    def __init__(self, store: MetricStore, bus: EventBus | None = None) -> None:
        self.store = store
        self.bus = bus or BUS
        self._lock = threading.Lock()
        #: run id → (workflow label, node id → node type, samples)
        self._runs: dict[str, tuple[str, dict[str, str], Samples]] = {}
        self._unsubscribe: list[Callable[[], None]] = []

    def start(self) -> None:
        for name in ("node.succeeded", "node.failed", "run.finished"):
            self._unsubscribe.append(self.bus.subscribe(name, self._on_event))
        for name in PLANNER_EVENTS:
            self._unsubscribe.append(self.bus.subscribe(name, self._on_planner))

    def stop(self) -> None:
        for stop in self._unsubscribe:
            stop()
        self._unsubscribe.clear()

    def expect(self, run_id: str, workflow: str, node_types: dict[str, str]) -> None:
        """Announce a run (before it starts): its workflow label and node types."""
        with self._lock:
            self._runs[run_id] = (workflow, node_types, Samples())

    def forget(self, run_id: str) -> None:
        with self._lock:
            self._runs.pop(run_id, None)

    def _on_planner(self, event: Any) -> None:
        samples = Samples()
        PLANNER_EVENTS[event.name](event, samples)
        self.store.add(samples.increments)

    def _on_event(self, event: Any) -> None:
        entry = self._runs.get(event.run_id)
        if entry is None:
            return
        workflow, types, samples = entry
        name = event.name
        if name == "node.succeeded":
            if event.status != "succeeded" or event.reused:
                return
            node_type = types.get(event.node_id, "unknown")
            samples.observe(
                "flowdesk_node_duration_seconds", (node_type,), event.duration_ms / 1000
            )
            usage = event.usage or {}
            for direction, key in (("in", "prompt_tokens"), ("out", "completion_tokens")):
                value = usage.get(key)
                if isinstance(value, int | float) and value:
                    samples.inc("flowdesk_ai_tokens", (direction,), float(value))
        elif name == "node.failed":
            node_type = types.get(event.node_id, "unknown")
            samples.observe(
                "flowdesk_node_duration_seconds", (node_type,), event.duration_ms / 1000
            )
            code = str((event.error or {}).get("code") or "UNKNOWN")
            samples.inc("flowdesk_node_errors", (node_type, code))
        elif name == "run.finished":
            status = job_status(event.status)
            samples.inc("flowdesk_runs", (workflow, status))
            samples.observe("flowdesk_run_duration_seconds", (), event.duration_ms / 1000)
            self.forget(event.run_id)
            self.store.add(samples.increments)


def job_status(run_status: str) -> str:
    """A run's status as a job status (``completed`` or ``error``)."""
    return "completed" if run_status == "succeeded" else "error"


def record(
    store: MetricStore, metric: str, labels: Iterable[str] = (), amount: float = 1.0
) -> None:
    """One counter increment written at once (webhook requests, schedule fires)."""
    samples = Samples()
    samples.inc(metric, labels, amount)
    store.add(samples.increments)
