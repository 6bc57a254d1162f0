"""Instance events through the real queue and dispatcher: setup, deploy, configure, shutdown."""

from __future__ import annotations

import json
import urllib.request

import boto3

from tests.helpers import ok_json

STACK = """\
stack:
  name: shop
  custom_json: {web: {port_base: PORT_BASE}, env: test}
layers:
  - shortname: lb
    type: lb
    custom_recipes: {setup: [lb::setup], configure: [lb::configure]}
  - shortname: app
    type: custom
    custom_recipes: {setup: [web::setup], configure: [web::configure], deploy: [web::deploy]}
    lifecycle_event_configuration: {shutdown: {execution_timeout: 30}}
apps:
  - shortname: web
    app_source: {type: archive, url: recipes/web/files/web-v1.tar.gz}
    environment: [{key: GREETING, value: hello}]
    layers: [app]
instances:
  - {hostname: lb1, layers: [lb], instance_type: t3.micro}
  - {hostname: app1, layers: [app], instance_type: t3.micro}
  - {hostname: app2, layers: [app], instance_type: t3.micro}
  - {hostname: app3, layers: [app], instance_type: t3.micro}
"""


def backends(env, host: str = "lb1") -> list[str]:
    conf = (env.node(host) / "etc/lb/backends.conf").read_text()
    return sorted(line.split()[1] for line in conf.splitlines() if line.startswith("server"))


def test_boot_runs_setup_deploy_then_configure_everywhere(stack_env, tmp_path):
    env = stack_env
    env.apply(STACK, tmp_path)
    env.start("lb1", "app1", "app2", "app3")
    assert env.watch()["Published"] == 4
    outcome = env.dispatch()
    assert outcome["Failed"] == 0 and outcome["Handled"] >= 4

    instances = env.instances()
    assert {h: i["Status"] for h, i in instances.items()} == {
        "lb1": "online",
        "app1": "online",
        "app2": "online",
        "app3": "online",
    }
    assert backends(env) == ["app1", "app2", "app3"]
    app1 = [(c["Type"], c["Status"]) for c in env.commands("app1")]
    assert app1[:2] == [("setup", "successful"), ("deploy", "successful")]
    assert ("configure", "successful") in app1
    assert env.commands("lb1")[0]["Type"] == "setup"

    # The app is served from its release over loopback, on the node's own port.
    offset = instances["app2"]["PortOffset"]
    page = urllib.request.urlopen(f"http://127.0.0.1:{env.port_base + offset}/", timeout=5)
    assert "web v1" in page.read().decode()

    # Each command's converge report is in S3 and shown by `stackops logs`.
    setup_id = env.commands("app1")[0]["CommandId"]
    text = env.invoke("logs", setup_id)
    assert text.exit_code == 0 and "resources:" in text.stdout
    record = ok_json(env.invoke("--output", "json", "logs", setup_id))
    assert record["Report"]["ok"] is True

    # stop-instance: shutdown on it (its service stops), then configure on the rest.
    env.stop("app2")
    assert env.instances()["app2"]["Status"] == "stopping"
    env.dispatch()
    assert env.instances()["app2"]["Status"] == "stopped"
    types = [c["Type"] for c in env.commands("app2")]
    assert types[-1] == "shutdown"
    assert backends(env) == ["app1", "app3"]
    ec2 = boto3.client("ec2", region_name="us-east-1")
    state = ec2.describe_instances(InstanceIds=[instances["app2"]["Ec2InstanceId"]])
    assert state["Reservations"][0]["Instances"][0]["State"]["Name"] == "stopped"
    assert not (env.node("app2") / "var/run/stackops/web.pid").exists()


def test_setup_failure_is_setup_failed_and_configures_nobody(stack_env, tmp_path):
    env = stack_env
    broken = STACK.replace("setup: [web::setup]", "setup: [web::nope]")
    env.apply(broken, tmp_path)
    env.start("lb1")
    env.watch()
    env.dispatch()
    lb_configures = [c for c in env.commands("lb1") if c["Type"] == "configure"]
    env.start("app1")
    env.watch()
    env.dispatch()
    instances = env.instances()
    assert instances["app1"]["Status"] == "setup_failed"
    (setup,) = env.commands("app1")
    assert setup["Type"] == "setup" and setup["Status"] == "failed"
    assert "no recipe 'nope'" in setup["Summary"]
    assert [c for c in env.commands("lb1") if c["Type"] == "configure"] == lb_configures


def test_same_event_three_times_has_one_effect(stack_env, tmp_path):
    env = stack_env
    env.apply(STACK, tmp_path)
    env.start("app1")
    ec2_id = env.instances()["app1"]["Ec2InstanceId"]
    body = json.dumps(
        {
            "version": "0",
            "id": "0b7e-same-event",
            "detail-type": "EC2 Instance State-change Notification",
            "source": "aws.ec2",
            "time": "2026-11-28T17:00:00Z",
            "region": "us-east-1",
            "resources": [],
            "detail": {"instance-id": ec2_id, "state": "running"},
        }
    )
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.get_queue_url(QueueName="stackops-lifecycle")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=body)
    env.dispatch()
    for _ in range(2):  # redelivered later, after the first was handled
        sqs.send_message(QueueUrl=url, MessageBody=body)
    outcome = env.dispatch()
    assert [c["Type"] for c in env.commands("app1")].count("setup") == 1
    assert outcome["Duplicates"] + outcome["Ignored"] >= 2


def test_malformed_foreign_and_untagged_are_dropped(stack_env, tmp_path):
    env = stack_env
    env.apply(STACK, tmp_path)
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.get_queue_url(QueueName="stackops-lifecycle")["QueueUrl"]
    ec2 = boto3.client("ec2", region_name="us-east-1")
    stray = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1)["Instances"][0]
    bodies = [
        "not json",
        json.dumps(
            {
                "id": "x",
                "source": "aws.s3",
                "detail-type": "Object Created",
                "time": "2026-11-28T17:00:00Z",
                "detail": {},
            }
        ),
        json.dumps(
            {
                "id": "y",
                "source": "aws.ec2",
                "time": "2026-11-28T17:00:00Z",
                "detail-type": "EC2 Instance State-change Notification",
                "detail": {"instance-id": stray["InstanceId"], "state": "running"},
            }
        ),
    ]
    for body in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=body)
    outcome = env.dispatch()
    assert outcome["Dropped"] == 3 and outcome["Failed"] == 0
    left = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert left["ApproximateNumberOfMessages"] == "0"
    assert left["ApproximateNumberOfMessagesNotVisible"] == "0"


def test_stackops_publishes_its_own_state_changes(stack_env, tmp_path):
    env = stack_env
    env.apply(STACK, tmp_path)
    sqs = boto3.client("sqs", region_name="us-east-1")
    events = boto3.client("events", region_name="us-east-1")
    observer = sqs.create_queue(QueueName="observer")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=observer, AttributeNames=["QueueArn"])
    events.put_rule(Name="watch-stackops", EventPattern=json.dumps({"source": ["stackops"]}))
    events.put_targets(
        Rule="watch-stackops", Targets=[{"Id": "q", "Arn": arn["Attributes"]["QueueArn"]}]
    )
    env.start("lb1")
    env.watch()
    env.dispatch()
    seen = []
    while batch := sqs.receive_message(QueueUrl=observer, MaxNumberOfMessages=10).get("Messages"):
        for message in batch:
            body = json.loads(message["Body"])
            seen.append((body["detail-type"], body["detail"].get("status")))
            sqs.delete_message(QueueUrl=observer, ReceiptHandle=message["ReceiptHandle"])
    assert ("Instance State Change", "online") in seen
    assert ("Command State Change", "successful") in seen
