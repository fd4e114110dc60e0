"""``engine.lazy.lazy_module``: a module imported on first use, safely from
several threads at once (the editor validates in a worker thread while a run
sends its first request: both read the HTTP stack's first attribute)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flowdesk.engine.lazy import lazy_module


@pytest.fixture
def slow_module(tmp_path: Path) -> Iterator[str]:
    """A module that takes a while to run, and says when it has started."""
    (tmp_path / "fd_lazy_sync.py").write_text("import threading\nstarted = threading.Event()\n")
    (tmp_path / "fd_lazy_slow.py").write_text(
        "import time, fd_lazy_sync\nfd_lazy_sync.started.set()\ntime.sleep(0.5)\nVALUE = 42\n"
    )
    sys.path.insert(0, str(tmp_path))
    try:
        yield "fd_lazy_slow"
    finally:
        sys.path.remove(str(tmp_path))
        for name in ("fd_lazy_slow", "fd_lazy_sync"):
            sys.modules.pop(name, None)


def test_nothing_runs_until_an_attribute_is_read(slow_module: str) -> None:
    module = lazy_module(slow_module)
    import fd_lazy_sync  # type: ignore[import-not-found]

    assert not fd_lazy_sync.started.is_set()
    assert module.VALUE == 42
    assert fd_lazy_sync.started.is_set()
    # from now on its names are the stand-in's own: no detour per read
    assert module.__dict__["VALUE"] == 42


def test_a_second_thread_waits_for_the_module_to_run_whole(slow_module: str) -> None:
    import fd_lazy_sync

    module = lazy_module(slow_module)
    seen: dict[str, Any] = {}

    def read(who: str) -> None:
        try:
            seen[who] = module.VALUE
        except Exception as exc:  # noqa: BLE001
            seen[who] = exc

    first = threading.Thread(target=read, args=("first",))
    first.start()
    assert fd_lazy_sync.started.wait(10)  # the first thread is running the module now
    read("second")  # (it used to see the module half-run: no attribute 'VALUE')
    first.join(10)
    assert seen == {"first": 42, "second": 42}


def test_a_missing_module_is_an_error_at_once() -> None:
    with pytest.raises(ModuleNotFoundError):
        lazy_module("fd_no_such_module_anywhere")
