"""engine/deadline.py: ``Deadline`` behaves like ``asyncio.timeout`` and
shares its timers; asserted on outcomes and on the times the timers are set
for, not on how long anything took."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from flowdesk.engine.deadline import DEADLINE_GRANULARITY_S, Deadline, _sweeper

#: a limit no test body reaches: the block ends (or is cancelled) first
NEVER = 3600.0


async def _outcome(kind: str, scenario: str) -> tuple[str, int]:
    """What a guarded block ends with, and the task's cancel count."""
    started = asyncio.Event()
    # The limit runs out during the "slow" and "swallows" bodies, which wait
    # on nothing that ever comes; the others end (or are cancelled) first.
    limit = 0.02 if scenario in ("slow", "swallows") else NEVER

    async def body() -> None:
        started.set()
        if scenario == "fast":
            await asyncio.sleep(0)
        elif scenario in ("slow", "cancelled"):
            await asyncio.Event().wait()
        elif scenario == "raises":
            await asyncio.sleep(0)
            raise ValueError("boom")
        elif scenario == "swallows":
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                pass

    async def guarded() -> str:
        if kind == "asyncio":
            async with asyncio.timeout(limit):
                await body()
        else:
            with Deadline(limit):
                await body()
        return "done"

    task = asyncio.get_running_loop().create_task(guarded())
    if scenario == "cancelled":
        await started.wait()
        task.cancel()
    try:
        outcome = await task
    except BaseException as exc:  # noqa: BLE001 - the outcome is the point
        outcome = type(exc).__name__
    return outcome, task.cancelling()


@pytest.mark.parametrize("scenario", ["fast", "slow", "cancelled", "raises", "swallows"])
async def test_deadline_behaves_like_asyncio_timeout(scenario: str) -> None:
    assert await _outcome("deadline", scenario) == await _outcome("asyncio", scenario)


async def test_deadline_that_is_already_past_fires_at_the_next_turn() -> None:
    with pytest.raises(TimeoutError), Deadline(1e-12) as deadline:
        await asyncio.Event().wait()
    assert deadline.expired


def test_deadline_needs_a_task() -> None:
    with pytest.raises(RuntimeError):
        Deadline(1.0)


async def test_deadline_is_set_no_earlier_and_at_most_one_slice_later() -> None:
    loop = asyncio.get_running_loop()
    for limit in (0.01, 0.023, 0.05, 7.5):
        before = loop.time()
        deadline = Deadline(limit)
        after = loop.time()
        when = deadline.when
        assert when is not None
        assert before + limit <= when <= after + limit + DEADLINE_GRANULARITY_S
        # the timer the loop holds is set for exactly that time
        timers = [
            timer for members, timer in _sweeper(loop)._slices.values() if deadline in members
        ]
        assert [timer.when() for timer in timers] == [when]
        with deadline:
            pass
        assert deadline.when is None and not deadline.expired


async def test_deadline_fires_its_timer_and_the_block_times_out() -> None:
    with pytest.raises(TimeoutError), Deadline(0.01) as deadline:
        await asyncio.Event().wait()
    assert deadline.expired and deadline.when is None


async def test_deadlines_share_timers_and_leave_none_behind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loop = asyncio.get_running_loop()
    sweeper = _sweeper(loop)
    timers: list[asyncio.TimerHandle] = []
    call_at = loop.call_at

    def recording_call_at(when: float, callback: Any, *args: Any) -> asyncio.TimerHandle:
        timer = call_at(when, callback, *args)
        timers.append(timer)
        return timer

    monkeypatch.setattr(loop, "call_at", recording_call_at)

    async def quick() -> None:
        with Deadline(NEVER):
            await asyncio.sleep(0)

    await asyncio.gather(*(quick() for _ in range(200)))
    # 200 deadlines set within a few slices share those slices' timers ...
    assert 1 <= len(timers) < 200
    # ... and once all of them are done, no slice and no live timer is left
    assert sweeper._slices == {}
    assert all(timer.cancelled() for timer in timers)


async def test_deadline_none_is_no_limit() -> None:
    with Deadline(None) as deadline:
        await asyncio.sleep(0)
    assert deadline.when is None and not deadline.expired


def test_deadlines_work_on_one_loop_after_another() -> None:
    """The sweeper remembered for the last loop is never another loop's."""

    async def expires() -> None:
        with pytest.raises(TimeoutError), Deadline(0.001):
            await asyncio.Event().wait()

    for _ in range(3):
        asyncio.run(expires())
