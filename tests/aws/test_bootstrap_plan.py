"""plan_bootstrap with plain data: what exists in, steps out (no AWS)."""

from __future__ import annotations

import json
from dataclasses import replace

from stackops.aws.iam import ExistingRole
from stackops.aws.s3 import BLOCK_ALL_PUBLIC_ACCESS
from stackops.bootstrap import (
    EVENT_PATTERN,
    TARGET_ID,
    CreateBucket,
    CreateQueue,
    CreateTable,
    ExistingResources,
    PutPublicAccessBlock,
    PutRule,
    PutTarget,
    SetQueueAttributes,
    TagBucket,
    arn_scope,
    desired_queue_attributes,
    plan_bootstrap,
)
from stackops.bootstrap_roles import ExistingIam, role_specs
from stackops.naming import ResourceNames

NAMES = ResourceNames("shop")
ACCOUNT = "111122223333"
REGION = "eu-west-1"
TAGS = {"stackops:namespace": "shop"}
QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:shop-lifecycle"
BUCKET = f"shop-artifacts-{ACCOUNT}-{REGION}"
PATTERN = json.dumps(EVENT_PATTERN, separators=(",", ":"))


def everything_in_place() -> ExistingResources:
    dead_letter, lifecycle = desired_queue_attributes(NAMES, ACCOUNT, REGION)
    return ExistingResources(
        table=True,
        queue={**lifecycle, "QueueArn": QUEUE_ARN, "DelaySeconds": "0"},
        dead_letter_queue=dead_letter,
        rule_pattern=PATTERN,
        rule_state="ENABLED",
        rule_targets={TARGET_ID: QUEUE_ARN},
        bucket=True,
        public_access_block=dict(BLOCK_ALL_PUBLIC_ACCESS),
        iam=roles_in_place(REGION),
    )


def roles_in_place(region: str) -> ExistingIam:
    specs = role_specs(NAMES, arn_scope(ACCOUNT, region))
    return ExistingIam(
        roles={s.name: ExistingRole(s.name, s.trust(), s.policy) for s in specs},
        profiles={s.profile: (s.name,) for s in specs if s.profile},
    )


def plan(existing: ExistingResources) -> list:
    return plan_bootstrap(NAMES, ACCOUNT, REGION, existing)


def test_nothing_exists_gives_every_creation_in_order():
    dead_letter, lifecycle = desired_queue_attributes(NAMES, ACCOUNT, REGION)
    steps = plan(ExistingResources(iam=roles_in_place(REGION)))
    assert steps == [
        CreateTable("shop-state", TAGS),
        CreateQueue("shop-lifecycle-dlq", dead_letter, TAGS),
        CreateQueue("shop-lifecycle", lifecycle, TAGS),
        PutRule(
            "shop-instance-events",
            PATTERN,
            "stackops shop: EC2 and Auto Scaling lifecycle to SQS",
            TAGS,
        ),
        PutTarget("shop-instance-events", TARGET_ID, QUEUE_ARN),
        CreateBucket(BUCKET, REGION),
        TagBucket(BUCKET, TAGS),
        PutPublicAccessBlock(BUCKET, BLOCK_ALL_PUBLIC_ACCESS),
    ]


def test_everything_in_place_gives_an_empty_plan():
    assert plan(everything_in_place()) == []


def test_queue_attributes_name_the_dlq_and_only_the_rule_may_send():
    dead_letter, lifecycle = desired_queue_attributes(NAMES, ACCOUNT, REGION)
    assert dead_letter == {"MessageRetentionPeriod": str(14 * 24 * 3600)}
    assert json.loads(lifecycle["RedrivePolicy"]) == {
        "deadLetterTargetArn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:shop-lifecycle-dlq",
        "maxReceiveCount": 5,
    }
    (statement,) = json.loads(lifecycle["Policy"])["Statement"]
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Resource"] == QUEUE_ARN
    assert statement["Condition"] == {
        "ArnEquals": {
            "aws:SourceArn": f"arn:aws:events:{REGION}:{ACCOUNT}:rule/shop-instance-events"
        }
    }


def test_same_policy_written_differently_is_not_drift():
    existing = everything_in_place()
    policy = json.loads(existing.queue["Policy"])
    statement = policy["Statement"][0]
    statement["Action"] = ["sqs:SendMessage"]  # AWS may hand back lists for single values
    redrive = json.loads(existing.queue["RedrivePolicy"])
    redrive["maxReceiveCount"] = "5"  # and numbers as strings
    queue = {
        **existing.queue,
        "Policy": json.dumps(policy, indent=2),
        "RedrivePolicy": json.dumps(redrive),
    }
    pattern = json.dumps(json.loads(PATTERN), indent=1)
    assert plan(replace(existing, queue=queue, rule_pattern=pattern)) == []


def test_drifted_queue_settings_get_one_update_with_only_what_differs():
    existing = everything_in_place()
    _, lifecycle = desired_queue_attributes(NAMES, ACCOUNT, REGION)
    queue = {**existing.queue, "VisibilityTimeout": "30", "Policy": '{"Statement": []}'}
    assert plan(replace(existing, queue=queue)) == [
        SetQueueAttributes(
            "shop-lifecycle",
            {"VisibilityTimeout": "300", "Policy": lifecycle["Policy"]},
        )
    ]


def test_missing_redrive_is_drift():
    existing = everything_in_place()
    queue = {k: v for k, v in existing.queue.items() if k != "RedrivePolicy"}
    (step,) = plan(replace(existing, queue=queue))
    assert isinstance(step, SetQueueAttributes)
    assert list(step.attributes) == ["RedrivePolicy"]


def test_changed_or_disabled_rule_is_put_again():
    existing = everything_in_place()
    changed = replace(existing, rule_pattern='{"source": ["aws.ec2"]}')
    disabled = replace(existing, rule_state="DISABLED")
    for drifted in (changed, disabled):
        assert [type(s) for s in plan(drifted)] == [PutRule]


def test_rule_without_the_queue_target_gets_it():
    existing = replace(everything_in_place(), rule_targets={"other": "arn:aws:sns:x"})
    assert plan(existing) == [PutTarget("shop-instance-events", TARGET_ID, QUEUE_ARN)]


def test_bucket_without_public_access_block_gets_one():
    existing = replace(everything_in_place(), public_access_block=None)
    assert plan(existing) == [PutPublicAccessBlock(BUCKET, BLOCK_ALL_PUBLIC_ACCESS)]


def test_only_the_table_missing():
    assert plan(replace(everything_in_place(), table=False)) == [CreateTable("shop-state", TAGS)]


def test_china_regions_use_their_partition():
    steps = plan_bootstrap(NAMES, ACCOUNT, "cn-north-1", ExistingResources())
    targets = [s for s in steps if isinstance(s, PutTarget)]
    assert targets[0].arn == f"arn:aws-cn:sqs:cn-north-1:{ACCOUNT}:shop-lifecycle"
