"""Where a path of a workflow may lead: inside the run's data root, and
nowhere else. ``resolve_in_root`` refuses — with ``PATH_TRAVERSAL`` and
before anything is read or written — absolute paths, ``~``, backslashes,
drive letters, NUL bytes, percent-encoded and look-alike separators, and any
path that, once ``..`` and symbolic links are resolved, leads outside the
root. ``open_parent`` and ``open_regular`` then open what was resolved
without following links on the way (a folder swapped for a link in between
is refused), and only regular files, with one link. Errors name the path as
the user wrote it. The formats and the reads and writes: ``engine.datafiles``.

May import: engine.errors, stdlib.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from .errors import ConfigError, ExecutionError, FlowdeskError, SecurityError

_DRIVE = re.compile(r"^[A-Za-z]:")
# Percent-encoded '.', '/', '\\', '%' or NUL: no file system decodes them, but a path
# holding them is a traversal attempt aimed at something that does.
_ENCODED = re.compile(r"%(?:2e|2f|5c|00|25)", re.IGNORECASE)
# Look-alikes of '/', '\\' and '.' that Windows' "best fit" code page mapping
# turns into the real characters (the "WorstFit" attacks).
_LOOKALIKES = frozenset("\uff0f\u2215\u2044\u29f8\uff3c\u2216\u29f5\u29f9\ufe68\uff0e\u2024")
OPEN_FLAGS = (
    getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_BINARY", 0)
    | getattr(os, "O_CLOEXEC", 0)
)


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
    if _ENCODED.search(path):
        raise path_traversal(path, "it holds a percent-encoded '.', '/', '\\', '%' or NUL")
    if not _LOOKALIKES.isdisjoint(path):
        raise path_traversal(path, "it holds a look-alike of '/', '\\' or '.'")
    real_root = Path(os.path.realpath(root))
    try:
        candidate = Path(os.path.realpath(real_root / path))
    except OSError as exc:  # a link changing while it is read
        raise file_error(exc, path) from None
    if candidate != real_root and real_root not in candidate.parents:
        raise path_traversal(path, "it resolves outside the data root")
    if candidate == real_root:
        raise file_error(IsADirectoryError(), path)
    return candidate


def file_error(exc: OSError, path: str) -> FlowdeskError:
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


def not_a_file(path: str) -> FlowdeskError:
    return ExecutionError(
        f"{path!r} is not a regular file (a device, pipe or socket)",
        code="NOT_A_FILE",
        details={"path": path},
    )


DIR_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_DIRECTORY", 0)
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
)
FD_WALK = os.open in os.supports_dir_fd and bool(getattr(os, "O_NOFOLLOW", 0))


def changed_on_the_way(path: str) -> FlowdeskError:
    return path_traversal(path, "a folder on its way was replaced by a link while it was used")


def open_dir_at(parent: int, name: str, path: str) -> int:
    """The folder ``name`` of ``parent``, never through a link."""
    try:
        return os.open(name, DIR_FLAGS, dir_fd=parent)
    except OSError:
        try:
            if stat.S_ISLNK(os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode):
                raise changed_on_the_way(path) from None
        except OSError:
            pass
        raise


def open_parent(target: Path, path: str, *, create: bool = False) -> tuple[int, str]:
    """A descriptor of ``target``'s folder and ``target``'s name in it.

    ``target`` is what ``resolve_in_root`` gave: a real path, without links.
    It is opened component by component from ``/`` with ``O_NOFOLLOW``, so
    that a folder swapped for a link after the check (a race) is refused
    instead of followed out of the root. ``create`` makes missing folders.
    """
    parts = target.parts
    fd = os.open(parts[0], DIR_FLAGS)
    try:
        for name in parts[1:-1]:
            try:
                following = open_dir_at(fd, name, path)
            except FileNotFoundError:
                if not create:
                    raise
                try:
                    os.mkdir(name, 0o777, dir_fd=fd)
                except FileExistsError:
                    pass
                following = open_dir_at(fd, name, path)
            os.close(fd)
            fd = following
    except BaseException:
        os.close(fd)
        raise
    return fd, parts[-1]


def open_regular(target: Path, path: str) -> int:
    """A descriptor of the regular file ``target`` (errors name ``path``)."""
    # No link is followed on the way (``open_parent``) nor at the end
    # (O_NOFOLLOW); O_NONBLOCK: opening a FIFO must not hang the run.
    try:
        if FD_WALK:
            parent, name = open_parent(target, path)
            try:
                fd = os.open(name, os.O_RDONLY | OPEN_FLAGS, dir_fd=parent)
            finally:
                os.close(parent)
        else:  # pragma: no cover - systems without openat
            fd = os.open(target, os.O_RDONLY | OPEN_FLAGS)
    except FlowdeskError:
        raise
    except OSError as exc:
        # (ELOOP: a link where the real path had none — swapped in since, or a loop)
        raise file_error(exc, path) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise file_error(IsADirectoryError(), path)
        if not stat.S_ISREG(info.st_mode):
            raise not_a_file(path)
        if info.st_nlink > 1:
            raise hard_link_refused(path)
    except BaseException:
        os.close(fd)
        raise
    return fd


def hard_link_refused(path: str) -> FlowdeskError:
    return path_traversal(
        path, "it is a hard link (the same file has another name, maybe outside the root)"
    )
