"""Reading and writing workflow files.

Load = bytes → JSON (duplicate keys refused) → ``migrate`` → per-node config
upgrade (when a registry is given) → pydantic ``Workflow``. Every problem is
collected into one ``WorkflowLoadError`` whose lines are ``location: message``.
Save = spec key order, unset keys left out, atomic (temporary file, fsync,
rename), so that load → save reproduces a file written by Flowdesk.
May import: engine.model, engine.errors, engine.validation_issues, stdlib. Main functions:
``load_workflow``, ``parse_workflow``, ``dumps_workflow``, ``save_workflow``.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from .errors import Issue, WorkflowLoadError
from .errors import format_location as format_location  # (re-exported: its old home)
from .model.migrations import MigrationError, migrate
from .model.workflow import FORMAT, Workflow
from .validation_issues import got, issues_from_validation_error

if TYPE_CHECKING:
    from .registry import NodeRegistry


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError(f"duplicate key {key!r}")
        obj[key] = value
    return obj


#: how deeply a workflow file (or a ``--var`` value) may nest lists and objects
MAX_JSON_DEPTH = 100


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number (JSON has no NaN or Infinity)")


#: the containers of a parsed JSON value
_CONTAINERS = frozenset((dict, list))


def json_depth_error(value: Any, limit: int = MAX_JSON_DEPTH) -> str | None:
    """Where a parsed JSON ``value`` (plain dicts and lists) nests deeper than
    ``limit`` levels (a location), or None."""
    # Depth only first, a level at a time (a 5,000-node file has tens of
    # thousands of containers, most holding none: ``map(type, ...)`` answers
    # that without a Python step per value); the path to the culprit is worked
    # out only when there is one.
    level = [value] if type(value) in _CONTAINERS else []
    depth = 0
    while level:
        if depth >= limit:
            return _deep_location(value, limit)
        deeper: list[Any] = []
        for item in level:
            values = item.values() if type(item) is dict else item
            if not _CONTAINERS.isdisjoint(map(type, values)):
                deeper += [sub for sub in values if type(sub) in _CONTAINERS]
        level = deeper
        depth += 1
    return None


def _deep_location(value: Any, limit: int) -> str:
    stack: list[tuple[Any, int, tuple[int | str, ...]]] = [(value, 0, ())]
    while stack:
        item, depth, where = stack.pop()
        if isinstance(item, dict | list):
            if depth >= limit:
                location = format_location(where[:6]) or "the document"
                return location + ("…" if len(where) > 6 else "")
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            for key, sub in pairs:
                if isinstance(sub, dict | list):
                    stack.append((sub, depth + 1, (*where, key)))
    return "the document"


def parse_json_value(text: str) -> Any:
    """JSON text as Flowdesk accepts it anywhere: no NaN/Infinity, no
    duplicate keys, at most ``MAX_JSON_DEPTH`` levels. Raises ``ValueError``
    (``json.JSONDecodeError`` for bad syntax) with a short message."""
    try:
        value = json.loads(
            text, object_pairs_hook=_reject_duplicate_keys, parse_constant=_refuse_constant
        )
    except RecursionError:
        raise ValueError(f"nested more than {MAX_JSON_DEPTH} levels deep") from None
    where = json_depth_error(value)
    if where is not None:
        raise ValueError(f"nested more than {MAX_JSON_DEPTH} levels deep (at {where})")
    return value


def read_json(text: str | bytes, source: str | None = None) -> Any:
    """Parse JSON text, with an error naming line and column."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise WorkflowLoadError(
                [Issue("", f"the file is not UTF-8 text (byte {exc.start})")], source
            ) from None
    try:
        return parse_json_value(text)
    except json.JSONDecodeError as exc:
        raise WorkflowLoadError(
            [Issue("", f"not valid JSON: line {exc.lineno} column {exc.colno}: {exc.msg}")],
            source,
        ) from None
    except ValueError as exc:  # duplicate key, raised from the hook
        raise WorkflowLoadError([Issue("", f"not valid: {exc}")], source) from None


def parse_workflow(
    raw: Any, registry: NodeRegistry | None = None, source: str | None = None
) -> Workflow:
    """Build a ``Workflow`` from a parsed JSON value; raise with every problem."""
    if not isinstance(raw, dict):
        raise WorkflowLoadError(
            [Issue("", f"a workflow file holds a JSON object, not {type(raw).__name__}")],
            source,
        )
    issues: list[Issue] = []
    if raw.get("format") != FORMAT:
        # (the words of the model's own check, which repeats it: listed once)
        issues.append(Issue("format", f"must be exactly {FORMAT!r}{got(raw.get('format'))}"))
    if "version" not in raw:
        issues.append(Issue("version", "field required"))
        raise WorkflowLoadError(issues, source)
    try:
        raw = migrate(raw)
    except MigrationError as exc:
        raise WorkflowLoadError([*issues, Issue("version", str(exc))], source) from None
    if registry is not None:
        issues.extend(_upgrade_node_configs(raw, registry))
    try:
        workflow = Workflow.model_validate(raw)
    except ValidationError as exc:
        found = {str(i) for i in issues}
        issues.extend(i for i in issues_from_validation_error(exc) if str(i) not in found)
        raise WorkflowLoadError(issues, source) from None
    if issues:
        raise WorkflowLoadError(issues, source)
    return workflow


def _upgrade_node_configs(raw: dict[str, Any], registry: NodeRegistry) -> list[Issue]:
    """Run each node type's ``upgrade_config`` on configs saved by an older version."""
    issues: list[Issue] = []
    nodes = raw.get("nodes")
    if not isinstance(nodes, list):
        return issues
    for index, node in enumerate(nodes):
        if not isinstance(node, dict) or not isinstance(node.get("type"), str):
            continue
        node_type = registry.find(node["type"])
        if node_type is None:
            continue
        version = node.get("type_version", 1)
        if not isinstance(version, int) or isinstance(version, bool):
            # ("99" would skip the version check below and load as 99)
            issues.append(
                Issue(
                    f"nodes[{index}].type_version",
                    f"must be a whole number, not {type(version).__name__} {version!r:.40}",
                    node.get("id") if isinstance(node.get("id"), str) else None,
                )
            )
            continue
        if version > node_type.version:
            issues.append(
                Issue(
                    f"nodes[{index}].type_version",
                    f"{node['type']} version {version} is newer than the installed "
                    f"version {node_type.version}; update Flowdesk or the plug-in",
                    node.get("id"),
                )
            )
            continue
        config = node.get("config", {})
        while version < node_type.version and isinstance(config, dict):
            config = node_type.upgrade_config(version, dict(config))
            version += 1
        if version != node.get("type_version", 1):
            nodes[index] = {**node, "config": config, "type_version": version}
    return issues


def load_workflow(path: str | os.PathLike[str], registry: NodeRegistry | None = None) -> Workflow:
    """Read a workflow file; raise ``WorkflowLoadError`` listing every problem."""
    source = os.fspath(path)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise WorkflowLoadError([Issue("", "file not found")], source) from None
    except IsADirectoryError:
        raise WorkflowLoadError([Issue("", "is a folder, not a workflow file")], source) from None
    except OSError as exc:
        raise WorkflowLoadError([Issue("", f"cannot read: {exc.strerror}")], source) from None
    return parse_workflow(read_json(data, source), registry, source)


def loads_workflow(text: str | bytes, registry: NodeRegistry | None = None) -> Workflow:
    """Parse a workflow from JSON text."""
    return parse_workflow(read_json(text), registry)


def dumps_workflow(workflow: Workflow) -> str:
    """The file's text: two-space indent, spec key order, trailing newline."""
    return json.dumps(workflow.to_json_dict(), indent=2, ensure_ascii=False) + "\n"


def atomic_write(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file, fsync and rename."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.chmod(tmp, target.stat().st_mode & 0o777)
        except FileNotFoundError:
            os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    try:
        dir_fd = os.open(target.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def save_workflow(workflow: Workflow, path: str | os.PathLike[str]) -> None:
    """Save atomically; a crash mid-save leaves the old file intact."""
    atomic_write(path, dumps_workflow(workflow).encode("utf-8"))
