"""Planner metrics for the service's Prometheus endpoint (issue 19's hook).

``PLANNER_STATS`` counts every planner call; ``prometheus_text()`` renders
``flowdesk_ai_planner_requests_total{status}``,
``flowdesk_ai_planner_duration_seconds`` (a histogram) and
``flowdesk_ai_tokens_total{direction}``: the service appends it to its
``/metrics`` answer. The same facts are published on the bus as the events
``planner.planned`` / ``planner.refused`` / ``planner.failed``.
"""

from __future__ import annotations

import threading

BUCKETS = (0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class PlannerStats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[str, int] = {}
        self.tokens: dict[str, int] = {"in": 0, "out": 0}
        self.buckets = [0] * len(BUCKETS)
        self.duration_sum = 0.0
        self.duration_count = 0

    def record(self, status: str, duration_s: float, tokens_in: int, tokens_out: int) -> None:
        with self._lock:
            self.requests[status] = self.requests.get(status, 0) + 1
            self.tokens["in"] += tokens_in
            self.tokens["out"] += tokens_out
            self.duration_sum += duration_s
            self.duration_count += 1
            for i, bound in enumerate(BUCKETS):
                if duration_s <= bound:
                    self.buckets[i] += 1

    def prometheus_text(self) -> str:
        with self._lock:
            lines = [
                "# HELP flowdesk_ai_planner_requests_total Planner calls by outcome.",
                "# TYPE flowdesk_ai_planner_requests_total counter",
            ]
            for status in ("planned", "refused", "failed"):
                count = self.requests.get(status, 0)
                lines.append(f'flowdesk_ai_planner_requests_total{{status="{status}"}} {count}')
            lines += [
                "# HELP flowdesk_ai_planner_duration_seconds Duration of planner calls.",
                "# TYPE flowdesk_ai_planner_duration_seconds histogram",
            ]
            for bound, count in zip(BUCKETS, self.buckets, strict=True):
                lines.append(f'flowdesk_ai_planner_duration_seconds_bucket{{le="{bound}"}} {count}')
            lines.append(
                f'flowdesk_ai_planner_duration_seconds_bucket{{le="+Inf"}} {self.duration_count}'
            )
            lines.append(f"flowdesk_ai_planner_duration_seconds_sum {self.duration_sum:.6f}")
            lines.append(f"flowdesk_ai_planner_duration_seconds_count {self.duration_count}")
            lines += [
                "# HELP flowdesk_ai_tokens_total Tokens of planner calls by direction.",
                "# TYPE flowdesk_ai_tokens_total counter",
                f'flowdesk_ai_tokens_total{{direction="in"}} {self.tokens["in"]}',
                f'flowdesk_ai_tokens_total{{direction="out"}} {self.tokens["out"]}',
            ]
            return "\n".join(lines) + "\n"


#: Process-wide on purpose: the counters ``flowdesk serve`` exports for the process.
PLANNER_STATS = PlannerStats()
