"""Auto Scaling lifecycle actions: outcome recorded once, hook messages, warm pools, adoption."""

from __future__ import annotations

import json
from typing import Any

import boto3

from stackops.errors import AwsFailure, AwsUnavailable
from tests.lifecycle.conftest import (
    FakeAutoScaling,
    lifecycle_action_event,
    make_dispatcher,
    queue_depth,
    send,
    small_stack,
)

STACK = small_stack("scaled", "app1", layer="auto_scaling_group: shop-app")


def hook_message(ec2_id: str, token: str, **extra: str) -> str:
    """A lifecycle hook's notification sent straight to the queue (no EventBridge)."""
    body = {
        "Origin": "EC2",
        "LifecycleHookName": "stackops-launch",
        "Destination": "AutoScalingGroup",
        "AccountId": "123456789012",
        "RequestId": f"req-{token}",
        "LifecycleTransition": "autoscaling:EC2_INSTANCE_LAUNCHING",
        "AutoScalingGroupName": "shop-app",
        "Service": "AWS Auto Scaling",
        "Time": "2026-11-28T17:01:02.214Z",
        "EC2InstanceId": ec2_id,
        "LifecycleActionToken": token,
        **extra,
    }
    return json.dumps(body)


def group_instance() -> str:
    """An EC2 instance as an Auto Scaling group launches it: no stackops tags."""
    ec2 = boto3.client("ec2", region_name="us-east-1")
    found = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1)
    return found["Instances"][0]["InstanceId"]


def setups(env: Any, hostname: str) -> int:
    return [c["Type"] for c in env.commands(hostname)].count("setup")


def test_a_redelivered_launch_action_only_retries_completing_it(stack_env, tmp_path):
    env = stack_env
    env.apply(STACK, tmp_path)
    env.start("app1")
    ec2_id = env.instances()["app1"]["Ec2InstanceId"]
    autoscaling = FakeAutoScaling(
        failures=[AwsUnavailable("throttled"), AwsUnavailable("throttled again")]
    )
    worker = make_dispatcher(autoscaling=autoscaling)
    send(lifecycle_action_event(ec2_id, "tok-1", "ev-1"))
    send(hook_message(ec2_id, "tok-1"))  # the same action, also sent to the queue directly
    worker.drain()
    assert setups(env, "app1") == 1  # the recipes ran once, through every redelivery
    assert env.instances()["app1"]["Status"] == "online"
    assert [c["result"] for c in autoscaling.calls] == ["CONTINUE"] * 3
    assert queue_depth() == (0, 0)
    assert env.run("events", "dlq")["Messages"] == []


def test_a_failed_setup_abandons_and_an_expired_action_is_let_go(stack_env, tmp_path):
    env = stack_env
    broken = STACK.replace(
        "auto_scaling_group: shop-app",
        "auto_scaling_group: shop-app\n    custom_recipes: {setup: [web::nope]}",
    )
    env.apply(broken, tmp_path)
    env.start("app1")
    ec2_id = env.instances()["app1"]["Ec2InstanceId"]
    gone = AwsFailure(
        "autoscaling:CompleteLifecycleAction failed: ValidationError: "
        "No active Lifecycle Action found with instance ID " + ec2_id
    )
    autoscaling = FakeAutoScaling(failures=[gone])
    send(lifecycle_action_event(ec2_id, "tok-2", "ev-2"))
    make_dispatcher(autoscaling=autoscaling).drain()
    assert [c["result"] for c in autoscaling.calls] == ["ABANDON"]
    assert env.instances()["app1"]["Status"] == "setup_failed"
    assert queue_depth() == (0, 0)


def test_an_instance_the_group_launches_is_adopted_into_its_layer_and_set_up(stack_env, tmp_path):
    env = stack_env
    env.apply(STACK, tmp_path)
    ec2_id = group_instance()
    autoscaling = FakeAutoScaling()
    worker = make_dispatcher(autoscaling=autoscaling)
    send(hook_message(ec2_id, "tok-3"))
    send(lifecycle_action_event(ec2_id, "tok-3", "ev-3"))  # both routes: one adoption, one setup
    worker.drain()
    adopted = [i for i in env.instances().values() if i.get("Ec2InstanceId") == ec2_id]
    assert len(adopted) == 1
    (instance,) = adopted
    assert instance["Status"] == "online"
    assert instance["LayerIds"] == [next(iter(env.instances().values()))["LayerIds"][0]]
    assert setups(env, instance["Hostname"]) == 1
    assert [c["result"] for c in autoscaling.calls] == ["CONTINUE"]
    tags = boto3.client("ec2", region_name="us-east-1").describe_tags(
        Filters=[{"Name": "resource-id", "Values": [ec2_id]}]
    )["Tags"]
    assert {t["Key"]: t["Value"] for t in tags}["stackops:instance-id"] == instance["InstanceId"]


def test_a_group_no_layer_names_is_left_alone(stack_env, tmp_path):
    env = stack_env
    env.apply(STACK.replace("auto_scaling_group: shop-app", "auto_scaling_group: other"), tmp_path)
    ec2_id = group_instance()
    autoscaling = FakeAutoScaling()
    send(hook_message(ec2_id, "tok-4"))
    outcome = make_dispatcher(autoscaling=autoscaling).drain()
    assert outcome.dropped == 1 and autoscaling.calls == []
    assert "no layer names that group" in next(iter(outcome.reasons.values()))
    assert len(env.instances()) == 1


def test_the_test_notification_is_dropped_with_its_reason(stack_env, tmp_path):
    env = stack_env
    env.apply(STACK, tmp_path)
    send(
        json.dumps(
            {
                "AccountId": "123456789012",
                "RequestId": "ab12cd34-0000-1111-2222-333344445555",
                "AutoScalingGroupARN": "arn:aws:autoscaling:us-east-1:123456789012:x",
                "AutoScalingGroupName": "shop-app",
                "Service": "AWS Auto Scaling",
                "Event": "autoscaling:TEST_NOTIFICATION",
                "Time": "2026-11-28T17:00:00.000Z",
            }
        )
    )
    outcome = make_dispatcher().drain()
    assert outcome.dropped == 1 and outcome.failed == []
    assert "test notification for group shop-app" in next(iter(outcome.reasons.values()))
    assert queue_depth() == (0, 0)


def test_warm_pool_entry_is_not_set_up_until_it_leaves_the_pool(stack_env, tmp_path):
    env = stack_env
    env.apply(STACK, tmp_path)
    ec2_id = group_instance()
    autoscaling = FakeAutoScaling()
    worker = make_dispatcher(autoscaling=autoscaling)
    send(hook_message(ec2_id, "tok-warm", Destination="WarmPool"))
    worker.drain()
    # Into the pool: acknowledged, in no layer yet (Auto Scaling stops it right away).
    assert [i for i in env.instances().values() if i.get("Ec2InstanceId") == ec2_id] == []
    assert [c["result"] for c in autoscaling.calls] == ["CONTINUE"]
    boto3.client("ec2", region_name="us-east-1").stop_instances(InstanceIds=[ec2_id])
    send(hook_message(ec2_id, "tok-warm", Destination="WarmPool"))  # redelivered: no effect
    worker.drain()
    assert len(autoscaling.calls) == 1
    # Out of the pool into the group: started, then its launch action: adopted, set up.
    boto3.client("ec2", region_name="us-east-1").start_instances(InstanceIds=[ec2_id])
    send(hook_message(ec2_id, "tok-out", Origin="WarmPool"))
    worker.drain()
    (warm,) = [i for i in env.instances().values() if i.get("Ec2InstanceId") == ec2_id]
    assert warm["Status"] == "online" and setups(env, warm["Hostname"]) == 1
    assert [c["result"] for c in autoscaling.calls] == ["CONTINUE", "CONTINUE"]
    # Scaled in back to the pool: shut down and stopped, not ended, never healed.
    send(
        lifecycle_action_event(ec2_id, "tok-back", "ev-back", "TERMINATING", Destination="WarmPool")
    )
    worker.drain()
    back = env.instances()[warm["Hostname"]]
    assert back["Status"] == "stopped"
    assert [c["Type"] for c in env.commands(warm["Hostname"])].count("shutdown") == 1
    boto3.client("ec2", region_name="us-east-1").stop_instances(InstanceIds=[ec2_id])
    env.watch()
    worker.drain()
    assert env.instances()[warm["Hostname"]]["Status"] == "stopped"  # the group's stop


def test_terminate_action_shuts_down_once_and_is_not_healed(stack_env, tmp_path):
    env = stack_env
    env.apply(STACK, tmp_path)
    env.start("app1")
    env.watch()
    autoscaling = FakeAutoScaling(failures=[AwsUnavailable("throttled")])
    worker = make_dispatcher(autoscaling=autoscaling)
    worker.drain()
    ec2_id = env.instances()["app1"]["Ec2InstanceId"]
    send(lifecycle_action_event(ec2_id, "tok-t", "ev-t", transition="TERMINATING"))
    worker.drain()
    assert env.instances()["app1"]["Status"] == "terminating"
    assert [c["Type"] for c in env.commands("app1")].count("shutdown") == 1
    boto3.client("ec2", region_name="us-east-1").terminate_instances(InstanceIds=[ec2_id])
    env.watch()
    worker.drain()
    assert env.instances()["app1"]["Status"] == "terminated"
    assert env.instances()["app1"]["Ec2InstanceId"] == ec2_id  # not healed: the group ends it
    assert [c["result"] for c in autoscaling.calls] == ["CONTINUE", "CONTINUE"]


def test_auto_scaling_group_is_a_layer_setting_checked_when_given(aws, invoke):
    from tests.helpers import ok_json

    ok_json(invoke("bootstrap"))
    stack_id = ok_json(invoke("create-stack", "--name", "s", "--region", "us-east-1"))["StackId"]
    base = ("create-layer", "--stack-id", stack_id, "--type", "custom", "--name", "App")
    bad = invoke(*base, "--shortname", "app", "--auto-scaling-group", "arn:aws:x")
    assert bad.exit_code == 2 and "Auto Scaling group name" in bad.stderr
    assert "Traceback" not in bad.stderr
    made = ok_json(invoke(*base, "--shortname", "app", "--auto-scaling-group", "shop-app"))
    (layer,) = ok_json(invoke("describe-layers", "--layer-ids", made["LayerId"]))["Layers"]
    assert layer["AutoScalingGroup"] == "shop-app"
