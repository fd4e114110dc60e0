"""The metrics module on its own: events of the process bus become samples,
rendered by prometheus_client and parsed back by its parser."""

from __future__ import annotations

from flowdesk.engine.bus import EventBus
from flowdesk.engine.service.metrics import MetricStore, RunMetrics, ServiceCollector
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families


def test_planner_events_become_the_planners_metrics_and_ai_tokens() -> None:
    bus = EventBus()
    store = MetricStore()
    metrics = RunMetrics(store, bus)
    metrics.start()
    bus.signal("planner.planned", duration_s=0.7, tokens_in=120, tokens_out=30, model="m")
    bus.signal("planner.refused", duration_s=0.2, tokens_in=50, tokens_out=5, model="m")
    metrics.stop()
    bus.signal("planner.failed", duration_s=1.0, tokens_in=1, tokens_out=1, model="m")
    registry = CollectorRegistry()
    registry.register(ServiceCollector(store, lambda: {"pending": 3, "running": 1}))
    families = {
        f.name: f for f in text_string_to_metric_families(generate_latest(registry).decode())
    }
    requests = {
        s.labels["status"]: s.value for s in families["flowdesk_ai_planner_requests"].samples
    }
    assert requests == {"planned": 1.0, "refused": 1.0}, "events after stop() are not counted"
    tokens = {s.labels["direction"]: s.value for s in families["flowdesk_ai_tokens"].samples}
    assert tokens == {"in": 170.0, "out": 35.0}
    durations = {
        (s.name, s.labels.get("le")): s.value
        for s in families["flowdesk_ai_planner_duration_seconds"].samples
    }
    assert durations[("flowdesk_ai_planner_duration_seconds_bucket", "0.25")] == 1.0
    assert durations[("flowdesk_ai_planner_duration_seconds_bucket", "+Inf")] == 2.0
    assert durations[("flowdesk_ai_planner_duration_seconds_count", None)] == 2.0
    jobs = {s.labels["state"]: s.value for s in families["flowdesk_jobs"].samples}
    assert jobs == {"pending": 3.0, "running": 1.0}
