"""`stackops bootstrap --dispatcher lambda`: functions, the queue mapping, the scaler's schedule."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile

from stackops.bootstrap_lambda import AUTOSCALE_HANDLER, DISPATCHER_HANDLER
from tests.aws.wheels import agent_wheels, make_wheel
from tests.helpers import ok_json

ACCOUNT = "123456789012"
REGION = "us-east-1"
QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:stackops-lifecycle"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/stackops-dispatcher"
BUCKET = f"stackops-artifacts-{ACCOUNT}-{REGION}"


def steps(out) -> list[str]:
    return [s["Step"] for s in out["Steps"]]


def test_lambda_dispatcher_and_scaler_are_created_with_the_dispatcher_role(aws, invoke, tmp_path):
    wheels = agent_wheels(tmp_path / "w")
    out = ok_json(invoke("bootstrap", "--dispatcher", "lambda", "--agent-wheels", str(wheels)))
    assert out["Dispatcher"] == "lambda"
    lam = aws.client("lambda")
    dispatcher = lam.get_function(FunctionName="stackops-dispatcher")["Configuration"]
    assert (dispatcher["Handler"], dispatcher["Runtime"], dispatcher["Role"]) == (
        DISPATCHER_HANDLER,
        "python3.12",
        ROLE_ARN,
    )
    assert dispatcher["Timeout"] == 900
    assert dispatcher["Environment"]["Variables"] == {
        "STACKOPS_NAMESPACE": "stackops",
        "STACKOPS_EXECUTOR": "ssm",
    }
    scaler = lam.get_function(FunctionName="stackops-autoscale")["Configuration"]
    assert (scaler["Handler"], scaler["Role"]) == (AUTOSCALE_HANDLER, ROLE_ARN)
    assert AUTOSCALE_HANDLER == "stackops.autoscale.lambda_entry.handler"

    # The code is the agent's wheels for python3.12, from the artifacts bucket.
    (key,) = [
        o["Key"]
        for o in aws.client("s3").list_objects_v2(Bucket=BUCKET, Prefix="lambda/")["Contents"]
    ]
    body = aws.client("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert dispatcher["CodeSha256"] == base64.b64encode(hashlib.sha256(body).digest()).decode()
    assert "stackops/__init__.py" in zipfile.ZipFile(io.BytesIO(body)).namelist()

    (mapping,) = lam.list_event_source_mappings(FunctionName="stackops-dispatcher")[
        "EventSourceMappings"
    ]
    assert mapping["EventSourceArn"] == QUEUE_ARN
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BatchSize"] == 10

    # The queue hides a message at least as long as the function may run.
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName="stackops-lifecycle")["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])
    assert attrs["Attributes"]["VisibilityTimeout"] == "900"

    events = aws.client("events")
    rule = events.describe_rule(Name="stackops-autoscale-round")
    assert (rule["ScheduleExpression"], rule["State"]) == ("rate(1 minute)", "ENABLED")
    (target,) = events.list_targets_by_rule(Rule="stackops-autoscale-round")["Targets"]
    assert target["Arn"] == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:stackops-autoscale"
    policy = json.loads(lam.get_policy(FunctionName="stackops-autoscale")["Policy"])
    (statement,) = policy["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"] == rule["Arn"]


def test_second_run_keeps_lambda_and_a_new_agent_updates_the_code(aws, invoke, tmp_path):
    wheels = agent_wheels(tmp_path / "w")
    ok_json(invoke("bootstrap", "--dispatcher", "lambda", "--agent-wheels", str(wheels)))
    again = ok_json(invoke("bootstrap"))  # the engine stays as it is
    assert again["Dispatcher"] == "lambda" and steps(again) == []
    make_wheel(wheels, "click", "1.0", files={"click_pkg/__init__.py": "VERSION = 3\n"})
    changed = ok_json(invoke("bootstrap", "--agent-wheels", str(wheels)))
    assert steps(changed) == [
        "UploadAgent",
        "UploadCode",
        "UpdateFunctionCode",
        "UpdateFunctionCode",
    ]
    assert steps(ok_json(invoke("bootstrap", "--agent-wheels", str(wheels)))) == []


def test_drifted_mapping_and_settings_are_repaired(aws, invoke, tmp_path):
    wheels = agent_wheels(tmp_path / "w")
    ok_json(invoke("bootstrap", "--dispatcher", "lambda", "--agent-wheels", str(wheels)))
    lam = aws.client("lambda")
    (mapping,) = lam.list_event_source_mappings(FunctionName="stackops-dispatcher")[
        "EventSourceMappings"
    ]
    lam.update_event_source_mapping(UUID=mapping["UUID"], FunctionResponseTypes=[])
    lam.update_function_configuration(FunctionName="stackops-dispatcher", Timeout=3)
    assert steps(ok_json(invoke("bootstrap"))) == [
        "UpdateFunctionConfiguration",
        "UpdateQueueMapping",
    ]
    assert lam.get_function(FunctionName="stackops-dispatcher")["Configuration"]["Timeout"] == 900
    (mapping,) = lam.list_event_source_mappings(FunctionName="stackops-dispatcher")[
        "EventSourceMappings"
    ]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_lambda_needs_the_wheels_and_process_cannot_shadow_it(aws, invoke, tmp_path):
    result = invoke("bootstrap", "--dispatcher", "lambda")
    assert result.exit_code == 2
    assert "--dispatcher lambda needs the agent's wheels" in result.stderr
    assert aws.client("lambda").list_functions()["Functions"] == []
    wheels = agent_wheels(tmp_path / "w")
    ok_json(invoke("bootstrap", "--dispatcher", "lambda", "--agent-wheels", str(wheels)))
    result = invoke("bootstrap", "--dispatcher", "process")
    assert result.exit_code == 1
    assert "two dispatchers on one queue" in result.stderr


def test_dry_run_of_lambda_lists_its_steps_and_creates_nothing(aws, invoke, tmp_path):
    wheels = agent_wheels(tmp_path / "w")
    result = invoke(
        "bootstrap", "--dispatcher", "lambda", "--agent-wheels", str(wheels), "--dry-run"
    )
    out = ok_json(result)
    assert {"CreateFunction", "CreateQueueMapping", "PutScheduleRule", "AllowInvoke"} <= set(
        steps(out)
    )
    assert "would create Lambda function stackops-dispatcher" in result.stderr
    assert aws.client("lambda").list_functions()["Functions"] == []
