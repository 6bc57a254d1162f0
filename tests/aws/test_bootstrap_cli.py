"""`stackops bootstrap` through the CLI on moto in-process (account 123456789012)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import Result

from stackops.aws.events import Event, EventBus
from stackops.aws.session import AwsSession
from stackops.aws.sqs import Queue
from stackops.bootstrap import EVENT_PATTERN, LAUNCH_ACTION, STATE_CHANGE
from stackops.config import Target

ACCOUNT = "123456789012"
REGION = "us-east-1"
BUCKET = f"stackops-artifacts-{ACCOUNT}-{REGION}"
QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:stackops-lifecycle"
DLQ_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:stackops-lifecycle-dlq"
RULE_ARN = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/stackops-instance-events"
TAG = {"stackops:namespace": "stackops"}


def result_json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def step_names(result: Result) -> list[str]:
    return [s["Step"] for s in result_json(result)["Steps"]]


def test_bootstrap_creates_every_resource(aws, invoke):
    result = invoke("bootstrap")
    out = result_json(result)
    assert f"target: account {ACCOUNT}, region {REGION}" in result.stderr
    assert "16 step(s) done" in result.stderr
    assert out["Bucket"] == BUCKET
    assert out["QueueUrl"].endswith(f"/{ACCOUNT}/stackops-lifecycle")
    assert {k: out[k] for k in ("Namespace", "Table", "Queue", "DeadLetterQueue", "Rule")} == {
        "Namespace": "stackops",
        "Table": "stackops-state",
        "Queue": "stackops-lifecycle",
        "DeadLetterQueue": "stackops-lifecycle-dlq",
        "Rule": "stackops-instance-events",
    }

    ddb = aws.client("dynamodb")
    table = ddb.describe_table(TableName="stackops-state")["Table"]
    assert [k["AttributeName"] for k in table["KeySchema"]] == ["pk", "sk"]
    tags = ddb.list_tags_of_resource(ResourceArn=table["TableArn"])["Tags"]
    assert {"Key": "stackops:namespace", "Value": "stackops"} in tags

    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName="stackops-lifecycle")["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    redrive = json.loads(attrs["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == DLQ_ARN
    assert int(redrive["maxReceiveCount"]) == 5
    assert attrs["VisibilityTimeout"] == "300"
    (statement,) = json.loads(attrs["Policy"])["Statement"]
    assert statement["Condition"]["ArnEquals"]["aws:SourceArn"] == RULE_ARN
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == TAG
    dlq_url = sqs.get_queue_url(QueueName="stackops-lifecycle-dlq")["QueueUrl"]
    dlq = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["MessageRetentionPeriod"])
    assert dlq["Attributes"]["MessageRetentionPeriod"] == "1209600"
    assert sqs.list_queue_tags(QueueUrl=dlq_url)["Tags"] == TAG

    events = aws.client("events")
    rule = events.describe_rule(Name="stackops-instance-events")
    assert rule["Arn"] == RULE_ARN
    assert rule["State"] == "ENABLED"
    assert json.loads(rule["EventPattern"]) == EVENT_PATTERN
    targets = events.list_targets_by_rule(Rule="stackops-instance-events")["Targets"]
    assert [t["Arn"] for t in targets] == [QUEUE_ARN]
    assert {"Key": "stackops:namespace", "Value": "stackops"} in events.list_tags_for_resource(
        ResourceARN=RULE_ARN
    )["Tags"]

    s3 = aws.client("s3")
    s3.head_bucket(Bucket=BUCKET)
    block = s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    assert s3.get_bucket_tagging(Bucket=BUCKET)["TagSet"] == [
        {"Key": "stackops:namespace", "Value": "stackops"}
    ]


def test_second_run_has_nothing_to_do(aws, invoke):
    assert len(step_names(invoke("bootstrap"))) == 16
    again = invoke("bootstrap")
    assert step_names(again) == []
    assert "nothing to do" in again.stderr
    assert "done:" not in again.stderr


def test_drift_is_repaired_by_update_steps_only(aws, invoke):
    invoke("bootstrap")
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName="stackops-lifecycle")["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "30"})
    aws.client("events").put_rule(
        Name="stackops-instance-events", EventPattern='{"source": ["aws.ec2"]}'
    )
    assert step_names(invoke("bootstrap")) == ["SetQueueAttributes", "PutRule"]
    assert step_names(invoke("bootstrap")) == []


def test_dry_run_creates_nothing(aws, invoke):
    result = invoke("bootstrap", "--dry-run")
    out = result_json(result)
    assert out["DryRun"] is True
    assert len(out["Steps"]) == 16
    assert out["QueueUrl"] is None
    assert "would create SQS queue stackops-lifecycle" in result.stderr
    assert aws.client("dynamodb").list_tables()["TableNames"] == []
    assert "QueueUrls" not in aws.client("sqs").list_queues()
    assert aws.client("s3").list_buckets()["Buckets"] == []
    assert aws.client("events").list_rules()["Rules"] == []


def test_namespaces_make_separate_resources(aws, invoke):
    invoke("bootstrap")
    other = result_json(invoke("--namespace", "other", "bootstrap"))
    assert len(other["Steps"]) == 16
    assert other["Bucket"] == f"other-artifacts-{ACCOUNT}-{REGION}"
    assert sorted(aws.client("dynamodb").list_tables()["TableNames"]) == [
        "other-state",
        "stackops-state",
    ]
    rules = {r["Name"] for r in aws.client("events").list_rules()["Rules"]}
    assert rules == {"other-instance-events", "stackops-instance-events"}
    targets = aws.client("events").list_targets_by_rule(Rule="other-instance-events")["Targets"]
    assert [t["Arn"] for t in targets] == [f"arn:aws:sqs:{REGION}:{ACCOUNT}:other-lifecycle"]


def test_matching_events_reach_the_queue_and_others_do_not(aws, invoke):
    invoke("bootstrap")
    session = AwsSession(Target("account", REGION))
    EventBus(session).put_events(
        [
            Event("aws.ec2", STATE_CHANGE, {"instance-id": "i-1", "state": "running"}),
            Event("stackops.watcher", STATE_CHANGE, {"instance-id": "i-2", "state": "stopped"}),
            Event("aws.autoscaling", LAUNCH_ACTION, {"EC2InstanceId": "i-3"}),
            Event("aws.ec2", "AWS API Call via CloudTrail", {"eventName": "RunInstances"}),
            Event("stackops.watcher", LAUNCH_ACTION, {"EC2InstanceId": "i-4"}),
        ]
    )
    queue = Queue(session, "stackops-lifecycle")
    messages = queue.receive(max_messages=10, wait_seconds=0)
    bodies = [json.loads(m.body) for m in messages]
    got = sorted((b["source"], b["detail-type"]) for b in bodies)
    assert got == [
        ("aws.autoscaling", LAUNCH_ACTION),
        ("aws.ec2", STATE_CHANGE),
        ("stackops.watcher", STATE_CHANGE),
    ]
    assert all(m.receive_count == 1 for m in messages)
    first = messages[0]
    queue.change_visibility(first.receipt_handle, 0)
    (again,) = queue.receive(wait_seconds=0)
    assert (again.message_id, again.receive_count) == (first.message_id, 2)
    handles = [m.receipt_handle for m in messages[1:]] + [again.receipt_handle]
    assert queue.delete_batch(handles) == []
    assert queue.receive(wait_seconds=0) == []


@pytest.mark.parametrize("namespace", ["stackops", "other"])
def test_print_iam_policy_needs_no_target(invoke, monkeypatch, namespace):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    result = invoke("--namespace", namespace, "bootstrap", "--print-iam-policy")
    policy = result_json(result)
    assert "target:" not in result.stderr
    assert policy["Version"] == "2012-10-17"
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["Dynamodb"]["Resource"] == [
        f"arn:aws:dynamodb:*:*:table/{namespace}-state",
        f"arn:aws:dynamodb:*:*:table/{namespace}-state/index/*",
    ]
    assert f"arn:aws:sqs:*:*:{namespace}-lifecycle" in by_sid["Sqs"]["Resource"]
    assert "sqs:ReceiveMessage" in by_sid["Sqs"]["Action"]


def test_no_target_is_a_clear_error_without_traceback(invoke, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    result = invoke("bootstrap")
    assert result.exit_code == 2
    assert "no AWS target is configured" in result.stderr
    assert "stackops sandbox up" in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""


def test_other_region_bucket_has_its_location(aws, invoke):
    out = result_json(invoke("--region", "eu-west-1", "bootstrap"))
    assert out["Bucket"] == f"stackops-artifacts-{ACCOUNT}-eu-west-1"
    location = aws.client("s3").get_bucket_location(Bucket=out["Bucket"])
    assert location["LocationConstraint"] == "eu-west-1"
    assert step_names(invoke("--region", "eu-west-1", "bootstrap")) == []
