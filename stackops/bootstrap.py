"""`stackops bootstrap`: the AWS side (DESIGN §3, §11), planned as data, then applied in order.

`read_existing` reads what exists once, `plan_bootstrap` (pure) turns it into a list of
steps — one AWS call each, or one upload — and `apply_bootstrap` runs them. A dry run
prints the plan. Beside the core (table, queues, rule, bucket): the IAM roles
(stackops.bootstrap_roles), the agent's wheels (stackops.bootstrap_agent) and, with
`--dispatcher lambda`, the functions (stackops.bootstrap_lambda).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from stackops.agent_bundle import AgentBundle, build_bundle, read_bundle
from stackops.arns import arn_scope, partition, queue_arn, rule_arn, same_document, same_json
from stackops.aws.dynamodb import StateTable
from stackops.aws.events import EventBus
from stackops.aws.iam_policy import DISPATCHER_ROLE, INSTANCE_ROLE, resource_name
from stackops.aws.s3 import BLOCK_ALL_PUBLIC_ACCESS, Bucket
from stackops.aws.session import AwsSession
from stackops.aws.sqs import Queue
from stackops.bootstrap_agent import (
    AgentStep,
    BuildAgentWheels,
    ExistingAgent,
    apply_agent_step,
    plan_agent,
    read_agent,
)
from stackops.bootstrap_lambda import (
    QUEUE_VISIBILITY,
    ExistingLambda,
    LambdaCode,
    LambdaStep,
    apply_lambda_step,
    plan_lambda,
    read_lambda,
)
from stackops.bootstrap_roles import (
    ExistingIam,
    RoleStep,
    apply_role_step,
    plan_roles,
    read_iam,
    role_specs,
)
from stackops.errors import Conflict, InvalidInput
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
    | RoleStep
    | AgentStep
    | LambdaStep
)

Engine = Literal["process", "lambda"]


@dataclass(frozen=True)
class BootstrapOptions:
    """What a user chose beyond the namespace."""

    source_buckets: tuple[str, ...] = ()  # buckets of app and cookbook sources instances read
    dispatcher: Engine | None = None  # None: keep what exists (lambda if its function does)
    agent_wheels: Path | None = None  # a folder of the agent's wheels to upload
    build_agent: Path | None = None  # build the wheels into this folder (pip), then upload


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
    iam: ExistingIam = field(default_factory=ExistingIam)
    agent: ExistingAgent = field(default_factory=ExistingAgent)
    lambda_: ExistingLambda = field(default_factory=ExistingLambda)

    def engine(self, asked: Engine | None) -> Engine:
        """Where the dispatcher runs: as asked, else as it does now."""
        running = bool(self.lambda_.functions)
        if asked == "process" and running:
            raise Conflict(
                "the dispatcher runs as a Lambda function in this namespace; "
                "--dispatcher process would leave two dispatchers on one queue",
                hint="delete the function's event source mapping first, or keep "
                "--dispatcher lambda",
            )
        return asked or ("lambda" if running else "process")


def read_existing(
    session: AwsSession,
    names: ResourceNames,
    options: BootstrapOptions | None = None,
    agent_version: str | None = None,
) -> ExistingResources:
    """Read every bootstrap resource once (no writes)."""
    options = options or BootstrapOptions()
    account, region = session.account_id(), session.target.region
    queues = {}
    for name in (names.queue, names.dead_letter_queue):
        queue = Queue(session, name)
        queues[name] = queue.attributes() if queue.find_url() else None
    bus = EventBus(session)
    rule = bus.describe_rule(names.rule)
    bucket = Bucket(session, names.bucket(account, region))
    bucket_exists = bucket.exists()
    specs = role_specs(names, arn_scope(account, region), options.source_buckets)
    return ExistingResources(
        table=StateTable(session, names.table).exists(),
        queue=queues[names.queue],
        dead_letter_queue=queues[names.dead_letter_queue],
        rule_pattern=rule.pattern if rule else None,
        rule_state=rule.state if rule else None,
        rule_targets=bus.target_arns(names.rule) if rule else {},
        bucket=bucket_exists,
        public_access_block=bucket.public_access_block() if bucket_exists else None,
        iam=read_iam(session, specs),
        agent=read_agent(bucket, agent_version) if bucket_exists else ExistingAgent(),
        lambda_=read_lambda(session, names),
    )


# -- the plan ----------------------------------------------------------------------
def desired_queue_attributes(
    names: ResourceNames, account: str, region: str, engine: Engine = "process"
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
        "VisibilityTimeout": str(QUEUE_VISIBILITY if engine == "lambda" else VISIBILITY_TIMEOUT),
        "MessageRetentionPeriod": str(QUEUE_RETENTION),
        "RedrivePolicy": json.dumps(redrive, separators=(",", ":")),
        "Policy": json.dumps(policy, separators=(",", ":")),
    }
    return dead_letter, lifecycle


def plan_bootstrap(
    names: ResourceNames,
    account: str,
    region: str,
    existing: ExistingResources,
    options: BootstrapOptions | None = None,
    bundle: AgentBundle | None = None,
    code: LambdaCode | None = None,
) -> list[Step]:
    """The steps that bring `existing` to DESIGN §3 and §11; empty when nothing is to do.

    `bundle` is the agent to upload; `code` the Lambda package made of it."""
    options = options or BootstrapOptions()
    engine = existing.engine(options.dispatcher)
    tags = {TAG_KEY: names.namespace}
    dead_letter, lifecycle = desired_queue_attributes(names, account, region, engine)
    steps: list[Step] = []
    if not existing.table:
        steps.append(CreateTable(names.table, tags))
    steps += _plan_queue(names.dead_letter_queue, dead_letter, existing.dead_letter_queue, tags)
    steps += _plan_queue(names.queue, lifecycle, existing.queue, tags)
    pattern = json.dumps(EVENT_PATTERN, separators=(",", ":"))
    if (
        existing.rule_pattern is None
        or not same_json(existing.rule_pattern, pattern)
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
    specs = role_specs(names, arn_scope(account, region), options.source_buckets)
    steps += plan_roles(specs, existing.iam, tags, same_document)
    steps += plan_agent(bucket, bundle, existing.agent)
    if engine == "lambda":
        if code is None and len(existing.lambda_.functions) < 2:
            raise InvalidInput(
                "--dispatcher lambda needs the agent's wheels to package the functions",
                hint="add --build-agent (needs the package index) or --agent-wheels DIR",
            )
        steps += plan_lambda(
            names,
            partition=partition(region),
            account=account,
            region=region,
            bucket=bucket,
            queue_arn=target,
            existing=existing.lambda_,
            code=code,
            tags=tags,
        )
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
            same_json(current.get(key, ""), value)
            if key in ("Policy", "RedrivePolicy")
            else current.get(key) == value
        )
    }
    return [SetQueueAttributes(name, drift)] if drift else []


# -- applying it -------------------------------------------------------------------
def apply_bootstrap(
    session: AwsSession, steps: list[Step], on_done: Callable[[Step], None] | None = None
) -> None:
    """Run the steps in order; `on_done` is told after each one."""
    for step in steps:
        if isinstance(step, RoleStep):
            apply_role_step(session, step)
        elif isinstance(step, AgentStep):
            apply_agent_step(session, step)
        elif isinstance(step, LambdaStep):
            apply_lambda_step(session, step)
        else:
            _apply_core(session, step)
        if on_done is not None:
            on_done(step)


def _apply_core(session: AwsSession, step: Step) -> None:
    match step:
        case CreateTable(name, tags):
            StateTable(session, name).create(dict(tags))
        case CreateQueue(name, attributes, tags):
            Queue(session, name).create(attributes, tags)
        case SetQueueAttributes(name, attributes):
            Queue(session, name).set_attributes(attributes)
        case PutRule(name, pattern, description, tags):
            EventBus(session).put_rule(name, pattern, description=description, tags=tags)
        case PutTarget(rule, target_id, arn):
            EventBus(session).put_target(rule, target_id, arn)
        case CreateBucket(name, region):
            Bucket(session, name).create(region)
        case PutPublicAccessBlock(bucket, configuration):
            Bucket(session, bucket).put_public_access_block(configuration)
        case TagBucket(bucket, tags):
            Bucket(session, bucket).put_tags(tags)


@dataclass(frozen=True)
class BootstrapResult:
    """What `stackops bootstrap` did (or, in a dry run, would do)."""

    names: ResourceNames
    account: str
    region: str
    queue_url: str | None
    steps: list[Step]
    dry_run: bool
    dispatcher: Engine = "process"
    agent_version: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "Namespace": self.names.namespace,
            "Table": self.names.table,
            "Queue": self.names.queue,
            "QueueUrl": self.queue_url,
            "DeadLetterQueue": self.names.dead_letter_queue,
            "Rule": self.names.rule,
            "Bucket": self.names.bucket(self.account, self.region),
            "InstanceRole": resource_name(self.names, INSTANCE_ROLE),
            "InstanceProfile": resource_name(self.names, INSTANCE_ROLE),
            "DispatcherRole": resource_name(self.names, DISPATCHER_ROLE),
            "Dispatcher": self.dispatcher,
            "AgentVersion": self.agent_version,
            "DryRun": self.dry_run,
            "Steps": [{"Step": type(s).__name__, "Description": s.describe()} for s in self.steps],
        }


def run_bootstrap(
    session: AwsSession,
    names: ResourceNames,
    *,
    dry_run: bool = False,
    on_done: Callable[[Step], None] | None = None,
    options: BootstrapOptions | None = None,
) -> BootstrapResult:
    """Read, plan and (unless `dry_run`) apply; the result lists the steps.

    `--build-agent` builds the wheels before anything is read (local work, no AWS
    call); a dry run only says it would, and plans the uploads of what it would make."""
    options = options or BootstrapOptions()
    account, region = session.account_id(), session.target.region
    done: list[Step] = []
    bundle: AgentBundle | None = None
    if options.agent_wheels is not None:
        bundle = read_bundle(options.agent_wheels)
    elif options.build_agent is not None:
        build = BuildAgentWheels(str(options.build_agent))
        done.append(build)
        if not dry_run:
            bundle = build_bundle(options.build_agent)
            if on_done is not None:
                on_done(build)
    if options.dispatcher == "lambda" and session.target.kind == "sandbox":
        raise InvalidInput(
            "--dispatcher lambda: the embedded sandbox cannot run Lambda functions (moto "
            "needs Docker to invoke them, and would route every event to the scaler's rule)",
            hint="run 'stackops dispatch' here; use --dispatcher lambda on AWS or LocalStack",
        )
    existing = read_existing(session, names, options, bundle.version if bundle else None)
    engine = existing.engine(options.dispatcher)
    code = None
    if engine == "lambda":
        code = LambdaCode.of(bundle) if bundle else None
        if code is None and done:  # a dry run of --build-agent: the package is not made yet
            code = LambdaCode.pending()
    steps = done + plan_bootstrap(names, account, region, existing, options, bundle, code)
    if not dry_run:
        apply_bootstrap(session, steps[len(done) :], on_done)
    queue_url = Queue(session, names.queue).find_url()
    version = bundle.version if bundle else existing.agent.latest
    return BootstrapResult(names, account, region, queue_url, steps, dry_run, engine, version)
