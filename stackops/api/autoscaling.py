"""Auto scaling verbs: time-based schedules, load-based thresholds, scaler rounds, history."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from stackops.autoscale.decide import stamp
from stackops.autoscale.node_metrics import NodeFigures, node_data
from stackops.autoscale.round import Scaler, scaling_records
from stackops.errors import InvalidInput
from stackops.model.autoscaling import (
    FIRST_THRESHOLDS,
    AutoScalingThresholds,
    Direction,
    LoadBasedAutoScaling,
    TimeBasedAutoScaling,
    WeeklyAutoScalingSchedule,
)
from stackops.model.enums import AutoScalingType
from stackops.model.fields import new_id
from stackops.model.instances import Instance
from stackops.model.layers import Layer
from stackops.model.stacks import Stack

if TYPE_CHECKING:
    from stackops.services import Services


def set_time_based_auto_scaling(
    services: Services, instance_id: str, schedule: WeeklyAutoScalingSchedule | None
) -> None:
    """Give a time-based instance its weekly schedule (replacing the one it had)."""
    instance = services.store.get(Instance, instance_id)
    if instance.auto_scaling_type is not AutoScalingType.timer:
        kind = instance.auto_scaling_type or "24/7"
        raise InvalidInput(
            f"instance {instance.hostname} ({instance_id}) is {kind}, not time-based",
            hint=f"stackops update-instance --instance-id {instance_id} --auto-scaling-type timer",
        )
    record = TimeBasedAutoScaling(
        instance_id=instance_id,
        stack_id=instance.stack_id,
        auto_scaling_schedule=schedule or WeeklyAutoScalingSchedule(),
        revision=new_id(),
    )
    scaling_records(services).put_schedule(record)


def describe_time_based_auto_scaling(services: Services, instance_ids: list[str]) -> dict[str, Any]:
    """The schedules of the given time-based instances (others are left out, as OpsWorks)."""
    if not instance_ids:
        raise InvalidInput("--instance-ids: give at least one instance id")
    instances = services.store.get_many(Instance, instance_ids)
    schedules = scaling_records(services).schedules(i.instance_id for i in instances)
    configurations = [
        schedules.get(
            i.instance_id, TimeBasedAutoScaling(instance_id=i.instance_id, stack_id=i.stack_id)
        ).to_api()
        for i in instances
        if i.auto_scaling_type is AutoScalingType.timer
    ]
    return {"TimeBasedAutoScalingConfigurations": configurations}


def set_load_based_auto_scaling(
    services: Services,
    layer_id: str,
    enable: bool | None,
    up_scaling: AutoScalingThresholds | None,
    down_scaling: AutoScalingThresholds | None,
) -> None:
    """Set a layer's load-based scaling; what is not given keeps its current value."""
    layer = services.store.get(Layer, layer_id)
    records = scaling_records(services)
    current = records.thresholds([layer_id]).get(layer_id)

    def chosen(given: AutoScalingThresholds | None, direction: Direction) -> AutoScalingThresholds:
        if given is not None:
            return given.completed(direction)
        if current is not None:
            return current.thresholds(direction)
        return AutoScalingThresholds.model_validate(FIRST_THRESHOLDS[direction])

    config = LoadBasedAutoScaling(
        layer_id=layer_id,
        stack_id=layer.stack_id,
        enable=enable if enable is not None else bool(current and current.enable),
        up_scaling=chosen(up_scaling, "up"),
        down_scaling=chosen(down_scaling, "down"),
    )
    _check_alarms(services, {"--up-scaling": up_scaling, "--down-scaling": down_scaling})
    records.put_thresholds(config)


def _check_alarms(services: Services, given: dict[str, AutoScalingThresholds | None]) -> None:
    """Refuse alarm names that name no CloudWatch alarm in the target's region."""
    named = {o: t.alarms for o, t in given.items() if t is not None and t.alarms}
    if not named:
        return
    found = services.cloudwatch.alarms(a for alarms in named.values() for a in alarms)
    for option, alarms in named.items():
        missing = [a for a in alarms if a not in found]
        if missing:
            raise InvalidInput(
                f"{option}.Alarms: no CloudWatch alarm named {missing[0]!r} in {services.region}",
                hint="create the alarm first (alarm names are case-sensitive)",
            )


def describe_load_based_auto_scaling(services: Services, layer_ids: list[str]) -> dict[str, Any]:
    """The load-based scaling of the given layers (Enable false where never set)."""
    if not layer_ids:
        raise InvalidInput("--layer-ids: give at least one layer id")
    layers = services.store.get_many(Layer, layer_ids)
    configs = scaling_records(services).thresholds(la.layer_id for la in layers)
    return {
        "LoadBasedAutoScalingConfigurations": [
            configs[la.layer_id].to_api()
            if la.layer_id in configs
            else {"LayerId": la.layer_id, "Enable": False}
            for la in layers
        ]
    }


def autoscale_round(
    services: Services,
    now: datetime | None = None,
    stack_ids: list[str] | None = None,
    *,
    dry_run: bool = False,
    scaler: Scaler | None = None,
) -> dict[str, Any]:
    """One scaler round as of `now` (the clock when None) over the stacks (all when None)."""
    moment = (now or services.clock()).astimezone(UTC)
    report = (scaler or Scaler(services)).run(moment, stack_ids or None, dry_run=dry_run)
    return report.to_api()


def scaling_history(services: Services, stack_ids: list[str], limit: int) -> dict[str, Any]:
    """The newest scaling actions (with the metric values behind them), newest first."""
    stacks = services.store.get_many(Stack, stack_ids) if stack_ids else services.store.stacks()
    records = scaling_records(services)
    entries = [e for s in stacks for e in records.history(s.stack_id, limit)]
    entries.sort(key=lambda e: e["DecidedAt"], reverse=True)
    return {"ScalingActions": entries[:limit]}


def parse_moment(option: str, text: str) -> datetime:
    """An ISO 8601 time given on the command line, in UTC (no offset means UTC)."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            f"{option}: {text!r} is not an ISO 8601 time; write one like 2026-12-07T09:05:00Z"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def publish_node_metrics(
    services: Services,
    instance_id: str,
    figures: NodeFigures,
    at: datetime | None = None,
    *,
    stack_id: str | None = None,
    layer_ids: list[str] | None = None,
) -> dict[str, Any]:
    """Put a node's figures in CloudWatch, one series per layer of the instance.

    The stack and layers are read from the instance's record unless given
    (an instance that may not read the state table passes them).
    """
    if stack_id is None or not layer_ids:
        instance = services.store.get(Instance, instance_id)
        stack_id = stack_id or instance.stack_id
        layer_ids = layer_ids or list(instance.layer_ids)
    if not figures.by_metric():
        raise InvalidInput(
            "no figures to publish: this host reports none; give --cpu, --memory or --load"
        )
    if not layer_ids:
        raise InvalidInput(f"instance {instance_id} is in no layer: nothing scales on its figures")
    moment = (at or services.clock()).astimezone(UTC)
    data = node_data(stack_id, layer_ids, instance_id, figures, moment)
    services.cloudwatch.put(data)
    return {
        "InstanceId": instance_id,
        "StackId": stack_id,
        "LayerIds": layer_ids,
        "At": stamp(moment),
        "Metrics": figures.by_metric(),
        "Published": len(data),
    }
