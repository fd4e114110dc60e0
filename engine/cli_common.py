"""What the ``flowdesk`` subcommands share (``cli``, ``cli_credentials``,
``cli_login``, ``cli_tools``, ``cli_mcp``): the exit codes, the registry with
its plug-in warnings, loading a workflow with its problems printed, and
``--var NAME=VALUE`` parsing. A subcommand module imports this one, never
``engine.cli`` (which imports the subcommands).
May import: engine.cli_output (the exit codes), engine.io, engine.registry,
engine.validate, stdlib.
"""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from pydantic import BaseModel

from .cli_output import EXIT_FAILED, EXIT_INVALID, EXIT_OK
from .io import parse_json_value
from .model.workflow import Workflow
from .registry import NodeRegistry
from .validate import check_file

__all__ = [
    "EXIT_FAILED",
    "EXIT_INVALID",
    "EXIT_OK",
    "default_registry",
    "load_checked",
    "parse_vars",
    "print_problems",
]


def default_registry() -> NodeRegistry:
    """The built-in node types and the plug-ins; a plug-in that fails to load
    is a warning on stderr."""
    registry = NodeRegistry.default()
    for entry, message in registry.load_errors:
        sys.stderr.write(f"warning: node type plug-in {entry} failed to load: {message}\n")
    return registry


def load_checked(
    path: str,
    registry: NodeRegistry,
    err: TextIO,
    *,
    configs: dict[str, BaseModel] | None = None,
) -> Workflow | None:
    """Load and validate; print every problem and return None when invalid.
    ``configs`` receives the node configs that validated (``check_file``'s)."""
    workflow, issues = check_file(path, registry, configs=configs)
    if issues or workflow is None:
        print_problems(path, [str(i) for i in issues], err)
        return None
    return workflow


def print_problems(path: str, lines: list[str], err: TextIO) -> None:
    count = len(lines)
    err.write(f"{path}: {count} problem{'s' if count != 1 else ''}\n")
    for line in lines:
        err.write(f"  {line}\n")


def parse_vars(pairs: list[str]) -> dict[str, Any]:
    """``--var NAME=VALUE`` pairs: a value that parses as JSON is that value,
    otherwise the text. ``ValueError`` names the bad pair."""
    out: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"--var {pair!r}: expected NAME=VALUE")
        try:
            value: Any = parse_json_value(raw)
        except json.JSONDecodeError:
            value = raw
        except ValueError as exc:
            raise ValueError(f"--var {name.strip()!r}: {exc}") from None
        out[name.strip()] = value
    return out
