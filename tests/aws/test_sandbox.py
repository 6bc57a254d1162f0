"""`stackops sandbox`: a real moto server in the background, on a free port."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from stackops.config import SANDBOX_PORT, SandboxInfo
from stackops.errors import Conflict
from stackops.sandbox import (
    find_free_port,
    port_is_free,
    reset_sandbox,
    sandbox_status,
    start_sandbox,
    stop_sandbox,
)


def stackops(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI as its own process with `home` as the state folder."""
    env = {**os.environ, "STACKOPS_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "stackops.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    """A state folder whose sandbox, if any, is always stopped afterwards."""
    try:
        yield tmp_path
    finally:
        stop_sandbox(tmp_path)


@pytest.mark.server
def test_up_status_bootstrap_down_through_the_cli(home):
    port = find_free_port()
    endpoint = f"http://127.0.0.1:{port}"

    up = stackops(home, "sandbox", "up", "--port", str(port))
    assert up.returncode == 0, up.stderr
    first = json.loads(up.stdout)
    assert first["Status"] == "running" and first["Endpoint"] == endpoint

    again = stackops(home, "sandbox", "up", "--port", str(port))
    assert again.returncode == 0, again.stderr
    assert "already running" in again.stderr
    assert json.loads(again.stdout)["Pid"] == first["Pid"]

    status = stackops(home, "--output", "json", "sandbox", "status")
    assert json.loads(status.stdout) == {
        "Status": "running",
        "Endpoint": endpoint,
        "Pid": first["Pid"],
        "Log": str(home / "sandbox.log"),
    }

    boot = stackops(home, "bootstrap")
    assert boot.returncode == 0, boot.stderr
    assert f"target: sandbox {endpoint} " in boot.stderr
    assert len(json.loads(boot.stdout)["Steps"]) == 16
    sqs = boto3.client(
        "sqs",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    assert any(u.endswith("/stackops-lifecycle") for u in sqs.list_queues()["QueueUrls"])
    reset_sandbox(endpoint)
    assert "QueueUrls" not in sqs.list_queues()

    down = stackops(home, "sandbox", "down")
    assert down.returncode == 0, down.stderr
    assert json.loads(down.stdout)["Status"] == "stopped"
    assert not SandboxInfo.path(home).exists()
    stopped = stackops(home, "--output", "table", "sandbox", "status")
    assert "stopped" in stopped.stdout
    assert "sandbox was not running" in stackops(home, "sandbox", "down").stderr


@pytest.mark.server
def test_start_and_stop_through_the_api(home):
    info = start_sandbox(home, find_free_port())
    assert start_sandbox(home, find_free_port()) == info  # already up: same server
    assert sandbox_status(home).running
    assert stop_sandbox(home) is True
    assert not sandbox_status(home).running
    assert stop_sandbox(home) is False


def test_port_taken_by_another_process_is_a_clear_error(home, invoke):
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        assert not port_is_free("127.0.0.1", port)
        with pytest.raises(Conflict, match=f"port {port} .* already in use"):
            start_sandbox(home, port)
        result = invoke("sandbox", "up", "--port", str(port))
    assert result.exit_code == 1
    assert "already in use" in result.stderr
    assert not SandboxInfo.path(home).exists()


def test_stale_record_reads_as_stopped_and_down_clears_it(home, invoke, monkeypatch):
    monkeypatch.setenv("STACKOPS_HOME", str(home))
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    SandboxInfo(int(dead.stdout), "http://127.0.0.1:1", "us-east-1").write(home)
    assert json.loads(invoke("sandbox", "status").stdout)["Status"] == "stopped"
    result = invoke("sandbox", "down")
    assert result.exit_code == 0 and "not running" in result.stderr
    assert not SandboxInfo.path(home).exists()


def test_free_port_is_never_the_default():
    port = find_free_port()
    assert port != SANDBOX_PORT and port_is_free("127.0.0.1", port)


def test_two_sandboxes_never_share_node_ports(tmp_path):
    """A running sandbox holds its node port block: one whose port falls in the same block
    is refused, naming the first; a free port is never picked in a held block."""
    from stackops.nodes import PORT_BLOCKS, port_block, port_block_free

    first_home, second_home = tmp_path / "one", tmp_path / "two"
    first = start_sandbox(first_home, find_free_port())
    try:
        port = int(first.endpoint_url.rsplit(":", 1)[1])
        assert not port_block_free(port)
        same_block = next(
            p for p in range(port + PORT_BLOCKS, 65000, PORT_BLOCKS) if port_is_free("127.0.0.1", p)
        )
        with pytest.raises(Conflict, match=f"port {port} .pid {first.pid}."):
            start_sandbox(second_home, same_block)
        assert not SandboxInfo.path(second_home).exists()
        held = port_block(first.endpoint_url)
        assert all(port_block(f"http://127.0.0.1:{find_free_port()}") != held for _ in range(30))
    finally:
        stop_sandbox(first_home)
    assert port_block_free(port)
    start_sandbox(second_home, same_block)
    stop_sandbox(second_home)
