"""One scaler round as a pure decision: facts in, starts and stops with their reasons out.

Nothing here reads a clock or talks to AWS. The round runner gathers the facts
(instances, schedules, layer thresholds, per-instance metric series, alarm
states, the last scaling action of each layer, now), calls `decide`, and hands
each action to the paths start-instance and stop-instance use.

Time-based instances follow their schedule at its edges: when the hour's
switch differs from the one the scaler last brought the instance to (its
mark), the instance is started or stopped; a hand start or stop then holds
until the schedule next changes (or is replaced).

Load-based: per layer, the CPU, memory and load thresholds are compared with
the per-minute average over the layer's online instances. Up-scaling fires
when any enabled threshold (or any named alarm in ALARM) has held for
ThresholdsWaitTime minutes; down-scaling when all of them have. Metrics are
ignored for IgnoreMetricsTime after the layer's last action. Only the layer's
load-based instances are started or stopped, InstanceCount at a time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from stackops.model.autoscaling import (
    DAYS,
    AutoScalingThresholds,
    Direction,
    LoadBasedAutoScaling,
    TimeBasedAutoScaling,
)
from stackops.model.enums import AutoScalingType
from stackops.model.enums import InstanceStatus as S

Verb = Literal["start", "stop"]
Switch = Literal["on", "off"]
SeriesKey = tuple[str, str, str]
"""(layer id, instance id, metric name): one instance's series as its layer sees it."""

DOWN = frozenset({S.stopped, S.terminated})
"""What the scaler starts: a failed start or setup waits for a person."""
GOING_DOWN = frozenset({S.stopping, S.shutting_down, S.terminating})
UP = frozenset({S.requested, S.pending, S.booting, S.running_setup, S.online, S.rebooting})
"""On its way online, or there."""


def minute_floor(moment: datetime) -> datetime:
    """The start of `moment`'s minute, in UTC."""
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def stamp(moment: datetime) -> str:
    """A time as the records write it (ISO 8601, seconds, UTC)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


# -- facts ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class InstanceFacts:
    """What the decision needs of one instance."""

    instance_id: str
    hostname: str
    kind: AutoScalingType | None
    status: S
    layer_ids: tuple[str, ...]


@dataclass(frozen=True)
class ScheduleMark:
    """The switch the scaler last brought a time-based instance to, under which schedule."""

    state: Switch
    revision: str


@dataclass(frozen=True)
class LastAction:
    """A layer's last load-based scaling action."""

    direction: Direction
    at: datetime


@dataclass(frozen=True)
class AlarmState:
    """A CloudWatch alarm's state (MISSING when no alarm has that name) and since when."""

    state: str
    since: datetime | None = None


@dataclass(frozen=True)
class Facts:
    """Everything one round decides on. Instances in display order (by hostname)."""

    now: datetime
    instances: Sequence[InstanceFacts]
    schedules: Mapping[str, TimeBasedAutoScaling] = field(default_factory=dict)
    marks: Mapping[str, ScheduleMark] = field(default_factory=dict)
    layers: Mapping[str, LoadBasedAutoScaling] = field(default_factory=dict)
    layer_names: Mapping[str, str] = field(default_factory=dict)
    metrics: Mapping[SeriesKey, Mapping[datetime, float]] = field(default_factory=dict)
    alarms: Mapping[str, AlarmState] = field(default_factory=dict)
    last_actions: Mapping[str, LastAction] = field(default_factory=dict)


# -- the decision ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Evidence:
    """One condition of a layer's thresholds and whether it held over its window."""

    condition: str
    held: bool
    values: tuple[float | None, ...] = ()
    """Per-minute averages over the layer's online instances, oldest first (None: no data)."""
    window: tuple[datetime, datetime] | None = None
    detail: str = ""

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {"Condition": self.condition, "Held": self.held}
        if self.window:
            known = [v for v in self.values if v is not None]
            data["Window"] = [stamp(self.window[0]), stamp(self.window[1])]
            data["Values"] = [None if v is None else round(v, 2) for v in self.values]
            data["Average"] = round(sum(known) / len(known), 2) if known else None
        if self.detail:
            data["Detail"] = self.detail
        return data


@dataclass(frozen=True)
class Action:
    """Start or stop one instance, and why."""

    verb: Verb
    instance_id: str
    hostname: str
    cause: Literal["schedule", "load"]
    reason: str
    layer_id: str | None = None
    direction: Direction | None = None
    evidence: tuple[Evidence, ...] = ()
    mark: ScheduleMark | None = None
    """For a time-based instance: the mark to record once the action is done."""


@dataclass(frozen=True)
class LayerVerdict:
    """What a layer's thresholds said this round."""

    layer_id: str
    direction: Direction | None
    note: str
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class Plan:
    """The round's decision: actions, marks to record without acting, and why."""

    actions: tuple[Action, ...] = ()
    settled: tuple[tuple[str, ScheduleMark], ...] = ()
    layers: tuple[LayerVerdict, ...] = ()
    notes: tuple[str, ...] = ()


def decide(facts: Facts) -> Plan:
    """The starts and stops this round calls for; at most one action per instance."""
    actions: list[Action] = []
    settled: list[tuple[str, ScheduleMark]] = []
    notes: list[str] = []
    for instance in facts.instances:
        if instance.kind is not AutoScalingType.timer:
            continue
        outcome = _follow_schedule(instance, facts)
        if isinstance(outcome, Action):
            actions.append(outcome)
        elif isinstance(outcome, ScheduleMark):
            settled.append((instance.instance_id, outcome))
        elif outcome:
            notes.append(outcome)
    taken = {a.instance_id for a in actions}
    verdicts: list[LayerVerdict] = []
    for layer_id, config in facts.layers.items():
        if not config.enable:
            continue
        verdict, chosen = _scale_layer(layer_id, config, facts, taken)
        verdicts.append(verdict)
        actions.extend(chosen)
        taken.update(a.instance_id for a in chosen)
    return Plan(tuple(actions), tuple(settled), tuple(verdicts), tuple(notes))


# -- time-based -----------------------------------------------------------------------------
def _follow_schedule(instance: InstanceFacts, facts: Facts) -> Action | ScheduleMark | str | None:
    schedule = facts.schedules.get(instance.instance_id)
    revision = schedule.revision if schedule else ""
    on = schedule is not None and schedule.auto_scaling_schedule.is_on(facts.now)
    want = ScheduleMark("on" if on else "off", revision)
    if facts.marks.get(instance.instance_id) == want:
        return None  # the scaler already brought it there: a hand start or stop holds
    moment = facts.now.astimezone(UTC)
    when = f"{DAYS[moment.weekday()]} {moment.hour}:00 UTC is {want.state} in its schedule"
    if want.state == "on":
        if instance.status in DOWN:
            return _schedule_action("start", instance, when, want)
        if instance.status in UP:
            return want
        return f"{instance.hostname}: {when}, but it is {instance.status}: not started"
    if instance.status in DOWN | GOING_DOWN:
        return want
    return _schedule_action("stop", instance, when, want)


def _schedule_action(verb: Verb, instance: InstanceFacts, when: str, mark: ScheduleMark) -> Action:
    return Action(verb, instance.instance_id, instance.hostname, "schedule", when, mark=mark)


# -- load-based -----------------------------------------------------------------------------
def _scale_layer(
    layer_id: str, config: LoadBasedAutoScaling, facts: Facts, taken: set[str]
) -> tuple[LayerVerdict, list[Action]]:
    in_layer = [i for i in facts.instances if layer_id in i.layer_ids]
    pool = [i for i in in_layer if i.kind is AutoScalingType.load]
    if not pool:
        return LayerVerdict(layer_id, None, "no load-based instances in the layer"), []
    online = tuple(i.instance_id for i in in_layer if i.status is S.online)
    ignore_until = _ignore_until(facts.last_actions.get(layer_id), config)
    up = _evaluate(config.thresholds("up"), "up", layer_id, online, facts, ignore_until)
    if up.direction:
        stopped = [i for i in pool if i.status in DOWN and i.instance_id not in taken]
        chosen = stopped[: config.thresholds("up").instance_count or 1]
        if not chosen:
            note = f"{up.note}; no stopped load-based instance is left to start"
            return LayerVerdict(layer_id, "up", note, up.evidence), []
        return up, [_load_action("start", i, layer_id, up, facts) for i in chosen]
    down = _evaluate(config.thresholds("down"), "down", layer_id, online, facts, ignore_until)
    if down.direction:
        running = [i for i in reversed(pool) if i.status is S.online and i.instance_id not in taken]
        chosen = running[: config.thresholds("down").instance_count or 1]
        if not chosen:
            note = f"{down.note}; no online load-based instance is left to stop"
            return LayerVerdict(layer_id, "down", note, down.evidence), []
        return down, [_load_action("stop", i, layer_id, down, facts) for i in chosen]
    note = f"up: {up.note}; down: {down.note}"
    return LayerVerdict(layer_id, None, note, up.evidence + down.evidence), []


def _ignore_until(last: LastAction | None, config: LoadBasedAutoScaling) -> datetime | None:
    if last is None:
        return None
    minutes = config.thresholds(last.direction).ignore_metrics_time or 1
    return last.at + timedelta(minutes=minutes)


def _evaluate(
    thresholds: AutoScalingThresholds,
    direction: Direction,
    layer_id: str,
    online: tuple[str, ...],
    facts: Facts,
    ignore_until: datetime | None,
) -> LayerVerdict:
    """Whether the thresholds of one direction held for their wait time."""
    wait = thresholds.thresholds_wait_time or 1
    end = minute_floor(facts.now)
    start = end - timedelta(minutes=wait)
    if ignore_until is not None and start < ignore_until:
        note = f"metrics ignored until {stamp(ignore_until)} (after the last scaling action)"
        return LayerVerdict(layer_id, None, note)
    above = direction == "up"
    evidence: list[Evidence] = []
    for metric, limit in thresholds.metric_thresholds().items():
        values = tuple(
            _layer_average(facts.metrics, layer_id, online, metric, start + timedelta(minutes=k))
            for k in range(wait)
        )
        known = [v for v in values if v is not None]
        held = values[0] is not None and all((v > limit) if above else (v < limit) for v in known)
        condition = f"{metric} {'>' if above else '<'} {limit:g}"
        evidence.append(Evidence(condition, held, values, (start, end)))
    for name in thresholds.alarms or ():
        alarm = facts.alarms.get(name, AlarmState("MISSING"))
        held = (
            alarm.state == "ALARM"
            and alarm.since is not None
            and alarm.since <= facts.now - timedelta(minutes=wait)
        )
        since = f" since {stamp(alarm.since)}" if alarm.since else ""
        evidence.append(Evidence(f"alarm {name} in ALARM", held, detail=f"{alarm.state}{since}"))
    if not evidence:
        return LayerVerdict(layer_id, None, "no thresholds set")
    fired = any(e.held for e in evidence) if above else all(e.held for e in evidence)
    held = [e.condition for e in evidence if e.held]
    if fired:
        joined = " and ".join(held) if not above else " or ".join(held)
        return LayerVerdict(layer_id, direction, f"{joined} for {wait} min", tuple(evidence))
    return LayerVerdict(layer_id, None, f"not held for {wait} min", tuple(evidence))


def _layer_average(
    metrics: Mapping[SeriesKey, Mapping[datetime, float]],
    layer_id: str,
    online: tuple[str, ...],
    metric: str,
    minute: datetime,
) -> float | None:
    """The average of one minute over the layer's online instances that reported it."""
    found = [
        series[minute]
        for instance_id in online
        if (series := metrics.get((layer_id, instance_id, metric))) and minute in series
    ]
    return sum(found) / len(found) if found else None


def _load_action(
    verb: Verb, instance: InstanceFacts, layer_id: str, verdict: LayerVerdict, facts: Facts
) -> Action:
    layer = facts.layer_names.get(layer_id, layer_id)
    reason = f"layer {layer} scales {verdict.direction}: {verdict.note}"
    return Action(
        verb,
        instance.instance_id,
        instance.hostname,
        "load",
        reason,
        layer_id=layer_id,
        direction=verdict.direction,
        evidence=verdict.evidence,
    )


# -- what to read ---------------------------------------------------------------------------
@dataclass(frozen=True)
class MetricRequest:
    """The metric series and alarms a round needs, and the span of minutes to read."""

    keys: tuple[SeriesKey, ...]
    start: datetime
    end: datetime
    alarms: tuple[str, ...]


def metric_request(
    now: datetime,
    instances: Sequence[InstanceFacts],
    layers: Mapping[str, LoadBasedAutoScaling],
    last_actions: Mapping[str, LastAction] | None = None,
) -> MetricRequest:
    """Per enabled layer with load-based instances: each online instance's enabled metrics.

    A layer whose metrics are still ignored after its last action needs none.
    """
    keys: list[SeriesKey] = []
    alarms: list[str] = []
    longest = 1
    end = minute_floor(now)
    for layer_id, config in layers.items():
        in_layer = [i for i in instances if layer_id in i.layer_ids]
        if not config.enable or not any(i.kind is AutoScalingType.load for i in in_layer):
            continue
        ignore_until = _ignore_until((last_actions or {}).get(layer_id), config)
        metrics: list[str] = []
        for direction in ("up", "down"):
            thresholds = config.thresholds(direction)
            wait = thresholds.thresholds_wait_time or 1
            if ignore_until is not None and end - timedelta(minutes=wait) < ignore_until:
                continue
            longest = max(longest, wait)
            metrics += [m for m in thresholds.metric_thresholds() if m not in metrics]
            alarms += [a for a in thresholds.alarms or () if a not in alarms]
        keys += [
            (layer_id, i.instance_id, metric)
            for i in in_layer
            if i.status is S.online
            for metric in metrics
        ]
    return MetricRequest(tuple(keys), end - timedelta(minutes=longest), end, tuple(alarms))
