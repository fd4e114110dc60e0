"""Flowdesk as a service: ``flowdesk serve`` (HTTP job API, webhooks, schedules,
Prometheus metrics) and ``flowdesk worker`` (Celery on a Redis broker).

Modules: ``flows`` (the served workflows and the allow-list), ``runner`` (one
job's run, shared by serve and workers), ``jobs`` (job records and idempotent
submission: in-process or Redis + Celery), ``metrics`` (Prometheus, fed by the
process's event bus), ``scheduler`` (cron triggers), ``worker`` (the Celery app
and task), ``app`` (the aiohttp application and ``serve``).
May import: every engine module, aiohttp, celery, redis, prometheus_client,
croniter; never the editor.
"""
