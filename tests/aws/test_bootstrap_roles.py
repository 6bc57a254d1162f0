"""The instance and dispatcher roles `stackops bootstrap` creates (moto in-process)."""

from __future__ import annotations

import json
from dataclasses import replace

from stackops.aws.iam import ExistingRole
from stackops.aws.iam_policy import ArnScope, build_policy
from stackops.bootstrap import same_document
from stackops.bootstrap_roles import (
    AddRoleToProfile,
    CreateInstanceProfile,
    CreateRole,
    ExistingIam,
    PutRolePolicy,
    SetRoleTrust,
    plan_roles,
    role_specs,
)
from stackops.naming import ResourceNames
from tests.helpers import ok_json

ACCOUNT = "123456789012"
SCOPE = ArnScope("aws", "us-east-1", ACCOUNT)
TAGS = {"stackops:namespace": "stackops"}


def test_bootstrap_creates_both_roles_with_their_policies_and_profiles(aws, invoke):
    out = ok_json(invoke("bootstrap"))
    assert (out["InstanceRole"], out["InstanceProfile"], out["DispatcherRole"]) == (
        "stackops-instance",
        "stackops-instance",
        "stackops-dispatcher",
    )
    iam = aws.client("iam")
    names = ResourceNames("stackops")
    for role, role_key, trusted in (
        ("stackops-instance", "instance", ["ec2.amazonaws.com"]),
        ("stackops-dispatcher", "dispatcher", ["lambda.amazonaws.com", "ec2.amazonaws.com"]),
    ):
        found = iam.get_role(RoleName=role)["Role"]
        (statement,) = found["AssumeRolePolicyDocument"]["Statement"]
        assert statement["Principal"]["Service"] == trusted
        assert statement["Action"] == "sts:AssumeRole"
        assert {"Key": "stackops:namespace", "Value": "stackops"} in found["Tags"]
        inline = iam.get_role_policy(RoleName=role, PolicyName=role)["PolicyDocument"]
        assert inline == build_policy(names, role=role_key, scope=SCOPE)
        profile = iam.get_instance_profile(InstanceProfileName=role)["InstanceProfile"]
        assert [r["RoleName"] for r in profile["Roles"]] == [role]


def test_the_instance_policy_is_narrow(aws, invoke):
    ok_json(invoke("bootstrap"))
    doc = aws.client("iam").get_role_policy(
        RoleName="stackops-instance", PolicyName="stackops-instance"
    )["PolicyDocument"]
    grants = {a: s["Resource"] for s in doc["Statement"] for a in s["Action"]}
    bucket = f"arn:aws:s3:::stackops-artifacts-{ACCOUNT}-us-east-1"
    assert grants["s3:PutObject"] == [f"{bucket}/logs/*"]  # its reports, nothing else
    assert grants["s3:GetObject"] == [f"{bucket}/*"]
    assert grants["ssm:GetParameters"] == [f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/stackops/*"]
    assert "ssm:UpdateInstanceInformation" in grants  # the AMI's SSM agent
    assert not any(a.startswith(("dynamodb:", "sqs:", "ec2:", "iam:")) for a in grants)


def test_bootstrap_role_is_not_in_the_dispatcher_policy():
    names = ResourceNames("stackops")
    dispatcher = build_policy(names, role="dispatcher")
    actions = {a for s in dispatcher["Statement"] for a in s["Action"]}
    assert not {"dynamodb:CreateTable", "sqs:CreateQueue", "s3:CreateBucket", "iam:CreateRole"} & (
        actions
    )
    assert {"sqs:ReceiveMessage", "ssm:SendCommand", "dynamodb:PutItem"} <= actions
    bootstrap = {a for s in build_policy(names, role="bootstrap")["Statement"] for a in s["Action"]}
    assert {"dynamodb:CreateTable", "iam:CreateRole", "iam:PutRolePolicy"} <= bootstrap
    assert "sqs:ReceiveMessage" not in bootstrap


def test_second_run_leaves_the_roles_alone_and_drift_is_repaired(aws, invoke):
    ok_json(invoke("bootstrap"))
    assert ok_json(invoke("bootstrap"))["Steps"] == []
    iam = aws.client("iam")
    narrow = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
    }
    iam.put_role_policy(
        RoleName="stackops-dispatcher",
        PolicyName="stackops-dispatcher",
        PolicyDocument=json.dumps(narrow),
    )
    iam.remove_role_from_instance_profile(
        InstanceProfileName="stackops-instance", RoleName="stackops-instance"
    )
    steps = [s["Description"] for s in ok_json(invoke("bootstrap"))["Steps"]]
    assert steps == [
        "put IAM role stackops-instance in instance profile stackops-instance",
        "put inline policy stackops-dispatcher on IAM role stackops-dispatcher",
    ]
    assert ok_json(invoke("bootstrap"))["Steps"] == []


def test_dry_run_names_the_role_steps_and_creates_no_role(aws, invoke):
    result = invoke("bootstrap", "--dry-run")
    assert "would create IAM role stackops-instance" in result.stderr
    assert "would create instance profile stackops-dispatcher" in result.stderr
    assert aws.client("iam").list_roles()["Roles"] == []


def test_plan_with_plain_data():
    names = ResourceNames("shop")
    specs = role_specs(names, SCOPE)
    first = plan_roles(specs, ExistingIam(), TAGS, same_document)
    assert [type(s) for s in first] == [
        CreateRole,
        PutRolePolicy,
        CreateInstanceProfile,
        AddRoleToProfile,
    ] * 2
    in_place = ExistingIam(
        roles={s.name: ExistingRole(f"arn:{s.name}", s.trust(), s.policy) for s in specs},
        profiles={s.profile: (s.name,) for s in specs if s.profile},
    )
    assert plan_roles(specs, in_place, TAGS, same_document) == []
    instance = specs[0]
    widened = {**instance.trust(), "Statement": []}
    drifted = replace(
        in_place,
        roles={
            **in_place.roles,
            instance.name: replace(in_place.roles[instance.name], trust=widened),
        },
    )
    assert plan_roles(specs, drifted, TAGS, same_document) == [
        SetRoleTrust(instance.name, instance.trust())
    ]


def test_source_buckets_let_instances_read_them(invoke):
    result = invoke(
        "bootstrap", "--print-iam-policy", "--role", "instance", "--source-bucket", "my-apps"
    )
    policy = ok_json(result)
    grants = {a: s["Resource"] for s in policy["Statement"] for a in s["Action"]}
    assert "arn:aws:s3:::my-apps/*" in grants["s3:GetObject"]
    assert "IAM policy of role instance" in result.stderr


def test_an_unknown_role_is_refused_with_the_valid_ones(invoke):
    result = invoke("bootstrap", "--print-iam-policy", "--role", "admin")
    assert result.exit_code == 2
    assert "bootstrap" in result.stderr and "dispatcher" in result.stderr
