"""The sandbox's SSM agent: commands sent to an instance run on its node folder."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from stackops.sandbox import find_free_port, start_sandbox, stop_sandbox

pytestmark = pytest.mark.server


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[tuple[Path, Any, Any]]:
    home = tmp_path / "home"
    info = start_sandbox(home, find_free_port())
    try:
        kwargs = {"endpoint_url": info.endpoint_url, "region_name": "us-east-1"}
        yield home, boto3.client("ssm", **kwargs), boto3.client("ec2", **kwargs)
    finally:
        stop_sandbox(home)


def launch(ec2: Any, count: int = 1) -> list[str]:
    found = ec2.run_instances(ImageId="ami-12345678", MinCount=count, MaxCount=count)
    return [i["InstanceId"] for i in found["Instances"]]


def send(ssm: Any, instance: str, commands: list[str], timeout: int = 60) -> str:
    resp = ssm.send_command(
        InstanceIds=[instance],
        DocumentName="AWS-RunShellScript",
        Parameters={"commands": commands, "executionTimeout": [str(timeout)]},
    )
    return resp["Command"]["CommandId"]


def wait(ssm: Any, command_id: str, instance: str, limit: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + limit
    seen = set()
    while True:
        found = ssm.get_command_invocation(CommandId=command_id, InstanceId=instance)
        seen.add(found["Status"])
        if found["Status"] not in ("Pending", "InProgress"):
            found["Seen"] = seen
            return found
        assert time.monotonic() < deadline, f"still {found['Status']}"
        time.sleep(0.05)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text()


def test_a_command_runs_on_its_node_only_and_reports_as_ssm_does(sandbox):
    home, ssm, ec2 = sandbox
    first, second = launch(ec2, 2)
    command_id = send(
        ssm,
        first,
        [
            'echo "root=$STACKOPS_AGENT_ROOT"',
            'touch "$STACKOPS_AGENT_ROOT/marker"',
            "echo oops >&2",
            "stackops --version",
            "exit 3",
        ],
    )
    done = wait(ssm, command_id, first)
    assert (done["Status"], done["StatusDetails"], done["ResponseCode"]) == ("Failed", "Failed", 3)
    assert f"root={home / 'nodes' / first}" in done["StandardOutputContent"]
    assert "stackops, version" in done["StandardOutputContent"]  # stackops is on PATH
    assert done["StandardErrorContent"].strip() == "oops"
    assert (home / "nodes" / first / "marker").exists()
    assert not (home / "nodes" / second / "marker").exists()
    with pytest.raises(ssm.exceptions.InvocationDoesNotExist):
        ssm.get_command_invocation(CommandId=command_id, InstanceId=second)
    ok = wait(ssm, send(ssm, second, ["true"]), second)
    assert (ok["Status"], ok["ResponseCode"]) == ("Success", 0)


def test_a_run_is_killed_at_its_timeout_and_a_cancel_stops_one(sandbox, tmp_path):
    _, ssm, ec2 = sandbox
    (instance,) = launch(ec2)
    pid_file = tmp_path / "pid"
    slow = [f"echo $$ > {pid_file}", "exec sleep 60"]
    timed = wait(ssm, send(ssm, instance, slow, timeout=1), instance)
    assert (timed["Status"], timed["StatusDetails"]) == ("TimedOut", "ExecutionTimedOut")
    assert not alive(int(pid_file.read_text()))

    other = tmp_path / "other-pid"
    command_id = send(ssm, instance, [f"echo $$ > {other}", "exec sleep 60"])
    deadline = time.monotonic() + 30
    while not other.exists() or not other.read_text().strip():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    ssm.cancel_command(CommandId=command_id, InstanceIds=[instance])
    cancelled = wait(ssm, command_id, instance)
    assert cancelled["Status"] == "Cancelled"
    assert not alive(int(other.read_text()))


def test_a_stopped_instance_gets_nothing_delivered(sandbox):
    _, ssm, ec2 = sandbox
    (instance,) = launch(ec2)
    ec2.stop_instances(InstanceIds=[instance])
    done = wait(ssm, send(ssm, instance, ["touch marker"]), instance)
    assert (done["Status"], done["StatusDetails"]) == ("TimedOut", "DeliveryTimedOut")


def test_sandbox_down_ends_the_runs_in_progress(tmp_path):
    home = tmp_path / "home"
    info = start_sandbox(home, find_free_port())
    try:
        ssm = boto3.client("ssm", endpoint_url=info.endpoint_url, region_name="us-east-1")
        ec2 = boto3.client("ec2", endpoint_url=info.endpoint_url, region_name="us-east-1")
        (instance,) = launch(ec2)
        pid_file = tmp_path / "pid"
        send(ssm, instance, [f"echo $$ > {pid_file}", "exec sleep 60"])
        deadline = time.monotonic() + 30
        while not pid_file.exists() or not pid_file.read_text().strip():
            assert time.monotonic() < deadline
            time.sleep(0.05)
        pid = int(pid_file.read_text())
        assert alive(pid)
    finally:
        stop_sandbox(home)
    assert not alive(pid)
