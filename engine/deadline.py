"""``Deadline``: a time limit on a block of a task, cheaper than ``asyncio.timeout``.

The HTTP node puts every request under one (a ``for_each`` pays it per
item). The deadlines of one event loop share their timers in slices of
``DEADLINE_GRANULARITY_S`` (``_Sweeper``), one ``loop.call_at`` per slice.

May import: stdlib, ``.compat``.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

from .compat.asyncio_fast import current_task

#: how much later than its time a ``Deadline`` may fire: deadlines falling in
#: the same slice of this length share one timer
DEADLINE_GRANULARITY_S = 0.005


class _Sweeper:
    """The pending ``Deadline``s of one event loop, in slices of
    ``DEADLINE_GRANULARITY_S`` with one ``loop.call_at`` timer each.

    A timer per request (a ``TimerHandle``: a context copy, a heap push, a
    cancel and the heap's clean-up) costs a for_each more than registering in
    the set of its slice, and a slice's timer serves every request that
    starts within its few milliseconds. A slice's timer fires at the slice's
    end, so never before any of its deadlines; it is cancelled once all of
    them are done.
    """

    __slots__ = ("_slices",)

    def __init__(self) -> None:
        # (No reference to the loop: the sweeper is the value of a weak
        # dictionary keyed by the loop, which it must not keep alive.)
        self._slices: dict[int, tuple[set[Deadline], asyncio.TimerHandle]] = {}

    def add(
        self, deadline: Deadline, loop: asyncio.AbstractEventLoop, when: float
    ) -> tuple[int, set[Deadline]]:
        # The slice's end is strictly after ``when`` (truncation rounds down).
        key = int(when / DEADLINE_GRANULARITY_S) + 1
        entry = self._slices.get(key)
        if entry is None:
            timer = loop.call_at(key * DEADLINE_GRANULARITY_S, self._fire, key)
            entry = self._slices[key] = (set(), timer)
        members = entry[0]
        members.add(deadline)
        return key, members

    def remove(self, key: int, members: set[Deadline], deadline: Deadline) -> None:
        members.discard(deadline)
        if not members:
            entry = self._slices.get(key)
            if entry is not None and entry[0] is members:
                del self._slices[key]
                entry[1].cancel()

    def _fire(self, key: int) -> None:
        entry = self._slices.pop(key, None)
        if entry is not None:
            for deadline in list(entry[0]):
                deadline._expire()


#: one sweeper per event loop. Per loop, not per engine, on purpose: its timers
#: are the loop's, and the deadlines of every run on a loop share them (weak
#: keys: a closed loop takes its sweeper with it).
_sweepers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Sweeper] = (
    weakref.WeakKeyDictionary()
)


#: the last loop asked for and its sweeper (one weak-dictionary lookup less a
#: request; a weak reference, per loop like ``_sweepers``)
_last_sweeper: tuple[weakref.ref[asyncio.AbstractEventLoop], _Sweeper] | None = None


def _sweeper(loop: asyncio.AbstractEventLoop) -> _Sweeper:
    global _last_sweeper
    last = _last_sweeper
    if last is not None and last[0]() is loop:
        return last[1]
    sweeper = _sweepers.get(loop)
    if sweeper is None:
        sweeper = _sweepers[loop] = _Sweeper()
    _last_sweeper = (weakref.ref(loop), sweeper)
    return sweeper


class Deadline:
    """``asyncio.timeout(seconds)`` as a plain (synchronous) context manager.

    The same semantics as asyncio's (Python 3.11): when the time is up the
    task is cancelled, and the ``CancelledError`` leaving the block becomes a
    ``TimeoutError`` unless someone else cancelled the task too. Without
    asyncio's state machine and its two coroutines per use, and with a timer
    shared by the deadlines of a few milliseconds (``_Sweeper``), it costs a
    fraction, which a for_each pays per item. It fires no earlier than
    ``seconds`` and at most ``DEADLINE_GRANULARITY_S`` later. ``None``: no
    limit. tests/engine/test_deadline.py compares it with asyncio's.
    """

    __slots__ = ("_cancelling", "_expired", "_key", "_members", "_sweeper", "_task")

    def __init__(self, seconds: float | None) -> None:
        self._expired = False
        self._members: set[Deadline] | None = None
        if seconds is None:
            return
        loop = asyncio.get_running_loop()
        task = current_task(loop)
        if task is None:
            raise RuntimeError("Timeout should be used inside a task")
        self._task = task
        self._cancelling = task.cancelling()
        self._sweeper = sweeper = _sweeper(loop)
        self._key, self._members = sweeper.add(self, loop, loop.time() + seconds)

    def __enter__(self) -> Deadline:
        return self

    @property
    def when(self) -> float | None:
        """The loop time (``loop.time()``) at which the deadline fires, while
        it is pending; None without a limit, once expired or once left."""
        return None if self._members is None else self._key * DEADLINE_GRANULARITY_S

    @property
    def expired(self) -> bool:
        """Whether the time ran out (the task was cancelled for it)."""
        return self._expired

    def _expire(self) -> None:
        self._members = None
        self._task.cancel()
        self._expired = True

    def __exit__(self, exc_type: Any, exc: Any, traceback: Any) -> None:
        members = self._members
        if members is not None:
            self._members = None
            self._sweeper.remove(self._key, members, self)
        if (
            self._expired
            and self._task.uncancel() <= self._cancelling
            and exc_type is asyncio.CancelledError
        ):
            raise TimeoutError from exc
