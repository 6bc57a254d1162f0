"""Benchmark: one scaler round for a stack of 500 instances in 50 layers, on moto in-process.

Each layer has 10 instances: 4 24/7 (online), 2 time-based (one in its "on" hours
and online, one off and stopped), 4 load-based (2 online, 2 stopped), and
load-based scaling enabled (CPU up > 80, down < 20; memory down < 30). Every
online instance has 10 minutes of CPU and memory figures in CloudWatch.

Rounds, each a `Scaler.run` (what `stackops autoscale --once` runs), with every
AWS call counted by operation (botocore's before-call hook):
1. steady: nothing to do (figures at 50 %, schedules already followed).
2. acting: 25 layers run hot (up: 2 starts each) and the other 25 cold (down: 1 stop
   each), at an hour edge where every time-based instance changes (50 starts/stops):
   the decision's reads plus the start-instance / stop-instance work.

    .venv/bin/python bench/autoscale.py [--layers 50] [--per-layer 10] [--rounds 1]

Fake credentials and a scratch STACKOPS_HOME are set here and removed at the end.
Figures print; nothing is asserted.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dispatch import ApiCalls  # also imports moto before any session is made
from moto import mock_aws
from offline import offline_environment, set_environment, stackops

from stackops.autoscale.decide import decide
from stackops.autoscale.node_metrics import metric_id
from stackops.autoscale.round import Scaler, scaling_records
from stackops.aws.cloudwatch import Datum
from stackops.aws.session import AwsSession
from stackops.config import Target
from stackops.model.autoscaling import (
    AutoScalingThresholds,
    LoadBasedAutoScaling,
    TimeBasedAutoScaling,
    WeeklyAutoScalingSchedule,
)
from stackops.model.enums import AutoScalingType, InstanceStatus
from stackops.model.fields import new_id
from stackops.model.instances import Instance
from stackops.model.layers import Layer
from stackops.model.stacks import Stack
from stackops.naming import ResourceNames
from stackops.services import Services

REGION = "us-east-1"
TARGET = 3  # AWS calls per layer per round (issue 11)
MONDAY_NINE = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
UP = {"InstanceCount": 2, "ThresholdsWaitTime": 5, "IgnoreMetricsTime": 5, "CpuThreshold": 80}
DOWN = {
    "InstanceCount": 1,
    "ThresholdsWaitTime": 10,
    "IgnoreMetricsTime": 10,
    "CpuThreshold": 20,
    "MemoryThreshold": 30,
}


def services() -> Services:
    return Services(AwsSession(Target("account", REGION)), ResourceNames("stackops"))


def build_stack(svc: Services, layers: int, per_layer: int) -> tuple[Stack, list[Instance]]:
    """The stack's records written directly (the bench measures rounds, not set-up)."""
    stack_id = stackops("create-stack", "--name", "bench", "--default-ami-id", "ami-12345678")[
        "StackId"
    ]
    stack = svc.store.get(Stack, stack_id)
    now = svc.now_iso()
    made_layers = [
        Layer(
            layer_id=new_id(),
            stack_id=stack_id,
            type="custom",
            name=f"layer {n}",
            shortname=f"layer{n}",
            created_at=now,
        )
        for n in range(1, layers + 1)
    ]
    kinds = (
        [(None, InstanceStatus.online)] * 4
        + [(AutoScalingType.timer, InstanceStatus.online)]
        + [(AutoScalingType.timer, InstanceStatus.stopped)]
        + [(AutoScalingType.load, InstanceStatus.online)] * 2
        + [(AutoScalingType.load, InstanceStatus.stopped)] * 2
    )
    instances = [
        Instance(
            instance_id=new_id(),
            stack_id=stack_id,
            layer_ids=[layer.layer_id],
            hostname=f"{layer.shortname}-{k + 1}",
            instance_type="t3.micro",
            auto_scaling_type=kinds[k % len(kinds)][0],
            status=kinds[k % len(kinds)][1],
            created_at=now,
            port_offset=10 * (n * per_layer + k + 1),
        )
        for n, layer in enumerate(made_layers)
        for k in range(per_layer)
    ]
    online = [i for i in instances if i.status is InstanceStatus.online]
    ec2 = svc.session.client("ec2")
    launched = ec2.run_instances(
        ImageId="ami-12345678", MinCount=len(online), MaxCount=len(online)
    )["Instances"]
    by_id = {i.instance_id: e["InstanceId"] for i, e in zip(online, launched, strict=True)}
    instances = [
        i.model_copy(update={"ec2_instance_id": by_id.get(i.instance_id)}) for i in instances
    ]
    svc.store.put_all([*made_layers, *instances])
    records = scaling_records(svc)
    thresholds = {
        "up": AutoScalingThresholds.model_validate(UP).completed("up"),
        "down": AutoScalingThresholds.model_validate(DOWN).completed("down"),
    }
    for layer in made_layers:
        records.put_thresholds(
            LoadBasedAutoScaling(
                layer_id=layer.layer_id,
                stack_id=stack_id,
                enable=True,
                up_scaling=thresholds["up"],
                down_scaling=thresholds["down"],
            )
        )
    # Online timer instances: on 8:00-9:59 Monday; stopped ones: on from 10:00 Monday.
    for instance in instances:
        if instance.auto_scaling_type is AutoScalingType.timer:
            on = instance.status is InstanceStatus.online
            hours = {"8": "on", "9": "on"} if on else {"10": "on", "11": "on"}
            records.put_schedule(
                TimeBasedAutoScaling(
                    instance_id=instance.instance_id,
                    stack_id=stack_id,
                    auto_scaling_schedule=WeeklyAutoScalingSchedule(monday=hours),
                    revision="bench",
                )
            )
    return stack, instances


def put_figures(
    svc: Services, stack: Stack, instances: list[Instance], end: datetime, cpu_of: dict[str, float]
) -> None:
    """10 minutes of CPU and memory for every online instance (uncounted)."""
    data = [
        Datum(metric_id(stack.stack_id, i.layer_ids[0], i.instance_id, metric), value, at)
        for i in instances
        if i.status is InstanceStatus.online
        for k in range(1, 11)
        for at in [end - timedelta(minutes=k) + timedelta(seconds=20)]
        for metric, value in (
            ("CPUUtilization", cpu_of[i.layer_ids[0]]),
            ("MemoryUtilization", 25.0),
        )
    ]
    svc.cloudwatch.put(data)


class CallTimes:
    """Seconds spent inside each AWS operation (moto answering, in-process)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._started: float | None = None

    def attach(self, session: AwsSession) -> None:
        for client in [session._session, *session._clients.values()]:
            events = client.events if client is session._session else client.meta.events
            events.register("before-call", self._before, "bench-times-before")
            events.register("after-call", self._after, "bench-times-after")

    def _before(self, **_: object) -> None:
        self._started = time.perf_counter()

    def _after(self, model: object, **_: object) -> None:
        if self._started is not None:
            name = f"{model.service_model.service_name}:{model.name}"  # type: ignore[attr-defined]
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - self._started
            self._started = None


def timed_round(
    scaler: Scaler, counter: ApiCalls, times: CallTimes, now: datetime, stack: Stack
) -> tuple:
    counter.start()
    times.seconds.clear()
    started = time.perf_counter()
    report = scaler.run(now, [stack.stack_id])
    wall = time.perf_counter() - started
    counter.stop()
    return report, wall, dict(counter.calls), dict(times.seconds)


def print_calls(calls: dict[str, int], seconds: dict[str, float], layers: int, wall: float) -> None:
    total = sum(calls.values())
    width = max((len(n) for n in calls), default=10) + 2
    print(f"  {'AWS operation':<{width}}{'calls':>7}{'per layer':>11}{'seconds in moto':>17}")
    for name, n in sorted(calls.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  {name:<{width}}{n:>7}{n / layers:>11.2f}{seconds.get(name, 0):>17.3f}")
    inside = sum(seconds.values())
    print(
        f"  {'total':<{width}}{total:>7}{total / layers:>11.2f}{inside:>17.3f}"
        f"   (target <= {TARGET} calls per layer)"
    )
    print(f"  wall: {wall:.3f} s, of which {wall - inside:.3f} s outside AWS calls")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--layers", type=int, default=50)
    parser.add_argument("--per-layer", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=1, help="steady rounds to time")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="stackops-bench-autoscale-"))
    saved = offline_environment(scratch)
    try:
        with mock_aws():
            stackops("bootstrap")
            svc = services()
            counter, times = ApiCalls(), CallTimes()
            scaler = Scaler(svc)
            svc.cloudwatch, svc.store, svc.leases, svc.ec2, svc.queue  # noqa: B018 (clients now)
            counter.attach(svc.session)
            times.attach(svc.session)
            stack, instances = build_stack(svc, args.layers, args.per_layer)
            layer_ids = sorted({i.layer_ids[0] for i in instances})
            n = len(instances)
            print(
                f"stack: {n} instances in {args.layers} layers; per layer 4 24/7, 2 time-based, "
                f"4 load-based; moto in-process, {sys.platform}"
            )

            steady = MONDAY_NINE + timedelta(minutes=30)
            put_figures(svc, stack, instances, steady, dict.fromkeys(layer_ids, 50.0))
            scaler.run(steady, [stack.stack_id])  # the first round records the timer marks
            walls, calls, seconds = [], {}, {}
            for _ in range(args.rounds):
                report, wall, calls, seconds = timed_round(scaler, counter, times, steady, stack)
                walls.append(wall)
                assert not report.stacks[0].plan.actions, "the steady round should do nothing"
            print(f"\n1. steady round (nothing to do), {args.rounds} round(s) timed, the last:")
            print_calls(calls, seconds, args.layers, walls[-1])
            print(
                f"  wall per round: median {statistics.median(walls):.3f} s, "
                f"min {min(walls):.3f} s, max {max(walls):.3f} s"
            )

            edge = MONDAY_NINE + timedelta(hours=1, minutes=1)
            hot = {lid: (95.0 if k % 2 == 0 else 5.0) for k, lid in enumerate(layer_ids)}
            put_figures(svc, stack, instances, edge, hot)
            report, wall, calls, seconds = timed_round(scaler, counter, times, edge, stack)
            part = report.stacks[0]
            verbs = [a.verb for a in part.plan.actions]
            failed = [o for o in part.outcomes if o.result == "failed"]
            print(
                f"\n2. acting round: {verbs.count('start')} starts and {verbs.count('stop')} "
                f"stops ({len(failed)} failed), start-instance / stop-instance work included:"
            )
            print_calls(calls, seconds, args.layers, wall)

            contents = svc.store.contents(stack.stack_id)
            facts = scaler._facts(
                stack.stack_id, contents, scaling_records(svc).stack(stack.stack_id), edge
            )
            began = time.perf_counter()
            decide(facts)
            print(f"\n  the pure decision alone: {time.perf_counter() - began:.4f} s for {n}")
    finally:
        set_environment(saved)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
