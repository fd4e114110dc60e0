"""A FastMCP server for the MCP source tests: ``python mcp_server.py [stdio|http PORT]``.

Tools: ``add`` (typed arguments, structured output), ``greet`` (text),
``fail`` (an error result), ``slow`` (sleeps; records cancellations in the
file named by MCP_TEST_MARKER), ``die`` (kills its own process), ``grow``
(adds a tool: the tool list changes), ``pid`` (the server's process id),
``append_line`` (writes: not read-only) and ``count_lines`` (``readOnlyHint``).
"""

from __future__ import annotations

import asyncio
import os
import sys

from mcp.server.fastmcp import Context, FastMCP
from mcp.types import ToolAnnotations
from pydantic import BaseModel

mcp = FastMCP("flowdesk-test")


class Sum(BaseModel):
    total: int
    terms: list[int]


@mcp.tool()
def add(a: int, b: int = 0) -> Sum:
    """Add two integers."""
    return Sum(total=a + b, terms=[a, b])


@mcp.tool()
def greet(name: str) -> str:
    """Say hello."""
    print(f"greeting {name}", file=sys.stderr, flush=True)
    return f"Hello, {name}!"


@mcp.tool()
def fail(reason: str = "boom") -> str:
    """Always fails."""
    raise ValueError(f"failed on purpose: {reason}")


@mcp.tool()
async def slow(seconds: float = 30) -> str:
    """Sleeps."""
    try:
        await asyncio.sleep(seconds)
    except asyncio.CancelledError:
        marker = os.environ.get("MCP_TEST_MARKER")
        if marker:
            with open(marker, "a") as fh:
                fh.write("cancelled\n")
        raise
    return "slept"


@mcp.tool()
def die() -> str:
    """Kills its own process."""
    print("about to die", file=sys.stderr, flush=True)
    os._exit(3)


@mcp.tool()
def pid() -> int:
    """The server's process id."""
    return os.getpid()


@mcp.tool()
def env(name: str) -> str:
    """An environment variable of the server ("" when unset)."""
    return os.environ.get(name, "")


@mcp.tool()
def append_line(path: str, text: str) -> str:
    """Appends a line to a file (a side effect: not read-only)."""
    with open(path, "a") as fh:
        fh.write(text + "\n")
    return "appended"


@mcp.tool(annotations=ToolAnnotations(readOnlyHint=True))
def count_lines(path: str) -> int:
    """The number of lines of a file (only reads)."""
    with open(path) as fh:
        return len(fh.readlines())


@mcp.tool()
async def grow(ctx: Context) -> str:  # type: ignore[type-arg]
    """Adds the tool ``extra`` and tells the client."""

    def extra() -> str:
        """Added later."""
        return "extra"

    mcp.add_tool(extra)
    await ctx.session.send_tool_list_changed()
    return "grown"


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "http":
        mcp.settings.port = int(sys.argv[2])
        mcp.settings.log_level = "WARNING"
        mcp.run("streamable-http")
    else:
        if os.environ.get("MCP_TEST_CRASH"):
            print("cannot start: MCP_TEST_CRASH is set", file=sys.stderr, flush=True)
            sys.exit(2)
        mcp.run("stdio")
