"""Files inside the run's data root: safe path resolution, and the formats
``text``, ``json``, ``jsonl``, ``csv`` and ``bytes`` (base64).

``resolve_in_root`` refuses — with ``PATH_TRAVERSAL`` and before anything is
read or written — absolute paths, ``~``, backslashes, drive letters, NUL bytes,
and any path that, once ``..`` and symbolic links are resolved, leads outside
the root. Errors name the path as the user wrote it, relative to the root.
Blocking file work runs in a worker thread (``asyncio.to_thread``).
May import: engine.errors, stdlib.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from engine.errors import ConfigError, ExecutionError, FlowdeskError, SecurityError
from engine.io import atomic_write

FORMATS = ("text", "json", "jsonl", "csv", "bytes")
_DRIVE = re.compile(r"^[A-Za-z]:")


def path_traversal(path: str, why: str) -> SecurityError:
    return SecurityError(
        f"path {path!r} is refused: {why}; paths must stay inside the data root",
        code="PATH_TRAVERSAL",
        details={"path": path},
    )


def resolve_in_root(root: Path, path: str) -> Path:
    """The real location of ``path`` under ``root``; refuses anything leading out."""
    if not isinstance(path, str) or not path.strip():
        raise ConfigError("the file path is empty", code="CONFIG_INVALID", details={"path": path})
    if "\x00" in path:
        raise path_traversal(path, "it contains a NUL byte")
    if "\\" in path:
        raise path_traversal(path, "it contains a backslash")
    if path.startswith("~"):
        raise path_traversal(path, "'~' (home folder) is not allowed")
    if os.path.isabs(path) or _DRIVE.match(path):
        raise path_traversal(path, "it is absolute")
    real_root = Path(os.path.realpath(root))
    candidate = Path(os.path.realpath(real_root / path))
    if candidate != real_root and real_root not in candidate.parents:
        raise path_traversal(path, "it resolves outside the data root")
    if candidate == real_root:
        raise _file_error(IsADirectoryError(), path)
    return candidate


def _file_error(exc: OSError, path: str) -> FlowdeskError:
    if isinstance(exc, FileNotFoundError | NotADirectoryError):
        return ExecutionError(
            f"file {path!r} not found in the data root",
            code="FILE_NOT_FOUND",
            details={"path": path},
        )
    if isinstance(exc, PermissionError):
        return ExecutionError(
            f"permission denied for {path!r}", code="PERMISSION_DENIED", details={"path": path}
        )
    if isinstance(exc, IsADirectoryError):
        return ExecutionError(
            f"{path!r} is a folder, not a file", code="IS_A_DIRECTORY", details={"path": path}
        )
    return ExecutionError(
        f"cannot access {path!r}: {exc.strerror or exc}",
        code="FILE_ERROR",
        details={"path": path, "errno": exc.errno},
    )


def _encoding_error(path: str, exc: UnicodeDecodeError) -> FlowdeskError:
    return ExecutionError(
        f"file {path!r} is not UTF-8 text (invalid byte at position {exc.start}); "
        "read it with format 'bytes'",
        code="ENCODING",
        category="VALIDATION",
        details={"path": path, "position": exc.start},
    )


def _parse_error(path: str, message: str, line: int | None = None) -> FlowdeskError:
    where = f" line {line}" if line is not None else ""
    return ExecutionError(
        f"file {path!r}{where}: {message}",
        code="PARSE_ERROR",
        category="VALIDATION",
        details={"path": path, "line": line},
    )


def read_file(root: Path, path: str, fmt: str) -> Any:
    """Read ``path`` (relative to ``root``) in format ``fmt``."""
    target = resolve_in_root(root, path)
    try:
        if fmt == "bytes":
            return base64.b64encode(target.read_bytes()).decode("ascii")
        with open(target, encoding="utf-8", newline="" if fmt == "csv" else None) as handle:
            if fmt == "csv":
                return list(csv.DictReader(handle))
            text = handle.read()
    except OSError as exc:
        raise _file_error(exc, path) from None
    except UnicodeDecodeError as exc:
        raise _encoding_error(path, exc) from None
    except csv.Error as exc:
        raise _parse_error(path, f"not valid CSV: {exc}") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if fmt == "text":
        return text
    if fmt == "json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise _parse_error(path, f"not valid JSON: {exc.msg} (column {exc.colno})",
                               exc.lineno) from None
    if fmt == "jsonl":
        records = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise _parse_error(path, f"not valid JSON: {exc.msg}", number) from None
        return records
    raise ConfigError(f"unknown format {fmt!r}")


def _csv_text(rows: Any, with_header: bool) -> str:
    if isinstance(rows, dict):
        rows = [rows]
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ConfigError(
            "format 'csv' writes a list of objects (one per row)", code="CONFIG_INVALID"
        )
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(str(k) for k in row))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if with_header:
        writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_cell(row.get(column)) for column in columns])
    return buffer.getvalue()


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def _lines(values: Any) -> Iterator[str]:
    for value in values if isinstance(values, list) else [values]:
        yield json.dumps(value, ensure_ascii=False) + "\n"


def encode_content(content: Any, fmt: str, *, append: bool, existing_size: int) -> bytes:
    """The bytes ``file.write`` writes for ``content`` in format ``fmt``."""
    if fmt == "bytes":
        if not isinstance(content, str):
            raise ConfigError("format 'bytes' writes base64 text", code="CONFIG_INVALID")
        try:
            return base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError):
            raise ConfigError("content is not valid base64", code="CONFIG_INVALID") from None
    if fmt == "text":
        text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
    elif fmt == "json":
        if append:
            raise ConfigError(
                "mode 'append' cannot add to a JSON document; use format 'jsonl'",
                code="CONFIG_INVALID",
            )
        text = json.dumps(content, ensure_ascii=False, indent=2) + "\n"
    elif fmt == "jsonl":
        text = "".join(_lines(content))
    elif fmt == "csv":
        text = _csv_text(content, with_header=not append or existing_size == 0)
    else:
        raise ConfigError(f"unknown format {fmt!r}")
    return text.encode("utf-8")


def write_file(root: Path, path: str, fmt: str, content: Any, mode: str) -> dict[str, Any]:
    """Write ``content`` to ``path`` under ``root``; ``{"path", "bytes"}``."""
    target = resolve_in_root(root, path)
    append = mode == "append"
    try:
        existing = target.stat().st_size if append and target.exists() else 0
        data = encode_content(content, fmt, append=append, existing_size=existing)
        # Create parent folders one by one, re-checking each stays in the root.
        target.parent.mkdir(parents=True, exist_ok=True)
        resolve_in_root(root, path)
        if target.is_dir():
            raise IsADirectoryError()
        if append:
            with open(target, "ab") as handle:
                handle.write(data)
        else:
            atomic_write(target, data)
    except OSError as exc:
        raise _file_error(exc, path) from None
    relative = target.relative_to(Path(os.path.realpath(root))).as_posix()
    return {"path": relative, "bytes": len(data)}
