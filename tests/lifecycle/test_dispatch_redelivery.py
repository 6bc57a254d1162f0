"""Every event kind delivered three times, shuffled: the same final state and runs as once.

Each scenario runs twice in one moto: on stack `once` its messages are delivered as
they came, on stack `thrice` every message is delivered three times in a seeded
shuffled order. The summaries (statuses, commands by type and status, EC2 instances
per stackops instance, deployments) must be equal.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from tests.lifecycle.conftest import (
    FakeAutoScaling,
    lifecycle_action_event,
    make_dispatcher,
    queue_url,
    send,
    small_stack,
)
from tests.reliability.figures import record

STACK = small_stack("NAME", "app1", "app2")


def take_all() -> list[str]:
    """Every body now on the lifecycle queue, removed from it (the scenario's messages)."""
    sqs = boto3.client("sqs", region_name="us-east-1")
    bodies = []
    while batch := sqs.receive_message(
        QueueUrl=queue_url(), MaxNumberOfMessages=10, WaitTimeSeconds=0
    ).get("Messages"):
        for message in batch:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=queue_url(), ReceiptHandle=message["ReceiptHandle"])
    return bodies


def deliver(bodies: list[str], times: int, seed: int) -> None:
    copies = [b for b in bodies for _ in range(times)]
    random.Random(seed).shuffle(copies)
    for body in copies:
        send(body)


def summary(env: Any, stack_id: str) -> dict[str, Any]:
    instances = env.run("describe-instances", "--stack-id", stack_id)["Instances"]
    ec2 = boto3.client("ec2", region_name="us-east-1")
    out: dict[str, Any] = {}
    for inst in instances:
        commands = env.run("describe-commands", "--instance-id", inst["InstanceId"])["Commands"]
        runs = Counter((c["Type"], c["Status"]) for c in commands if c["Status"] != "superseded")
        tagged = ec2.describe_instances(
            Filters=[
                {"Name": "tag:stackops:instance-id", "Values": [inst["InstanceId"]]},
                {"Name": "instance-state-name", "Values": ["pending", "running", "stopped"]},
            ]
        )
        count = sum(len(r["Instances"]) for r in tagged["Reservations"])
        out[inst["Hostname"]] = (inst["Status"], sorted(runs.items()), count)
    deployments = env.run("describe-deployments", "--stack-id", stack_id)["Deployments"]
    out["deployments"] = sorted(d["Status"] for d in deployments)
    return out


def online(env: Any, stack_id: str, dispatcher: Any) -> dict[str, dict[str, Any]]:
    ids = {
        i["Hostname"]: i for i in env.run("describe-instances", "--stack-id", stack_id)["Instances"]
    }
    for inst in ids.values():
        env.run("start-instance", "--instance-id", inst["InstanceId"])
    env.watch()
    dispatcher.drain()
    return {
        i["Hostname"]: i for i in env.run("describe-instances", "--stack-id", stack_id)["Instances"]
    }


# -- the scenarios: each produces its messages on the queue -------------------------------------
def boot(env: Any, stack_id: str, dispatcher: Any) -> Callable[[], None]:
    ids = env.run("describe-instances", "--stack-id", stack_id)["Instances"]
    for inst in ids:
        env.run("start-instance", "--instance-id", inst["InstanceId"])
    return env.watch


def outside_stop(env: Any, stack_id: str, dispatcher: Any) -> Callable[[], None]:
    hosts = online(env, stack_id, dispatcher)
    ec2_id = hosts["app1"]["Ec2InstanceId"]
    boto3.client("ec2", region_name="us-east-1").stop_instances(InstanceIds=[ec2_id])

    def produce() -> None:
        env.watch()  # `stopped`
        send(
            json.dumps(
                {
                    "version": "0",
                    "id": f"stopping-{ec2_id}",
                    "source": "aws.ec2",
                    "detail-type": "EC2 Instance State-change Notification",
                    "time": "2026-11-28T17:00:00Z",
                    "region": "us-east-1",
                    "resources": [],
                    "detail": {"instance-id": ec2_id, "state": "stopping"},
                }
            )
        )

    return produce


def stop_instance(env: Any, stack_id: str, dispatcher: Any) -> Callable[[], None]:
    hosts = online(env, stack_id, dispatcher)
    return lambda: env.run("stop-instance", "--instance-id", hosts["app2"]["InstanceId"])


def launch_action(env: Any, stack_id: str, dispatcher: Any) -> Callable[[], None]:
    ids = env.run("describe-instances", "--stack-id", stack_id)["Instances"]
    env.run("start-instance", "--instance-id", ids[0]["InstanceId"])
    ec2_id = env.run("describe-instances", "--stack-id", stack_id)["Instances"][0]["Ec2InstanceId"]
    return lambda: send(lifecycle_action_event(ec2_id, f"tok-{ec2_id}", f"ev-{ec2_id}"))


def terminate_action(env: Any, stack_id: str, dispatcher: Any) -> Callable[[], None]:
    hosts = online(env, stack_id, dispatcher)
    ec2_id = hosts["app1"]["Ec2InstanceId"]
    return lambda: send(
        lifecycle_action_event(ec2_id, f"tk-{ec2_id}", f"et-{ec2_id}", "TERMINATING")
    )


def deployment(env: Any, stack_id: str, dispatcher: Any) -> Callable[[], None]:
    online(env, stack_id, dispatcher)
    return lambda: env.run(
        "create-deployment", "--stack-id", stack_id, "--command", '{"Name": "configure"}'
    )


SCENARIOS = {
    "boot": boot,
    "outside-stop-healed": outside_stop,
    "stop-instance": stop_instance,
    "launch-action": launch_action,
    "terminate-action": terminate_action,
    "deployment": deployment,
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_three_shuffled_deliveries_equal_one(stack_env, tmp_path, name):
    env = stack_env
    results = {}
    calls = {}
    for label, times in (("once", 1), ("thrice", 3)):
        folder = tmp_path / label
        folder.mkdir()
        stack_id = env.apply(STACK.replace("NAME", label), folder)
        autoscaling = FakeAutoScaling()
        dispatcher = make_dispatcher(autoscaling=autoscaling)
        produce = SCENARIOS[name](env, stack_id, dispatcher)
        produce()
        bodies = take_all()
        delivered = len(bodies)
        deliver(bodies, times, seed=len(name))
        # Thrice: one message per receive, so copies meet in different batches too.
        one_by_one = make_dispatcher(autoscaling=autoscaling, max_messages=1)
        (one_by_one if times == 3 else dispatcher).drain()
        env.watch()  # what the work did to EC2 (a healed instance runs again)
        dispatcher.drain()
        results[label] = summary(env, stack_id)
        calls[label] = [(c["result"], c["hook_name"]) for c in autoscaling.calls]
    record(
        "every event kind delivered 3 times, shuffled",
        name,
        {
            "deliveries": 3 * delivered,
            "runs": sum(
                n
                for host in results["once"].values()
                if isinstance(host, tuple)
                for _, n in host[1]
            ),
            "differing states": int(results["thrice"] != results["once"]),
            "differing lifecycle calls": int(calls["thrice"] != calls["once"]),
        },
        bad=["differing states", "differing lifecycle calls"],
        order=20,
    )
    assert results["thrice"] == results["once"]
    assert calls["thrice"] == calls["once"]
    if name.endswith("action"):
        assert len(calls["once"]) == 1  # CompleteLifecycleAction once, however many deliveries
