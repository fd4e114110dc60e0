"""engine/compat/asyncio_fast.py: ``current_task`` is asyncio's answer, and
on Python 3.11 the private table it reads is still there."""

from __future__ import annotations

import asyncio
import sys

from flowdesk.engine.compat import asyncio_fast


def test_the_private_task_table_is_there_on_3_11() -> None:
    if sys.version_info < (3, 12):
        assert asyncio_fast.USES_PRIVATE_TABLE, (
            f"Python {sys.version.split()[0]}: asyncio.tasks._current_tasks is not a "
            "dict any more; engine/compat/asyncio_fast.py (checked against 3.11.7) "
            "falls back to asyncio.current_task: update it"
        )
    else:
        assert asyncio_fast.current_task is asyncio.current_task


async def test_current_task_is_the_running_task() -> None:
    loop = asyncio.get_running_loop()

    async def inner() -> bool:
        return asyncio_fast.current_task(loop) is asyncio.current_task()

    assert asyncio_fast.current_task(loop) is asyncio.current_task()
    assert await loop.create_task(inner())


def test_no_task_outside_a_running_loop() -> None:
    loop = asyncio.new_event_loop()
    try:
        assert asyncio_fast.current_task(loop) is None
    finally:
        loop.close()
