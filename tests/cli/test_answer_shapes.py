"""Every OpsWorks verb's answer, on moto, checked against the API model's output shape."""

from __future__ import annotations

import json

import pytest

from stackops.cli.main import COMMANDS
from stackops.model.api_shapes import (
    FILTERED,
    answer_problems,
    api_model,
    operation_name,
)
from tests.cli.test_surface_verbs import classic_elb, run_ec2
from tests.helpers import ok_json

OPSWORKS_VERBS = sorted(v for v in COMMANDS if operation_name(v) in api_model()["operations"])


class Recorder:
    """Runs verbs, keeps each answer (the parsed stdout, None for no output)."""

    def __init__(self, invoke) -> None:
        self.invoke = invoke
        self.answers: dict[str, list[object]] = {}

    def __call__(self, verb: str, *args: str) -> object:
        result = self.invoke(verb, *args)
        answer = ok_json(result)
        if verb in OPSWORKS_VERBS:
            self.answers.setdefault(verb, []).append(answer)
        return answer


def test_the_verb_list_is_the_opsworks_surface():
    # 47 operations apply (issue 10); those with a verb here, autoscaling is its own issue.
    assert len(OPSWORKS_VERBS) >= 41
    assert "describe-operating-systems" in OPSWORKS_VERBS


@pytest.mark.slow  # every verb, end to end, with instances booted
def test_every_verb_answers_in_its_opsworks_shape(aws, invoke):
    run = Recorder(invoke)
    ok_json(invoke("bootstrap"))
    classic_elb(aws)
    ip = aws.client("ec2").allocate_address(Domain="vpc")["PublicIp"]

    stack_id = run(
        "create-stack",
        "--name",
        "shop",
        "--stack-region",
        "us-east-1",
        "--attributes",
        "Color='rgb(45, 114, 184)'",
        "--custom-json",
        '{"a": 1}',
        "--custom-cookbooks-source",
        "Type=git,Url=https://git.example/c.git,Password=hunter2",
    )["StackId"]
    run("describe-stacks")
    run("update-stack", "--stack-id", stack_id, "--hostname-theme", "Clouds")
    layer_id = run(
        "create-layer",
        "--stack-id",
        stack_id,
        "--type",
        "custom",
        "--name",
        "App",
        "--shortname",
        "app",
        "--attributes",
        "MysqlRootPassword=s3cret,RubyVersion=3.2",
        "--packages",
        "nginx",
    )["LayerId"]
    spare_layer = run(
        "create-layer",
        "--stack-id",
        stack_id,
        "--type",
        "custom",
        "--name",
        "S",
        "--shortname",
        "spare",
    )["LayerId"]
    web_layer = run(
        "create-layer",
        "--stack-id",
        stack_id,
        "--type",
        "custom",
        "--name",
        "W",
        "--shortname",
        "web",
    )["LayerId"]
    run("describe-layers", "--stack-id", stack_id)
    run("update-layer", "--layer-id", layer_id, "--name", "Application")
    app_id = run(
        "create-app",
        "--stack-id",
        stack_id,
        "--name",
        "web",
        "--app-source",
        "Type=s3,Url=s3://bucket/web.tar.gz,Password=pw",
        "--environment",
        "Key=A,Value=1",
        "Key=B,Value=2,Secure=true",
        "--enable-ssl",
        "--ssl-configuration",
        '{"Certificate": "CERT", "PrivateKey": "KEY", "Chain": "CHAIN"}',
        "--data-sources",
        "Type=RdsDbInstance,Arn=arn:aws:rds:us-east-1:123456789012:db:shop,DatabaseName=shop",
        "--attributes",
        "DocumentRoot=public",
        "--layers",
        "web",  # an instance-less layer: no deploy at boot (the bucket does not exist)
    )["AppId"]
    run("describe-apps", "--stack-id", stack_id)
    run("update-app", "--app-id", app_id, "--description", "the shop")
    instance_id = run(
        "create-instance",
        "--stack-id",
        stack_id,
        "--layer-ids",
        layer_id,
        "--instance-type",
        "t3.micro",
        "--os",
        "Amazon Linux 2",
    )["InstanceId"]
    run("update-instance", "--instance-id", instance_id, "--instance-type", "t3.small")
    run("get-hostname-suggestion", "--layer-id", layer_id)
    run("describe-operating-systems")
    run("start-instance", "--instance-id", instance_id)
    ok_json(invoke("watch", "--once"))
    ok_json(invoke("dispatch", "--drain", "--executor", "local"))
    run("reboot-instance", "--instance-id", instance_id)
    run("describe-instances", "--stack-id", stack_id)
    run("describe-stack-summary", "--stack-id", stack_id)

    run(
        "attach-elastic-load-balancer",
        "--elastic-load-balancer-name",
        "web-elb",
        "--layer-id",
        layer_id,
    )
    run("describe-elastic-load-balancers", "--stack-id", stack_id)
    run("register-elastic-ip", "--elastic-ip", ip, "--stack-id", stack_id)
    run("update-elastic-ip", "--elastic-ip", ip, "--name", "front")
    run("associate-elastic-ip", "--elastic-ip", ip, "--instance-id", instance_id)
    run("describe-elastic-ips", "--stack-id", stack_id)
    run("describe-instances", "--instance-ids", instance_id)
    run("disassociate-elastic-ip", "--elastic-ip", ip)
    run("deregister-elastic-ip", "--elastic-ip", ip)
    (stack,) = ok_json(invoke("describe-stacks", "--stack-ids", stack_id))["Stacks"]
    run("tag-resource", "--resource-arn", stack["Arn"], "--tags", "Team=web")
    run("list-tags", "--resource-arn", stack["Arn"])
    run("untag-resource", "--resource-arn", stack["Arn"], "--tag-keys", "Team")

    deployment_id = run(
        "create-deployment",
        "--stack-id",
        stack_id,
        "--command",
        '{"Name": "configure"}',
        "--comment",
        "shapes",
    )["DeploymentId"]
    ok_json(invoke("dispatch", "--drain", "--executor", "local"))
    run("describe-deployments", "--stack-id", stack_id)
    run("describe-deployments", "--deployment-ids", deployment_id)
    run("describe-commands", "--instance-id", instance_id)
    run("describe-commands", "--deployment-id", deployment_id)

    raw = run_ec2(aws)
    registered = run(
        "register-instance", "--stack-id", stack_id, "--ec2-instance-id", raw["InstanceId"]
    )["InstanceId"]
    run("assign-instance", "--instance-id", registered, "--layer-ids", spare_layer)
    run("unassign-instance", "--instance-id", registered)
    run("deregister-instance", "--instance-id", registered)

    timer_id = run("create-instance", "--stack-id", stack_id, "--layer-ids", spare_layer,
                   "--instance-type", "t3.micro", "--os", "Amazon Linux 2",
                   "--auto-scaling-type", "timer")["InstanceId"]  # fmt: skip
    run("set-time-based-auto-scaling", "--instance-id", timer_id,
        "--auto-scaling-schedule", '{"Monday": {"9": "on", "10": "on"}}')  # fmt: skip
    run("describe-time-based-auto-scaling", "--instance-ids", timer_id)
    run("set-load-based-auto-scaling", "--layer-id", spare_layer, "--enable",
        "--up-scaling", '{"InstanceCount": 2, "CpuThreshold": 85}')  # fmt: skip
    run("describe-load-based-auto-scaling", "--layer-ids", spare_layer)
    run("delete-instance", "--instance-id", timer_id)

    clone_id = run("clone-stack", "--source-stack-id", stack_id, "--name", "shop-b")["StackId"]
    run("stop-stack", "--stack-id", stack_id)
    ok_json(invoke("dispatch", "--drain", "--executor", "local"))
    run("start-stack", "--stack-id", stack_id)
    run("stop-instance", "--instance-id", instance_id, "--force")
    ok_json(invoke("dispatch", "--drain", "--executor", "local"))
    run(
        "detach-elastic-load-balancer",
        "--elastic-load-balancer-name",
        "web-elb",
        "--layer-id",
        layer_id,
    )
    run("delete-instance", "--instance-id", instance_id)
    run("delete-app", "--app-id", app_id)
    run("delete-layer", "--layer-id", layer_id)
    run("delete-layer", "--layer-id", spare_layer)
    run("delete-layer", "--layer-id", web_layer)
    for layer in ok_json(invoke("describe-layers", "--stack-id", clone_id))["Layers"]:
        ok_json(invoke("delete-layer", "--layer-id", layer["LayerId"]))
    run("delete-stack", "--stack-id", clone_id)
    run("delete-stack", "--stack-id", stack_id)

    missing = set(OPSWORKS_VERBS) - set(run.answers)
    assert not missing, f"verbs not walked: {sorted(missing)}"
    problems = [
        f"{verb}: {problem}"
        for verb, answers in run.answers.items()
        for answer in answers
        for problem in answer_problems(operation_name(verb), answer)
    ]
    assert problems == [], "\n".join(problems)

    # The secrets were given; the answers show them filtered.
    text = json.dumps(run.answers)
    for secret in ("s3cret", "hunter2", '"KEY"', '"pw"'):
        assert secret not in text
    assert FILTERED in text


@pytest.mark.parametrize(
    ("operation", "answer", "expected"),
    [
        ("StartStack", {"StartedInstanceIds": []}, "answers nothing"),
        ("DescribeStacks", {"Stacks": [{"Bogus": 1}]}, "not a member of Stack"),
        (
            "DescribeStacks",
            {"Stacks": [{"CreatedAt": "2026-01-01T00:00:00.123+00:00"}]},
            "is not a time",
        ),
        ("DescribeStacks", {"Stacks": [{"DefaultRootDeviceType": "disk"}]}, "is not one of"),
        ("DescribeStacks", {"Stacks": [{"UseCustomCookbooks": "yes"}]}, "expected true or false"),
        ("DescribeStacks", {"Stacks": [{"Attributes": {"Colour": "x"}}]}, "key 'Colour'"),
        ("DescribeLayers", {"Layers": [{"Attributes": {"MysqlRootPassword": "pw"}}]}, "protected"),
        ("DescribeApps", {"Apps": [{"AppSource": {"Type": "git", "Password": "pw"}}]}, "protected"),
        (
            "DescribeApps",
            {"Apps": [{"Environment": [{"Key": "A", "Value": "v", "Secure": True}]}]},
            "secure value",
        ),
        ("DescribeStacks", {"Stacks": [{"Name": None}]}, "null where OpsWorks"),
        ("CreateStack", None, "must answer a CreateStackResult"),
    ],
)
def test_the_validator_finds_what_departs_from_the_model(operation, answer, expected):
    problems = answer_problems(operation, answer)
    assert any(expected in p for p in problems), problems


def test_extension_keys_are_allowed_and_listed_in_the_readme():
    from pathlib import Path

    from stackops.model.api_shapes import EXTENSION_KEYS

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert answer_problems("DescribeApps", {"Apps": [{"DeployTo": "/srv/www/web"}]}) == []
    for shape, keys in EXTENSION_KEYS.items():
        for key in keys:
            assert f"`{key}`" in readme, f"README does not list {shape}.{key}"
