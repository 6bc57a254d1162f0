"""`stackops bootstrap --dispatcher lambda`: the dispatcher on AWS's own engine (DESIGN §9).

The dispatcher runs as function `<ns>-dispatcher` on the lifecycle queue (an SQS
event source mapping reporting partial batch failures), the auto scaler's round
as function `<ns>-autoscale` on an EventBridge schedule. Both run the agent's
wheels, packaged as one zip in the artifacts bucket, with the dispatcher role.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

from stackops.agent_bundle import AgentBundle, lambda_zip
from stackops.aws.events import EventBus, Rule
from stackops.aws.iam_policy import (
    AUTOSCALE_FUNCTION,
    AUTOSCALE_RULE,
    DISPATCHER_FUNCTION,
    DISPATCHER_ROLE,
    resource_name,
)
from stackops.aws.lambda_ import ExistingFunction, FunctionSpec, Lambda, SourceMapping
from stackops.aws.s3 import Bucket
from stackops.aws.session import AwsSession
from stackops.naming import ResourceNames

DISPATCHER_HANDLER = "stackops.lifecycle.lambda_entry.handle"
AUTOSCALE_HANDLER = "stackops.autoscale.lambda_entry.handler"
RUNTIME = "python3.12"
FUNCTION_TIMEOUT = 900  # seconds: Lambda's most; a longer run resumes from the store
QUEUE_VISIBILITY = 900  # SQS requires the queue's visibility timeout >= the function's
AUTOSCALE_TIMEOUT = 300
MEMORY = 512
BATCH_SIZE = 10
RESPONSE_TYPES = ("ReportBatchItemFailures",)
AUTOSCALE_SCHEDULE = "rate(1 minute)"
SCHEDULE_TARGET_ID = "autoscale-round"
EVENTS_PRINCIPAL = "events.amazonaws.com"


@dataclass(frozen=True)
class LambdaCode:
    """The deployment package: its key in the bucket, its bytes, Lambda's CodeSha256."""

    key: str
    body: bytes = field(repr=False)
    sha256: str

    @classmethod
    def of(cls, bundle: AgentBundle) -> LambdaCode:
        body = lambda_zip(bundle)
        digest = hashlib.sha256(body).digest()
        key = f"lambda/{bundle.version}/stackops-{digest.hex()[:16]}.zip"
        return cls(key, body, base64.b64encode(digest).decode())

    @classmethod
    def pending(cls) -> LambdaCode:
        """The package a dry run of --build-agent would make (for the plan only)."""
        return cls("lambda/(built by --build-agent).zip", b"", "")


@dataclass(frozen=True)
class ExistingLambda:
    functions: Mapping[str, ExistingFunction] = field(default_factory=dict)
    mappings: Mapping[str, tuple[SourceMapping, ...]] = field(default_factory=dict)
    schedule: Rule | None = None
    schedule_targets: Mapping[str, str] = field(default_factory=dict)  # id -> ARN
    permissions: frozenset[str] = frozenset()  # statement ids on the autoscale function


# -- steps --------------------------------------------------------------------------
@dataclass(frozen=True)
class UploadCode:
    bucket: str
    code: LambdaCode

    def describe(self) -> str:
        size = f" ({len(self.code.body) / 1e6:.1f} MB)" if self.code.body else ""
        return f"upload the Lambda package s3://{self.bucket}/{self.code.key}{size}"


@dataclass(frozen=True)
class CreateFunction:
    spec: FunctionSpec
    bucket: str
    key: str

    def describe(self) -> str:
        return f"create Lambda function {self.spec.name} ({self.spec.handler})"


@dataclass(frozen=True)
class UpdateFunctionCode:
    name: str
    bucket: str
    key: str

    def describe(self) -> str:
        return f"update the code of Lambda function {self.name} to {self.key}"


@dataclass(frozen=True)
class UpdateFunctionConfiguration:
    spec: FunctionSpec

    def describe(self) -> str:
        return f"update the settings of Lambda function {self.spec.name}"


@dataclass(frozen=True)
class CreateQueueMapping:
    function: str
    queue_arn: str

    def describe(self) -> str:
        return (
            f"map queue {self.queue_arn.rpartition(':')[2]} to Lambda function {self.function} "
            "(batches of 10, partial batch failures)"
        )


@dataclass(frozen=True)
class UpdateQueueMapping:
    uuid: str
    function: str

    def describe(self) -> str:
        return f"report partial batch failures in the queue mapping of {self.function}"


@dataclass(frozen=True)
class PutScheduleRule:
    name: str
    schedule: str
    description: str
    tags: Mapping[str, str]

    def describe(self) -> str:
        return f"put EventBridge rule {self.name} ({self.schedule})"


@dataclass(frozen=True)
class PutScheduleTarget:
    rule: str
    target_id: str
    arn: str

    def describe(self) -> str:
        return f"point EventBridge rule {self.rule} at {self.arn}"


@dataclass(frozen=True)
class AllowInvoke:
    function: str
    statement_id: str
    principal: str
    source_arn: str

    def describe(self) -> str:
        return f"let {self.principal} invoke {self.function} from {self.source_arn}"


LambdaStep = (
    UploadCode
    | CreateFunction
    | UpdateFunctionCode
    | UpdateFunctionConfiguration
    | CreateQueueMapping
    | UpdateQueueMapping
    | PutScheduleRule
    | PutScheduleTarget
    | AllowInvoke
)


# -- what is wanted ----------------------------------------------------------------------
def function_specs(
    names: ResourceNames, partition: str, account: str, tags: Mapping[str, str]
) -> list[FunctionSpec]:
    """The dispatcher and autoscale functions, with the dispatcher role."""
    role = f"arn:{partition}:iam::{account}:role/{resource_name(names, DISPATCHER_ROLE)}"
    env = {"STACKOPS_NAMESPACE": names.namespace, "STACKOPS_EXECUTOR": "ssm"}
    return [
        FunctionSpec(
            name=resource_name(names, DISPATCHER_FUNCTION),
            role_arn=role,
            handler=DISPATCHER_HANDLER,
            runtime=RUNTIME,
            timeout=FUNCTION_TIMEOUT,
            memory=MEMORY,
            environment=env,
            description=f"stackops {names.namespace}: the lifecycle dispatcher on the queue",
            tags=tags,
        ),
        FunctionSpec(
            name=resource_name(names, AUTOSCALE_FUNCTION),
            role_arn=role,
            handler=AUTOSCALE_HANDLER,
            runtime=RUNTIME,
            timeout=AUTOSCALE_TIMEOUT,
            memory=MEMORY,
            environment=env,
            description=f"stackops {names.namespace}: one round of the auto scaler",
            tags=tags,
        ),
    ]


def read_lambda(session: AwsSession, names: ResourceNames) -> ExistingLambda:
    """The functions, the dispatcher's mappings, the schedule rule (no writes)."""
    functions = Lambda(session)
    found: dict[str, ExistingFunction] = {}
    for name in (DISPATCHER_FUNCTION, AUTOSCALE_FUNCTION):
        existing = functions.function(resource_name(names, name))
        if existing is not None:
            found[resource_name(names, name)] = existing
    dispatcher = resource_name(names, DISPATCHER_FUNCTION)
    mappings = {dispatcher: tuple(functions.mappings(dispatcher))} if dispatcher in found else {}
    bus = EventBus(session)
    rule_name = resource_name(names, AUTOSCALE_RULE)
    rule = bus.describe_rule(rule_name)
    autoscale = resource_name(names, AUTOSCALE_FUNCTION)
    return ExistingLambda(
        functions=found,
        mappings=mappings,
        schedule=rule,
        schedule_targets=bus.target_arns(rule_name) if rule else {},
        permissions=functions.permission_ids(autoscale) if autoscale in found else frozenset(),
    )


def plan_lambda(
    names: ResourceNames,
    *,
    partition: str,
    account: str,
    region: str,
    bucket: str,
    queue_arn: str,
    existing: ExistingLambda,
    code: LambdaCode | None,
    tags: Mapping[str, str],
) -> list[LambdaStep]:
    """The steps that bring the functions, the mapping and the schedule to what is wanted.

    `code` None leaves existing functions' code alone (no wheels were given)."""
    steps: list[LambdaStep] = []
    uploaded = False
    arns: dict[str, str] = {}
    for spec in function_specs(names, partition, account, tags):
        arns[spec.name] = f"arn:{partition}:lambda:{region}:{account}:function:{spec.name}"
        current = existing.functions.get(spec.name)
        if (
            code is not None
            and not uploaded
            and (current is None or current.code_sha256 != code.sha256)
        ):
            steps.append(UploadCode(bucket, code))
            uploaded = True
        if current is None:
            assert code is not None, "a new function needs its code"
            steps.append(CreateFunction(spec, bucket, code.key))
            continue
        if code is not None and current.code_sha256 != code.sha256:
            steps.append(UpdateFunctionCode(spec.name, bucket, code.key))
        if dict(current.configuration) != spec.configuration():
            steps.append(UpdateFunctionConfiguration(spec))
    dispatcher = resource_name(names, DISPATCHER_FUNCTION)
    mapping = next(
        (m for m in existing.mappings.get(dispatcher, ()) if m.source_arn == queue_arn), None
    )
    if mapping is None:
        steps.append(CreateQueueMapping(dispatcher, queue_arn))
    elif (
        mapping.response_types != RESPONSE_TYPES
        or mapping.batch_size != BATCH_SIZE
        or not mapping.enabled
    ):
        steps.append(UpdateQueueMapping(mapping.uuid, dispatcher))
    rule = resource_name(names, AUTOSCALE_RULE)
    schedule = existing.schedule
    if schedule is None or schedule.schedule != AUTOSCALE_SCHEDULE or schedule.state != "ENABLED":
        description = f"stackops {names.namespace}: a round of the auto scaler"
        steps.append(PutScheduleRule(rule, AUTOSCALE_SCHEDULE, description, tags))
    autoscale = resource_name(names, AUTOSCALE_FUNCTION)
    if existing.schedule_targets.get(SCHEDULE_TARGET_ID) != arns[autoscale]:
        steps.append(PutScheduleTarget(rule, SCHEDULE_TARGET_ID, arns[autoscale]))
    if rule not in existing.permissions:
        rule_arn = f"arn:{partition}:events:{region}:{account}:rule/{rule}"
        steps.append(AllowInvoke(autoscale, rule, EVENTS_PRINCIPAL, rule_arn))
    return steps


def apply_lambda_step(session: AwsSession, step: LambdaStep) -> None:
    """Make one Lambda step's calls."""
    functions = Lambda(session)
    match step:
        case UploadCode(bucket, code):
            Bucket(session, bucket).put_object(code.key, code.body, content_type="application/zip")
        case CreateFunction(spec, code_bucket, key):
            functions.create(spec, code_bucket, key)
        case UpdateFunctionCode(name, code_bucket, key):
            functions.update_code(name, code_bucket, key)
        case UpdateFunctionConfiguration(spec):
            functions.update_configuration(spec)
        case CreateQueueMapping(function, queue_arn):
            functions.create_mapping(
                function, queue_arn, batch_size=BATCH_SIZE, response_types=RESPONSE_TYPES
            )
        case UpdateQueueMapping(uuid, _):
            functions.update_mapping(uuid, batch_size=BATCH_SIZE, response_types=RESPONSE_TYPES)
        case PutScheduleRule(name, schedule, description, tags):
            EventBus(session).put_schedule_rule(name, schedule, description=description, tags=tags)
        case PutScheduleTarget(rule, target_id, arn):
            EventBus(session).put_target(rule, target_id, arn)
        case AllowInvoke(function, statement_id, principal, source_arn):
            functions.allow_invoke(function, statement_id, principal, source_arn)
