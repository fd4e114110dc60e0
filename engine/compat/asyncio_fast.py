"""asyncio's private table of running tasks, for a cheaper ``current_task``.

Checked against CPython 3.11.7 (``asyncio.tasks._current_tasks``, a dict
from loop to task, read by the Python-level ``asyncio.current_task``). From
3.12 on ``current_task`` is C and this module returns it unchanged.
tests/compat/test_asyncio_fast.py fails if 3.11's table is not where it was.

May import: stdlib.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import Any

#: asyncio's table of running tasks by loop (3.11), or None where it is gone
_RUNNING_TASKS = getattr(asyncio.tasks, "_current_tasks", None)
#: whether ``current_task`` below is the direct lookup
USES_PRIVATE_TABLE = sys.version_info < (3, 12) and isinstance(_RUNNING_TASKS, dict)

#: ``asyncio.current_task(loop)`` (``loop`` is required). Python 3.11's is a
#: Python function around a lookup in asyncio's table of running tasks; code
#: that asks once per request (``engine.deadline.Deadline``) looks it up directly.
current_task: Callable[[asyncio.AbstractEventLoop], asyncio.Task[Any] | None] = (
    _RUNNING_TASKS.get  # type: ignore[union-attr]
    if USES_PRIVATE_TABLE
    else asyncio.current_task
)
