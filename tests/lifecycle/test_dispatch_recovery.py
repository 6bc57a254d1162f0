"""Crash recovery: runs a dead dispatcher left are taken over, swept, never skipped; starts
and auto-healing are idempotent per instance; strays are stopped and reported."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import boto3

from stackops.errors import Conflict
from stackops.lifecycle.sweeper import pid_alive
from stackops.model.commands import CommandStatus, CommandType
from stackops.model.enums import InstanceStatus
from stackops.model.instances import Instance
from tests.lifecycle.conftest import (
    Clock,
    make_dispatcher,
    moto_services,
    queue_depth,
    send,
    small_stack,
    state_event,
)

SMALL = small_stack("crash", "app1", "app2")


def online(env: Any, tmp_path: Path, text: str = SMALL) -> dict[str, dict[str, Any]]:
    env.apply(text, tmp_path)
    env.start(*env.instances())
    env.watch()
    env.dispatch()
    hosts = env.instances()
    assert {h["Status"] for h in hosts.values()} == {"online"}
    return hosts


def types(env: Any, host: str, kind: str) -> list[str]:
    return [c["Status"] for c in env.commands(host) if c["Type"] == kind]


def tagged_alive(instance_id: str) -> list[str]:
    found = boto3.client("ec2", region_name="us-east-1").describe_instances(
        Filters=[
            {"Name": "tag:stackops:instance-id", "Values": [instance_id]},
            {"Name": "instance-state-name", "Values": ["pending", "running", "stopped"]},
        ]
    )
    return [i["InstanceId"] for r in found["Reservations"] for i in r["Instances"]]


# -- runs left behind ---------------------------------------------------------------------------
def test_a_configure_left_running_by_a_dead_dispatcher_is_run_again(stack_env, tmp_path):
    env = stack_env
    hosts = online(env, tmp_path)
    worker = make_dispatcher()
    worker.sweeper.fan_out(env.stack_id)  # a membership change: configures queued, one request
    svc = worker.services
    app1 = hosts["app1"]["InstanceId"]
    slot = svc.commands.slot(app1)
    command = svc.commands.get(slot.command_id)
    # A dispatcher began it and died (kill -9): `running`, its lease expired.
    svc.commands.put(command.model_copy(update={"status": CommandStatus.running}))
    worker.drain()
    assert svc.commands.get(slot.command_id).status is CommandStatus.successful
    assert svc.commands.slot(app1) is None


def test_a_redelivered_request_is_not_a_duplicate_when_its_claim_is_a_dead_ones(
    stack_env, tmp_path
):
    env = stack_env
    online(env, tmp_path)
    clock = Clock()
    svc = moto_services(clock)
    made = env.run(
        "create-deployment", "--stack-id", env.stack_id, "--command", '{"Name": "configure"}'
    )
    deployment_id = made["DeploymentId"]
    body = _take_request(deployment_id)
    event_id = json.loads(body)["id"]
    # The dead dispatcher had received it with a 30 s visibility: it claimed the event and
    # its runner took the deployment's lease, both for 30 s, then it was killed.
    svc.claims.claim(event_id, "dead", 30)
    lease = f"deployment#{env.stack_id}#stack"
    assert svc.leases.take_over(lease, deployment_id, f"{deployment_id}/dead", 30)
    send(body)  # SQS makes the message visible again after those 30 s
    worker = make_dispatcher(services=svc, visibility_timeout=30)
    first = worker.poll()
    assert (first.duplicates, first.deferred) == (0, 1)  # held elsewhere: kept, never deleted
    assert queue_depth() == (1, 0)
    clock.advance(31)  # claim and lease ran out with the visibility timeout
    worker.drain()
    found = env.run("describe-deployments", "--deployment-ids", deployment_id)["Deployments"]
    assert found[0]["Status"] == "successful"
    commands = env.run("describe-commands", "--deployment-id", deployment_id)["Commands"]
    assert sorted(c["Status"] for c in commands) == ["successful", "successful"]


def _take_request(deployment_id: str) -> str:
    from tests.lifecycle.conftest import queue_url

    sqs = boto3.client("sqs", region_name="us-east-1")
    while batch := sqs.receive_message(QueueUrl=queue_url(), MaxNumberOfMessages=10).get(
        "Messages"
    ):
        for message in batch:
            sqs.delete_message(QueueUrl=queue_url(), ReceiptHandle=message["ReceiptHandle"])
            if deployment_id in message["Body"]:
                return message["Body"]
    raise AssertionError("no deployment request on the queue")


def test_the_sweeper_closes_an_orphaned_setup_and_sets_the_instance_up(stack_env, tmp_path):
    env = stack_env
    env.apply(SMALL, tmp_path)
    env.start("app1")
    clock = Clock()
    svc = moto_services(clock)
    instance = svc.store.get(Instance, env.instances()["app1"]["InstanceId"])
    worker = make_dispatcher(services=svc, visibility_timeout=30)
    # Died mid-setup: running_setup, a setup command running under a lease now expired,
    # and the EC2 event that started it gone (dead-lettered, say).
    svc.store.put(instance.model_copy(update={"status": InstanceStatus.running_setup}))
    orphan = worker.activities.new_command(instance, CommandType.setup)
    running = orphan.model_copy(update={"status": CommandStatus.running})
    svc.commands.put(running)
    svc.inflight.begin_command(running, f"instance#{instance.instance_id}", "dead/1", 0.0)
    sweep = worker.sweeper.sweep()
    assert sweep.interrupted == [f"setup {orphan.command_id}"]
    assert sweep.resumed == ["boot of app1"]
    worker.drain()
    assert env.instances()["app1"]["Status"] == "online"
    closed = svc.commands.get(orphan.command_id)
    assert closed.status is CommandStatus.failed and "outcome unknown" in (closed.summary or "")
    assert types(env, "app1", "setup") == ["failed", "successful"]
    assert svc.inflight.all() == []


def test_the_sweeper_resumes_a_deployment_whose_runner_died(stack_env, tmp_path):
    env = stack_env
    online(env, tmp_path)
    svc = moto_services()
    made = env.run(
        "create-deployment", "--stack-id", env.stack_id, "--command", '{"Name": "configure"}'
    )
    deployment_id = made["DeploymentId"]
    _take_request(deployment_id)  # its message is lost (dead-lettered, purged)
    svc.inflight.begin_deployment(
        deployment_id, env.stack_id, f"deployment#{env.stack_id}#stack", "dead/2", 0.0
    )
    worker = make_dispatcher(services=svc)
    assert worker.sweeper.sweep().resumed == [f"deployment {deployment_id}"]
    worker.drain()
    found = env.run("describe-deployments", "--deployment-ids", deployment_id)["Deployments"]
    assert found[0]["Status"] == "successful"


def test_a_membership_change_left_unqueued_is_configured_by_the_sweeper(stack_env, tmp_path):
    env = stack_env
    hosts = online(env, tmp_path)
    before = {h: len(types(env, h, "configure")) for h in hosts}
    clock = Clock()
    svc = moto_services(clock)
    # The dispatcher recorded a status change and died before queuing configures.
    svc.inflight.membership_changed(env.stack_id, svc.epoch())
    worker = make_dispatcher(services=svc, visibility_timeout=30)
    assert worker.sweeper.sweep().fanned_out == []  # too fresh: its batch may still do it
    clock.advance(31)
    assert worker.sweeper.sweep().fanned_out == [env.stack_id]
    worker.drain()
    assert {h: len(types(env, h, "configure")) for h in hosts} == {
        h: n + 1 for h, n in before.items()
    }
    assert svc.inflight.all() == []


def test_the_sweeper_removes_staging_folders_of_killed_agents(stack_env, tmp_path):
    env = stack_env
    hosts = online(env, tmp_path)
    releases = env.node("app1") / "srv/www/web/releases"
    releases.mkdir(parents=True)
    dead = next(p for p in range(4_000_000, 4_100_000) if not pid_alive(p))
    left = releases / f".r2.unpack-{dead}-0a1b2c3d"
    left.mkdir()
    (left / "index.html").write_text("half unpacked")
    live = releases / f".r3.unpack-{os.getpid()}-0a1b2c3d"
    live.mkdir()
    report = make_dispatcher().sweeper.sweep()
    assert not left.exists() and live.exists()
    assert report.staging_removed == [str(left)]
    assert hosts


def test_the_sweeper_switches_a_node_back_to_the_release_its_record_names(stack_env, tmp_path):
    from tests.lifecycle.test_deployments import STACK as WEB

    env = stack_env
    online(env, tmp_path, WEB)
    app_root = env.node("app2") / "srv/www/web"
    recorded = os.readlink(app_root / "current")
    # A deploy switched `current` and its dispatcher died before recording it.
    (app_root / "releases/20261128T170000Z-dead").mkdir()
    os.remove(app_root / "current")
    os.symlink("releases/20261128T170000Z-dead", app_root / "current")
    (line,) = make_dispatcher().sweeper.sweep().reconciled
    assert line.startswith("app2: web: node on 20261128T170000Z-dead")
    assert os.readlink(app_root / "current") == recorded
    last = env.commands("app2")[-1]
    assert (last["Type"], last["Status"]) == ("rollback", "successful")


def test_sweeps_are_rate_limited_across_dispatchers(stack_env, tmp_path):
    clock = Clock()
    svc = moto_services(clock)
    first = make_dispatcher(services=svc, sweep_every_seconds=60)
    second = make_dispatcher(services=svc, sweep_every_seconds=60)
    assert first.sweeper.due() and not second.sweeper.due()
    assert not first.sweeper.due()
    clock.advance(61)
    assert second.sweeper.due() and not first.sweeper.due()


# -- starts and healing, idempotent per instance ---------------------------------------------
def test_a_stop_announced_three_times_heals_once(stack_env, tmp_path):
    env = stack_env
    hosts = online(env, tmp_path)
    ec2_id = hosts["app1"]["Ec2InstanceId"]
    boto3.client("ec2", region_name="us-east-1").stop_instances(InstanceIds=[ec2_id])
    for n in range(3):  # announced again and again while the dispatcher was down
        send(state_event(ec2_id, "stopped", f"stop-{n}"))
    worker = make_dispatcher()
    worker.drain()
    env.watch()
    worker.drain()
    app1 = env.instances()["app1"]
    assert app1["Status"] == "online" and app1["Ec2InstanceId"] == ec2_id
    assert tagged_alive(app1["InstanceId"]) == [ec2_id]
    assert types(env, "app1", "setup") == ["successful", "successful"]


def test_a_termination_announced_three_times_launches_one_replacement(stack_env, tmp_path):
    env = stack_env
    hosts = online(env, tmp_path)
    old = hosts["app1"]["Ec2InstanceId"]
    boto3.client("ec2", region_name="us-east-1").terminate_instances(InstanceIds=[old])
    worker = make_dispatcher(max_messages=1)  # each announcement in a batch of its own
    for n in range(3):
        send(state_event(old, "terminated", f"gone-{n}"))
        worker.drain()
    env.watch()
    worker.drain()
    app1 = env.instances()["app1"]
    assert app1["Ec2InstanceId"] != old and app1["Status"] == "online"
    assert tagged_alive(app1["InstanceId"]) == [app1["Ec2InstanceId"]]


def test_two_starts_at_once_launch_one_instance(stack_env, tmp_path):
    from stackops.api.instances import start_instance

    env = stack_env
    env.apply(SMALL, tmp_path)
    instance_id = env.instances()["app1"]["InstanceId"]
    svc = moto_services()
    results: list[str] = []

    def start() -> None:
        try:
            start_instance(svc, instance_id)
            results.append("started")
        except Conflict:
            results.append("conflict")

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["conflict", "started"]
    assert len(tagged_alive(instance_id)) == 1


def test_a_start_takes_the_instance_a_dead_start_launched_and_stops_strays(stack_env, tmp_path):
    from stackops.api.instances import start_instance

    env = stack_env
    env.apply(SMALL, tmp_path)
    instance_id = env.instances()["app1"]["InstanceId"]
    ec2 = boto3.client("ec2", region_name="us-east-1")
    tags = [
        {
            "ResourceType": "instance",
            "Tags": [{"Key": "stackops:instance-id", "Value": instance_id}],
        }
    ]
    launched = [
        ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1, TagSpecifications=tags)[
            "Instances"
        ][0]["InstanceId"]
        for _ in range(2)  # a start that died after RunInstances, twice
    ]
    start_instance(moto_services(), instance_id)
    recorded = env.instances()["app1"]["Ec2InstanceId"]
    assert recorded in launched  # no third launch
    assert tagged_alive(instance_id) == launched  # the other one is stopped, not ended
    states = ec2.describe_instances(InstanceIds=launched)["Reservations"]
    by_id = {i["InstanceId"]: i["State"]["Name"] for r in states for i in r["Instances"]}
    assert sorted(by_id.values()) == ["running", "stopped"] and by_id[recorded] == "running"


def test_the_sweeper_stops_and_reports_a_stray(stack_env, tmp_path):
    env = stack_env
    hosts = online(env, tmp_path)
    instance_id = hosts["app1"]["InstanceId"]
    ec2 = boto3.client("ec2", region_name="us-east-1")
    stray = ec2.run_instances(
        ImageId="ami-12345678",
        MinCount=1,
        MaxCount=1,
        TagSpecifications=[
            {
                "ResourceType": "instance",
                "Tags": [{"Key": "stackops:instance-id", "Value": instance_id}],
            }
        ],
    )["Instances"][0]["InstanceId"]
    (line,) = make_dispatcher().sweeper.sweep().strays
    assert stray in line and instance_id in line
    state = ec2.describe_instances(InstanceIds=[stray])["Reservations"][0]["Instances"][0]
    assert state["State"]["Name"] == "stopped"
    assert env.instances()["app1"]["Status"] == "online"  # the real one untouched
