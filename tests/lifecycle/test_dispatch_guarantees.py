"""What the dispatcher promises: coalesced configure, leases, visibility, DLQ, timeouts,
secrets, auto-healing, Auto Scaling lifecycle actions, and the Lambda entry point."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from stackops.aws.autoscaling import AutoScaling
from stackops.lifecycle.dispatcher import Dispatcher
from stackops.lifecycle.lambda_entry import handle as lambda_handle
from stackops.model.instances import Instance
from tests.lifecycle.conftest import make_dispatcher, queue_url, state_event
from tests.lifecycle.conftest import moto_services as services

SMALL = """\
stack:
  name: many
  custom_json: {web: {port_base: PORT_BASE}}
layers:
  - shortname: app
    type: custom
instances:
"""


def dispatcher(cookbooks: Path | None = None, **settings: object) -> Dispatcher:
    return make_dispatcher(cookbooks, **settings)


def cookbook(tmp_path: Path, name: str, body: str) -> Path:
    """A cookbook `t` with one recipe under tmp; returns the cookbooks folder."""
    folder = tmp_path / "cookbooks" / "t"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.py").write_text(f"def recipe(run):\n{body}\n")
    return folder.parent


@pytest.mark.slow
def test_twenty_at_once_every_last_configure_sees_all_twenty(stack_env, tmp_path):
    env = stack_env
    hosts = [f"app{n}" for n in range(1, 21)]
    text = SMALL + "".join(
        f"  - {{hostname: {h}, layers: [app], instance_type: t3.micro}}\n" for h in hosts
    )
    env.apply(text, tmp_path)
    env.start(*hosts)
    env.watch()
    env.dispatch()
    instances = env.instances()
    assert {i["Status"] for i in instances.values()} == {"online"}
    configures = 0
    for host in hosts:
        runs = [c for c in env.commands(host) if c["Type"] == "configure"]
        configures += sum(1 for c in runs if c["Status"] == "successful")
        # /etc/stackops/node.json is what the last configure on this node saw.
        seen = json.loads((env.node(host) / "etc/stackops/node.json").read_text())
        assert sorted(seen["layers"]["app"]["instances"]) == sorted(hosts), host
    assert configures <= 40, configures


def test_an_instance_held_by_another_dispatcher_waits(stack_env, tmp_path):
    env = stack_env
    env.apply(SMALL + "  - {hostname: app1, layers: [app], instance_type: t3.micro}\n", tmp_path)
    env.start("app1")
    env.watch()
    instance_id = env.instances()["app1"]["InstanceId"]
    svc = services()
    assert svc.leases.acquire(f"instance#{instance_id}", "someone-else", 300)
    worker = dispatcher()
    busy = worker.poll()
    assert busy.deferred == 1 and busy.handled == 0
    assert env.instances()["app1"]["Status"] == "pending"
    svc.leases.release(f"instance#{instance_id}", "someone-else")
    done = worker.drain()
    assert done.handled >= 1
    assert env.instances()["app1"]["Status"] == "online"


def test_a_long_run_keeps_its_message_invisible(stack_env, tmp_path):
    env = stack_env
    # The run lasts until the test lets it end, whatever the machine's speed.
    started, release = tmp_path / "started", tmp_path / "release"
    hold = f"touch {started}; while [ ! -e {release} ]; do sleep 0.05; done"
    books = cookbook(tmp_path, "slow", f'    run.execute(["sh", "-c", {hold!r}], name="hold")')
    text = SMALL.replace("type: custom", "type: custom\n    custom_recipes: {setup: [t::slow]}")
    env.apply(text + "  - {hostname: app1, layers: [app], instance_type: t3.micro}\n", tmp_path)
    env.start("app1")
    env.watch()
    worker = dispatcher(books, visibility_timeout=3)  # renewed every second
    thread = threading.Thread(target=worker.poll)
    thread.start()
    try:
        deadline = time.monotonic() + 300
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert started.exists()
        time.sleep(5)  # well past the first visibility timeout: without a heartbeat it is back
        peek = boto3.client("sqs", region_name="us-east-1").receive_message(
            QueueUrl=queue_url(), MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=0
        )
    finally:
        release.touch()
        thread.join()
    assert peek.get("Messages", []) == []
    assert [c["Type"] for c in env.commands("app1")].count("setup") == 1
    assert env.instances()["app1"]["Status"] == "online"


def test_a_message_that_keeps_failing_lands_in_the_dlq(stack_env, tmp_path):
    env = stack_env
    env.apply(SMALL + "  - {hostname: app1, layers: [app], instance_type: t3.micro}\n", tmp_path)
    env.start("app1")
    svc = services()
    instance = svc.store.get(Instance, env.instances()["app1"]["InstanceId"])
    svc.store.put(instance.model_copy(update={"ec2_instance_id": "i-0000000000000dead"}))
    env.run("stop-instance", "--instance-id", instance.instance_id)  # EC2 will refuse the stop
    worker = dispatcher()
    for _ in range(6):
        worker.poll()
    listed = env.run("events", "dlq")["Messages"]
    assert len(listed) == 1 and "Instance Command" in listed[0]["Summary"]
    assert env.run("events", "dlq", "--redrive")["Redriven"] == 1


def test_a_hung_shutdown_is_killed_at_its_timeout(stack_env, tmp_path):
    env = stack_env
    # Only the shutdown timeout ends it: the test would hang (and time out) otherwise.
    books = cookbook(tmp_path, "hang", '    run.execute(["sleep", "3600"], name="hang")')
    text = SMALL.replace(
        "type: custom",
        "type: custom\n    custom_recipes: {shutdown: [t::hang]}\n"
        "    lifecycle_event_configuration: {shutdown: {execution_timeout: 1}}",
    )
    env.apply(text + "  - {hostname: app1, layers: [app], instance_type: t3.micro}\n", tmp_path)
    env.start("app1")
    env.watch()
    worker = dispatcher(books)
    worker.drain()
    env.stop("app1")
    worker.drain()
    shutdown = env.commands("app1")[-1]
    assert shutdown["Type"] == "shutdown" and shutdown["Status"] == "failed"
    assert "timed out" in shutdown["Summary"]
    assert env.instances()["app1"]["Status"] == "stopped"


def test_custom_json_layers_and_secrets_stay_out_of_logs(stack_env, tmp_path):
    env = stack_env
    boto3.client("ssm", region_name="us-east-1").put_parameter(
        Name="/shop/db-password", Value="hunter2-very-secret", Type="SecureString"
    )
    books = cookbook(
        tmp_path,
        "show",
        '    run.file("/etc/show.json", content=__import__("json").dumps('
        '{"who": run.node["who"], "pw": run.node["db"]["password"], '
        '"deep": run.node["deep"]}))',
    )
    text = SMALL.replace(
        "custom_json: {web: {port_base: PORT_BASE}}",
        'custom_json: {who: stack, deep: {a: 1, b: 1}, db: {password: {ssm: "/shop/db-password"}}}',
    ).replace(
        "type: custom",
        "type: custom\n    custom_recipes: {setup: [t::show]}\n"
        "    custom_json: {who: layer, deep: {b: 2}}",
    )
    env.apply(text + "  - {hostname: app1, layers: [app], instance_type: t3.micro}\n", tmp_path)
    env.start("app1")
    env.watch()
    dispatcher(books).drain()
    shown = json.loads((env.node("app1") / "etc/show.json").read_text())
    assert shown == {"who": "layer", "pw": "hunter2-very-secret", "deep": {"a": 1, "b": 2}}
    setup = env.commands("app1")[0]
    log = env.invoke("--output", "json", "logs", setup["CommandId"])
    assert log.exit_code == 0 and "show.json" in log.stdout
    assert "hunter2" not in log.stdout
    items = boto3.client("dynamodb", region_name="us-east-1").scan(TableName="stackops-state")
    assert "hunter2" not in json.dumps(items)


def test_auto_healing_starts_an_instance_stopped_outside_stackops(stack_env, tmp_path):
    env = stack_env
    env.apply(SMALL + "  - {hostname: app1, layers: [app], instance_type: t3.micro}\n", tmp_path)
    env.start("app1")
    env.watch()
    env.dispatch()
    ec2_id = env.instances()["app1"]["Ec2InstanceId"]
    boto3.client("ec2", region_name="us-east-1").stop_instances(InstanceIds=[ec2_id])
    env.watch()
    env.dispatch()  # stopped outside stackops, auto-healing on: started again
    env.watch()
    env.dispatch()  # and set up again
    app1 = env.instances()["app1"]
    assert app1["Status"] == "online" and app1["Ec2InstanceId"] == ec2_id
    assert [c["Type"] for c in env.commands("app1")].count("setup") == 2


def test_auto_scaling_launch_action_is_completed_with_continue(stack_env, tmp_path):
    env = stack_env
    env.apply(SMALL + "  - {hostname: app1, layers: [app], instance_type: t3.micro}\n", tmp_path)
    env.start("app1")
    ec2_id = env.instances()["app1"]["Ec2InstanceId"]
    body = json.dumps(
        {
            "version": "0",
            "id": "asg-1",
            "source": "aws.autoscaling",
            "detail-type": "EC2 Instance-launch Lifecycle Action",
            "time": "2026-11-28T17:00:00Z",
            "region": "us-east-1",
            "resources": [],
            "detail": {
                "LifecycleActionToken": "11111111-2222-3333-4444-555555555555",
                "AutoScalingGroupName": "web-asg",
                "LifecycleHookName": "setup-hook",
                "EC2InstanceId": ec2_id,
                "LifecycleTransition": "autoscaling:EC2_INSTANCE_LAUNCHING",
            },
        }
    )
    boto3.client("sqs", region_name="us-east-1").send_message(
        QueueUrl=queue_url(), MessageBody=body
    )
    worker = dispatcher()
    autoscaling = AutoScaling(worker.services.session)
    with Stubber(autoscaling.client) as stub:
        stub.add_response(
            "complete_lifecycle_action",
            {},
            {
                "AutoScalingGroupName": "web-asg",
                "LifecycleHookName": "setup-hook",
                "LifecycleActionToken": "11111111-2222-3333-4444-555555555555",
                "InstanceId": ec2_id,
                "LifecycleActionResult": "CONTINUE",
            },
        )
        worker.autoscaling = autoscaling
        worker.drain()
        stub.assert_no_pending_responses()
    assert env.instances()["app1"]["Status"] == "online"


def test_lambda_handler_reports_partial_failures(stack_env, tmp_path):
    env = stack_env
    env.apply(
        SMALL + "  - {hostname: app1, layers: [app], instance_type: t3.micro}\n"
        "  - {hostname: app2, layers: [app], instance_type: t3.micro}\n",
        tmp_path,
    )
    env.start("app1", "app2")
    ids = env.instances()
    svc = services()
    svc.leases.acquire(f"instance#{ids['app2']['InstanceId']}", "someone-else", 300)
    sqs = boto3.client("sqs", region_name="us-east-1")
    for host in ("app1", "app2"):
        sqs.send_message(
            QueueUrl=queue_url(),
            MessageBody=json.dumps(
                {
                    "version": "0",
                    "id": f"ev-{host}",
                    "source": "aws.ec2",
                    "detail-type": "EC2 Instance State-change Notification",
                    "time": "2026-11-28T17:00:00Z",
                    "region": "us-east-1",
                    "resources": [],
                    "detail": {"instance-id": ids[host]["Ec2InstanceId"], "state": "running"},
                }
            ),
        )
    sqs.send_message(QueueUrl=queue_url(), MessageBody="not json")
    received = sqs.receive_message(
        QueueUrl=queue_url(), MaxNumberOfMessages=10, AttributeNames=["All"]
    )["Messages"]
    event = {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m["Attributes"],
                "messageAttributes": {},
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "awsRegion": "us-east-1",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:stackops-lifecycle",
            }
            for m in received
        ]
    }
    import os

    os.environ["STACKOPS_EXECUTOR"] = "local"
    try:
        result = lambda_handle(event, None, services=svc)
    finally:
        del os.environ["STACKOPS_EXECUTOR"]
    app2_message = next(m["MessageId"] for m in received if "ev-app2" in m["Body"])
    assert result == {"batchItemFailures": [{"itemIdentifier": app2_message}]}
    assert env.instances()["app1"]["Status"] == "online"


def test_an_outside_stop_seen_as_stopping_then_stopped_is_healed(stack_env, tmp_path):
    env = stack_env
    env.apply(SMALL + "  - {hostname: app1, layers: [app], instance_type: t3.micro}\n", tmp_path)
    env.start("app1")
    env.watch()
    env.dispatch()
    ec2_id = env.instances()["app1"]["Ec2InstanceId"]
    sqs = boto3.client("sqs", region_name="us-east-1")
    # EC2 announces `stopping` once it is stopping (moto stops at once); an event that
    # disagrees with what EC2 says now is history and is not acted on.
    boto3.client("ec2", region_name="us-east-1").stop_instances(InstanceIds=[ec2_id])
    sqs.send_message(QueueUrl=queue_url(), MessageBody=state_event(ec2_id, "stopping", "s-1"))
    env.dispatch()
    assert env.instances()["app1"]["Status"] == "stopping"
    sqs.send_message(QueueUrl=queue_url(), MessageBody=state_event(ec2_id, "stopped", "s-2"))
    env.dispatch()  # healed: started again
    env.watch()
    env.dispatch()
    assert env.instances()["app1"]["Status"] == "online"
    assert [c["Type"] for c in env.commands("app1")].count("setup") == 2


def test_stop_instance_force_still_configures_the_rest(stack_env, tmp_path):
    env = stack_env
    env.apply(
        SMALL + "  - {hostname: app1, layers: [app], instance_type: t3.micro}\n"
        "  - {hostname: app2, layers: [app], instance_type: t3.micro}\n",
        tmp_path,
    )
    env.start("app1", "app2")
    env.watch()
    env.dispatch()
    env.stop("app2", "--force")
    assert env.instances()["app2"]["Status"] == "stopped"
    env.dispatch()
    seen = json.loads((env.node("app1") / "etc/stackops/node.json").read_text())
    assert sorted(seen["layers"]["app"]["instances"]) == ["app1"]
    assert [c["Type"] for c in env.commands("app2")].count("shutdown") == 0  # forced


def test_waiting_on_a_busy_instance_never_reaches_the_dlq(stack_env, tmp_path):
    env = stack_env
    env.apply(SMALL + "  - {hostname: app1, layers: [app], instance_type: t3.micro}\n", tmp_path)
    env.start("app1")
    env.watch()
    instance_id = env.instances()["app1"]["InstanceId"]
    svc = services()
    svc.leases.acquire(f"instance#{instance_id}", "someone-else", 300)
    worker = dispatcher()
    for _ in range(8):  # more than the 5 receives after which SQS dead-letters a message
        worker.poll()
    assert env.run("events", "dlq")["Messages"] == []
    svc.leases.release(f"instance#{instance_id}", "someone-else")
    worker.drain()
    assert env.instances()["app1"]["Status"] == "online"
