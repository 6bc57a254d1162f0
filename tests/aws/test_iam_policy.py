"""The IAM policy registry: adapter methods declare actions and roles; policies hold them."""

from __future__ import annotations

import re
import types
from pathlib import Path

import pytest

import stackops.aws
from stackops.aws.iam_policy import (
    SERVICE_GRANTS,
    ArnScope,
    adapter_modules,
    build_policy,
    declarations,
    declared_actions,
    iam_action,
    role_actions,
)
from stackops.aws.roles import ROLES, calls
from stackops.errors import InvalidInput
from stackops.naming import ResourceNames

ACTION = re.compile(r"^[a-z0-9-]+:[A-Z][A-Za-z0-9]+$")
NOT_ADAPTERS = {"__init__", "session", "iam_policy", "roles"}


def actions_of(policy: dict) -> set[str]:
    return {a for statement in policy["Statement"] for a in statement["Action"]}


def test_registry_finds_every_adapter_module_on_disk():
    on_disk = {p.stem for p in Path(stackops.aws.__file__).parent.glob("*.py")} - NOT_ADAPTERS
    found = {m.__name__.rpartition(".")[2] for m in adapter_modules()}
    assert found == on_disk
    assert {"dynamodb", "events", "s3", "sqs", "iam"} <= found


def test_every_adapter_module_declares_its_calls_with_roles():
    by_module: dict[str, int] = {}
    for declaration in declarations():
        by_module[declaration.module] = by_module.get(declaration.module, 0) + 1
        for action in declaration.calls.granted:
            assert ACTION.match(action), f"{declaration.qualname}: {action!r}"
        assert set(declaration.calls.roles) <= set(ROLES)
    for module in adapter_modules():
        assert by_module.get(module.__name__), f"{module.__name__} declares no @calls"
        assert not hasattr(module, "ACTIONS"), f"{module.__name__}: use @calls, not ACTIONS"


@pytest.mark.parametrize("role", ROLES)
def test_each_role_policy_holds_exactly_what_its_code_paths_declare(role):
    policy = build_policy(ResourceNames("stackops"), role=role)
    declared = {a for d in declarations() if role in d.calls.roles for a in d.calls.granted}
    service = {g.action for g in SERVICE_GRANTS if g.role == role}
    assert actions_of(policy) == declared | service == set(role_actions(role))
    sids = [s["Sid"] for s in policy["Statement"]]
    assert len(set(sids)) == len(sids)
    for statement in policy["Statement"]:
        assert len({a.partition(":")[0] for a in statement["Action"]}) == 1


def test_a_role_declared_on_a_method_reaches_only_that_role():
    fake = types.ModuleType("stackops.aws.fake")

    class Thing:
        @calls("kms:Decrypt", roles=("instance",))
        def decrypt(self) -> None: ...

        @calls("sqs:SendMessage", "sqs:ReceiveMessage", roles=("operator", "dispatcher"))
        def send(self) -> None: ...

    Thing.__module__ = fake.__name__
    fake.Thing = Thing  # type: ignore[attr-defined]
    names = ResourceNames("ns")
    instance = build_policy(names, role="instance", modules=[fake])
    assert {s["Sid"]: s["Resource"] for s in instance["Statement"]}["Kms"] == "*"
    operator = build_policy(names, role="operator", modules=[fake])
    assert operator["Statement"] == [
        {
            "Sid": "Sqs",
            "Effect": "Allow",
            "Action": ["sqs:ReceiveMessage", "sqs:SendMessage"],
            "Resource": ["arn:aws:sqs:*:*:ns-lifecycle", "arn:aws:sqs:*:*:ns-lifecycle-dlq"],
        }
    ]
    assert declared_actions([fake]) == ["kms:Decrypt", "sqs:ReceiveMessage", "sqs:SendMessage"]


def test_declarations_are_checked_when_made():
    with pytest.raises(ValueError, match="not an IAM action"):
        calls("sqs.SendMessage", roles=("operator",))
    with pytest.raises(ValueError, match="roles"):
        calls("sqs:SendMessage", roles=("admin",))
    with pytest.raises(ValueError, match="roles"):
        calls("sqs:SendMessage", roles=())
    with pytest.raises(InvalidInput, match="valid: bootstrap, operator, dispatcher, instance"):
        role_actions("admin")


def test_known_account_and_region_narrow_every_resource():
    scope = ArnScope(region="eu-west-1", account="111122223333")
    policy = build_policy(ResourceNames("ns"), role="dispatcher", scope=scope)
    grants = {a: s["Resource"] for s in policy["Statement"] for a in s["Action"]}
    assert grants["s3:GetObject"] == ["arn:aws:s3:::ns-artifacts-111122223333-eu-west-1/*"]
    assert grants["events:PutEvents"] == ["arn:aws:events:eu-west-1:111122223333:event-bus/default"]
    assert grants["dynamodb:PutItem"] == [
        "arn:aws:dynamodb:eu-west-1:111122223333:table/ns-state",
        "arn:aws:dynamodb:eu-west-1:111122223333:table/ns-state/index/*",
    ]
    assert grants["iam:PassRole"] == ["arn:aws:iam::111122223333:role/ns-instance"]
    assert grants["ssm:SendCommand"] == [
        "arn:aws:ec2:eu-west-1:111122223333:instance/*",
        "arn:aws:ssm:eu-west-1::document/AWS-RunShellScript",
    ]


def test_botocore_operations_map_to_the_actions_iam_checks():
    assert iam_action("sqs", "DeleteMessageBatch") == "sqs:DeleteMessage"
    assert iam_action("s3", "HeadBucket") == "s3:ListBucket"
    assert iam_action("s3", "GetPublicAccessBlock") == "s3:GetBucketPublicAccessBlock"
    assert iam_action("elbv2", "RegisterTargets") == "elasticloadbalancing:RegisterTargets"
    assert (
        iam_action("elb", "DescribeInstanceHealth") == "elasticloadbalancing:DescribeInstanceHealth"
    )
    assert iam_action("cloudwatch", "GetMetricData") == "cloudwatch:GetMetricData"
    assert iam_action("sts", "GetCallerIdentity") is None
    assert iam_action("dynamodb", "PutItem") == "dynamodb:PutItem"
