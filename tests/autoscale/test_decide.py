"""The scaler's decision on plain data: schedules, thresholds, wait and ignore times, bounds."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

from stackops.autoscale.decide import (
    AlarmState,
    Facts,
    InstanceFacts,
    LastAction,
    ScheduleMark,
    decide,
    metric_request,
)
from stackops.model.autoscaling import (
    AutoScalingThresholds,
    LoadBasedAutoScaling,
    TimeBasedAutoScaling,
    WeeklyAutoScalingSchedule,
)
from stackops.model.enums import AutoScalingType
from stackops.model.enums import InstanceStatus as S

MONDAY = datetime(2026, 12, 7, tzinfo=UTC)  # a Monday, 00:00 UTC
TIMER, LOAD = AutoScalingType.timer, AutoScalingType.load


def instance(name: str, kind=None, status=S.stopped, layers=("L",)) -> InstanceFacts:
    return InstanceFacts(name, name, kind, status, tuple(layers))


def schedule(name: str, days: dict, revision: str = "r1") -> TimeBasedAutoScaling:
    weekly = WeeklyAutoScalingSchedule.model_validate(days)
    return TimeBasedAutoScaling(
        instance_id=name, stack_id="S", auto_scaling_schedule=weekly, revision=revision
    )


def settle(instances: list[InstanceFacts], plan) -> list[InstanceFacts]:
    """What the dispatcher would make of the plan: starts come online, stops stop."""
    verbs = {a.instance_id: a.verb for a in plan.actions}
    return [
        replace(i, status={"start": S.online, "stop": S.stopped}[verbs[i.instance_id]])
        if i.instance_id in verbs
        else i
        for i in instances
    ]


# -- time-based ------------------------------------------------------------------------------
def test_a_week_hour_by_hour_each_instance_is_online_exactly_in_its_on_hours():
    days = {
        "nine-to-five": {
            d: {str(h): "on" for h in range(9, 17)}
            for d in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
        },
        "weekend": {"Saturday": {str(h): "on" for h in range(24)}, "Sunday": {"0": "on"}},
        "edges": {"Monday": {"0": "on", "23": "on"}, "Sunday": {"23": "on"}},
        "never": {},
    }
    instances = [instance(name, TIMER) for name in days] + [instance("always", None, S.online)]
    schedules = {name: schedule(name, d) for name, d in days.items()}
    marks: dict[str, ScheduleMark] = {}
    for hour in range(7 * 24):
        now = MONDAY + timedelta(hours=hour, minutes=5)
        plan = decide(Facts(now, instances, schedules=schedules, marks=marks))
        instances = settle(instances, plan)
        marks.update(plan.settled)
        marks.update((a.instance_id, a.mark) for a in plan.actions if a.mark)
        online = {i.instance_id for i in instances if i.status is S.online}
        expected = {n for n, s in schedules.items() if s.auto_scaling_schedule.is_on(now)}
        assert online == expected | {"always"}, now
        # Between edges nothing more is decided.
        again = decide(Facts(now + timedelta(minutes=30), instances, schedules, marks))
        assert again.actions == () and again.settled == ()


def test_schedule_hours_are_utc_whatever_the_offset_of_now():
    sched = {"t": schedule("t", {"Monday": {"9": "on"}})}
    plus_two = timezone(timedelta(hours=2))
    nine_thirty_local = datetime(2026, 12, 7, 9, 30, tzinfo=plus_two)  # 7:30 UTC: off
    assert decide(Facts(nine_thirty_local, [instance("t", TIMER)], sched)).actions == ()
    eleven_thirty_local = datetime(2026, 12, 7, 11, 30, tzinfo=plus_two)  # 9:30 UTC: on
    plan = decide(Facts(eleven_thirty_local, [instance("t", TIMER)], sched))
    assert [(a.verb, a.reason) for a in plan.actions] == [
        ("start", "Monday 9:00 UTC is on in its schedule")
    ]


def test_a_hand_start_holds_until_the_schedule_next_changes():
    sched = {"t": schedule("t", {"Monday": {"9": "on"}})}
    off_mark = {"t": ScheduleMark("off", "r1")}
    started_by_hand = [instance("t", TIMER, S.online)]
    at_three = MONDAY + timedelta(hours=3)
    assert decide(Facts(at_three, started_by_hand, sched, off_mark)).actions == ()
    # The schedule turns on at 9 (already online: only the mark moves), off at 10: stopped.
    at_nine = decide(Facts(MONDAY + timedelta(hours=9), started_by_hand, sched, off_mark))
    assert at_nine.actions == () and at_nine.settled == (("t", ScheduleMark("on", "r1")),)
    at_ten = decide(
        Facts(MONDAY + timedelta(hours=10), started_by_hand, sched, dict(at_nine.settled))
    )
    assert [a.verb for a in at_ten.actions] == ["stop"]


def test_a_new_schedule_is_followed_at_once():
    replaced = {"t": schedule("t", {"Monday": {"3": "on"}}, revision="r2")}
    plan = decide(
        Facts(
            MONDAY + timedelta(hours=3),
            [instance("t", TIMER)],
            replaced,
            {"t": ScheduleMark("off", "r1")},
        )
    )
    assert [a.verb for a in plan.actions] == ["start"]


def test_a_time_based_instance_without_a_schedule_is_off_and_a_failed_one_waits():
    running = [instance("t", TIMER, S.online), instance("u", TIMER, S.start_failed)]
    plan = decide(Facts(MONDAY, running))
    assert [(a.instance_id, a.verb) for a in plan.actions] == [("t", "stop"), ("u", "stop")]
    on = {"u": schedule("u", {"Monday": {"0": "on"}})}
    plan = decide(Facts(MONDAY, [instance("u", TIMER, S.start_failed)], on))
    assert plan.actions == () and "start_failed: not started" in plan.notes[0]
    going = decide(Facts(MONDAY, [instance("u", TIMER, S.stopping)], on))
    assert going.actions == () and going.settled == ()  # decided again once it has stopped


# -- load-based ------------------------------------------------------------------------------
UP = {"InstanceCount": 2, "ThresholdsWaitTime": 5, "IgnoreMetricsTime": 10, "CpuThreshold": 80}
DOWN = {"InstanceCount": 1, "ThresholdsWaitTime": 10, "IgnoreMetricsTime": 10, "CpuThreshold": 20}


def layer(up=UP, down=DOWN, enable=True) -> LoadBasedAutoScaling:
    return LoadBasedAutoScaling(
        layer_id="L",
        stack_id="S",
        enable=enable,
        up_scaling=AutoScalingThresholds.model_validate(up).completed("up"),
        down_scaling=AutoScalingThresholds.model_validate(down).completed("down"),
    )


def cpu(values: dict[str, list[float | None]], end: datetime, metric="CPUUtilization") -> dict:
    """Per instance, values for the minutes before `end` (last value = the latest minute)."""
    series = {}
    for name, points in values.items():
        start = end - timedelta(minutes=len(points))
        series[("L", name, metric)] = {
            start + timedelta(minutes=k): v for k, v in enumerate(points) if v is not None
        }
    return series


def fleet(*load_statuses: S) -> list[InstanceFacts]:
    base = [instance("base", None, S.online), instance("timer", TIMER, S.stopped)]
    return base + [instance(f"load{n + 1}", LOAD, s) for n, s in enumerate(load_statuses)]


NOW = MONDAY + timedelta(hours=9, minutes=5)


def test_scale_up_after_the_wait_time_and_not_before():
    instances = fleet(S.stopped, S.stopped, S.stopped)
    four = cpu({"base": [95, 95, 95, 95]}, NOW)
    plan = decide(Facts(NOW, instances, layers={"L": layer()}, metrics=four))
    assert plan.actions == ()
    assert plan.layers[0].direction is None and "not held for 5 min" in plan.layers[0].note
    five = cpu({"base": [95, 90, 85, 99, 95]}, NOW)
    plan = decide(Facts(NOW, instances, layers={"L": layer()}, metrics=five))
    assert [(a.verb, a.instance_id) for a in plan.actions] == [
        ("start", "load1"),
        ("start", "load2"),
    ]
    action = plan.actions[0]
    assert action.direction == "up" and "CPUUtilization > 80 for 5 min" in action.reason
    assert action.evidence[0].values == (95, 90, 85, 99, 95)
    assert action.evidence[0].to_api()["Average"] == 92.8
    dip = cpu({"base": [95, 90, 79, 99, 95]}, NOW)
    assert decide(Facts(NOW, instances, layers={"L": layer()}, metrics=dip)).actions == ()


def test_the_average_is_over_the_layers_online_instances_only():
    instances = fleet(S.online, S.stopped)
    hot_and_cold = cpu({"base": [100] * 5, "load1": [70] * 5, "load2": [0] * 5}, NOW)
    plan = decide(Facts(NOW, instances, layers={"L": layer()}, metrics=hot_and_cold))
    assert [a.instance_id for a in plan.actions] == ["load2"]  # (100 + 70) / 2 = 85: load2 off
    assert plan.actions[0].evidence[0].values == (85,) * 5
    cooler = cpu({"base": [100] * 5, "load1": [50] * 5}, NOW)
    assert decide(Facts(NOW, instances, layers={"L": layer()}, metrics=cooler)).actions == ()


def test_a_missing_minute_in_the_middle_is_tolerated_but_not_the_first():
    instances = fleet(S.stopped)
    gap = cpu({"base": [95, None, 95, 95, 95]}, NOW)
    assert len(decide(Facts(NOW, instances, layers={"L": layer()}, metrics=gap)).actions) == 1
    late = cpu({"base": [None, 95, 95, 95, 95]}, NOW)
    assert decide(Facts(NOW, instances, layers={"L": layer()}, metrics=late)).actions == ()


def test_metrics_are_ignored_for_the_ignore_time_after_an_action():
    instances = fleet(S.online, S.online, S.stopped)
    hot = cpu({"base": [95] * 30, "load1": [95] * 30, "load2": [95] * 30}, NOW)
    last = {"L": LastAction("up", NOW - timedelta(minutes=10))}
    # Up waits 5 min, ignore 10: the window must start at or after the action + 10 min.
    plan = decide(Facts(NOW, instances, layers={"L": layer()}, metrics=hot, last_actions=last))
    assert plan.actions == () and "metrics ignored until" in plan.layers[0].note
    later = NOW + timedelta(minutes=5)
    hot = cpu({"base": [95] * 30, "load1": [95] * 30, "load2": [95] * 30}, later)
    plan = decide(Facts(later, instances, layers={"L": layer()}, metrics=hot, last_actions=last))
    assert [a.instance_id for a in plan.actions] == ["load3"]
    assert (
        decide(
            Facts(
                later - timedelta(minutes=1),
                instances,
                layers={"L": layer()},
                metrics=hot,
                last_actions=last,
            )
        ).actions
        == ()
    )


def test_scale_down_to_zero_load_instances_and_never_further():
    instances = fleet(S.online, S.online)
    now = NOW
    stopped = []
    last: dict[str, LastAction] = {}
    for _ in range(4):
        cold = cpu({i.instance_id: [5] * 30 for i in instances if i.status is S.online}, now)
        plan = decide(Facts(now, instances, layers={"L": layer()}, metrics=cold, last_actions=last))
        stopped += [a.instance_id for a in plan.actions]
        assert all(a.verb == "stop" for a in plan.actions)
        instances = settle(instances, plan)
        if plan.actions:
            last = {"L": LastAction("down", now)}
        now += timedelta(minutes=20)
    assert stopped == ["load2", "load1"]  # the last one first, one (InstanceCount) at a time
    statuses = {i.instance_id: i.status for i in instances}
    assert statuses == {
        "base": S.online,
        "timer": S.stopped,
        "load1": S.stopped,
        "load2": S.stopped,
    }
    assert "no online load-based instance is left to stop" in plan.layers[0].note


def test_load_scaling_never_touches_24_7_or_time_based_instances():
    instances = [
        instance("base", None, S.stopped),
        instance("timer", TIMER, S.stopped),
        instance("hot", None, S.online),
    ]
    hot = cpu({"hot": [99] * 10}, NOW)
    plan = decide(Facts(NOW, instances, layers={"L": layer()}, metrics=hot))
    assert plan.actions == () and "no load-based instances" in plan.layers[0].note
    cold_timer_online = [
        instance("timer", TIMER, S.online),
        instance("base", None, S.online),
        instance("load1", LOAD, S.stopped),
    ]
    cold = cpu({"timer": [1] * 10, "base": [1] * 10}, NOW)
    on = {"timer": schedule("timer", {"Monday": {"9": "on"}})}
    marks = {"timer": ScheduleMark("on", "r1")}
    plan = decide(Facts(NOW, cold_timer_online, on, marks, layers={"L": layer()}, metrics=cold))
    assert plan.layers[0].direction == "down" and plan.actions == ()


def test_instance_count_is_bounded_by_the_layers_stopped_load_instances():
    instances = fleet(S.stopped, S.online)
    hot = cpu({"base": [99] * 5, "load2": [99] * 5}, NOW)
    big = layer(up={**UP, "InstanceCount": 10})
    plan = decide(Facts(NOW, instances, layers={"L": big}, metrics=hot))
    assert [a.instance_id for a in plan.actions] == ["load1"]
    full = fleet(S.online, S.booting)
    hot = cpu({"base": [99] * 5, "load1": [99] * 5}, NOW)
    plan = decide(Facts(NOW, full, layers={"L": big}, metrics=hot))
    assert plan.actions == () and "no stopped load-based instance is left" in plan.layers[0].note


def test_down_needs_every_threshold_up_needs_any():
    both = {**DOWN, "MemoryThreshold": 40}
    instances = fleet(S.online)
    series = {
        **cpu({"base": [5] * 10, "load1": [5] * 10}, NOW),
        **cpu({"base": [90] * 10, "load1": [90] * 10}, NOW, metric="MemoryUtilization"),
    }
    plan = decide(Facts(NOW, instances, layers={"L": layer(down=both)}, metrics=series))
    assert plan.actions == ()
    held = {e.condition: e.held for e in plan.layers[0].evidence}
    assert held["CPUUtilization < 20"] and not held["MemoryUtilization < 40"]
    up_memory = {**UP, "MemoryThreshold": 85}
    plan = decide(Facts(NOW, fleet(S.stopped), layers={"L": layer(up=up_memory)}, metrics=series))
    assert [a.verb for a in plan.actions] == ["start"]
    assert "MemoryUtilization > 85" in plan.actions[0].reason


def test_alarms_count_once_in_alarm_for_the_wait_time():
    with_alarm = layer(up={"InstanceCount": 1, "ThresholdsWaitTime": 5, "Alarms": ["web-5xx"]})
    instances = fleet(S.stopped)
    recent = {"web-5xx": AlarmState("ALARM", NOW - timedelta(minutes=4))}
    plan = decide(Facts(NOW, instances, layers={"L": with_alarm}, alarms=recent))
    assert plan.actions == ()
    assert plan.layers[0].evidence[0].detail.startswith("ALARM since")
    old = {"web-5xx": AlarmState("ALARM", NOW - timedelta(minutes=5))}
    plan = decide(Facts(NOW, instances, layers={"L": with_alarm}, alarms=old))
    assert [a.verb for a in plan.actions] == ["start"]
    assert "alarm web-5xx in ALARM" in plan.actions[0].reason
    missing = decide(Facts(NOW, instances, layers={"L": with_alarm}))
    assert missing.actions == () and missing.layers[0].evidence[0].detail == "MISSING"


def test_a_disabled_layer_is_left_alone_and_disabled_thresholds_never_fire():
    hot = cpu({"base": [99] * 10}, NOW)
    off = decide(Facts(NOW, fleet(S.stopped), layers={"L": layer(enable=False)}, metrics=hot))
    assert off.actions == () and off.layers == ()
    minus_one = layer(up={**UP, "CpuThreshold": -1})
    plan = decide(Facts(NOW, fleet(S.stopped), layers={"L": minus_one}, metrics=hot))
    assert plan.actions == ()


def test_one_action_per_instance_across_schedule_and_layers():
    both_layers = [
        instance("base", None, S.online, layers=("L", "M")),
        instance("shared", LOAD, S.stopped, layers=("L", "M")),
    ]
    hot = cpu({"base": [99] * 5}, NOW)
    hot.update({("M", "base", "CPUUtilization"): hot[("L", "base", "CPUUtilization")]})
    m = layer().model_copy(update={"layer_id": "M"})
    plan = decide(Facts(NOW, both_layers, layers={"L": layer(), "M": m}, metrics=hot))
    assert [(a.instance_id, a.layer_id) for a in plan.actions] == [("shared", "L")]


def test_the_metric_request_names_online_instances_and_enabled_metrics():
    instances = [*fleet(S.online, S.stopped), instance("other", None, S.online, layers=("X",))]
    with_memory = layer(down={**DOWN, "MemoryThreshold": 30})
    request = metric_request(NOW, instances, {"L": with_memory})
    assert set(request.keys) == {
        ("L", "base", "CPUUtilization"),
        ("L", "base", "MemoryUtilization"),
        ("L", "load1", "CPUUtilization"),
        ("L", "load1", "MemoryUtilization"),
    }
    assert request.end == NOW.replace(second=0) and request.start == request.end - timedelta(
        minutes=10
    )
    assert metric_request(NOW, instances, {"L": layer(enable=False)}).keys == ()
    # Still ignoring after the last action: nothing to read for the layer.
    just_scaled = {"L": LastAction("up", NOW - timedelta(minutes=1))}
    assert metric_request(NOW, instances, {"L": with_memory}, just_scaled).keys == ()
    # Up's 5-minute window is past the ignore time, down's 10-minute one is not: CPU only.
    scaled = {"L": LastAction("up", NOW - timedelta(minutes=15))}
    assert set(metric_request(NOW, instances, {"L": with_memory}, scaled).keys) == {
        ("L", "base", "CPUUtilization"),
        ("L", "load1", "CPUUtilization"),
    }
