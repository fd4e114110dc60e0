"""Tool-call round trip to a stdio MCP server (tests/sources/mcp_server.py):
our ``tool.call`` node (a run with ``for_each`` over N items, minus a 1-item
run for the start-up) against a bare ``mcp`` SDK client loop of N calls.
Goal: ours <= 1.5x the bare loop per call.  ``python -m bench.mcp_stdio_call [N]``
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

from flowdesk.engine import Engine, EnvSecretStore, NodeRegistry, loads_workflow
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

SERVER = str(Path(__file__).resolve().parent.parent / "tests" / "sources" / "mcp_server.py")


async def bare(n: int) -> float:
    params = StdioServerParameters(command=sys.executable, args=[SERVER])
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        await session.call_tool("add", {"a": 1, "b": 2})
        started = time.perf_counter()
        for i in range(n):
            await session.call_tool("add", {"a": i, "b": 2})
        return (time.perf_counter() - started) / n


async def ours(n: int, registry: NodeRegistry, concurrency: int) -> float:
    async def run(items: int) -> float:
        doc = {
            "format": "flowdesk/workflow",
            "version": 1,
            "name": "bench",
            "sources": {"t": {"type": "mcp", "command": [sys.executable, SERVER]}},
            "nodes": [
                {
                    "id": "a",
                    "type": "tool.call",
                    "config": {
                        "source": "t",
                        "tool": "add",
                        "arguments": {"a": "{{ item }}", "b": 2},
                    },
                    "for_each": f"{{{{ range({items}) | list }}}}",
                    "concurrency": concurrency,
                }
            ],
            "edges": [],
        }
        workflow = loads_workflow(json.dumps(doc), registry)
        engine = Engine(registry, secrets=EnvSecretStore({}))
        started = time.perf_counter()
        result = await engine.start(workflow, data_root=Path.cwd()).wait()
        assert result.status == "succeeded", result
        return time.perf_counter() - started

    one = min([await run(1) for _ in range(2)])
    many = await run(n + 1)
    return (many - one) / n


async def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    registry = NodeRegistry.default(plugins=False)
    b = await bare(n)
    o = await ours(n, registry, 1)
    p = await ours(n, registry, 16)
    print(
        f"stdio tool call, {n} calls: bare mcp SDK loop {b * 1e3:.2f} ms/call, "
        f"flowdesk tool.call one at a time {o * 1e3:.2f} ms/call (ratio {o / b:.2f}x, "
        f"goal <= 1.5x); for_each 16 at a time {p * 1e3:.2f} ms/call"
    )


if __name__ == "__main__":
    asyncio.run(main())
