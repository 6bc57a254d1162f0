"""The scaler's other entry points: the Lambda handler, and node figures from `agent metrics`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from stackops.autoscale.lambda_entry import handle
from stackops.autoscale.node_metrics import (
    NodeFigures,
    cpu_busy_percent,
    measure,
    memory_used_percent,
)

SCHEDULE = '{"Monday": {"9": "on"}}'


def test_the_lambda_handler_runs_one_round_on_the_clock_it_is_given(scaling, monkeypatch):
    from tests.lifecycle.conftest import moto_services

    timer = scaling.create("office", "timer")
    scaling.run("set-time-based-auto-scaling", "--instance-id", timer,
                "--auto-scaling-schedule", SCHEDULE)  # fmt: skip
    services = moto_services()
    services.clock = lambda: datetime(2026, 12, 7, 8, 59, tzinfo=UTC)
    event = {"source": "aws.events", "detail-type": "Scheduled Event", "time": "2026-12-07T09:00Z"}
    assert handle(event, None, services=services)["Actions"] == []  # the clock, not the event
    services.clock = lambda: datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    report = handle(event, None, services=services)
    assert [(a["Hostname"], a["Action"], a["Outcome"]) for a in report["Actions"]] == [
        ("office", "start", "starting")
    ]
    monkeypatch.setenv("STACKOPS_AUTOSCALE_STACKS", "some-other-stack")
    with pytest.raises(Exception, match="no stack with id some-other-stack"):
        handle(event, None, services=services)


def test_agent_metrics_publishes_given_figures_per_layer(scaling):
    base = scaling.create("web1")
    at = datetime(2026, 12, 7, 9, 0, 30, tzinfo=UTC)
    figures = ["--cpu", "91.5", "--memory", "40", "--load", "1.25"]
    published = scaling.run(
        "agent", "metrics", "--instance-id", base, *figures, "--at", "2026-12-07T09:00:30Z"
    )
    assert published == {
        "InstanceId": base,
        "StackId": scaling.stack_id,
        "LayerIds": [scaling.layer_id],
        "At": "2026-12-07T09:00:30+00:00",
        "Metrics": {"CPUUtilization": 91.5, "MemoryUtilization": 40.0, "LoadAverage": 1.25},
        "Published": 3,
    }
    cloudwatch = scaling.aws.client("cloudwatch")
    found = cloudwatch.get_metric_statistics(
        Namespace="stackops",
        MetricName="CPUUtilization",
        Dimensions=[
            {"Name": "StackId", "Value": scaling.stack_id},
            {"Name": "LayerId", "Value": scaling.layer_id},
            {"Name": "InstanceId", "Value": base},
        ],
        StartTime=at - timedelta(minutes=1),
        EndTime=at + timedelta(minutes=1),
        Period=60,
        Statistics=["Average"],
    )["Datapoints"]
    assert [d["Average"] for d in found] == [91.5]


def test_agent_metrics_refuses_bad_figures(scaling):
    base = scaling.create("web1")
    high = scaling.invoke("agent", "metrics", "--instance-id", base, "--cpu", "150")
    assert high.exit_code == 2 and "--cpu" in high.stderr
    when = scaling.invoke("agent", "metrics", "--instance-id", base, "--cpu", "5", "--at", "soon")
    assert when.exit_code == 2 and "--at: 'soon' is not an ISO 8601 time" in when.stderr
    nobody = scaling.invoke("agent", "metrics", "--instance-id", "nope", "--cpu", "5")
    assert nobody.exit_code == 2 and "no instance with id nope" in nobody.stderr


def test_node_figures_from_proc():
    before = "cpu  100 0 50 800 50 0 0 0 0 0"
    after = "cpu  160 0 70 900 70 0 0 0 0 0"  # busy +80, idle+iowait +120
    assert cpu_busy_percent(before, after) == pytest.approx(40.0)
    assert cpu_busy_percent(before, before) is None
    meminfo = "MemTotal:       16000000 kB\nMemFree:  1000 kB\nMemAvailable:    4000000 kB\n"
    assert memory_used_percent(meminfo) == pytest.approx(75.0)
    assert memory_used_percent("MemTotal: 0 kB\n") is None
    assert NodeFigures(cpu=12.345).by_metric() == {"CPUUtilization": 12.35}


def test_measuring_this_host_gives_figures_in_range(tmp_path):
    here = measure(sample_seconds=0.05)
    assert here.load is not None and here.load >= 0
    if here.cpu is not None:  # /proc present (Linux)
        assert 0 <= here.cpu <= 100 and here.memory is not None and 0 <= here.memory <= 100
    # Without /proc, CPU and memory are unknown, not invented.
    bare = measure(sample_seconds=0, proc=tmp_path)
    assert bare.cpu is None and bare.memory is None


def test_the_packaged_lambda_handler_builds_its_services_from_the_environment(scaling):
    from stackops.autoscale import lambda_handler

    report = lambda_handler({"source": "aws.events"}, None)
    decided = datetime.fromisoformat(report["DecidedAt"])
    assert abs((decided - datetime.now(UTC)).total_seconds()) < 120
    assert report["Skipped"] == [
        {"StackId": scaling.stack_id, "Name": "shop", "Why": "no time-based schedule or "
         "enabled load-based layer"}
    ]  # fmt: skip
