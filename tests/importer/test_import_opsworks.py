"""import-opsworks on saved answers built from AWS's documented examples; each result applies."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from tests.helpers import ok_json

FIXTURES = Path(__file__).parent / "fixtures"
TOMCAT_STACK = "38ee91e2-abdc-4208-a107-0b7168b3cc7a"


@pytest.fixture
def boot(aws, invoke):
    ok_json(invoke("bootstrap"))
    return aws


def imported(invoke, folder: Path, out: Path, *extra: str) -> tuple[dict, str]:
    result = invoke("import-opsworks", str(folder), "-o", str(out), *extra)
    assert result.exit_code == 0, result.output
    return yaml.safe_load(out.read_text()), result.stdout


def test_tomcat_stack_imports_and_applies(boot, invoke, tmp_path):
    two = invoke("import-opsworks", str(FIXTURES / "tomcat"), "-o", str(tmp_path / "x.yaml"))
    assert two.exit_code == 2 and "give --stack-id" in two.stderr and "TomStack-sd" in two.stderr
    assert not (tmp_path / "x.yaml").exists()

    out = tmp_path / "tomstack.yaml"
    data, report = imported(invoke, FIXTURES / "tomcat", out, "--stack-id", TOMCAT_STACK)
    text = out.read_text()
    assert text.startswith("# OpsWorks stack TomStack-sd, imported by")
    stack = data["stack"]
    assert stack["name"] == "TomStack-sd" and stack["region"] == "us-east-1"
    assert stack["default_os"] == "Amazon Linux 2023"  # 'Amazon Linux' has no current AMI
    assert stack["custom_json"]["tomcat"]["base_version"] == 7
    assert stack["use_custom_cookbooks"] is False
    assert stack["custom_cookbooks_source"] == {
        "type": "git",
        "url": "git://github.com/example-repo/tomcustom.git",
    }
    assert (
        "configuration_manager" not in stack and "StackId" not in text and "CreatedAt" not in text
    )
    db, tom = data["layers"]
    assert (db["shortname"], db["type"]) == ("db-master", "db-master")
    assert db["attributes"] == {
        "MysqlRootPasswordUbiquitous": "true",
        "MysqlRootPassword": {
            "ssm": "/stackops/import/tomstack_sd/layers/db-master/MysqlRootPassword"
        },
    }
    assert "volume_configurations" not in db and "VolumeConfigurations (/vol/mysql)" in text
    assert tom["custom_recipes"] == {
        "setup": ["tomcat::setup"],
        "configure": ["tomcat::configure"],
        "deploy": ["tomcat::deploy"],
    }
    assert "default_recipes" not in tom
    (app,) = data["apps"]
    assert app["app_source"]["type"] == "archive"
    assert app["attributes"] == {"AutoBundleOnDeploy": "true", "DocumentRoot": "ROOT"}
    hosts = {i["hostname"]: i for i in data["instances"]}
    assert hosts["db-master1"]["layers"] == ["db-master"]
    assert hosts["tomcustom1"]["layers"] == ["tomcustom"]
    assert "availability_zone" not in hosts["tomcustom1"]  # us-west-2a in a us-east-1 stack
    assert hosts["tomcustom1"]["os"] == "Amazon Linux 2023"

    for expected in (
        "imported:",
        "stack TomStack-sd (38ee91e2-abdc-4208-a107-0b7168b3cc7a)",
        "needs attention:",
        "ConfigurationManager Chef 11.4 dropped",
        "recipes that must exist",
        "  tomcat::setup",
        "aws ssm put-parameter --type SecureString "
        "--name /stackops/import/tomstack_sd/layers/db-master/MysqlRootPassword",
    ):
        assert expected in report, report

    dry = invoke("apply", "-f", str(out), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "+ layer db-master" in dry.output and "+ instance tomcustom1" in dry.output


def test_registered_stack_imports_with_its_attachments(boot, invoke, tmp_path):
    out = tmp_path / "mystack.yaml"
    data, report = imported(invoke, FIXTURES / "registered", out)
    stack = data["stack"]
    assert stack["default_os"] == "Ubuntu 22.04 LTS" and "use_opsworks_security_groups" not in stack
    (layer,) = data["layers"]
    assert layer["elastic_load_balancer"] == "my-elb"
    assert layer["lifecycle_event_configuration"] == {
        "shutdown": {"execution_timeout": 120, "delay_until_elb_connections_drained": True}
    }
    jsp, php = data["apps"]
    assert jsp["data_sources"] == [
        {
            "type": "RdsDbInstance",
            "arn": "arn:aws:rds:us-west-2:123456789012:db:clitestdb",
            "database_name": "mydb",
        }
    ]
    assert "layers" not in php  # no php-app layer in this stack: every layer
    assert php["app_source"]["ssh_key"] == {
        "ssm": "/stackops/import/mystack/apps/simplephpapp/source/ssh_key"
    }
    assert php["environment"] == [
        {"key": "DB_HOST", "value": "db.example.com"},
        {
            "key": "DB_PASSWORD",
            "value": {"ssm": "/stackops/import/mystack/apps/simplephpapp/env/DB_PASSWORD"},
            "secure": True,
        },
    ]
    # Without --adopt-instances the registered instance is left out, the other created anew.
    assert [i["hostname"] for i in data["instances"]] == ["custom11"]
    assert "ip-192-0-2-0: a registered instance (i-5cd23551) is not created anew" in report
    assert "stackops register-elastic-ip --elastic-ip 54.214.246.6" in report
    assert "set-time-based-auto-scaling --instance-id <id of custom11>" in report
    assert "set-load-based-auto-scaling --layer-id <id of custom> --enable" in report
    assert invoke("apply", "-f", str(out), "--dry-run").exit_code == 0

    adopted = tmp_path / "adopted.yaml"
    data, _ = imported(invoke, FIXTURES / "registered", adopted, "--adopt-instances")
    hosts = {i["hostname"]: i for i in data["instances"]}
    assert hosts["ip-192-0-2-0"]["ec2_instance_id"] == "i-5cd23551"
    assert hosts["custom11"]["ec2_instance_id"] == "i-8d2dca80"
    assert hosts["custom11"]["os"] == "Custom" and hosts["custom11"]["ami_id"] == "ami-9fc29baf"
    assert invoke("apply", "-f", str(adopted), "--dry-run").exit_code == 0


def test_adopted_instances_are_registered_by_apply(boot, invoke, tmp_path):
    """The saved answers name real EC2 instances (here moto's): apply registers, not launches."""
    saved = tmp_path / "saved"
    shutil.copytree(FIXTURES / "registered", saved)
    ec2 = boot.client("ec2")
    made = [  # the EC2 instances the answers describe: same type, image and subnet
        ec2.run_instances(ImageId=ami, InstanceType=kind, MinCount=1, MaxCount=1)["Instances"][0]
        for ami, kind in (("ami-35501205", "t1.micro"), ("ami-9fc29baf", "c3.large"))
    ]
    ids = [m["InstanceId"] for m in made]
    path = saved / "describe-instances.json"
    path.write_text(
        path.read_text()
        .replace("i-5cd23551", ids[0])
        .replace("i-8d2dca80", ids[1])
        .replace("subnet-b8de0ddd", made[0]["SubnetId"])
    )
    stack_path = saved / "describe-stacks.json"
    stack_path.write_text(stack_path.read_text().replace("us-west-2", "us-east-1"))
    (saved / "describe-elastic-load-balancers.json").unlink()
    out = tmp_path / "adopted.yaml"
    imported(invoke, saved, out, "--adopt-instances")
    applied = ok_json(invoke("apply", "-f", str(out)))
    instances = ok_json(invoke("describe-instances", "--stack-id", applied["StackId"]))["Instances"]
    assert sorted(i["Ec2InstanceId"] for i in instances) == sorted(ids)
    assert all(i["RegisteredBy"] for i in instances)
    running = [i for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]]
    assert len(running) == 2  # none launched
    again = invoke("apply", "-f", str(out), "--dry-run")
    assert again.exit_code == 0 and "No changes" in again.output, again.output


def test_a_folder_without_the_four_answers_is_refused(invoke, tmp_path):
    (tmp_path / "describe-stacks.json").write_text(json.dumps({"Stacks": []}))
    result = invoke("import-opsworks", str(tmp_path))
    assert result.exit_code == 2
    assert "no saved answer of describe-layers, describe-apps, describe-instances" in result.stderr
    (tmp_path / "junk.json").write_text('{"Foo": 1}')
    result = invoke("import-opsworks", str(tmp_path))
    assert result.exit_code == 2 and "junk.json: not the answer of one of" in result.stderr
