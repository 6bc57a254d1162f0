"""Every OpsWorks verb driven through the CLI against moto in-process."""

from __future__ import annotations

import json

import pytest

from tests.helpers import ok_json


@pytest.fixture
def boot(aws, invoke):
    """The AWS side bootstrapped; returns the boto3 session for looking around."""
    ok_json(invoke("bootstrap"))
    return aws


def make_stack(invoke, name: str = "shop", *extra: str) -> str:
    return ok_json(invoke("create-stack", "--name", name, "--region", "us-east-1", *extra))[
        "StackId"
    ]


def make_layer(invoke, stack_id: str, shortname: str = "app", *extra: str) -> str:
    out = invoke(
        "create-layer",
        "--stack-id",
        stack_id,
        "--type",
        "custom",
        "--name",
        f"{shortname} layer",
        "--shortname",
        shortname,
        *extra,
    )
    return ok_json(out)["LayerId"]


def make_instance(invoke, stack_id: str, *layer_ids: str, extra: tuple[str, ...] = ()) -> str:
    out = invoke(
        "create-instance",
        "--stack-id",
        stack_id,
        "--layer-ids",
        *layer_ids,
        "--instance-type",
        "t3.micro",
        *extra,
    )
    return ok_json(out)["InstanceId"]


def test_stack_lifecycle(boot, invoke):
    stack_id = make_stack(invoke, "shop", "--custom-json", '{"env": "staging"}')
    result = invoke("describe-stacks", "--stack-ids", stack_id)
    (stack,) = ok_json(result)["Stacks"]
    assert "target: account 123456789012, region us-east-1" in result.stderr
    assert stack["StackId"] == stack_id
    assert stack["Name"] == "shop"
    assert json.loads(stack["CustomJson"]) == {"env": "staging"}
    assert stack["HostnameTheme"] == "Layer_Dependent"
    assert stack["Arn"] == f"arn:aws:opsworks:us-east-1:123456789012:stack/{stack_id}/"

    ok_json(
        invoke(
            "update-stack",
            "--stack-id",
            stack_id,
            "--name",
            "shop2",
            "--custom-json",
            '{"env": "prod"}',
        )
    )
    (stack,) = ok_json(invoke("describe-stacks"))["Stacks"]
    assert stack["Name"] == "shop2"
    assert json.loads(stack["CustomJson"]) == {"env": "prod"}

    ok_json(invoke("delete-stack", "--stack-id", stack_id))
    assert ok_json(invoke("describe-stacks"))["Stacks"] == []
    gone = invoke("describe-stacks", "--stack-ids", stack_id)
    assert gone.exit_code == 2
    assert f"no stack with id {stack_id}" in gone.stderr
    assert "Traceback" not in gone.output


def test_layers_apps_and_summary(boot, invoke):
    stack_id = make_stack(invoke)
    layer_id = make_layer(
        invoke,
        stack_id,
        "app",
        "--custom-recipes",
        '{"Setup": ["web::setup"], "Deploy": ["web::deploy"]}',
        "--no-enable-auto-healing",
    )
    (layer,) = ok_json(invoke("describe-layers", "--stack-id", stack_id))["Layers"]
    assert layer["CustomRecipes"]["Setup"] == ["web::setup"]
    assert layer["EnableAutoHealing"] is False
    assert layer["DefaultRecipes"]["Setup"] == ["stackops::setup"]

    ok_json(invoke("update-layer", "--layer-id", layer_id, "--name", "Application"))
    (layer,) = ok_json(invoke("describe-layers", "--layer-ids", layer_id))["Layers"]
    assert layer["Name"] == "Application"

    dup = invoke(
        "create-layer",
        "--stack-id",
        stack_id,
        "--type",
        "custom",
        "--name",
        "again",
        "--shortname",
        "app",
    )
    assert dup.exit_code == 1 and "shortname 'app'" in dup.stderr

    app_id = ok_json(
        invoke(
            "create-app",
            "--stack-id",
            stack_id,
            "--name",
            "web",
            "--shortname",
            "web",
            "--type",
            "other",
            "--app-source",
            '{"Type": "s3", "Url": "s3://my-bucket/web.tar.gz"}',
            "--environment",
            '[{"Key": "GREETING", "Value": "hi"}]',
        )
    )["AppId"]
    (app,) = ok_json(invoke("describe-apps", "--stack-id", stack_id))["Apps"]
    assert app["AppId"] == app_id
    assert app["AppSource"] == {"Type": "s3", "Url": "s3://my-bucket/web.tar.gz"}
    assert app["Environment"] == [{"Key": "GREETING", "Value": "hi", "Secure": False}]

    ok_json(invoke("update-app", "--app-id", app_id, "--description", "the shop"))
    (app,) = ok_json(invoke("describe-apps", "--app-ids", app_id))["Apps"]
    assert app["Description"] == "the shop"

    make_instance(invoke, stack_id, layer_id)
    summary = ok_json(invoke("describe-stack-summary", "--stack-id", stack_id))["StackSummary"]
    assert summary["LayersCount"] == 1
    assert summary["AppsCount"] == 1
    assert summary["InstancesCount"]["Stopped"] == 1

    busy = invoke("delete-stack", "--stack-id", stack_id)
    assert busy.exit_code == 1 and "still has" in busy.stderr
    busy_layer = invoke("delete-layer", "--layer-id", layer_id)
    assert busy_layer.exit_code == 1 and "still has instances" in busy_layer.stderr

    ok_json(invoke("delete-app", "--app-id", app_id))
    assert ok_json(invoke("describe-apps", "--stack-id", stack_id))["Apps"] == []


def test_secure_values_never_shown_or_stored(boot, invoke):
    stack_id = make_stack(invoke)
    app_id = ok_json(
        invoke(
            "create-app",
            "--stack-id",
            stack_id,
            "--name",
            "web",
            "--app-source",
            '{"Type": "s3", "Url": "s3://bucket/web.tar.gz", "Password": "hunter2"}',
            "--environment",
            '[{"Key": "DB_PASSWORD", "Value": "s3cret", "Secure": true}]',
        )
    )["AppId"]
    result = invoke("describe-apps", "--app-ids", app_id)
    (app,) = ok_json(result)["Apps"]
    assert app["Environment"][0]["Value"] == "*****FILTERED*****"
    assert app["AppSource"]["Password"] == "*****FILTERED*****"
    assert "s3cret" not in result.output and "hunter2" not in result.output

    items = boot.client("dynamodb").scan(TableName="stackops-state")["Items"]
    assert "s3cret" not in json.dumps(items) and "hunter2" not in json.dumps(items)
    ssm = boot.client("ssm")
    param = ssm.get_parameter(
        Name=f"/stackops/secrets/apps/{app_id}/env/DB_PASSWORD", WithDecryption=True
    )["Parameter"]
    assert param["Type"] == "SecureString" and param["Value"] == "s3cret"

    ok_json(invoke("delete-app", "--app-id", app_id))
    left = ssm.get_parameters_by_path(Path="/stackops/secrets", Recursive=True)["Parameters"]
    assert left == []


def test_instances_start_stop_and_tags(boot, invoke):
    stack_id = make_stack(invoke)
    app_layer = make_layer(invoke, stack_id, "app")
    db_layer = make_layer(invoke, stack_id, "db")
    first = make_instance(invoke, stack_id, app_layer, db_layer)
    second = make_instance(invoke, stack_id, app_layer)
    instances = ok_json(invoke("describe-instances", "--stack-id", stack_id))["Instances"]
    assert [(i["Hostname"], i["Status"]) for i in instances] == [
        ("app1", "stopped"),
        ("app2", "stopped"),
    ]
    hint = ok_json(invoke("get-hostname-suggestion", "--layer-id", app_layer))
    assert hint == {"LayerId": app_layer, "Hostname": "app3"}

    ok_json(invoke("start-instance", "--instance-id", first))
    (inst,) = ok_json(invoke("describe-instances", "--instance-ids", first))["Instances"]
    assert inst["Status"] == "pending"
    ec2_id = inst["Ec2InstanceId"]
    ec2 = boot.client("ec2")
    (res,) = ec2.describe_instances(InstanceIds=[ec2_id])["Reservations"]
    tags = {t["Key"]: t["Value"] for t in res["Instances"][0]["Tags"]}
    assert tags == {
        "stackops:stack-id": stack_id,
        "stackops:instance-id": first,
        "stackops:layer-ids": f"{app_layer},{db_layer}",
        "Name": "app1",
    }
    assert res["Instances"][0]["InstanceType"] == "t3.micro"

    # A second start is refused by the conditional write: one EC2 instance, not two.
    again = invoke("start-instance", "--instance-id", first)
    assert again.exit_code == 1 and "is pending" in again.stderr
    running = ec2.describe_instances(
        Filters=[{"Name": "tag:stackops:instance-id", "Values": [first]}]
    )["Reservations"]
    assert len(running) == 1

    busy = invoke("delete-instance", "--instance-id", first)
    assert busy.exit_code == 1 and "stop it first" in busy.stderr

    # stop-instance hands the instance to the dispatcher: shutdown recipes, then EC2 stops.
    ok_json(invoke("stop-instance", "--instance-id", first))
    (inst,) = ok_json(invoke("describe-instances", "--layer-id", db_layer))["Instances"]
    assert inst["Status"] == "stopping"
    ok_json(invoke("dispatch", "--drain", "--executor", "local"))
    (inst,) = ok_json(invoke("describe-instances", "--layer-id", db_layer))["Instances"]
    assert inst["Status"] == "stopped"
    state = ec2.describe_instances(InstanceIds=[ec2_id])["Reservations"][0]["Instances"][0]
    assert state["State"]["Name"] == "stopped"

    # Starting again starts the same EBS-backed EC2 instance.
    ok_json(invoke("start-instance", "--instance-id", first))
    (inst,) = ok_json(invoke("describe-instances", "--instance-ids", first))["Instances"]
    assert inst["Ec2InstanceId"] == ec2_id

    ok_json(
        invoke(
            "update-instance",
            "--instance-id",
            second,
            "--instance-type",
            "t3.large",
            "--layer-ids",
            db_layer,
        )
    )
    (inst,) = ok_json(invoke("describe-instances", "--instance-ids", second))["Instances"]
    assert inst["InstanceType"] == "t3.large" and inst["LayerIds"] == [db_layer]

    # OpsWorks answers start-stack and stop-stack with nothing; stderr says what happened.
    result = invoke("stop-stack", "--stack-id", stack_id)
    assert ok_json(result) is None and f"stopping 1 instance(s): {first}" in result.stderr
    ok_json(invoke("dispatch", "--drain", "--executor", "local"))
    result = invoke("start-stack", "--stack-id", stack_id)
    assert ok_json(result) is None and "starting 2 instance(s)" in result.stderr
    assert first in result.stderr and second in result.stderr
    ok_json(invoke("stop-stack", "--stack-id", stack_id))
    ok_json(invoke("dispatch", "--drain", "--executor", "local"))

    ok_json(invoke("delete-instance", "--instance-id", first))
    state = ec2.describe_instances(InstanceIds=[ec2_id])["Reservations"][0]["Instances"][0]
    assert state["State"]["Name"] == "terminated"
    ids = [
        i["InstanceId"]
        for i in ok_json(invoke("describe-instances", "--stack-id", stack_id))["Instances"]
    ]
    assert ids == [second]


def test_reboot_needs_online(boot, invoke):
    stack_id = make_stack(invoke)
    instance = make_instance(invoke, stack_id, make_layer(invoke, stack_id))
    refused = invoke("reboot-instance", "--instance-id", instance)
    assert refused.exit_code == 1
    assert "is stopped; this needs it to be online" in refused.stderr


def test_register_instance_adopts_by_tagging(boot, invoke):
    stack_id = make_stack(invoke)
    layer_id = make_layer(invoke, stack_id)
    ec2 = boot.client("ec2")
    ec2_id = ec2.run_instances(
        ImageId="ami-12345678", MinCount=1, MaxCount=1, InstanceType="t3.small"
    )["Instances"][0]["InstanceId"]
    out = ok_json(
        invoke(
            "register-instance",
            "--stack-id",
            stack_id,
            "--ec2-instance-id",
            ec2_id,
            "--layer-ids",
            layer_id,
        )
    )
    (inst,) = ok_json(invoke("describe-instances", "--stack-id", stack_id))["Instances"]
    assert inst["InstanceId"] == out["InstanceId"]
    # --layer-ids (an extension) assigns at once: the dispatcher sets it up, then it is online.
    assert inst["Ec2InstanceId"] == ec2_id and inst["Status"] == "pending"
    assert inst["Hostname"] == "app1" and inst["InstanceType"] == "t3.small"
    ok_json(invoke("dispatch", "--drain", "--executor", "local"))
    (inst,) = ok_json(invoke("describe-instances", "--stack-id", stack_id))["Instances"]
    assert inst["Status"] == "online" and inst["LayerIds"] == [layer_id]
    tags = {
        t["Key"]: t["Value"]
        for t in ec2.describe_instances(InstanceIds=[ec2_id])["Reservations"][0]["Instances"][0][
            "Tags"
        ]
    }
    assert tags["stackops:instance-id"] == out["InstanceId"]
    ok_json(invoke("reboot-instance", "--instance-id", out["InstanceId"]))
    (inst,) = ok_json(invoke("describe-instances", "--instance-ids", out["InstanceId"]))[
        "Instances"
    ]
    assert inst["Status"] == "online"
    twice = invoke("register-instance", "--stack-id", stack_id, "--ec2-instance-id", ec2_id)
    assert twice.exit_code == 1 and "already registered" in twice.stderr


def test_register_instance_with_a_name_tag_that_is_no_hostname(boot, invoke):
    """An EC2 Name tag may hold anything; one that is no host name is passed over."""
    stack_id = make_stack(invoke)
    layer_id = make_layer(invoke, stack_id)
    ec2_id = boot.client("ec2").run_instances(
        ImageId="ami-12345678",
        MinCount=1,
        MaxCount=1,
        InstanceType="t3.small",
        TagSpecifications=[
            {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "My web server"}]}
        ],
    )["Instances"][0]["InstanceId"]
    args = ["register-instance", "--stack-id", stack_id, "--ec2-instance-id", ec2_id]
    refused = invoke(*args, "--hostname", "my web")
    assert refused.exit_code == 2 and "--hostname" in refused.stderr
    ok_json(invoke(*args, "--layer-ids", layer_id))
    (inst,) = ok_json(invoke("describe-instances", "--stack-id", stack_id))["Instances"]
    assert inst["Hostname"] == "app1"


def test_clone_stack_copies_layers_and_named_apps(boot, invoke):
    stack_id = make_stack(invoke, "shop", "--custom-json", '{"a": 1}')
    make_layer(invoke, stack_id, "app")
    make_layer(invoke, stack_id, "db")
    app_id = ok_json(
        invoke(
            "create-app",
            "--stack-id",
            stack_id,
            "--name",
            "web",
            "--environment",
            '[{"Key": "K", "Value": "v", "Secure": true}]',
        )
    )["AppId"]
    ok_json(invoke("create-app", "--stack-id", stack_id, "--name", "other"))
    clone_id = ok_json(
        invoke(
            "clone-stack",
            "--source-stack-id",
            stack_id,
            "--name",
            "shop-b",
            "--clone-app-ids",
            app_id,
        )
    )["StackId"]
    (clone,) = ok_json(invoke("describe-stacks", "--stack-ids", clone_id))["Stacks"]
    assert clone["Name"] == "shop-b" and json.loads(clone["CustomJson"]) == {"a": 1}
    layers = ok_json(invoke("describe-layers", "--stack-id", clone_id))["Layers"]
    assert sorted(la["Shortname"] for la in layers) == ["app", "db"]
    (app,) = ok_json(invoke("describe-apps", "--stack-id", clone_id))["Apps"]
    assert app["Name"] == "web" and app["AppId"] != app_id
    value = boot.client("ssm").get_parameter(
        Name=f"/stackops/secrets/apps/{app['AppId']}/env/K", WithDecryption=True
    )["Parameter"]["Value"]
    assert value == "v"


@pytest.mark.parametrize("fmt", ["table", "yaml"])
def test_output_formats(boot, invoke, fmt):
    stack_id = make_stack(invoke)
    make_instance(invoke, stack_id, make_layer(invoke, stack_id))
    result = invoke("--output", fmt, "describe-instances", "--stack-id", stack_id)
    assert result.exit_code == 0, result.stderr
    if fmt == "table":
        assert "| Instances" in result.stdout or "Instances" in result.stdout.splitlines()[1]
        header = next(line for line in result.stdout.splitlines() if "Hostname" in line)
        assert "Status" in header
        assert any("app1" in line and "stopped" in line for line in result.stdout.splitlines())
    else:
        assert "Instances:" in result.stdout and "Hostname: app1" in result.stdout


def test_bad_input_is_exit_2_without_traceback(boot, invoke):
    stack_id = make_stack(invoke)
    cases = [
        (["create-stack", "--name", "x", "--custom-json", "[1, 2]"], "--custom-json"),
        (["create-stack", "--name", "x", "--custom-json", '{"a": '], "--custom-json"),
        (
            [
                "create-layer",
                "--stack-id",
                stack_id,
                "--type",
                "custom",
                "--name",
                "n",
                "--shortname",
                "Bad Name!",
            ],
            "--shortname",
        ),
        (
            [
                "create-layer",
                "--stack-id",
                stack_id,
                "--type",
                "custom",
                "--name",
                "n",
                "--shortname",
                "ok",
                "--custom-recipes",
                '{"Setupp": []}',
            ],
            "--custom-recipes",
        ),
        (
            [
                "create-app",
                "--stack-id",
                stack_id,
                "--name",
                "w",
                "--environment",
                '[{"Key": "bad-key", "Value": "v"}]',
            ],
            "--environment",
        ),
        (
            [
                "create-app",
                "--stack-id",
                stack_id,
                "--name",
                "w",
                "--app-source",
                "file:///nonexistent.json",
            ],
            "--app-source",
        ),
        (
            [
                "create-layer",
                "--stack-id",
                "nope",
                "--type",
                "custom",
                "--name",
                "n",
                "--shortname",
                "ok",
            ],
            "no stack with id nope",
        ),
        (
            [
                "create-layer",
                "--stack-id",
                stack_id,
                "--type",
                "bogus",
                "--name",
                "n",
                "--shortname",
                "ok",
            ],
            "--type",
        ),
    ]
    for args, expected in cases:
        result = invoke(*args)
        assert result.exit_code == 2, (args, result.output)
        assert expected in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.output
    assert len(ok_json(invoke("describe-stacks"))["Stacks"]) == 1


def test_aws_failure_is_one_line_exit_1(boot, invoke):
    stack_id = make_stack(invoke, "s", "--default-ami-id", "ami-12345678")
    inst = make_instance(
        invoke, stack_id, make_layer(invoke, stack_id), extra=("--subnet-id", "subnet-00000000")
    )
    result = invoke("start-instance", "--instance-id", inst)
    assert result.exit_code == 1, result.output
    assert result.stderr.count("\n") <= 2 and "ec2:RunInstances failed" in result.stderr
    (i,) = ok_json(invoke("describe-instances", "--instance-ids", inst))["Instances"]
    assert i["Status"] == "start_failed"


def test_global_options_after_the_command(boot, invoke):
    stack_id = make_stack(invoke, "shop", "--region", "eu-west-1")  # the stack's own --region
    result = invoke("describe-stacks", "--stack-ids", stack_id, "--output", "yaml")
    assert result.exit_code == 0, result.stderr
    assert "Region: eu-west-1" in result.stdout
    other = invoke("describe-stacks", "--namespace=other")
    assert other.exit_code == 1  # not bootstrapped there
    assert "state table other-state does not exist" in other.stderr
    assert "stackops bootstrap --namespace other" in other.stderr


def test_json_options_read_files_as_the_aws_cli_does(boot, invoke, tmp_path):
    custom = tmp_path / "custom.json"
    custom.write_text('{"env": "from-a-file"}')
    stack_id = make_stack(invoke, "filed", "--custom-json", f"file://{custom}")
    (stack,) = ok_json(invoke("describe-stacks", "--stack-ids", stack_id))["Stacks"]
    assert json.loads(stack["CustomJson"]) == {"env": "from-a-file"}
    check = tmp_path / "health.json"
    check.write_text('{"Path": "/health", "Port": 8080}')
    app_id = ok_json(
        invoke(
            "create-app",
            "--stack-id",
            stack_id,
            "--name",
            "web",
            "--health-check",
            f"file://{check}",
        )
    )["AppId"]
    (app,) = ok_json(invoke("describe-apps", "--app-ids", app_id))["Apps"]
    assert app["HealthCheck"] == {"Path": "/health", "Port": 8080}
    big = tmp_path / "big.json"
    big.write_text('{"a": "' + "x" * (1024 * 1024) + '"}')
    refused = invoke("update-stack", "--stack-id", stack_id, "--custom-json", f"file://{big}")
    assert refused.exit_code == 2 and "larger than 1048576 bytes" in refused.stderr
