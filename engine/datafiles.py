"""Files inside the run's data root: the formats ``text``, ``json``, ``jsonl``,
``csv`` and ``bytes`` (base64), read with size limits and written atomically
(or appended to under a lock).

Where a path may lead is ``engine.data_root`` (``resolve_in_root``: nothing
outside the root, no links on the way, only regular files; a FIFO must not
hang a run); its names are re-exported here.
May import: engine.data_root, engine.errors, engine.io, stdlib.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import csv
import errno
import io
import json
import os
import re
import secrets
import stat
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from .data_root import (
    OPEN_FLAGS,
    changed_on_the_way,
    file_error,
    hard_link_refused,
    not_a_file,
    open_parent,
    open_regular,
    path_traversal,
    resolve_in_root,
)
from .errors import ConfigError, ExecutionError, FlowdeskError, json_type

__all__ = [
    "DEFAULT_MAX_READ_BYTES",
    "FORMATS",
    "encode_content",
    "open_parent",
    "path_traversal",
    "read_file",
    "resolve_in_root",
    "write_file",
]

FORMATS = ("text", "json", "jsonl", "csv", "bytes")
#: largest file ``file.read`` reads unless its ``max_bytes`` says otherwise
DEFAULT_MAX_READ_BYTES = 50 * 1024 * 1024


def _encoding_error(path: str, data: bytes, offset: int) -> FlowdeskError:
    line = data.count(b"\n", 0, offset) + 1
    return ExecutionError(
        f"file {path!r} is not UTF-8 text (invalid byte 0x{data[offset]:02x} at byte "
        f"{offset}, line {line}); read it with format 'bytes'",
        code="ENCODING",
        category="VALIDATION",
        details={"path": path, "position": offset, "line": line},
    )


def _parse_error(path: str, message: str, line: int | None = None) -> FlowdeskError:
    where = f" line {line}" if line is not None else ""
    return ExecutionError(
        f"file {path!r}{where}: {message}",
        code="PARSE_ERROR",
        category="VALIDATION",
        details={"path": path, "line": line},
    )


def _size_text(size: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}".replace(".0 ", " ")
    return f"{size} bytes"


def _check_size(fd: int, path: str, max_bytes: int | None) -> None:
    """``FILE_TOO_LARGE`` before anything is read, from the file's size."""
    if max_bytes is None:
        return
    size = os.fstat(fd).st_size
    if size > max_bytes:
        os.close(fd)
        raise ExecutionError(
            f"file {path!r} is {_size_text(size)}, over the limit of {_size_text(max_bytes)}; "
            "raise config.max_bytes to read it (reading a file takes memory of a few "
            "times its size)",
            code="FILE_TOO_LARGE",
            details={"path": path, "size_bytes": size, "max_bytes": max_bytes},
        )


def _read_bytes(target: Path, path: str, max_bytes: int | None = None) -> bytes:
    fd = open_regular(target, path)
    _check_size(fd, path, max_bytes)
    try:
        with open(fd, "rb", closefd=True) as handle:
            return handle.read()
    except OSError as exc:
        raise file_error(exc, path) from None


def _decode(data: bytes, path: str) -> str:
    """UTF-8 text without a leading byte order mark; ``ENCODING`` with the exact byte."""
    skip = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        # A memoryview slice decodes without copying a large file first.
        return str(memoryview(data)[skip:], "utf-8")
    except UnicodeDecodeError as exc:
        raise _encoding_error(path, data, exc.start + skip) from None


def _read_csv(target: Path, path: str, max_bytes: int | None = None) -> list[dict[str, str | None]]:
    # Parsed while the file is decoded (no second copy of a large file in
    # memory); a decoding error is located exactly from the raw bytes.
    fd = open_regular(target, path)
    _check_size(fd, path, max_bytes)
    try:
        with open(fd, encoding="utf-8-sig", newline="", closefd=True) as handle:
            return _csv_records(handle, path)
    except OSError as exc:
        raise file_error(exc, path) from None
    except UnicodeDecodeError:
        pass
    _decode(_read_bytes(target, path), path)  # raises ENCODING at the right byte
    raise ExecutionError(f"file {path!r} changed while it was read", code="FILE_ERROR")


def _csv_records(lines: Iterable[str], path: str) -> list[dict[str, str | None]]:
    """Rows as objects keyed by the header row; blank lines are skipped."""
    reader = csv.reader(lines)
    records: list[dict[str, str | None]] = []
    try:
        header: list[str] | None = None
        for row in reader:
            if row:
                header = row
                break
        if header is None:
            return records
        seen: set[str] = set()
        for name in header:
            if name in seen:
                raise _parse_error(
                    path, f"column {name!r} appears twice in the header row", reader.line_num
                )
            seen.add(name)
        width = len(header)
        append = records.append
        for row in reader:
            if len(row) == width:
                append(dict(zip(header, row)))  # noqa: B905 - same length, checked
            elif not row:
                continue
            elif len(row) < width:
                # Missing trailing cells are null, as csv.DictReader gives them.
                append(dict(zip(header, [*row, *([None] * (width - len(row)))], strict=True)))
            else:
                raise _parse_error(
                    path,
                    f"the row has {len(row)} fields but the header row has {width}",
                    reader.line_num,
                )
    except csv.Error as exc:
        raise _parse_error(path, f"not valid CSV: {exc}", reader.line_num) from None
    return records


def read_file(root: Path, path: str, fmt: str, max_bytes: int | None = None) -> Any:
    """Read ``path`` (relative to ``root``) in format ``fmt``; a file larger
    than ``max_bytes`` is ``FILE_TOO_LARGE`` before anything is read."""
    if fmt not in FORMATS:
        raise ConfigError(f"unknown format {fmt!r} (formats: {', '.join(FORMATS)})")
    target = resolve_in_root(root, path)
    if fmt == "csv":
        return _read_csv(target, path, max_bytes)
    data = _read_bytes(target, path, max_bytes)
    if fmt == "bytes":
        encoded = base64.b64encode(data)
        del data  # (the peak is the file and its base64 once, not twice)
        return encoded.decode("ascii")
    text = _decode(data, path)
    del data
    if fmt == "text":
        return text
    if fmt == "json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise _parse_error(
                path, f"not valid JSON: {exc.msg} (column {exc.colno})", exc.lineno
            ) from None
    records = []
    # Split on "\n" only: str.splitlines() would also split on U+2028 and other
    # separators that JSON allows unescaped inside strings.
    for number, line in enumerate(_text_lines(text), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise _parse_error(
                path, f"not valid JSON: {exc.msg} (column {exc.colno})", number
            ) from None
    return records


def _text_lines(text: str) -> Iterator[str]:
    """The lines of ``text`` one at a time (no list of all of them in memory)."""
    start = 0
    while True:
        end = text.find("\n", start)
        if end < 0:
            yield text[start:]
            return
        yield text[start:end]
        start = end + 1


def _csv_text(rows: Any, path: str, columns: list[str] | None) -> str:
    """CSV of a list of objects; ``columns`` is the header of the file appended to."""
    if isinstance(rows, dict):
        rows = [rows]
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ConfigError(
            f"file {path!r}: format 'csv' writes a list of objects (one per row), "
            f"not {'a list holding other values' if isinstance(rows, list) else json_type(rows)}",
            code="CONFIG_INVALID",
            details={"path": path},
        )
    if not rows:
        return ""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if columns is None:
        names: dict[str, None] = {}
        for row in rows:
            names.update(dict.fromkeys(row))
        columns = list(names)
        writer.writerow(columns)
    else:
        known = set(columns)
        for row in rows:
            extra = [key for key in row if key not in known]
            if extra:
                raise ExecutionError(
                    f"cannot append to {path!r}: column {extra[0]!r} is not in its header "
                    f"row ({', '.join(columns)})",
                    code="CSV_COLUMNS",
                    category="VALIDATION",
                    details={"path": path, "columns": columns, "extra": extra},
                )
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


def _dumps(value: Any, path: str, **options: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False, **options)
    except ValueError:
        raise ConfigError(
            f"file {path!r}: the content holds NaN or Infinity, which JSON cannot represent",
            code="CONFIG_INVALID",
            details={"path": path},
        ) from None


def _lines(values: Any, path: str) -> Iterator[str]:
    for value in values if isinstance(values, list) else [values]:
        yield _dumps(value, path) + "\n"


def encode_content(
    content: Any, fmt: str, *, path: str = "", csv_columns: list[str] | None = None
) -> bytes:
    """The bytes ``file.write`` writes for ``content`` in format ``fmt``.

    ``csv_columns``: the header row of a CSV file being appended to (the rows
    follow its columns and no second header is written).
    """
    if fmt == "bytes":
        if not isinstance(content, str):
            raise ConfigError(
                f"file {path!r}: format 'bytes' writes base64 text, not {json_type(content)}",
                code="CONFIG_INVALID",
                details={"path": path},
            )
        try:
            return base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError):
            raise ConfigError(
                f"file {path!r}: the content is not valid base64",
                code="CONFIG_INVALID",
                details={"path": path},
            ) from None
    if fmt == "text":
        text = content if isinstance(content, str) else _dumps(content, path)
    elif fmt == "json":
        text = _dumps(content, path, indent=2) + "\n"
    elif fmt == "jsonl":
        text = "".join(_lines(content, path))
    elif fmt == "csv":
        text = _csv_text(content, path, csv_columns)
    else:
        raise ConfigError(f"unknown format {fmt!r} (formats: {', '.join(FORMATS)})")
    return text.encode("utf-8")


def _csv_header(fd: int, path: str) -> list[str] | None:
    """The header row of an existing non-empty CSV file (None when there is none)."""
    try:
        with open(os.dup(fd), encoding="utf-8-sig", newline="", closefd=True) as handle:
            handle.seek(0)
            for row in csv.reader(handle):
                if row:
                    return row
    except UnicodeDecodeError:
        raise ExecutionError(
            f"cannot append to {path!r}: it is not UTF-8 text",
            code="ENCODING",
            category="VALIDATION",
            details={"path": path},
        ) from None
    except csv.Error as exc:
        raise _parse_error(path, f"not valid CSV: {exc}", 1) from None
    return None


def _lacks_final_newline(fd: int) -> bool:
    size = os.fstat(fd).st_size
    return size > 0 and os.pread(fd, 1, size - 1) != b"\n"


#: temporary files of an overwrite: ``.NAME.PID.RANDOM.tmp``
_TEMP = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[A-Za-z0-9_]{8}\.tmp$")
#: one lock per file being appended to: deciding whether to write the CSV
#: header row and appending must not interleave (``for_each`` in parallel).
#: Process-wide on purpose: a file is the process's, whichever engine writes it
_append_locks: dict[str, threading.Lock] = {}
_append_locks_guard = threading.Lock()


def _append_lock(target: Path) -> threading.Lock:
    key = os.fspath(target)
    with _append_locks_guard:
        lock = _append_locks.get(key)
        if lock is None:
            if len(_append_locks) > 1024:
                _append_locks.clear()  # (locks in use stay referenced by holders)
            lock = _append_locks[key] = threading.Lock()
        return lock


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _clean_stale_temps(parent: int, name: str) -> None:
    """Remove temporary files of ``name`` left by a process that died mid-write."""
    try:
        entries = os.listdir(parent)
    except OSError:
        return
    for entry in entries:
        match = _TEMP.match(entry)
        if match and match["name"] == name and not _pid_alive(int(match["pid"])):
            try:
                os.unlink(entry, dir_fd=parent)
            except OSError:
                pass


def _replace_at(
    parent: int, name: str, data: bytes, cancelled: Callable[[], bool] | None = None
) -> bool:
    """Write ``data`` to ``name`` in the folder ``parent`` through a temporary
    file, fsync and rename — all relative to ``parent``; False if
    ``cancelled()`` said so before the rename (the target is then unchanged)."""
    _clean_stale_temps(parent, name)
    tmp = f".{name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | OPEN_FLAGS
    try:
        mode = os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode & 0o777
    except FileNotFoundError:
        mode = 0o644
    fd = os.open(tmp, flags & ~getattr(os, "O_NONBLOCK", 0), 0o600, dir_fd=parent)
    try:
        try:
            view = memoryview(data)
            while view:
                if cancelled is not None and cancelled():
                    raise _Cancelled()
                written = os.write(fd, view[: 1 << 20])
                view = view[written:]
            os.fsync(fd)
            os.fchmod(fd, mode)
        finally:
            os.close(fd)
        if cancelled is not None and cancelled():
            raise _Cancelled()
        os.replace(tmp, name, src_dir_fd=parent, dst_dir_fd=parent)
    except BaseException as exc:
        try:
            os.unlink(tmp, dir_fd=parent)
        except FileNotFoundError:
            pass
        if isinstance(exc, _Cancelled):
            return False
        raise
    try:
        os.fsync(parent)
    except OSError:
        pass
    return True


class _Cancelled(Exception):
    pass


def write_file(
    root: Path,
    path: str,
    fmt: str,
    content: Any,
    mode: str,
    cancelled: Callable[[], bool] | None = None,
) -> dict[str, Any]:
    """Write ``content`` to ``path`` under ``root``; ``{"path", "bytes"}``.

    Every step goes through a descriptor of the target's folder (no link is
    followed). ``cancelled()`` is asked before the file is replaced or
    appended to: when it says so, nothing changes and ``{"cancelled": True}``
    is returned.
    """
    target = resolve_in_root(root, path)
    if path.endswith("/"):
        raise file_error(IsADirectoryError(), path)  # "out/" names a folder
    append = mode == "append"
    if append and fmt == "json":
        raise ConfigError(
            f"file {path!r}: mode 'append' cannot add to a JSON document; use format 'jsonl'",
            code="CONFIG_INVALID",
            details={"path": path},
        )
    relative = target.relative_to(Path(os.path.realpath(root))).as_posix()
    try:
        try:
            parent, name = open_parent(target, path, create=True)
        except (FileExistsError, NotADirectoryError):
            raise ExecutionError(
                f"cannot write {path!r}: one of its parent folders is a file",
                code="NOT_A_DIRECTORY",
                details={"path": path},
            ) from None
        try:
            if append:
                with _append_lock(target):
                    written = _append_at(parent, name, path, fmt, content, cancelled)
            else:
                try:
                    existing = os.stat(name, dir_fd=parent, follow_symlinks=False)
                except FileNotFoundError:
                    existing = None
                _check_existing(existing, path)
                data = encode_content(content, fmt, path=path)
                written = len(data) if _replace_at(parent, name, data, cancelled) else None
        finally:
            os.close(parent)
    except FlowdeskError:
        raise
    except OSError as exc:
        raise file_error(exc, path) from None
    if written is None:
        return {"path": relative, "bytes": 0, "cancelled": True}
    return {"path": relative, "bytes": written}


def _check_existing(existing: os.stat_result | None, path: str) -> None:
    if existing is None:
        return
    if stat.S_ISDIR(existing.st_mode):
        raise file_error(IsADirectoryError(), path)
    if stat.S_ISLNK(existing.st_mode):
        raise changed_on_the_way(path)  # resolved without links a moment ago
    if not stat.S_ISREG(existing.st_mode):
        raise not_a_file(path)


def _append_at(
    parent: int,
    name: str,
    path: str,
    fmt: str,
    content: Any,
    cancelled: Callable[[], bool] | None,
) -> int | None:
    flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | OPEN_FLAGS
    try:
        fd = os.open(name, flags, 0o644, dir_fd=parent)
    except OSError as exc:
        if exc.errno == errno.EISDIR:
            raise file_error(IsADirectoryError(), path) from None
        raise
    try:
        info = os.fstat(fd)
        _check_existing(info, path)
        if info.st_nlink > 1:
            raise hard_link_refused(path)
        existing = info.st_size > 0
        columns = _csv_header(fd, path) if fmt == "csv" and existing else None
        data = encode_content(content, fmt, path=path, csv_columns=columns)
        if fmt in ("csv", "jsonl") and data and existing and _lacks_final_newline(fd):
            data = b"\n" + data  # a record must not be glued to the file's last line
        if cancelled is not None and cancelled():
            return None
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        return len(data)
    finally:
        os.close(fd)
