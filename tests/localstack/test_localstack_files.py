"""localstack/: the compose file's contract, and the ready hook run against the sandbox.

LocalStack needs Docker, which these machines lack; its API is the sandbox's, so
the hook is run here against the embedded sandbox.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
import yaml

from stackops.aws.iam_policy import declared_actions
from stackops.sandbox import find_free_port, start_sandbox, stop_sandbox

ROOT = Path(__file__).resolve().parents[2]
HOOK = ROOT / "localstack/init/ready.d/10-stackops-bootstrap.sh"
# IAM service prefix -> LocalStack's service name, where they differ
LOCALSTACK_NAMES = {"elasticloadbalancing": "elbv2"}


def test_the_compose_file_pins_localstack_and_serves_what_stackops_calls():
    compose = yaml.safe_load((ROOT / "localstack/docker-compose.yml").read_text())
    service = compose["services"]["localstack"]
    image, _, tag = service["image"].partition(":")
    assert image == "localstack/localstack" and tag and tag != "latest"
    assert service["ports"] == ["127.0.0.1:4566:4566"]
    enabled = set(service["environment"]["SERVICES"].split(","))
    called = {a.partition(":")[0] for a in declared_actions()}
    assert {LOCALSTACK_NAMES.get(s, s) for s in called} | {"sts"} <= enabled
    mounts = {v.split(":")[1] for v in service["volumes"]}
    assert "/etc/localstack/init/ready.d" in mounts and "/opt/stackops" in mounts
    assert os.access(HOOK, os.X_OK)


@pytest.mark.server
def test_the_ready_hook_bootstraps_the_endpoint_and_runs_again_harmlessly(tmp_path):
    home = tmp_path / "home"
    info = start_sandbox(home, find_free_port())
    try:
        # As in the container: no stackops on PATH, a venv the hook made on a first start.
        venv_bin = tmp_path / "venv/bin"
        venv_bin.mkdir(parents=True)
        shim = venv_bin / "stackops"
        shim.write_text(f'#!/bin/sh\nexec {sys.executable} -m stackops "$@"\n')
        shim.chmod(0o755)
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "STACKOPS_HOME": str(tmp_path / "state"),
            "STACKOPS_VENV": str(tmp_path / "venv"),
            "STACKOPS_ENDPOINT": info.endpoint_url,
            "STACKOPS_NAMESPACE": "ls",
            "PYTHONPATH": str(ROOT),
        }
        first = subprocess.run(["sh", str(HOOK)], env=env, capture_output=True, text=True)
        assert first.returncode == 0, first.stderr + first.stdout
        assert f"target: endpoint {info.endpoint_url} (region us-east-1)" in first.stderr
        assert "stackops: ready on" in first.stdout
        kwargs = {"endpoint_url": info.endpoint_url, "region_name": "us-east-1"}
        assert boto3.client("dynamodb", **kwargs).list_tables()["TableNames"] == ["ls-state"]
        rules = boto3.client("events", **kwargs).list_rules()["Rules"]
        assert [r["Name"] for r in rules] == ["ls-instance-events"]
        boto3.client("iam", **kwargs).get_instance_profile(InstanceProfileName="ls-instance")
        again = subprocess.run(["sh", str(HOOK)], env=env, capture_output=True, text=True)
        assert again.returncode == 0 and "nothing to do, namespace ls" in again.stderr
    finally:
        stop_sandbox(home)


def test_make_localstack_test_says_when_nothing_answers(tmp_path):
    url = f"http://127.0.0.1:{find_free_port()}"
    done = subprocess.run(
        ["make", "-s", "localstack-test", f"LOCALSTACK_URL={url}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert f"no LocalStack at {url}: docker compose -f localstack/docker-compose.yml up -d" in (
        done.stdout + done.stderr
    )
