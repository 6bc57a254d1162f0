"""Least-privilege IAM policies, one per role, assembled from what the adapters declare.

The registry is the `stackops.aws` package itself: every module in it except the
session factory, the role declarations and this one is an adapter whose methods
carry `@calls(...)` (stackops.aws.roles). A new adapter is picked up without
editing this file. Actions are scoped to the namespace's resources where IAM can
name them; the rest get Resource "*".
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any, NamedTuple

from stackops.aws.roles import INSTANCE, OPERATOR, ROLES, Calls, declared_calls
from stackops.errors import InvalidInput
from stackops.naming import ResourceNames

NOT_ADAPTERS = frozenset({"session", "iam_policy", "roles"})

# The resources stackops creates beside those of ResourceNames (one place for each name).
INSTANCE_ROLE = "instance"
DISPATCHER_ROLE = "dispatcher"
DISPATCHER_FUNCTION = "dispatcher"
AUTOSCALE_FUNCTION = "autoscale"
AUTOSCALE_RULE = "autoscale-round"
RUN_SHELL_DOCUMENT = "AWS-RunShellScript"


def resource_name(names: ResourceNames, suffix: str) -> str:
    """`<namespace>-<suffix>`: the name of a role, profile, function or rule of stackops."""
    return f"{names.namespace}-{suffix}"


@dataclass(frozen=True)
class ArnScope:
    """Where the policy applies; "*" where the account or region is not known."""

    partition: str = "aws"
    region: str = "*"
    account: str = "*"

    def arn(self, service: str, resource: str) -> str:
        return f"arn:{self.partition}:{service}:{self.region}:{self.account}:{resource}"

    def global_arn(self, service: str, resource: str) -> str:
        """An ARN of a global service (IAM): no region."""
        return f"arn:{self.partition}:{service}::{self.account}:{resource}"


class Declaration(NamedTuple):
    """One adapter function or method and what it declares."""

    module: str
    qualname: str
    function: Any
    calls: Calls


@dataclass(frozen=True)
class ServiceGrant:
    """An action an AWS service performs with a role, which no stackops code calls."""

    role: str
    action: str
    why: str


_SSM_AGENT = "the AMI's SSM agent registers and receives Run Command"
_LAMBDA_LOG = "Lambda writes the function's log"
# Lambda polls the queue with the function's role before any stackops code runs; the SSM
# agent on an instance talks to SSM with the instance role. These are the actions
# AmazonSSMManagedInstanceCore grants for that, without its ssm:GetParameter(s) on every
# parameter of the account: an instance reads only its namespace's parameters.
SERVICE_GRANTS = (
    ServiceGrant("dispatcher", "sqs:GetQueueAttributes", "Lambda's SQS poller reads the queue"),
    ServiceGrant("dispatcher", "logs:CreateLogGroup", _LAMBDA_LOG),
    ServiceGrant("dispatcher", "logs:CreateLogStream", _LAMBDA_LOG),
    ServiceGrant("dispatcher", "logs:PutLogEvents", _LAMBDA_LOG),
    ServiceGrant("instance", "ssm:UpdateInstanceInformation", _SSM_AGENT),
    *(
        ServiceGrant("instance", f"ssmmessages:{a}", _SSM_AGENT)
        for a in ("CreateControlChannel", "CreateDataChannel", "OpenControlChannel")
    ),
    ServiceGrant("instance", "ssmmessages:OpenDataChannel", _SSM_AGENT),
    *(
        ServiceGrant("instance", f"ec2messages:{a}", _SSM_AGENT)
        for a in (
            "AcknowledgeMessage",
            "DeleteMessage",
            "FailMessage",
            "GetEndpoint",
            "GetMessages",
            "SendReply",
        )
    ),
)


# -- the registry --------------------------------------------------------------------
def adapter_modules() -> list[ModuleType]:
    """Every adapter module of the `stackops.aws` package, imported, sorted by name."""
    import stackops.aws as package

    found = [
        info.name
        for info in pkgutil.iter_modules(package.__path__)
        if not info.ispkg and info.name not in NOT_ADAPTERS and not info.name.startswith("_")
    ]
    return [importlib.import_module(f"{package.__name__}.{name}") for name in sorted(found)]


def declarations(modules: Iterable[ModuleType] | None = None) -> list[Declaration]:
    """Every `@calls` declaration of the adapter modules: functions and class methods."""
    modules = adapter_modules() if modules is None else modules
    found: list[Declaration] = []
    for module in modules:
        for qualname, function in _functions(module):
            declared = declared_calls(function)
            if declared is not None:
                found.append(Declaration(module.__name__, qualname, function, declared))
    return found


def _functions(module: ModuleType) -> Iterator[tuple[str, Any]]:
    """The functions defined in `module`, and those of the classes defined there."""
    for name, value in sorted(vars(module).items()):
        if getattr(value, "__module__", None) != module.__name__:
            continue
        if isinstance(value, type):
            for attr, member in sorted(vars(value).items()):
                member = getattr(member, "__func__", member)  # staticmethod, classmethod
                if callable(member):
                    yield f"{name}.{attr}", member
        elif callable(value):
            yield name, value


def role_actions(
    role: str, modules: Iterable[ModuleType] | None = None, *, service_grants: bool = True
) -> list[str]:
    """The actions `role` is granted: what its code paths declare, and the service grants."""
    check_role(role)
    actions = {a for d in declarations(modules) if role in d.calls.roles for a in d.calls.granted}
    if service_grants:
        actions |= {g.action for g in SERVICE_GRANTS if g.role == role}
    return sorted(actions)


def declared_actions(modules: Iterable[ModuleType] | None = None) -> list[str]:
    """Every IAM action any role's code declares, de-duplicated and sorted."""
    return sorted({a for d in declarations(modules) for a in d.calls.granted})


def check_role(role: str) -> None:
    if role not in ROLES:
        raise InvalidInput(f"--role {role!r} is not a role; valid: {', '.join(ROLES)}")


# -- resources ------------------------------------------------------------------------
class PolicyScope(NamedTuple):
    """What the resource rules need: names, ARN scope, the role, buckets of sources."""

    names: ResourceNames
    arns: ArnScope
    role: str
    source_buckets: tuple[str, ...]

    def bucket_arn(self) -> str:
        # Bucket ARNs carry no region or account: the bucket name holds both.
        name = self.names.bucket(self.arns.account, self.arns.region)
        return f"arn:{self.arns.partition}:s3:::{name}"


Resources = list[str] | str


def _dynamodb(action: str, scope: PolicyScope) -> Resources:
    table = scope.arns.arn("dynamodb", f"table/{scope.names.table}")
    return [table, f"{table}/index/*"]


def _sqs(action: str, scope: PolicyScope) -> Resources:
    names = scope.names
    return [scope.arns.arn("sqs", names.queue), scope.arns.arn("sqs", names.dead_letter_queue)]


def _events(action: str, scope: PolicyScope) -> Resources:
    if action == "events:PutEvents":
        return [scope.arns.arn("events", "event-bus/default")]
    rules = (scope.names.rule, resource_name(scope.names, AUTOSCALE_RULE))
    return [scope.arns.arn("events", f"rule/{rule}") for rule in rules]


def _s3(action: str, scope: PolicyScope) -> Resources:
    bucket = scope.bucket_arn()
    if action == "s3:PutObject" and scope.role == INSTANCE:
        return [f"{bucket}/logs/*"]  # an instance writes its reports, nothing else
    if action == "s3:GetObject":
        extra = [f"arn:{scope.arns.partition}:s3:::{b}/*" for b in scope.source_buckets]
        return [f"{bucket}/*", *extra]
    if action == "s3:PutObject":
        return [f"{bucket}/*"]
    return [bucket]


def _ssm(action: str, scope: PolicyScope) -> Resources:
    arns = scope.arns
    if action == "ssm:SendCommand":
        return [
            arns.arn("ec2", "instance/*"),
            f"arn:{arns.partition}:ssm:{arns.region}::document/{RUN_SHELL_DOCUMENT}",
        ]
    if action in ("ssm:GetCommandInvocation", "ssm:CancelCommand"):
        return "*"  # IAM names no resource for these
    if action == "ssm:GetParameter" and scope.role == OPERATOR:
        return [arns.arn("ssm", "parameter/aws/service/*")]  # public AMI ids
    if action == "ssm:UpdateInstanceInformation":
        return "*"
    return [arns.arn("ssm", f"parameter/{scope.names.namespace}/*")]


def _iam(action: str, scope: PolicyScope) -> Resources:
    roles = (INSTANCE_ROLE, DISPATCHER_ROLE)
    if action == "iam:PassRole" and scope.role != "bootstrap":
        roles = (INSTANCE_ROLE,)
    found = [scope.arns.global_arn("iam", f"role/{resource_name(scope.names, r)}") for r in roles]
    if "InstanceProfile" in action:
        found += [
            scope.arns.global_arn("iam", f"instance-profile/{resource_name(scope.names, r)}")
            for r in roles
        ]
    return found


def _lambda(action: str, scope: PolicyScope) -> Resources:
    if "EventSourceMapping" in action:
        return "*"  # mappings are named by a UUID Lambda chooses
    return [
        scope.arns.arn("lambda", f"function:{resource_name(scope.names, f)}")
        for f in (DISPATCHER_FUNCTION, AUTOSCALE_FUNCTION)
    ]


def _logs(action: str, scope: PolicyScope) -> Resources:
    groups = [
        scope.arns.arn("logs", f"log-group:/aws/lambda/{resource_name(scope.names, f)}")
        for f in (DISPATCHER_FUNCTION, AUTOSCALE_FUNCTION)
    ]
    return groups + [f"{g}:*" for g in groups]


# service prefix -> the resources one of its actions is limited to
SCOPED_RESOURCES: dict[str, Callable[[str, PolicyScope], Resources]] = {
    "dynamodb": _dynamodb,
    "sqs": _sqs,
    "events": _events,
    "s3": _s3,
    "ssm": _ssm,
    "iam": _iam,
    "lambda": _lambda,
    "logs": _logs,
}


# -- the document ------------------------------------------------------------------------
def build_policy(
    names: ResourceNames,
    *,
    role: str = "dispatcher",
    scope: ArnScope | None = None,
    modules: Iterable[ModuleType] | None = None,
    source_buckets: Iterable[str] = (),
) -> dict[str, Any]:
    """The IAM policy document of `role`: statements per service and resource set."""
    context = PolicyScope(names, scope or ArnScope(), role, tuple(source_buckets))
    grouped: dict[tuple[str, str], tuple[list[str], Resources]] = {}
    for action in role_actions(role, modules):
        service = action.partition(":")[0]
        rule = SCOPED_RESOURCES.get(service)
        resources = rule(action, context) if rule else "*"
        key = (service, repr(resources))
        grouped.setdefault(key, ([], resources))[0].append(action)
    statements = []
    seen: dict[str, int] = {}
    for (service, _), (actions, resources) in sorted(grouped.items()):
        sid = "".join(part.title() for part in service.split("-"))
        seen[sid] = seen.get(sid, 0) + 1
        statements.append(
            {
                "Sid": sid if seen[sid] == 1 else f"{sid}{seen[sid]}",
                "Effect": "Allow",
                "Action": sorted(actions),
                "Resource": resources,
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


# -- what a botocore call needs ---------------------------------------------------------
# botocore service name -> IAM service prefix, where the two differ
SERVICE_PREFIXES = {
    "elb": "elasticloadbalancing",
    "elbv2": "elasticloadbalancing",
    "monitoring": "cloudwatch",
}
# (service, operation) -> the IAM action AWS checks, where it is not service:Operation
OPERATION_ACTIONS: dict[tuple[str, str], str | None] = {
    ("sts", "GetCallerIdentity"): None,  # needs no permission
    ("sqs", "DeleteMessageBatch"): "sqs:DeleteMessage",
    ("sqs", "ChangeMessageVisibilityBatch"): "sqs:ChangeMessageVisibility",
    ("sqs", "SendMessageBatch"): "sqs:SendMessage",
    ("s3", "HeadBucket"): "s3:ListBucket",
    ("s3", "HeadObject"): "s3:GetObject",
    ("s3", "ListObjectsV2"): "s3:ListBucket",
    ("s3", "GetPublicAccessBlock"): "s3:GetBucketPublicAccessBlock",
    ("s3", "PutPublicAccessBlock"): "s3:PutBucketPublicAccessBlock",
}


def iam_action(service: str, operation: str) -> str | None:
    """The IAM action a botocore call (`sqs`, `DeleteMessageBatch`) needs; None if none."""
    if (service, operation) in OPERATION_ACTIONS:
        return OPERATION_ACTIONS[(service, operation)]
    return f"{SERVICE_PREFIXES.get(service, service)}:{operation}"
