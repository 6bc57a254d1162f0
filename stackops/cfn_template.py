"""`stackops template`: what `stackops bootstrap` makes, as a CloudFormation template.

Built from the same definitions bootstrap uses (table shape, queue attributes,
event pattern, role policies from the adapters' declarations), with the account,
region and partition left to CloudFormation (`${AWS::AccountId}`...). With the
Lambda dispatcher, the package is a parameter: upload the zip `stackops bootstrap
--dispatcher lambda` builds (or your own) and name its bucket and key.
"""

from __future__ import annotations

import json
from typing import Any

from stackops.aws.dynamodb import TABLE_SHAPE, TTL_ATTRIBUTE
from stackops.aws.iam_policy import (
    AUTOSCALE_FUNCTION,
    AUTOSCALE_RULE,
    DISPATCHER_FUNCTION,
    ArnScope,
    resource_name,
)
from stackops.aws.s3 import BLOCK_ALL_PUBLIC_ACCESS
from stackops.bootstrap import EVENT_PATTERN, TAG_KEY, TARGET_ID, Engine, desired_queue_attributes
from stackops.bootstrap_lambda import (
    AUTOSCALE_SCHEDULE,
    BATCH_SIZE,
    EVENTS_PRINCIPAL,
    RESPONSE_TYPES,
    SCHEDULE_TARGET_ID,
    function_specs,
)
from stackops.bootstrap_roles import role_specs
from stackops.naming import ResourceNames

ACCOUNT, REGION, PARTITION = "${AWS::AccountId}", "${AWS::Region}", "${AWS::Partition}"
SCOPE = ArnScope(PARTITION, REGION, ACCOUNT)


def _sub(value: Any) -> Any:
    """Strings naming ${AWS::...} become Fn::Sub, through lists and objects."""
    if isinstance(value, str):
        if "${AWS::" in value:
            return {"Fn::Sub": value.replace("arn:aws:", f"arn:{PARTITION}:")}
        return value
    if isinstance(value, dict):
        return {k: _sub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_sub(v) for v in value]
    return value


def _tags(names: ResourceNames) -> list[dict[str, str]]:
    return [{"Key": TAG_KEY, "Value": names.namespace}]


def build_template(
    names: ResourceNames, *, dispatcher: Engine = "process", source_buckets: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The CloudFormation template of a namespace's AWS side."""
    dead_letter, lifecycle = desired_queue_attributes(names, ACCOUNT, REGION, dispatcher)
    queue_policy = json.loads(lifecycle["Policy"])
    redrive = json.loads(lifecycle["RedrivePolicy"])
    instance, dispatcher_role = role_specs(names, SCOPE, source_buckets)
    resources: dict[str, Any] = {
        "StateTable": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "TableName": names.table,
                **TABLE_SHAPE,
                "TimeToLiveSpecification": {"AttributeName": TTL_ATTRIBUTE, "Enabled": True},
                "Tags": _tags(names),
            },
        },
        "DeadLetterQueue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": names.dead_letter_queue,
                "MessageRetentionPeriod": int(dead_letter["MessageRetentionPeriod"]),
                "Tags": _tags(names),
            },
        },
        "LifecycleQueue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": names.queue,
                "VisibilityTimeout": int(lifecycle["VisibilityTimeout"]),
                "MessageRetentionPeriod": int(lifecycle["MessageRetentionPeriod"]),
                "RedrivePolicy": {
                    "deadLetterTargetArn": {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]},
                    "maxReceiveCount": redrive["maxReceiveCount"],
                },
                "Tags": _tags(names),
            },
        },
        "LifecycleQueuePolicy": {
            "Type": "AWS::SQS::QueuePolicy",
            "Properties": {"Queues": [{"Ref": "LifecycleQueue"}], "PolicyDocument": queue_policy},
        },
        "InstanceEventsRule": {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "Name": names.rule,
                "Description": f"stackops {names.namespace}: EC2 and Auto Scaling lifecycle to SQS",
                "EventPattern": EVENT_PATTERN,
                "State": "ENABLED",
                "Targets": [{"Id": TARGET_ID, "Arn": {"Fn::GetAtt": ["LifecycleQueue", "Arn"]}}],
            },
        },
        "ArtifactsBucket": {
            "Type": "AWS::S3::Bucket",
            "Properties": {
                "BucketName": names.bucket(ACCOUNT, REGION),
                "PublicAccessBlockConfiguration": dict(BLOCK_ALL_PUBLIC_ACCESS),
                "Tags": _tags(names),
            },
        },
    }
    for key, spec in (("Instance", instance), ("Dispatcher", dispatcher_role)):
        resources[f"{key}Role"] = {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "RoleName": spec.name,
                "Description": spec.description,
                "AssumeRolePolicyDocument": spec.trust(),
                "Policies": [{"PolicyName": spec.name, "PolicyDocument": spec.policy}],
                "Tags": _tags(names),
            },
        }
        resources[f"{key}Profile"] = {
            "Type": "AWS::IAM::InstanceProfile",
            "Properties": {"InstanceProfileName": spec.profile, "Roles": [{"Ref": f"{key}Role"}]},
        }
    template: dict[str, Any] = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"stackops {names.namespace}: state table, lifecycle queue, event rule, "
        f"artifacts bucket and roles ({dispatcher} dispatcher)",
        "Resources": resources,
        "Outputs": {
            "QueueUrl": {"Value": {"Ref": "LifecycleQueue"}},
            "ArtifactsBucket": {"Value": {"Ref": "ArtifactsBucket"}},
            "InstanceProfileArn": {"Value": {"Fn::GetAtt": ["InstanceProfile", "Arn"]}},
        },
    }
    if dispatcher == "lambda":
        _add_lambda(template, names)
    return _sub(template)


def _add_lambda(template: dict[str, Any], names: ResourceNames) -> None:
    template["Parameters"] = {
        "CodeBucket": {"Type": "String", "Description": "Bucket of the Lambda package zip"},
        "CodeKey": {"Type": "String", "Description": "Key of the Lambda package zip"},
    }
    resources = template["Resources"]
    dispatcher, autoscale = function_specs(names, PARTITION, ACCOUNT, {})
    for key, spec in (("DispatcherFunction", dispatcher), ("AutoscaleFunction", autoscale)):
        config = spec.configuration()
        config["Role"] = {"Fn::GetAtt": ["DispatcherRole", "Arn"]}
        resources[key] = {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "FunctionName": spec.name,
                "Code": {"S3Bucket": {"Ref": "CodeBucket"}, "S3Key": {"Ref": "CodeKey"}},
                "Architectures": [spec.architecture],
                **config,
                "Tags": _tags(names),
            },
        }
    resources["QueueMapping"] = {
        "Type": "AWS::Lambda::EventSourceMapping",
        "Properties": {
            "EventSourceArn": {"Fn::GetAtt": ["LifecycleQueue", "Arn"]},
            "FunctionName": {"Ref": "DispatcherFunction"},
            "BatchSize": BATCH_SIZE,
            "FunctionResponseTypes": list(RESPONSE_TYPES),
            "Enabled": True,
        },
    }
    resources["AutoscaleRule"] = {
        "Type": "AWS::Events::Rule",
        "Properties": {
            "Name": resource_name(names, AUTOSCALE_RULE),
            "Description": f"stackops {names.namespace}: a round of the auto scaler",
            "ScheduleExpression": AUTOSCALE_SCHEDULE,
            "State": "ENABLED",
            "Targets": [
                {"Id": SCHEDULE_TARGET_ID, "Arn": {"Fn::GetAtt": ["AutoscaleFunction", "Arn"]}}
            ],
        },
    }
    resources["AutoscalePermission"] = {
        "Type": "AWS::Lambda::Permission",
        "Properties": {
            "FunctionName": {"Ref": "AutoscaleFunction"},
            "Action": "lambda:InvokeFunction",
            "Principal": EVENTS_PRINCIPAL,
            "SourceArn": {"Fn::GetAtt": ["AutoscaleRule", "Arn"]},
        },
    }
    template["Outputs"]["DispatcherFunction"] = {"Value": resource_name(names, DISPATCHER_FUNCTION)}
    template["Outputs"]["AutoscaleFunction"] = {"Value": resource_name(names, AUTOSCALE_FUNCTION)}
