"""The IAM policy registry: every adapter declares its actions, and the policy holds them."""

from __future__ import annotations

import re
import types
from pathlib import Path

import stackops.aws
from stackops.aws.iam_policy import ArnScope, adapter_modules, build_policy, declared_actions
from stackops.naming import ResourceNames

ACTION = re.compile(r"^[a-z0-9-]+:[A-Z][A-Za-z0-9]+$")
NOT_ADAPTERS = {"__init__", "session", "iam_policy"}


def test_registry_finds_every_adapter_module_on_disk():
    on_disk = {p.stem for p in Path(stackops.aws.__file__).parent.glob("*.py")} - NOT_ADAPTERS
    found = {m.__name__.rpartition(".")[2] for m in adapter_modules()}
    assert found == on_disk
    assert {"dynamodb", "events", "s3", "sqs"} <= found


def test_every_adapter_declares_actions_and_the_policy_holds_them():
    policy = build_policy(ResourceNames("stackops"))
    in_policy = {a for statement in policy["Statement"] for a in statement["Action"]}
    for module in adapter_modules():
        actions = getattr(module, "ACTIONS", None)
        assert isinstance(actions, tuple) and actions, f"{module.__name__} declares no ACTIONS"
        for action in actions:
            assert ACTION.match(action), f"{module.__name__}: {action!r} is not service:Action"
            assert action in in_policy, f"{module.__name__}: {action} missing from the policy"


def test_one_statement_per_service_with_unique_sids():
    policy = build_policy(ResourceNames("stackops"))
    sids = [s["Sid"] for s in policy["Statement"]]
    services = [s["Action"][0].partition(":")[0] for s in policy["Statement"]]
    assert len(set(sids)) == len(sids)
    assert len(set(services)) == len(services)
    for statement in policy["Statement"]:
        assert {a.partition(":")[0] for a in statement["Action"]} == {
            statement["Action"][0].partition(":")[0]
        }


def test_service_without_a_scope_rule_gets_every_resource():
    fake = types.ModuleType("stackops.aws.fake")
    fake.ACTIONS = ("kms:Decrypt", "sqs:SendMessage")  # type: ignore[attr-defined]
    policy = build_policy(ResourceNames("ns"), modules=[fake])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["Kms"]["Resource"] == "*"
    assert by_sid["Sqs"]["Resource"] == [
        "arn:aws:sqs:*:*:ns-lifecycle",
        "arn:aws:sqs:*:*:ns-lifecycle-dlq",
    ]
    assert declared_actions([fake]) == ["kms:Decrypt", "sqs:SendMessage"]


def test_known_account_and_region_narrow_every_resource():
    scope = ArnScope(region="eu-west-1", account="111122223333")
    by_sid = {s["Sid"]: s for s in build_policy(ResourceNames("ns"), scope=scope)["Statement"]}
    assert by_sid["S3"]["Resource"] == [
        "arn:aws:s3:::ns-artifacts-111122223333-eu-west-1",
        "arn:aws:s3:::ns-artifacts-111122223333-eu-west-1/*",
    ]
    assert by_sid["Events"]["Resource"] == [
        "arn:aws:events:eu-west-1:111122223333:rule/ns-instance-events",
        "arn:aws:events:eu-west-1:111122223333:event-bus/default",
    ]
