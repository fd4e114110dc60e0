"""Where the engine relies on other libraries' private parts, one file each.

Each module here wraps the private API of one library (httpx, yarl,
aiohttp, asyncio, mcp) behind a few small functions, says at its top which
versions it is checked against, and has tests in tests/compat/ that fail
loudly, naming the missing attribute, when an upgrade changes what it relies
on. Outside this package, engine code uses those libraries' public API only.
A public API that differs between the versions the engine supports is chosen
here too (``mcp_http``: the MCP SDK's Streamable HTTP client).

May import: stdlib and the library each module wraps.
"""
