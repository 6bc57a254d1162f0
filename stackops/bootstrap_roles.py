"""The IAM side of `stackops bootstrap`: the instance and dispatcher roles (DESIGN §11).

`<ns>-instance` (trusted by EC2, in instance profile `<ns>-instance`) is what the
agent on an instance runs as: an inline policy of what the agent calls, and what
the AMI's SSM agent needs (not the managed AmazonSSMManagedInstanceCore, which
would let every instance read every parameter of the account). `<ns>-dispatcher`
(trusted by Lambda and EC2, in instance profile `<ns>-dispatcher` for a dispatcher
host) holds the dispatcher's policy. Both inline policies are built from the adapters' declarations.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from stackops.aws.iam import ExistingRole, Iam
from stackops.aws.iam_policy import (
    DISPATCHER_ROLE,
    INSTANCE_ROLE,
    ArnScope,
    build_policy,
    resource_name,
)
from stackops.aws.roles import DISPATCHER, INSTANCE
from stackops.aws.session import AwsSession
from stackops.naming import ResourceNames


@dataclass(frozen=True)
class RoleSpec:
    """One role as bootstrap wants it."""

    name: str
    trusted: tuple[str, ...]  # service principals that may assume it
    description: str
    policy: Mapping[str, Any]  # the inline policy, named like the role
    profile: str | None = None  # the instance profile holding it

    def trust(self) -> dict[str, Any]:
        return {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": list(self.trusted)},
                    "Action": "sts:AssumeRole",
                }
            ],
        }


@dataclass(frozen=True)
class ExistingIam:
    """Roles and profiles as read once: missing ones are left out."""

    roles: Mapping[str, ExistingRole] = field(default_factory=dict)
    profiles: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # name -> its roles


# -- steps --------------------------------------------------------------------------
@dataclass(frozen=True)
class CreateRole:
    name: str
    trust: Mapping[str, Any]
    description: str
    tags: Mapping[str, str]

    def describe(self) -> str:
        return f"create IAM role {self.name}"


@dataclass(frozen=True)
class SetRoleTrust:
    name: str
    trust: Mapping[str, Any]

    def describe(self) -> str:
        return f"update who may assume IAM role {self.name}"


@dataclass(frozen=True)
class PutRolePolicy:
    role: str
    policy_name: str
    document: Mapping[str, Any]

    def describe(self) -> str:
        return f"put inline policy {self.policy_name} on IAM role {self.role}"


@dataclass(frozen=True)
class CreateInstanceProfile:
    name: str
    tags: Mapping[str, str]

    def describe(self) -> str:
        return f"create instance profile {self.name}"


@dataclass(frozen=True)
class AddRoleToProfile:
    profile: str
    role: str

    def describe(self) -> str:
        return f"put IAM role {self.role} in instance profile {self.profile}"


RoleStep = CreateRole | SetRoleTrust | PutRolePolicy | CreateInstanceProfile | AddRoleToProfile


# -- what is wanted ---------------------------------------------------------------------
def role_specs(
    names: ResourceNames, scope: ArnScope, source_buckets: tuple[str, ...] = ()
) -> list[RoleSpec]:
    """The instance and dispatcher roles of this namespace, with their policies."""
    instance = resource_name(names, INSTANCE_ROLE)
    dispatcher = resource_name(names, DISPATCHER_ROLE)
    return [
        RoleSpec(
            name=instance,
            trusted=("ec2.amazonaws.com",),
            description=f"stackops {names.namespace}: the agent on instances",
            policy=build_policy(names, role=INSTANCE, scope=scope, source_buckets=source_buckets),
            profile=instance,
        ),
        RoleSpec(
            name=dispatcher,
            trusted=("lambda.amazonaws.com", "ec2.amazonaws.com"),
            description=f"stackops {names.namespace}: the lifecycle dispatcher and the scaler",
            policy=build_policy(names, role=DISPATCHER, scope=scope),
            profile=dispatcher,
        ),
    ]


def read_iam(session: AwsSession, specs: list[RoleSpec]) -> ExistingIam:
    """Read the roles and profiles of `specs` (no writes)."""
    iam = Iam(session)
    roles = {s.name: found for s in specs if (found := iam.role(s.name, s.name)) is not None}
    profiles = {
        s.profile: found
        for s in specs
        if s.profile and (found := iam.instance_profile(s.profile)) is not None
    }
    return ExistingIam(roles, profiles)


def plan_roles(
    specs: list[RoleSpec], existing: ExistingIam, tags: Mapping[str, str], same: Any
) -> list[RoleStep]:
    """The steps that bring the roles to `specs`; `same(a, b)` compares two documents."""
    steps: list[RoleStep] = []
    for spec in specs:
        current = existing.roles.get(spec.name)
        if current is None:
            steps.append(CreateRole(spec.name, spec.trust(), spec.description, tags))
        elif not same(current.trust, spec.trust()):
            steps.append(SetRoleTrust(spec.name, spec.trust()))
        if current is None or current.inline is None or not same(current.inline, spec.policy):
            steps.append(PutRolePolicy(spec.name, spec.name, spec.policy))
        if spec.profile:
            members = existing.profiles.get(spec.profile)
            if members is None:
                steps.append(CreateInstanceProfile(spec.profile, tags))
            if spec.name not in (members or ()):
                steps.append(AddRoleToProfile(spec.profile, spec.name))
    return steps


def apply_role_step(session: AwsSession, step: RoleStep) -> None:
    """Make one IAM step's call."""
    iam = Iam(session)
    match step:
        case CreateRole(name, trust, description, tags):
            iam.create_role(name, trust, description, tags)
        case SetRoleTrust(name, trust):
            iam.set_trust(name, trust)
        case PutRolePolicy(role, policy_name, document):
            iam.put_inline_policy(role, policy_name, document)
        case CreateInstanceProfile(name, tags):
            iam.create_instance_profile(name, tags)
        case AddRoleToProfile(profile, role):
            iam.add_role_to_instance_profile(profile, role)
