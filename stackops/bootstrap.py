"""`stackops bootstrap`: the AWS side (DESIGN §3), planned as data, then applied in order.

`read_existing` reads what exists once, `plan_bootstrap` (pure) turns it into a list of
steps — one AWS call each — and `apply_bootstrap` runs them. A dry run prints the plan.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from stackops.aws.dynamodb import StateTable
from stackops.aws.events import EventBus
from stackops.aws.s3 import BLOCK_ALL_PUBLIC_ACCESS, Bucket
from stackops.aws.session import AwsSession
from stackops.aws.sqs import Queue
from stackops.naming import ResourceNames
from stackops.wire import (
    LAUNCH_ACTION,
    SOURCE_AUTOSCALING,
    SOURCE_EC2,
    SOURCE_WATCHER,
    STATE_CHANGE,
    TERMINATE_ACTION,
)
from stackops.wire import TAG_NAMESPACE as TAG_KEY

TARGET_ID = "lifecycle-queue"
MAX_RECEIVE_COUNT = 5
VISIBILITY_TIMEOUT = 300  # seconds; the dispatcher extends it for long activities
QUEUE_RETENTION = 4 * 24 * 3600
DEAD_LETTER_RETENTION = 14 * 24 * 3600  # the most SQS allows: time to look and redrive

EVENT_PATTERN: dict[str, Any] = {
    "$or": [
        {"source": [SOURCE_EC2, SOURCE_WATCHER], "detail-type": [STATE_CHANGE]},
        {"source": [SOURCE_AUTOSCALING], "detail-type": [LAUNCH_ACTION, TERMINATE_ACTION]},
    ]
}


# -- steps: one AWS call each ------------------------------------------------------
@dataclass(frozen=True)
class CreateTable:
    name: str
    tags: Mapping[str, str]

    def describe(self) -> str:
        return f"create DynamoDB table {self.name}"


@dataclass(frozen=True)
class CreateQueue:
    name: str
    attributes: Mapping[str, str]
    tags: Mapping[str, str]

    def describe(self) -> str:
        return f"create SQS queue {self.name}"


@dataclass(frozen=True)
class SetQueueAttributes:
    name: str
    attributes: Mapping[str, str]

    def describe(self) -> str:
        return f"update SQS queue {self.name}: {', '.join(sorted(self.attributes))}"


@dataclass(frozen=True)
class PutRule:
    name: str
    pattern: str
    description: str
    tags: Mapping[str, str]

    def describe(self) -> str:
        return f"put EventBridge rule {self.name} (pattern and state)"


@dataclass(frozen=True)
class PutTarget:
    rule: str
    target_id: str
    arn: str

    def describe(self) -> str:
        return f"point EventBridge rule {self.rule} at {self.arn}"


@dataclass(frozen=True)
class CreateBucket:
    name: str
    region: str

    def describe(self) -> str:
        return f"create S3 bucket {self.name}"


@dataclass(frozen=True)
class PutPublicAccessBlock:
    bucket: str
    configuration: Mapping[str, bool]

    def describe(self) -> str:
        return f"block public access to S3 bucket {self.bucket}"


@dataclass(frozen=True)
class TagBucket:
    bucket: str
    tags: Mapping[str, str]

    def describe(self) -> str:
        return f"tag S3 bucket {self.bucket}"


Step = (
    CreateTable
    | CreateQueue
    | SetQueueAttributes
    | PutRule
    | PutTarget
    | CreateBucket
    | PutPublicAccessBlock
    | TagBucket
)


# -- what exists -------------------------------------------------------------------
@dataclass(frozen=True)
class ExistingResources:
    """The AWS side as read once: None/False/empty where a resource is missing."""

    table: bool = False
    queue: Mapping[str, str] | None = None  # attributes of the lifecycle queue
    dead_letter_queue: Mapping[str, str] | None = None
    rule_pattern: str | None = None
    rule_state: str | None = None
    rule_targets: Mapping[str, str] = field(default_factory=dict)  # id -> ARN
    bucket: bool = False
    public_access_block: Mapping[str, bool] | None = None


def read_existing(session: AwsSession, names: ResourceNames) -> ExistingResources:
    """Read every bootstrap resource once (no writes)."""
    queues = {}
    for name in (names.queue, names.dead_letter_queue):
        queue = Queue(session, name)
        queues[name] = queue.attributes() if queue.find_url() else None
    bus = EventBus(session)
    rule = bus.describe_rule(names.rule)
    bucket = Bucket(session, names.bucket(session.account_id(), session.target.region))
    bucket_exists = bucket.exists()
    return ExistingResources(
        table=StateTable(session, names.table).exists(),
        queue=queues[names.queue],
        dead_letter_queue=queues[names.dead_letter_queue],
        rule_pattern=rule.pattern if rule else None,
        rule_state=rule.state if rule else None,
        rule_targets=bus.target_arns(names.rule) if rule else {},
        bucket=bucket_exists,
        public_access_block=bucket.public_access_block() if bucket_exists else None,
    )


# -- the plan ----------------------------------------------------------------------
def partition(region: str) -> str:
    """The ARN partition of a region."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def queue_arn(name: str, account: str, region: str) -> str:
    return f"arn:{partition(region)}:sqs:{region}:{account}:{name}"


def rule_arn(name: str, account: str, region: str) -> str:
    return f"arn:{partition(region)}:events:{region}:{account}:rule/{name}"


def desired_queue_attributes(
    names: ResourceNames, account: str, region: str
) -> tuple[dict[str, str], dict[str, str]]:
    """Attributes of (the dead-letter queue, the lifecycle queue)."""
    lifecycle_arn = queue_arn(names.queue, account, region)
    policy = {
        "Version": "2012-10-17",
        "Id": f"{lifecycle_arn}/policy",
        "Statement": [
            {
                "Sid": "OnlyTheInstanceEventsRule",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": lifecycle_arn,
                "Condition": {
                    "ArnEquals": {"aws:SourceArn": rule_arn(names.rule, account, region)}
                },
            }
        ],
    }
    redrive = {
        "deadLetterTargetArn": queue_arn(names.dead_letter_queue, account, region),
        "maxReceiveCount": MAX_RECEIVE_COUNT,
    }
    dead_letter = {"MessageRetentionPeriod": str(DEAD_LETTER_RETENTION)}
    lifecycle = {
        "VisibilityTimeout": str(VISIBILITY_TIMEOUT),
        "MessageRetentionPeriod": str(QUEUE_RETENTION),
        "RedrivePolicy": json.dumps(redrive, separators=(",", ":")),
        "Policy": json.dumps(policy, separators=(",", ":")),
    }
    return dead_letter, lifecycle


def plan_bootstrap(
    names: ResourceNames, account: str, region: str, existing: ExistingResources
) -> list[Step]:
    """The steps that bring `existing` to DESIGN §3; empty when nothing is to do."""
    tags = {TAG_KEY: names.namespace}
    dead_letter, lifecycle = desired_queue_attributes(names, account, region)
    steps: list[Step] = []
    if not existing.table:
        steps.append(CreateTable(names.table, tags))
    steps += _plan_queue(names.dead_letter_queue, dead_letter, existing.dead_letter_queue, tags)
    steps += _plan_queue(names.queue, lifecycle, existing.queue, tags)
    pattern = json.dumps(EVENT_PATTERN, separators=(",", ":"))
    if (
        existing.rule_pattern is None
        or not _same_json(existing.rule_pattern, pattern)
        or existing.rule_state != "ENABLED"
    ):
        description = f"stackops {names.namespace}: EC2 and Auto Scaling lifecycle to SQS"
        steps.append(PutRule(names.rule, pattern, description, tags))
    target = queue_arn(names.queue, account, region)
    if target not in existing.rule_targets.values():
        steps.append(PutTarget(names.rule, TARGET_ID, target))
    bucket = names.bucket(account, region)
    if not existing.bucket:
        steps.append(CreateBucket(bucket, region))
        steps.append(TagBucket(bucket, tags))
    if existing.public_access_block != BLOCK_ALL_PUBLIC_ACCESS:
        steps.append(PutPublicAccessBlock(bucket, dict(BLOCK_ALL_PUBLIC_ACCESS)))
    return steps


def _plan_queue(
    name: str,
    desired: dict[str, str],
    current: Mapping[str, str] | None,
    tags: dict[str, str],
) -> list[Step]:
    if current is None:
        return [CreateQueue(name, desired, tags)]
    drift = {
        key: value
        for key, value in desired.items()
        if not (
            _same_json(current.get(key, ""), value)
            if key in ("Policy", "RedrivePolicy")
            else current.get(key) == value
        )
    }
    return [SetQueueAttributes(name, drift)] if drift else []


def _same_json(left: str, right: str) -> bool:
    """True when two JSON texts mean the same policy or pattern."""
    try:
        return _canonical(json.loads(left)) == _canonical(json.loads(right))
    except ValueError:
        return False


def _canonical(value: Any) -> Any:
    """Forms AWS treats alike made equal: ["x"] and "x", 5 and "5", list order."""
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        items = sorted((_canonical(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
        return items[0] if len(items) == 1 else items
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return str(value)
    return value


# -- applying it -------------------------------------------------------------------
def apply_bootstrap(
    session: AwsSession, steps: list[Step], on_done: Callable[[Step], None] | None = None
) -> None:
    """Run the steps in order; `on_done` is told after each one."""
    bus = EventBus(session)
    for step in steps:
        match step:
            case CreateTable(name, tags):
                StateTable(session, name).create(dict(tags))
            case CreateQueue(name, attributes, tags):
                Queue(session, name).create(attributes, tags)
            case SetQueueAttributes(name, attributes):
                Queue(session, name).set_attributes(attributes)
            case PutRule(name, pattern, description, tags):
                bus.put_rule(name, pattern, description=description, tags=tags)
            case PutTarget(rule, target_id, arn):
                bus.put_target(rule, target_id, arn)
            case CreateBucket(name, region):
                Bucket(session, name).create(region)
            case PutPublicAccessBlock(bucket, configuration):
                Bucket(session, bucket).put_public_access_block(configuration)
            case TagBucket(bucket, tags):
                Bucket(session, bucket).put_tags(tags)
        if on_done is not None:
            on_done(step)


@dataclass(frozen=True)
class BootstrapResult:
    """What `stackops bootstrap` did (or, in a dry run, would do)."""

    names: ResourceNames
    account: str
    region: str
    queue_url: str | None
    steps: list[Step]
    dry_run: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "Namespace": self.names.namespace,
            "Table": self.names.table,
            "Queue": self.names.queue,
            "QueueUrl": self.queue_url,
            "DeadLetterQueue": self.names.dead_letter_queue,
            "Rule": self.names.rule,
            "Bucket": self.names.bucket(self.account, self.region),
            "DryRun": self.dry_run,
            "Steps": [{"Step": type(s).__name__, "Description": s.describe()} for s in self.steps],
        }


def run_bootstrap(
    session: AwsSession,
    names: ResourceNames,
    *,
    dry_run: bool = False,
    on_done: Callable[[Step], None] | None = None,
) -> BootstrapResult:
    """Read, plan and (unless `dry_run`) apply; the result lists the steps."""
    account, region = session.account_id(), session.target.region
    steps = plan_bootstrap(names, account, region, read_existing(session, names))
    if not dry_run:
        apply_bootstrap(session, steps, on_done)
    queue_url = Queue(session, names.queue).find_url()
    return BootstrapResult(names, account, region, queue_url, steps, dry_run)
