"""The four OpsWorks auto scaling verbs on moto: shapes in and out, bad input refused."""

from __future__ import annotations

import json

import pytest

from tests.helpers import put_5xx_alarm

SCHEDULE = '{"Monday": {"9": "on", "10": "on"}, "Friday": {"17": "on"}}'
UP = '{"InstanceCount": 2, "ThresholdsWaitTime": 5, "IgnoreMetricsTime": 10, "CpuThreshold": 80}'
DOWN = '{"InstanceCount": 1, "ThresholdsWaitTime": 10, "IgnoreMetricsTime": 10, "CpuThreshold": 20}'


def test_time_based_schedule_set_and_described_in_opsworks_shape(scaling):
    timer = scaling.create("nightly1", "timer")
    scaling.run("set-time-based-auto-scaling", "--instance-id", timer,
                "--auto-scaling-schedule", SCHEDULE)  # fmt: skip
    answer = scaling.run("describe-time-based-auto-scaling", "--instance-ids", timer)
    assert answer == {
        "TimeBasedAutoScalingConfigurations": [
            {
                "InstanceId": timer,
                "AutoScalingSchedule": {
                    "Monday": {"9": "on", "10": "on"},
                    "Tuesday": {},
                    "Wednesday": {},
                    "Thursday": {},
                    "Friday": {"17": "on"},
                    "Saturday": {},
                    "Sunday": {},
                },
            }
        ]
    }
    # A 24/7 instance asked for alongside is left out, as OpsWorks did.
    always = scaling.create("web1")
    both = scaling.run("describe-time-based-auto-scaling", "--instance-ids", timer, always)
    assert [c["InstanceId"] for c in both["TimeBasedAutoScalingConfigurations"]] == [timer]


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ('{"Mon": {"9": "on"}}', "'Mon' is not a day: use Monday, Tuesday"),
        ('{"Monday": {"24": "on"}}', "--auto-scaling-schedule.Monday: '24' is not an hour"),
        ('{"Monday": {"-1": "on"}}', "'-1' is not an hour: use '0' to '23' (UTC)"),
        ('{"Monday": {"9": "yes"}}', "'yes' is not a switch: use 'on' or 'off'"),
        ('{"Monday": ["9"]}', "a day is an object of hours"),
        ('{"Monday": {"9": "on"', "--auto-scaling-schedule is not valid JSON at line 1"),
        ('["Monday"]', "give an object of days"),
    ],
)
def test_bad_schedules_are_refused_with_exit_2_and_nothing_stored(scaling, schedule, message):
    timer = scaling.create("nightly1", "timer")
    scaling.run("set-time-based-auto-scaling", "--instance-id", timer,
                "--auto-scaling-schedule", SCHEDULE)  # fmt: skip
    before = scaling.run("describe-time-based-auto-scaling", "--instance-ids", timer)
    result = scaling.invoke(
        "set-time-based-auto-scaling", "--instance-id", timer, "--auto-scaling-schedule", schedule
    )
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert scaling.run("describe-time-based-auto-scaling", "--instance-ids", timer) == before


def test_a_schedule_on_a_24_7_instance_is_refused(scaling):
    always = scaling.create("web1")
    result = scaling.invoke(
        "set-time-based-auto-scaling", "--instance-id", always, "--auto-scaling-schedule", SCHEDULE
    )
    assert result.exit_code == 2
    assert (
        "is 24/7, not time-based" in result.stderr and "--auto-scaling-type timer" in result.stderr
    )
    unknown = scaling.invoke("describe-time-based-auto-scaling", "--instance-ids", "nope")
    assert unknown.exit_code == 2 and "no instance with id nope" in unknown.stderr


def test_load_based_scaling_set_and_described_in_opsworks_shape(scaling):
    layer = scaling.layer_id
    assert scaling.run("describe-load-based-auto-scaling", "--layer-ids", layer) == {
        "LoadBasedAutoScalingConfigurations": [{"LayerId": layer, "Enable": False}]
    }
    scaling.run("set-load-based-auto-scaling", "--layer-id", layer, "--enable",
                "--up-scaling", UP, "--down-scaling", DOWN)  # fmt: skip
    (config,) = scaling.run("describe-load-based-auto-scaling", "--layer-ids", layer)[
        "LoadBasedAutoScalingConfigurations"
    ]
    assert config == {
        "LayerId": layer,
        "Enable": True,
        "UpScaling": {**json.loads(UP), "CpuThreshold": 80.0},
        "DownScaling": {**json.loads(DOWN), "CpuThreshold": 20.0},
    }
    # --no-enable alone keeps the thresholds; a new --up-scaling replaces that side only,
    # its unset counts and times taking OpsWorks's defaults.
    scaling.run("set-load-based-auto-scaling", "--layer-id", layer, "--no-enable",
                "--up-scaling", '{"MemoryThreshold": 90, "LoadThreshold": -1}')  # fmt: skip
    (config,) = scaling.run("describe-load-based-auto-scaling", "--layer-ids", layer)[
        "LoadBasedAutoScalingConfigurations"
    ]
    assert config["Enable"] is False
    assert config["UpScaling"] == {
        "InstanceCount": 1,
        "ThresholdsWaitTime": 5,
        "IgnoreMetricsTime": 5,
        "MemoryThreshold": 90.0,
        "LoadThreshold": -1.0,
    }
    assert config["DownScaling"]["CpuThreshold"] == 20.0


def test_the_set_verbs_take_aws_cli_input_as_the_other_opsworks_verbs_do(scaling):
    """--cli-input-json with the API's names; options on the command line win over it."""
    layer = scaling.layer_id
    request = {"LayerId": layer, "Enable": True, "DownScaling": json.loads(DOWN),
               "UpScaling": {"CpuThreshold": 50}}  # fmt: skip
    scaling.run("set-load-based-auto-scaling", "--cli-input-json", json.dumps(request),
                "--up-scaling", '{"InstanceCount": 2, "CpuThreshold": 85}')  # fmt: skip
    (config,) = scaling.run("describe-load-based-auto-scaling", "--layer-ids", layer)[
        "LoadBasedAutoScalingConfigurations"
    ]
    assert config["Enable"] is True
    assert config["UpScaling"] == {
        "InstanceCount": 2,
        "ThresholdsWaitTime": 5,
        "IgnoreMetricsTime": 5,
        "CpuThreshold": 85.0,
    }
    assert config["DownScaling"]["CpuThreshold"] == 20.0
    timer = scaling.create("nightly1", "timer")
    request = {"InstanceId": timer, "AutoScalingSchedule": json.loads(SCHEDULE)}
    scaling.run("set-time-based-auto-scaling", "--cli-input-json", json.dumps(request))
    (described,) = scaling.run("describe-time-based-auto-scaling", "--instance-ids", timer)[
        "TimeBasedAutoScalingConfigurations"
    ]
    assert described["AutoScalingSchedule"]["Monday"] == {"9": "on", "10": "on"}


def test_enabling_with_no_thresholds_gives_opsworks_defaults(scaling):
    scaling.run("set-load-based-auto-scaling", "--layer-id", scaling.layer_id, "--enable")
    (config,) = scaling.run("describe-load-based-auto-scaling", "--layer-ids", scaling.layer_id)[
        "LoadBasedAutoScalingConfigurations"
    ]
    assert config["UpScaling"] == {
        "InstanceCount": 1,
        "ThresholdsWaitTime": 5,
        "IgnoreMetricsTime": 5,
        "CpuThreshold": 80.0,
    }
    assert config["DownScaling"]["CpuThreshold"] == 30.0


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--up-scaling", '{"CpuThreshold": 120}', "--up-scaling.CpuThreshold: 120 is out of range"),
        ("--up-scaling", '{"CpuThreshold": -5}', "give 0 to 100, or -1 to disable it"),
        ("--down-scaling", '{"MemoryThreshold": "high"}', "'high' is not a number"),
        ("--up-scaling", '{"LoadThreshold": -0.5}', "give 0 or more, or -1 to disable it"),
        ("--up-scaling", '{"InstanceCount": 0}', "--up-scaling.InstanceCount"),
        ("--up-scaling", '{"InstanceCount": true}', "--up-scaling.InstanceCount"),
        ("--up-scaling", '{"ThresholdsWaitTime": 0}', "--up-scaling.ThresholdsWaitTime"),
        ("--down-scaling", '{"IgnoreMetricsTime": 101}', "--down-scaling.IgnoreMetricsTime"),
        ("--up-scaling", '{"CpuThresold": 80}', "'CpuThresold' is not a field of"),
        ("--up-scaling", '{"Alarms": ["a", "b", "c", "d", "e", "f"]}', "at most 5"),
        ("--up-scaling", '{"Alarms": ["a", "a"]}', "an alarm is named twice"),
        ("--up-scaling", '{"Alarms": ["no-such-alarm"]}', "no CloudWatch alarm named"),
        ("--up-scaling", "80", "give an object"),
    ],
)
def test_bad_thresholds_are_refused_with_exit_2_and_nothing_stored(scaling, option, value, message):
    layer = scaling.layer_id
    scaling.run("set-load-based-auto-scaling", "--layer-id", layer, "--enable",
                "--up-scaling", UP, "--down-scaling", DOWN)  # fmt: skip
    before = scaling.run("describe-load-based-auto-scaling", "--layer-ids", layer)
    result = scaling.invoke("set-load-based-auto-scaling", "--layer-id", layer, option, value)
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert scaling.run("describe-load-based-auto-scaling", "--layer-ids", layer) == before


def test_alarms_that_exist_are_accepted(scaling):
    put_5xx_alarm(scaling.aws.client("cloudwatch"))
    scaling.run("set-load-based-auto-scaling", "--layer-id", scaling.layer_id, "--enable",
                "--up-scaling", '{"Alarms": ["web-5xx"]}')  # fmt: skip
    (config,) = scaling.run("describe-load-based-auto-scaling", "--layer-ids", scaling.layer_id)[
        "LoadBasedAutoScalingConfigurations"
    ]
    assert config["UpScaling"]["Alarms"] == ["web-5xx"]


def test_start_stack_starts_24_7_instances_only(scaling):
    scaling.create("web1")
    scaling.create("nightly1", "timer")
    scaling.create("burst1", "load")
    assert scaling.invoke("start-stack", "--stack-id", scaling.stack_id).exit_code == 0
    assert scaling.statuses() == {"web1": "pending", "nightly1": "stopped", "burst1": "stopped"}
    # A user can still start one by hand.
    scaling.run("start-instance", "--instance-id", scaling.ids["burst1"])
    assert scaling.statuses()["burst1"] == "pending"
