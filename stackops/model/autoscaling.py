"""Time- and load-based auto scaling: OpsWorks's schedule and threshold shapes, checked on input.

`WeeklyAutoScalingSchedule` maps Monday..Sunday to UTC hours "0".."23" that are
"on" (every other hour is off, as in OpsWorks). `AutoScalingThresholds` says
when a layer scales up or down: CPU, memory and load thresholds (-1 or unset
disables one), CloudWatch alarms, how long a threshold must hold
(ThresholdsWaitTime), how long metrics are ignored after an action
(IgnoreMetricsTime) and how many instances one action starts or stops.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Self

from pydantic import BeforeValidator, Field, StrictBool, StrictInt, model_validator
from pydantic.alias_generators import to_pascal

from stackops.model.base import OpsWorksModel
from stackops.model.fields import RecordId

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
SWITCHES = ("on", "off")
MAX_ALARMS = 5
Direction = Literal["up", "down"]

# Threshold field -> the metric it is compared with (namespace `stackops`, per instance).
METRICS: dict[str, str] = {
    "cpu_threshold": "CPUUtilization",
    "memory_threshold": "MemoryUtilization",
    "load_threshold": "LoadAverage",
}


def _hour(text: Any) -> int:
    """A schedule key as an hour 0-23; OpsWorks writes them as strings ("9")."""
    if isinstance(text, str) and text.isdigit() and len(text) <= 2 and int(text) < 24:
        return int(text)
    raise ValueError(f"{text!r} is not an hour: use '0' to '23' (UTC)")


def _day_schedule(value: Any) -> dict[str, str]:
    """One day's hours, normalised to the "on" ones with canonical keys ("09" -> "9")."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError('a day is an object of hours, like {"9": "on", "10": "on"}')
    hours: dict[int, str] = {}
    for key, switch in value.items():
        hour = _hour(key)
        if switch not in SWITCHES:
            raise ValueError(f"hour {key!r}: {switch!r} is not a switch: use 'on' or 'off'")
        if hour in hours and hours[hour] != switch:
            raise ValueError(f"hour {hour} is given twice, 'on' and 'off'")
        hours[hour] = switch
    return {str(h): "on" for h in sorted(hours) if hours[h] == "on"}


DaySchedule = Annotated[dict[str, str], BeforeValidator(_day_schedule)]


class WeeklyAutoScalingSchedule(OpsWorksModel):
    """When a time-based instance is online: per day, the UTC hours marked "on"."""

    monday: DaySchedule = {}
    tuesday: DaySchedule = {}
    wednesday: DaySchedule = {}
    thursday: DaySchedule = {}
    friday: DaySchedule = {}
    saturday: DaySchedule = {}
    sunday: DaySchedule = {}

    @model_validator(mode="before")
    @classmethod
    def _known_days(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise ValueError('give an object of days, like {"Monday": {"9": "on"}}')
        for key in data:
            if key not in DAYS and key not in {d.lower() for d in DAYS}:
                raise ValueError(f"{key!r} is not a day: use {', '.join(DAYS)}")
        return data

    def is_on(self, at: datetime) -> bool:
        """True when `at` falls in an hour marked "on" (the day and hour taken in UTC)."""
        moment = at.astimezone(UTC)
        day: dict[str, str] = getattr(self, DAYS[moment.weekday()].lower())
        return day.get(str(moment.hour)) == "on"

    def to_api(self) -> dict[str, Any]:
        """OpsWorks's shape: every day, each with its "on" hours."""
        return {day: dict(getattr(self, day.lower())) for day in DAYS}


def _threshold(low: float, high: float | None) -> BeforeValidator:
    """A number in [low, high], or -1 to disable the threshold (OpsWorks's convention)."""

    def check(value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{value!r} is not a number")
        if not math.isfinite(value):
            raise ValueError(f"{value!r} is not a finite number")
        if value == -1 or (value >= low and (high is None or value <= high)):
            return float(value)
        span = f"{low:g} to {high:g}" if high is not None else f"{low:g} or more"
        raise ValueError(f"{value!r} is out of range: give {span}, or -1 to disable it")

    return BeforeValidator(check)


Percent = Annotated[float | None, _threshold(0, 100)]
Load = Annotated[float | None, _threshold(0, None)]
Minutes = Annotated[StrictInt | None, Field(ge=1, le=100)]
AlarmName = Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[^\x00-\x1f\x7f]+$")]

# What an unset field means, per direction (OpsWorks's console defaults).
DEFAULTS: dict[Direction, dict[str, Any]] = {
    "up": {"instance_count": 1, "thresholds_wait_time": 5, "ignore_metrics_time": 5},
    "down": {"instance_count": 1, "thresholds_wait_time": 10, "ignore_metrics_time": 10},
}
# The thresholds a layer gets when load-based scaling is enabled with none given.
FIRST_THRESHOLDS: dict[Direction, dict[str, Any]] = {
    "up": {**DEFAULTS["up"], "cpu_threshold": 80.0},
    "down": {**DEFAULTS["down"], "cpu_threshold": 30.0},
}


class AutoScalingThresholds(OpsWorksModel):
    """When to start (up) or stop (down) load-based instances, and how many at once."""

    instance_count: StrictInt | None = Field(default=None, ge=1)
    thresholds_wait_time: Minutes = None
    ignore_metrics_time: Minutes = None
    cpu_threshold: Percent = None
    memory_threshold: Percent = None
    load_threshold: Load = None
    alarms: list[AlarmName] | None = Field(default=None, max_length=MAX_ALARMS)

    @model_validator(mode="before")
    @classmethod
    def _known_fields(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise ValueError('give an object, like {"InstanceCount": 1, "CpuThreshold": 80}')
        known = {name for name in cls.model_fields} | {to_pascal(n) for n in cls.model_fields}
        for key in data:
            if key not in known:
                valid = ", ".join(to_pascal(n) for n in cls.model_fields)
                raise ValueError(f"{key!r} is not a field of AutoScalingThresholds: use {valid}")
        return data

    @model_validator(mode="after")
    def _distinct_alarms(self) -> Self:
        if self.alarms and len(set(self.alarms)) != len(self.alarms):
            raise ValueError("an alarm is named twice in Alarms")
        return self

    def completed(self, direction: Direction) -> AutoScalingThresholds:
        """These thresholds with unset counts and times given their defaults."""
        filled = {k: v for k, v in DEFAULTS[direction].items() if getattr(self, k) is None}
        return self.model_copy(update=filled)

    def metric_thresholds(self) -> dict[str, float]:
        """Metric name -> threshold, for the thresholds that are enabled."""
        found: dict[str, float] = {}
        for field_name, metric in METRICS.items():
            value = getattr(self, field_name)
            if value is not None and value != -1:
                found[metric] = value
        return found


class LoadBasedAutoScaling(OpsWorksModel):
    """A layer's load-based scaling (OpsWorks `LoadBasedAutoScalingConfiguration`)."""

    layer_id: RecordId
    stack_id: RecordId
    enable: StrictBool = False
    up_scaling: AutoScalingThresholds
    down_scaling: AutoScalingThresholds

    def thresholds(self, direction: Direction) -> AutoScalingThresholds:
        """The thresholds of one direction, counts and times filled in."""
        chosen = self.up_scaling if direction == "up" else self.down_scaling
        return chosen.completed(direction)

    def to_api(self) -> dict[str, Any]:
        """OpsWorks's shape: LayerId, Enable, UpScaling, DownScaling (unset fields left out)."""
        data = super().to_api()
        data.pop("StackId", None)
        return data


class TimeBasedAutoScaling(OpsWorksModel):
    """A time-based instance's schedule (OpsWorks `TimeBasedAutoScalingConfiguration`).

    `revision` changes with every set-time-based-auto-scaling, so the scaler
    knows when the schedule it last followed was replaced.
    """

    instance_id: RecordId
    stack_id: RecordId
    auto_scaling_schedule: WeeklyAutoScalingSchedule = WeeklyAutoScalingSchedule()
    revision: str = ""

    def to_api(self) -> dict[str, Any]:
        return {
            "InstanceId": self.instance_id,
            "AutoScalingSchedule": self.auto_scaling_schedule.to_api(),
        }
