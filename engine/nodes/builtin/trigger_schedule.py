"""``trigger.schedule``: start the flow on a cron schedule under ``flowdesk serve``.

Config ``{"cron", "timezone", "catch_up", "sample"}``. The output is
``{"scheduled_at", "fired_at", "timezone", "cron", "catch_up"}`` (ISO 8601
times). Cron expressions have 5 fields (minute precision) or 6 (the sixth is
seconds, e.g. ``* * * * * */10``). Runs missed while the server was down are not
replayed unless ``catch_up`` is true. In the editor and ``flowdesk run`` the node
outputs its ``sample`` (or a sample made of the current time).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ...context import NodeContext
from ...triggers import trigger_output
from ..spec import NodeType, Port


def check_cron(expression: str) -> str:
    from croniter import croniter

    text = " ".join(expression.split())
    if len(text.split(" ")) not in (5, 6) or not croniter.is_valid(text, second_at_beginning=False):
        raise ValueError(
            f"{expression!r} is not a cron expression (5 fields: minute hour day month "
            "weekday; a 6th field is seconds)"
        )
    return text


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (an IANA name such as 'Europe/Paris')")
    return name


class ScheduleConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    cron: str = Field(..., description="Cron expression, e.g. '0 7 * * 1-5' (6th field: seconds)")
    timezone: str = Field("UTC", description="IANA time zone the cron expression is read in")
    catch_up: bool = Field(
        False, description="Replay the runs missed while the server was down (at most 100)"
    )
    sample: dict[str, Any] | None = Field(
        None, description="Output when not started by the schedule (editor, flowdesk run)"
    )

    _cron = field_validator("cron")(classmethod(lambda cls, v: check_cron(v)))
    _tz = field_validator("timezone")(classmethod(lambda cls, v: check_timezone(v)))


def fired_event(config: ScheduleConfig, scheduled: datetime, fired: datetime) -> dict[str, Any]:
    tz = ZoneInfo(config.timezone)
    return {
        "scheduled_at": scheduled.astimezone(tz).isoformat(),
        "fired_at": fired.astimezone(tz).isoformat(),
        "timezone": config.timezone,
        "cron": config.cron,
    }


class TriggerSchedule(NodeType):
    type_name = "trigger.schedule"
    title = "Schedule"
    category = "Triggers"
    description = (
        "Start the flow on a cron schedule when it is served (flowdesk serve). "
        "Outputs the scheduled and actual fire times."
    )
    icon = "clock"
    inputs = ()
    outputs = (Port("out", "{scheduled_at, fired_at, timezone, cron}"),)
    Config = ScheduleConfig
    deterministic = False

    async def execute(self, ctx: NodeContext, config: ScheduleConfig) -> Any:
        if config.sample is not None:
            sample: Any = config.sample
        else:
            now = datetime.now(UTC)
            sample = fired_event(config, now, now)
        return trigger_output(ctx, sample)
