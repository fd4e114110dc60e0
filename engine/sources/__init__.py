"""Tool sources: a described API (an OpenAPI document, an MCP server) whose
operations become tools, each callable from a ``tool.call`` node.

Foundation (shared by every source type): ``base`` (``ToolInfo``,
``ToolSource``, ``SourceType``, ``SourceEnv``), ``registry`` (``SourceTypes``),
``manager`` (``SourceManager``: opened lazily per run, closed at run end),
``schema`` (normaliser, argument validation), ``catalogue`` (every tool of a
workflow, for the palette, ``flowdesk tools`` and the planner). Source types
are the other modules/sub-packages (``openapi``, ``mcp``).
Qt-free. May import: engine modules, pydantic, jsonschema, stdlib.
"""

from .base import SourceEnv, SourceType, ToolInfo, ToolSource
from .manager import SourceManager
from .registry import SourceTypes

#: separator of a palette entry / CLI name ``source__tool``
SEPARATOR = "__"


def split_tool_ref(ref: str) -> tuple[str, str] | None:
    """``"httpbin__get_anything"`` → ``("httpbin", "get_anything")``; None without ``__``."""
    source, sep, tool = ref.partition(SEPARATOR)
    if not sep or not source or not tool:
        return None
    return source, tool


__all__ = [
    "SEPARATOR",
    "SourceEnv",
    "SourceManager",
    "SourceType",
    "SourceTypes",
    "ToolInfo",
    "ToolSource",
    "split_tool_ref",
]
