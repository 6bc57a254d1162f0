"""Every stored OpsWorks field does something: launch options, protected values, secrets refs."""

from __future__ import annotations

import json

import pytest

from tests.cli.test_verbs import make_instance, make_layer, make_stack
from tests.helpers import ok_json


@pytest.fixture
def boot(aws, invoke):
    ok_json(invoke("bootstrap"))
    return aws


def launched(aws, invoke, instance_id: str) -> dict:
    ok_json(invoke("start-instance", "--instance-id", instance_id))
    (inst,) = ok_json(invoke("describe-instances", "--instance-ids", instance_id))["Instances"]
    reservations = aws.client("ec2").describe_instances(InstanceIds=[inst["Ec2InstanceId"]])
    return reservations["Reservations"][0]["Instances"][0]


def test_ebs_optimized_and_public_ip_settings_reach_run_instances(boot, invoke):
    stack_id = make_stack(invoke)
    plain = make_layer(invoke, stack_id, "plain")
    private = make_layer(
        invoke, stack_id, "private", "--no-auto-assign-public-ips", "--use-ebs-optimized-instances"
    )
    default = launched(boot, invoke, make_instance(invoke, stack_id, plain))
    assert default["EbsOptimized"] is False and default.get("PublicIpAddress")
    quiet = launched(boot, invoke, make_instance(invoke, stack_id, private))
    assert quiet["EbsOptimized"] is True
    assert not quiet.get("PublicIpAddress")
    own = launched(boot, invoke, make_instance(invoke, stack_id, plain, extra=("--ebs-optimized",)))
    assert own["EbsOptimized"] is True


def test_protected_values_live_in_parameter_store_only(boot, invoke, tmp_path):
    stack_id = make_stack(invoke)
    layer_id = make_layer(
        invoke,
        stack_id,
        "db",
        "--attributes",
        "MysqlRootPassword=r00tpw,MysqlRootPasswordUbiquitous=true",
    )
    ssl = tmp_path / "ssl.json"
    ssl.write_text(json.dumps({"Certificate": "CERT", "PrivateKey": "PRIVATEKEY"}))
    app_id = ok_json(
        invoke(
            "create-app",
            "--stack-id",
            stack_id,
            "--name",
            "web",
            "--enable-ssl",
            "--ssl-configuration",
            f"file://{ssl}",
        )
    )["AppId"]
    (layer,) = ok_json(invoke("describe-layers", "--layer-ids", layer_id))["Layers"]
    assert layer["Attributes"] == {
        "MysqlRootPassword": "*****FILTERED*****",
        "MysqlRootPasswordUbiquitous": "true",
    }
    (app,) = ok_json(invoke("describe-apps", "--app-ids", app_id))["Apps"]
    assert app["SslConfiguration"] == {"Certificate": "CERT", "PrivateKey": "*****FILTERED*****"}
    items = json.dumps(boot.client("dynamodb").scan(TableName="stackops-state")["Items"])
    assert "r00tpw" not in items and "PRIVATEKEY" not in items
    ssm = boot.client("ssm")

    def param(name: str) -> str:
        return ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]

    assert param(f"/stackops/secrets/layers/{layer_id}/attributes/MysqlRootPassword") == "r00tpw"
    assert param(f"/stackops/secrets/apps/{app_id}/ssl/private_key") == "PRIVATEKEY"
    ok_json(invoke("delete-layer", "--layer-id", layer_id))
    left = ssm.get_parameters_by_path(Path="/stackops/secrets/layers", Recursive=True)
    assert left["Parameters"] == []


def test_a_stack_file_with_secrets_applies_once_then_no_changes(boot, invoke, tmp_path):
    boot.client("ssm").put_parameter(
        Name="/shop/db/password", Value="from-ssm", Type="SecureString"
    )
    path = tmp_path / "shop.yaml"
    path.write_text(
        "stack: {name: shop}\n"
        "layers:\n"
        "  - shortname: db\n"
        "    type: custom\n"
        "    name: DB\n"
        "    attributes: {MysqlRootPassword: r00tpw}\n"
        "apps:\n"
        "  - shortname: web\n"
        "    name: Web\n"
        "    enable_ssl: true\n"
        "    ssl_configuration: {certificate: CERT, private_key: KEY}\n"
        "    environment:\n"
        "      - {key: DB_PASSWORD, value: {ssm: /shop/db/password}, secure: true}\n"
    )
    ok_json(invoke("apply", "-f", str(path)))
    again = invoke("apply", "-f", str(path), "--dry-run")
    assert again.exit_code == 0 and "No changes" in again.output, again.output
    (app,) = ok_json(
        invoke(
            "describe-apps",
            "--stack-id",
            ok_json(invoke("describe-stacks"))["Stacks"][0]["StackId"],
        )
    )["Apps"]
    assert app["Environment"] == [
        {"Key": "DB_PASSWORD", "Value": "*****FILTERED*****", "Secure": True}
    ]
    path.write_text(path.read_text().replace("r00tpw", "newpw").replace("KEY}", "KEY2}"))
    changed = invoke("apply", "-f", str(path), "--dry-run")
    assert "~ layer db: attributes (secret changed)" in changed.output
    assert "~ app web: ssl_configuration (secret changed)" in changed.output
    assert "newpw" not in changed.output and "KEY2" not in changed.output
    not_secure = path.read_text().replace("secure: true", "secure: false")
    path.write_text(not_secure)
    refused = invoke("apply", "-f", str(path), "--dry-run")
    assert refused.exit_code == 2 and "needs secure: true" in refused.stderr
