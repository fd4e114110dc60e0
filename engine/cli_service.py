"""``flowdesk serve`` and ``flowdesk worker`` (engine.service).
Exit codes: 0 stopped cleanly, 2 could not start (every problem on stderr).
May import: every engine module; never the editor.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import Any

EXIT_INVALID = 2


def add_parsers(subparsers: Any) -> None:
    serve = subparsers.add_parser(
        "serve", help="serve workflows: job API, webhooks, schedules, Prometheus metrics"
    )
    serve.add_argument("targets", nargs="+", metavar="FLOW_OR_FOLDER")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8787)
    serve.add_argument(
        "--broker", metavar="redis://HOST:PORT/N", help="run jobs on Celery workers (Redis)"
    )
    serve.add_argument(
        "--allow",
        metavar="PATTERNS",
        help="node types and tools served flows may use, e.g. 'trigger.*,data.*,http.request' "
        "(default: FLOWDESK_ALLOW_NODE_TYPES, else everything installed)",
    )
    serve.add_argument(
        "--concurrency", type=int, default=4, metavar="N", help="in-process runs at once"
    )
    serve.add_argument("--queue-size", type=int, default=1000, metavar="N")
    serve.add_argument(
        "--grace", type=float, default=30.0, metavar="S", help="on SIGTERM, seconds before cancel"
    )
    worker = subparsers.add_parser("worker", help="run the jobs of 'serve --broker' (Celery)")
    worker.add_argument("--broker", required=True, metavar="redis://HOST:PORT/N")
    worker.add_argument("--concurrency", type=int, default=os.cpu_count() or 2, metavar="N")
    worker.add_argument(
        "--log-level", default="warning", choices=("debug", "info", "warning", "error")
    )


def serve(args: argparse.Namespace) -> int:
    from .service.app import ServeOptions
    from .service.app import serve as run_server

    if args.concurrency < 1 or args.queue_size < 1:
        sys.stderr.write("flowdesk: error: --concurrency and --queue-size must be at least 1\n")
        return EXIT_INVALID
    options = ServeOptions(
        targets=list(args.targets),
        host=args.host,
        port=args.port,
        broker=args.broker,
        allow=args.allow,
        concurrency=args.concurrency,
        queue_size=args.queue_size,
        grace_s=args.grace,
    )
    return asyncio.run(run_server(options))


def worker(args: argparse.Namespace) -> int:
    import redis

    from .service.app import mask_url
    from .service.worker import work

    if args.concurrency < 1:
        sys.stderr.write("flowdesk: error: --concurrency must be at least 1\n")
        return EXIT_INVALID
    try:
        redis.Redis.from_url(args.broker, socket_connect_timeout=5).ping()
    except (redis.RedisError, ValueError) as exc:
        sys.stderr.write(
            f"flowdesk worker: cannot reach the broker {mask_url(args.broker)}: {exc}\n"
        )
        return EXIT_INVALID
    sys.stdout.write(f"worker: {args.concurrency} job(s) at once from {mask_url(args.broker)}\n")
    sys.stdout.flush()
    return work(args.broker, args.concurrency, args.log_level.upper())
