"""Scaler rounds on moto through `stackops autoscale --once --now`: acted on and recorded."""

from __future__ import annotations

import json
import signal
import threading
from datetime import UTC, datetime, timedelta

import boto3

from stackops.model.autoscaling import WeeklyAutoScalingSchedule
from tests.helpers import put_5xx_alarm

MONDAY = datetime(2026, 12, 7, tzinfo=UTC)
WEEK_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
UP = '{"InstanceCount": 2, "ThresholdsWaitTime": 5, "IgnoreMetricsTime": 10, "CpuThreshold": 80}'
DOWN = '{"InstanceCount": 1, "ThresholdsWaitTime": 10, "IgnoreMetricsTime": 10, "CpuThreshold": 20}'
WEEK = {
    "office": '{"Monday": {"9": "on", "10": "on", "11": "on"}, "Wednesday": {"14": "on"}}',
    "night": '{"Tuesday": {"22": "on", "23": "on"}, "Wednesday": {"0": "on", "1": "on"}}',
    "weekend": '{"Saturday": {"0": "on", "12": "on"}, "Sunday": {"23": "on"}, '
    '"Monday": {"0": "on"}}',
}


def ec2_states(aws: boto3.session.Session) -> list[str]:
    reservations = aws.client("ec2").describe_instances()["Reservations"]
    return [i["State"]["Name"] for r in reservations for i in r["Instances"]]


def test_a_week_decided_hour_by_hour_each_timer_instance_online_exactly_in_its_hours(scaling):
    for name, schedule in WEEK.items():
        instance_id = scaling.create(name, "timer")
        scaling.run("set-time-based-auto-scaling", "--instance-id", instance_id,
                    "--auto-scaling-schedule", schedule)  # fmt: skip
    scaling.create("always")
    scaling.create("burst", "load")
    scaling.run("start-instance", "--instance-id", scaling.ids["always"])
    parsed = {n: WeeklyAutoScalingSchedule.model_validate_json(s) for n, s in WEEK.items()}
    actions = 0
    for hour in range(7 * 24):
        now = MONDAY + timedelta(hours=hour, minutes=1)
        report = scaling.round(now) if hour in (0, 9) else scaling.quick_round(now)
        actions += len(report["Actions"])
        assert all(a["Outcome"] in ("starting", "stopping") for a in report["Actions"])
        scaling.settle()
        online = {h for h, s in scaling.statuses().items() if s == "online"}
        expected = {n for n, s in parsed.items() if s.is_on(now)} | {"always"}
        assert online == expected, now
    # A start and a stop per run of "on" hours: office 2 runs, night 1 (Tuesday 22:00 to
    # Wednesday 2:00), weekend 4 (Monday 0:00, Saturday 0:00 and 12:00, then Sunday 23:00,
    # which the week's last round leaves running: no stop).
    assert actions == 2 * 2 + 2 * 1 + 2 * 4 - 1
    history = scaling.run("autoscale", "--history", "--limit", "1000")["ScalingActions"]
    assert len(history) == actions
    assert {h["Hostname"] for h in history} == set(WEEK)
    assert history[0]["Reason"] == "Sunday 23:00 UTC is on in its schedule"


def test_a_time_based_instance_goes_through_start_and_stop_instance(scaling):
    timer = scaling.create("office", "timer")
    scaling.run("set-time-based-auto-scaling", "--instance-id", timer,
                "--auto-scaling-schedule", WEEK["office"])  # fmt: skip
    report = scaling.round("2026-12-07T09:05:00Z")
    assert [(a["Action"], a["Hostname"], a["Outcome"]) for a in report["Actions"]] == [
        ("start", "office", "starting")
    ]
    (described,) = scaling.run("describe-instances", "--instance-ids", timer)["Instances"]
    assert described["Status"] == "pending" and described["Ec2InstanceId"].startswith("i-")
    assert ec2_states(scaling.aws) == ["running"]
    # Again in the same hour: nothing (it is on its way); still nothing once online.
    assert scaling.round("2026-12-07T09:06:00Z")["Actions"] == []
    scaling.settle()
    assert scaling.round("2026-12-07T11:59:00Z")["Actions"] == []
    report = scaling.round("2026-12-07T12:00:00Z")
    assert [(a["Action"], a["Outcome"]) for a in report["Actions"]] == [("stop", "stopping")]
    assert "shutdown recipes" in report["Actions"][0]["Message"]
    assert scaling.statuses()["office"] == "stopping"
    # stop-instance asked the dispatcher for the shutdown: its message is on the queue.
    queue = scaling.aws.client("sqs").get_queue_url(QueueName="stackops-lifecycle")["QueueUrl"]
    body = scaling.aws.client("sqs").receive_message(QueueUrl=queue, WaitTimeSeconds=0)
    assert timer in body["Messages"][0]["Body"] and '"stop"' in body["Messages"][0]["Body"]


def load_layer(scaling, now: datetime) -> None:
    """base (24/7, online) and three load instances; thresholds UP and DOWN."""
    scaling.create("base")
    for n in (1, 2, 3):
        scaling.create(f"burst{n}", "load")
    scaling.run("start-instance", "--instance-id", scaling.ids["base"])
    scaling.settle()
    scaling.run("set-load-based-auto-scaling", "--layer-id", scaling.layer_id, "--enable",
                "--up-scaling", UP, "--down-scaling", DOWN)  # fmt: skip


def minutes(end: datetime, count: int, value: float) -> dict[datetime, float]:
    """`count` per-minute values, the last in the minute before `end` (each at :30 seconds)."""
    return {end - timedelta(minutes=k) + timedelta(seconds=30): value for k in range(1, count + 1)}


def test_load_scale_up_after_the_wait_time_and_not_before(scaling):
    now = MONDAY + timedelta(hours=9, minutes=10)
    load_layer(scaling, now)
    scaling.put_cpu("base", minutes(now, 4, 95.0))
    report = scaling.round(now)
    assert report["Actions"] == []
    (verdict,) = report["LayerVerdicts"]
    assert verdict["Verdict"] == "hold" and "not held for 5 min" in verdict["Note"]
    assert verdict["Metrics"][0]["Values"] == [None, 95.0, 95.0, 95.0, 95.0]
    later = now + timedelta(minutes=1)
    scaling.put_cpu("base", minutes(later, 5, 95.0))
    report = scaling.round(later)
    assert [(a["Action"], a["Hostname"]) for a in report["Actions"]] == [
        ("start", "burst1"),
        ("start", "burst2"),
    ]
    assert scaling.statuses() == {
        "base": "online",
        "burst1": "pending",
        "burst2": "pending",
        "burst3": "stopped",
    }
    # The decision is recorded with the metric values that led to it.
    history = scaling.run("autoscale", "--history", "--stack-ids", scaling.stack_id)
    first = history["ScalingActions"][-1]
    assert first["Cause"] == "load" and first["Direction"] == "up"
    assert first["Metrics"][0]["Condition"] == "CPUUtilization > 80"
    assert first["Metrics"][0]["Values"] == [95.0] * 5 and first["Metrics"][0]["Average"] == 95.0


def test_the_ignore_time_is_respected_then_the_rest_start(scaling):
    now = MONDAY + timedelta(hours=9, minutes=10)
    load_layer(scaling, now)
    scaling.put_cpu("base", minutes(now + timedelta(minutes=30), 35, 99.0))
    assert len(scaling.round(now)["Actions"]) == 2
    scaling.settle()
    for name in ("burst1", "burst2"):
        scaling.put_cpu(name, minutes(now + timedelta(minutes=30), 30, 99.0))
    # Up: wait 5, ignore 10 -> the next window may start at 9:20, so 9:25 at the earliest.
    for minute in range(1, 15):
        report = scaling.quick_round(now + timedelta(minutes=minute))
        assert report["Actions"] == [], minute
        assert "metrics ignored until 2026-12-07T09:20:00" in report["LayerVerdicts"][0]["Note"]
    report = scaling.round(now + timedelta(minutes=15))
    assert [a["Hostname"] for a in report["Actions"]] == ["burst3"]  # the last stopped one


def test_scale_down_to_zero_load_instances(scaling):
    now = MONDAY + timedelta(hours=9, minutes=10)
    load_layer(scaling, now)
    for name in ("burst1", "burst2"):
        scaling.run("start-instance", "--instance-id", scaling.ids[name])
    scaling.settle()
    stopped = []
    for step in range(4):
        moment = now + timedelta(minutes=20 * step)
        for name, status in scaling.statuses().items():
            if status == "online":
                scaling.put_cpu(name, minutes(moment, 10, 5.0))
        report = scaling.quick_round(moment)
        stopped += [a["Hostname"] for a in report["Actions"] if a["Action"] == "stop"]
        scaling.settle()
    assert stopped == ["burst2", "burst1"]
    assert scaling.statuses() == {
        "base": "online",
        "burst1": "stopped",
        "burst2": "stopped",
        "burst3": "stopped",
    }
    assert "no online load-based instance is left to stop" in report["LayerVerdicts"][0]["Note"]


def test_two_scalers_never_start_the_same_instance_twice(scaling, invoke):
    now = MONDAY + timedelta(hours=9, minutes=10)
    load_layer(scaling, now)
    timer = scaling.create("office", "timer")
    scaling.run("set-time-based-auto-scaling", "--instance-id", timer,
                "--auto-scaling-schedule", WEEK["office"])  # fmt: skip
    scaling.put_cpu("base", minutes(now, 5, 95.0))
    results: list = []
    gate = threading.Barrier(4)

    def scaler() -> None:
        gate.wait()
        results.append(invoke("autoscale", "--once", "--now", "2026-12-07T09:10:00Z"))

    threads = [threading.Thread(target=scaler) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r.exit_code == 0 for r in results), [r.stderr for r in results]
    # Two rounds after those: each sees the starts already made (and the ignore time).
    results.append(invoke("autoscale", "--once", "--now", "2026-12-07T09:10:00Z"))
    results.append(invoke("autoscale", "--once", "--now", "2026-12-07T09:11:00Z"))
    history = scaling.run("autoscale", "--history")["ScalingActions"]
    started = sorted(h["Hostname"] for h in history if h["Outcome"] == "starting")
    assert started == ["burst1", "burst2", "office"]
    assert sorted(ec2_states(scaling.aws)) == ["running"] * 4  # base + three starts, once each
    assert not [h for h in history if h["Outcome"] == "failed"]


def test_a_stack_whose_round_is_leased_elsewhere_is_skipped(scaling):
    from tests.lifecycle.conftest import moto_services

    timer = scaling.create("office", "timer")
    scaling.run("set-time-based-auto-scaling", "--instance-id", timer,
                "--auto-scaling-schedule", WEEK["office"])  # fmt: skip
    services = moto_services()
    assert services.leases.acquire(f"autoscale#{scaling.stack_id}", "scaler-elsewhere", 60)
    report = scaling.round("2026-12-07T09:05:00Z")
    assert report["Actions"] == []
    assert report["Skipped"] == [
        {
            "StackId": scaling.stack_id,
            "Name": "shop",
            "Why": "scaler-elsewhere holds this stack's round",
        }
    ]
    assert scaling.statuses()["office"] == "stopped"
    services.leases.release(f"autoscale#{scaling.stack_id}", "scaler-elsewhere")
    assert [a["Hostname"] for a in scaling.round("2026-12-07T09:05:00Z")["Actions"]] == ["office"]


def test_dry_run_decides_and_changes_nothing(scaling):
    timer = scaling.create("office", "timer")
    scaling.run("set-time-based-auto-scaling", "--instance-id", timer,
                "--auto-scaling-schedule", WEEK["office"])  # fmt: skip
    report = scaling.run("autoscale", "--dry-run", "--now", "2026-12-07T09:05:00Z")
    assert report["DryRun"] is True
    assert [(a["Action"], a["Outcome"]) for a in report["Actions"]] == [("start", "planned")]
    assert scaling.statuses()["office"] == "stopped"
    assert scaling.run("autoscale", "--history")["ScalingActions"] == []
    assert len(scaling.round("2026-12-07T09:05:00Z")["Actions"]) == 1


def test_now_needs_once_and_must_be_a_time(scaling):
    loop = scaling.invoke("autoscale", "--now", "2026-12-07T09:05:00Z")
    assert loop.exit_code == 2 and "--now needs --once" in loop.stderr
    bad = scaling.invoke("autoscale", "--once", "--now", "Monday 9am")
    assert bad.exit_code == 2 and "is not an ISO 8601 time" in bad.stderr


def test_stacks_without_scaling_are_skipped_and_a_failed_start_is_recorded(scaling, monkeypatch):
    from stackops.aws.ec2 import Ec2
    from stackops.errors import AwsFailure

    scaling.run("create-stack", "--name", "quiet")

    # EC2 has no capacity for the launch (an OS name that cannot work is refused at
    # create-stack now): the start fails, is recorded, and the round goes on.
    def no_capacity(self, request):
        raise AwsFailure(
            "ec2:RunInstances failed: InsufficientInstanceCapacity: "
            f"no {request.instance_type} capacity in the Availability Zone"
        )

    monkeypatch.setattr(Ec2, "launch", no_capacity)
    broken = scaling.run("create-stack", "--name", "broken", "--default-ami-id",
                         "ami-12345678")["StackId"]  # fmt: skip
    layer = scaling.run("create-layer", "--stack-id", broken, "--type", "custom",
                        "--name", "app", "--shortname", "app")["LayerId"]  # fmt: skip
    timer = scaling.run("create-instance", "--stack-id", broken, "--layer-ids", layer,
                        "--instance-type", "t3.micro", "--auto-scaling-type", "timer")  # fmt: skip
    scaling.run("set-time-based-auto-scaling", "--instance-id", timer["InstanceId"],
                "--auto-scaling-schedule", WEEK["office"])  # fmt: skip
    report = scaling.round("2026-12-07T09:05:00Z")
    (action,) = report["Actions"]
    assert action["Outcome"] == "failed"
    assert "InsufficientInstanceCapacity: no t3.micro capacity" in action["Message"]
    assert sorted(s["Name"] for s in report["Skipped"]) == ["quiet", "shop"]
    (recorded,) = scaling.run("autoscale", "--history")["ScalingActions"]
    assert recorded["Outcome"] == "failed"
    # Not retried while it is start_failed: a person looks first.
    again = scaling.round("2026-12-07T09:06:00Z")
    assert again["Actions"] == [] and "start_failed: not started" in again["Notes"][0]


def test_a_named_alarm_in_alarm_for_the_wait_time_scales_the_layer_up(scaling):
    cloudwatch = scaling.aws.client("cloudwatch")
    put_5xx_alarm(cloudwatch)
    scaling.create("base")
    scaling.create("burst1", "load")
    up = '{"InstanceCount": 1, "ThresholdsWaitTime": 3, "CpuThreshold": -1, "Alarms": ["web-5xx"]}'
    scaling.run("set-load-based-auto-scaling", "--layer-id", scaling.layer_id, "--enable",
                "--up-scaling", up)  # fmt: skip
    cloudwatch.set_alarm_state(AlarmName="web-5xx", StateValue="ALARM", StateReason="test")
    since = cloudwatch.describe_alarms(AlarmNames=["web-5xx"])["MetricAlarms"][0][
        "StateUpdatedTimestamp"
    ]
    report = scaling.round(since + timedelta(minutes=2))
    assert report["Actions"] == []
    assert report["LayerVerdicts"][0]["Metrics"][0]["Detail"].startswith("ALARM since")
    report = scaling.round(since + timedelta(minutes=3, seconds=1))
    assert [(a["Hostname"], a["Action"]) for a in report["Actions"]] == [("burst1", "start")]
    assert "alarm web-5xx in ALARM for 3 min" in report["Actions"][0]["Reason"]


def test_one_stacks_failure_is_reported_and_the_other_stacks_still_scale(scaling, monkeypatch):
    from stackops.aws.cloudwatch import CloudWatch
    from stackops.errors import AwsFailure
    from stackops.model.enums import InstanceStatus
    from stackops.model.instances import Instance

    now = MONDAY + timedelta(hours=9, minutes=10)
    load_layer(scaling, now)
    scaling.put_cpu("base", minutes(now, 5, 95.0))
    # A second stack ("alpha", first by name) whose metrics cannot be read.
    alpha = scaling.run("create-stack", "--name", "alpha", "--default-ami-id", "ami-12345678")
    layer = scaling.run("create-layer", "--stack-id", alpha["StackId"], "--type", "custom",
                        "--name", "web", "--shortname", "web")["LayerId"]  # fmt: skip
    for kind in ("load", None):
        args = ["--auto-scaling-type", kind] if kind else []
        made = scaling.run("create-instance", "--stack-id", alpha["StackId"], "--layer-ids", layer,
                           "--instance-type", "t3.micro", *args)  # fmt: skip
    online = scaling.services.store.get(Instance, made["InstanceId"])
    scaling.services.store.put(online.model_copy(update={"status": InstanceStatus.online}))
    scaling.run("set-load-based-auto-scaling", "--layer-id", layer, "--enable")
    real = CloudWatch.minute_series

    def throttled(self, metrics, start, end):
        if any(dict(m.dimensions)["StackId"] == alpha["StackId"] for m in metrics):
            raise AwsFailure("cloudwatch:GetMetricData failed: Throttling: Rate exceeded")
        return real(self, metrics, start, end)

    monkeypatch.setattr(CloudWatch, "minute_series", throttled)
    result = scaling.invoke("autoscale", "--once", "--now", "2026-12-07T09:10:00Z")
    assert result.exit_code == 1
    assert "the round failed for stack alpha: cloudwatch:GetMetricData failed" in result.stderr
    report = json.loads(result.stdout)
    assert report["Failed"] == [
        {
            "StackId": alpha["StackId"],
            "Name": "alpha",
            "Error": "cloudwatch:GetMetricData failed: Throttling: Rate exceeded",
        }
    ]
    assert [a["Hostname"] for a in report["Actions"]] == ["burst1", "burst2"]
    # The failed stack's lease was given back: the next round can take it.
    assert scaling.services.leases.holder(f"autoscale#{alpha['StackId']}") is None


def test_the_loop_runs_rounds_on_the_clock_until_interrupted(scaling, monkeypatch):
    import stackops.cli.autoscale_cmd as command

    timer = scaling.create("office", "timer")
    every_hour = {day: {str(h): "on" for h in range(24)} for day in WEEK_DAYS}
    scaling.run("set-time-based-auto-scaling", "--instance-id", timer,
                "--auto-scaling-schedule", json.dumps(every_hour))  # fmt: skip
    waits: list[float] = []

    class OneRound(threading.Event):
        def wait(self, timeout: float | None = None) -> bool:
            waits.append(timeout or 0)
            raise KeyboardInterrupt  # Ctrl-C after the first round

    monkeypatch.setattr(command.threading, "Event", OneRound)
    handler = signal.getsignal(signal.SIGTERM)
    result = scaling.invoke("autoscale", "--interval", "30")
    assert signal.getsignal(signal.SIGTERM) is handler  # the loop gave SIGTERM back
    assert result.exit_code == 0, result.stderr
    assert "scaling every 30 s; Ctrl-C stops" in result.stderr
    assert "start office: starting (" in result.stderr
    assert waits == [30] and scaling.statuses()["office"] == "pending"
