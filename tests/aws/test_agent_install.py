"""The agent on the instance: its wheels in the bucket, UserData and the instance profile."""

from __future__ import annotations

import base64
import json
import subprocess
import zipfile
from pathlib import Path

import pytest

from stackops.agent_bundle import Wheel, lambda_zip, read_bundle
from stackops.agent_install import render_user_data
from stackops.errors import InvalidInput
from tests.aws.wheels import agent_wheels, make_wheel
from tests.helpers import ok_json

ACCOUNT = "123456789012"
BUCKET = f"stackops-artifacts-{ACCOUNT}-us-east-1"


def keys(aws, prefix: str = "") -> list[str]:
    found = aws.client("s3").list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
    return sorted(o["Key"] for o in found)


def test_a_bundle_needs_stackops_and_every_dependency(tmp_path):
    folder = agent_wheels(tmp_path / "ok")
    bundle = read_bundle(folder)
    assert bundle.version == "0.1.0"
    manifest = json.loads(bundle.manifest())
    assert manifest["version"] == "0.1.0"
    assert {f["name"] for f in manifest["files"]} == {p.name for p in folder.glob("*.whl")}
    (folder / "click-1.0-py3-none-any.whl").unlink()
    with pytest.raises(InvalidInput, match="no wheel of click, which stackops requires"):
        read_bundle(folder)
    with pytest.raises(InvalidInput, match="expected one stackops wheel, found 0"):
        read_bundle(tmp_path)


@pytest.mark.parametrize(
    ("tag", "python", "fits"),
    [
        ("py3-none-any", "3.12", True),
        ("cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64", "3.12", True),
        ("cp312-cp312-manylinux_2_17_x86_64", "3.11", False),
        ("cp311-cp311-manylinux2014_aarch64", "3.11", False),  # x86_64 wanted
        ("cp37-abi3-manylinux2014_x86_64", "3.12", True),
        ("cp312-cp312-win_amd64", "3.12", False),
        ("cp312-cp312-musllinux_1_1_x86_64", "3.12", False),
    ],
)
def test_wheel_tags_say_where_it_installs(tmp_path, tag, python, fits):
    wheel = Wheel.read(make_wheel(tmp_path, "thing", "1.0", tag=tag))
    assert wheel.fits(python, "x86_64") is fits


def test_the_lambda_package_is_every_wheel_for_python312_unpacked_and_always_the_same(tmp_path):
    bundle = read_bundle(agent_wheels(tmp_path / "w"))
    package = lambda_zip(bundle)
    assert lambda_zip(bundle) == package
    with zipfile.ZipFile(__import__("io").BytesIO(package)) as z:
        names = set(z.namelist())
    assert "stackops/__init__.py" in names
    assert "click_pkg/__init__.py" in names
    assert "pydantic_core-2.0.dist-info/WHEEL" in names
    wheel_tags = z_tags(package, "pydantic_core-2.0.dist-info/WHEEL")
    assert "cp312" in wheel_tags  # the 3.12 build, not the 3.11 one
    for p in (tmp_path / "w").glob("pydantic_core-*cp312*"):
        p.unlink()
    make_wheel(tmp_path / "w", "pydantic", "1.0", requires=("pydantic-core>=2",))
    read_bundle(tmp_path / "w")  # a 3.11 build is there: instances can install it
    with pytest.raises(InvalidInput, match=r"no wheel of pydantic-core for Lambda \(CPython 3\.12"):
        lambda_zip(read_bundle(tmp_path / "w"))


def z_tags(package: bytes, member: str) -> str:
    import io

    with zipfile.ZipFile(io.BytesIO(package)) as z:
        return z.read(member).decode()


def test_bootstrap_uploads_the_agent_once_and_again_when_it_changes(aws, invoke, tmp_path):
    folder = agent_wheels(tmp_path / "wheels")
    out = ok_json(invoke("bootstrap", "--agent-wheels", str(folder)))
    assert out["AgentVersion"] == "0.1.0"
    wheels = sorted(f"agent/0.1.0/{p.name}" for p in folder.glob("*.whl"))
    assert keys(aws, "agent/") == sorted(
        [*wheels, "agent/0.1.0/manifest.json", "agent/latest.json"]
    )
    s3 = aws.client("s3")
    latest = json.loads(s3.get_object(Bucket=BUCKET, Key="agent/latest.json")["Body"].read())
    assert latest == {"version": "0.1.0"}
    assert ok_json(invoke("bootstrap", "--agent-wheels", str(folder)))["Steps"] == []
    make_wheel(folder, "click", "1.0", files={"click_pkg/__init__.py": "VERSION = 2\n"})
    again = ok_json(invoke("bootstrap", "--agent-wheels", str(folder)))
    assert [s["Step"] for s in again["Steps"]] == ["UploadAgent"]
    bad = invoke("bootstrap", "--agent-wheels", str(tmp_path / "none"))
    assert bad.exit_code == 2 and "no such folder" in bad.stderr


def test_build_agent_in_a_dry_run_says_what_it_would_do(aws, invoke):
    result = invoke("bootstrap", "--build-agent", "--dry-run")
    out = ok_json(result)
    assert out["Steps"][0]["Step"] == "BuildAgentWheels"
    assert "would build the agent's wheels into" in result.stderr
    assert keys_or_none(aws) is None


def keys_or_none(aws):
    buckets = aws.client("s3").list_buckets()["Buckets"]
    return buckets or None


def test_build_commands_name_every_python_and_platform(tmp_path):
    from stackops.agent_bundle import build_commands

    (first,) = build_commands(tmp_path, None, python="py")
    assert first[:4] == ["py", "-m", "pip", "wheel"] and "--no-deps" in first
    downloads = build_commands(tmp_path, tmp_path / "stackops-0.1.0-py3-none-any.whl", "py")
    pairs = {(c[c.index("--python-version") + 1], c[c.index("--platform") + 1]) for c in downloads}
    assert pairs == {
        (v, p) for v in ("3.11", "3.12") for p in ("manylinux2014_x86_64", "manylinux2014_aarch64")
    }
    assert all("--only-binary=:all:" in c for c in downloads)


STACK = """\
stack:
  name: shop
  default_ami_id: ami-12345678
  OPTIONS
layers:
  - {shortname: app, type: custom}
instances:
  - {hostname: app1, layers: [app], instance_type: t3.micro}
  - {hostname: ubuntu1, layers: [app], instance_type: t3.micro,
     os: Ubuntu 22.04 LTS, ami_id: ami-87654321}
"""


def launch(invoke, tmp_path, options: str = "") -> dict[str, str]:
    path = tmp_path / "stack.yaml"
    path.write_text(STACK.replace("OPTIONS", options))
    stack_id = ok_json(invoke("apply", "-f", str(path)))["StackId"]
    found = ok_json(invoke("describe-instances", "--stack-id", stack_id))["Instances"]
    return {i["Hostname"]: i["InstanceId"] for i in found}


def user_data(aws, ec2_instance_id: str) -> str:
    attribute = aws.client("ec2").describe_instance_attribute(
        InstanceId=ec2_instance_id, Attribute="userData"
    )
    return base64.b64decode(attribute["UserData"]["Value"]).decode()


def test_start_instance_launches_with_the_agent_and_the_instance_profile(aws, invoke, tmp_path):
    ok_json(invoke("bootstrap", "--agent-wheels", str(agent_wheels(tmp_path / "w"))))
    ids = launch(invoke, tmp_path)
    for host in ("app1", "ubuntu1"):
        ok_json(invoke("start-instance", "--instance-id", ids[host]))
    found = {
        i["Hostname"]: i
        for i in ok_json(invoke("describe-instances", "--instance-ids", *ids.values()))["Instances"]
    }
    ec2 = aws.client("ec2").describe_instances(InstanceIds=[found["app1"]["Ec2InstanceId"]])[
        "Reservations"
    ][0]["Instances"][0]
    assert ec2["IamInstanceProfile"]["Arn"] == (
        f"arn:aws:iam::{ACCOUNT}:instance-profile/stackops-instance"
    )
    al2023 = user_data(aws, found["app1"]["Ec2InstanceId"])
    assert al2023.startswith("#!/bin/bash\n")
    assert "dnf install -y -q python3.11 python3.11-pip" in al2023
    assert f"--bucket {BUCKET} --region us-east-1 --prefix agent/0.1.0/" in al2023
    assert "--no-index --find-links /opt/stackops/wheels stackops==0.1.0" in al2023
    assert "def signed_headers(" in al2023  # the downloader travels inside
    ubuntu = user_data(aws, found["ubuntu1"]["Ec2InstanceId"])
    assert "apt-get install -y -q python3.11 python3.11-venv" in ubuntu
    assert "dnf" not in ubuntu


def test_agent_version_pins_the_agent_and_an_unknown_one_is_refused(aws, invoke, tmp_path):
    ok_json(invoke("bootstrap", "--agent-wheels", str(agent_wheels(tmp_path / "a", "0.1.0"))))
    ok_json(invoke("bootstrap", "--agent-wheels", str(agent_wheels(tmp_path / "b", "0.2.0"))))
    ids = launch(invoke, tmp_path, "agent_version: 0.1.0")
    ok_json(invoke("start-instance", "--instance-id", ids["app1"]))
    (app1,) = ok_json(invoke("describe-instances", "--instance-ids", ids["app1"]))["Instances"]
    assert "stackops==0.1.0" in user_data(aws, app1["Ec2InstanceId"])
    stack_id = app1["StackId"]
    ok_json(invoke("update-stack", "--stack-id", stack_id, "--agent-version", "9.9"))
    refused = invoke("start-instance", "--instance-id", ids["ubuntu1"])
    assert refused.exit_code == 2
    assert "AgentVersion 9.9 is not in s3://" in refused.stderr
    (ubuntu,) = ok_json(invoke("describe-instances", "--instance-ids", ids["ubuntu1"]))["Instances"]
    assert "Ec2InstanceId" not in ubuntu  # nothing was launched
    ok_json(invoke("update-stack", "--stack-id", stack_id, "--agent-version", "LATEST"))
    ok_json(invoke("start-instance", "--instance-id", ids["ubuntu1"]))
    (ubuntu,) = ok_json(invoke("describe-instances", "--instance-ids", ids["ubuntu1"]))["Instances"]
    assert "stackops==0.2.0" in user_data(aws, ubuntu["Ec2InstanceId"])


def test_amazon_linux_2_cannot_run_the_agent(aws, invoke, tmp_path):
    ok_json(invoke("bootstrap", "--agent-wheels", str(agent_wheels(tmp_path / "w"))))
    ids = launch(invoke, tmp_path, "default_os: Amazon Linux 2")
    result = invoke("start-instance", "--instance-id", ids["app1"])
    assert result.exit_code == 2
    assert "cannot run the stackops agent" in result.stderr


@pytest.mark.parametrize(
    "os_name", ["Amazon Linux 2023", "Ubuntu 22.04 LTS", "Ubuntu 24.04 LTS", "Custom"]
)
def test_user_data_is_valid_bash_within_ec2s_limit(os_name, tmp_path):
    text = render_user_data(os_name=os_name, bucket="b", region="eu-west-1", version="1.2.3")
    script = tmp_path / "ud.sh"
    script.write_text(text)
    subprocess.run(["bash", "-n", str(script)], check=True)
    assert len(text.encode()) < 16 * 1024  # EC2 takes 16 KB of UserData
    assert "export AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-eu-west-1}" in text
    if os_name == "Custom":
        assert 'case "$ID:$VERSION_ID" in' in text and "ubuntu:24.04)" in text


def test_the_embedded_downloader_is_the_module_itself():
    text = render_user_data(os_name="Amazon Linux 2023", bucket="b", region="r", version="1")
    source = (Path(__file__).resolve().parents[2] / "stackops" / "s3get.py").read_text()
    assert source.rstrip("\n") in text
