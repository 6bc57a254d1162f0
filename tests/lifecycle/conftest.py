"""A stack on moto in-process, its nodes converged by the local executor under tmp."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from stackops.config import state_home
from tests.helpers import ok_json

ROOT = Path(__file__).resolve().parents[2]


def free_port_base(span: int = 400) -> int:
    """A base port with `span` free ports above it (nodes serve at base + offset)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + span < 65000:
            return base
    raise RuntimeError("no free port range")


@dataclass
class StackEnv:
    """A bootstrapped stack and the CLI to drive it."""

    invoke: Any
    aws: Any
    port_base: int
    stack_id: str = ""

    def run(self, *args: str) -> Any:
        return ok_json(self.invoke(*args))

    def apply(self, text: str, tmp: Path) -> str:
        path = tmp / "stack.yaml"
        path.write_text(text.replace("PORT_BASE", str(self.port_base)))
        self.stack_id = self.run("apply", "-f", str(path))["StackId"]
        return self.stack_id

    def instances(self) -> dict[str, dict[str, Any]]:
        found = self.run("describe-instances", "--stack-id", self.stack_id)["Instances"]
        return {i["Hostname"]: i for i in found}

    def start(self, *hostnames: str) -> None:
        ids = self.instances()
        for host in hostnames:
            self.run("start-instance", "--instance-id", ids[host]["InstanceId"])

    def stop(self, hostname: str, *extra: str) -> None:
        self.run("stop-instance", "--instance-id", self.instances()[hostname]["InstanceId"], *extra)

    def watch(self) -> Any:
        return self.run("watch", "--once")

    def dispatch(self) -> dict[str, Any]:
        return self.run("dispatch", "--drain", "--executor", "local")

    def commands(self, hostname: str) -> list[dict[str, Any]]:
        instance_id = self.instances()[hostname]["InstanceId"]
        return self.run("describe-commands", "--instance-id", instance_id)["Commands"]

    def node(self, hostname: str) -> Path:
        return state_home() / "nodes" / self.instances()[hostname]["Ec2InstanceId"]


@pytest.fixture
def stack_env(aws, invoke, monkeypatch) -> Iterator[StackEnv]:
    """Bootstrapped moto, cwd at the project (the demo's archive path), services cleaned up."""
    monkeypatch.chdir(ROOT)
    ok_json(invoke("bootstrap"))
    env = StackEnv(invoke, aws, free_port_base())
    try:
        yield env
    finally:
        stop_services(state_home() / "nodes")


def moto_services() -> Any:
    """The parts the dispatcher works with, on moto in-process (account 123456789012)."""
    from stackops.aws.session import AwsSession
    from stackops.config import Target
    from stackops.naming import ResourceNames
    from stackops.services import Services

    return Services(AwsSession(Target("account", "us-east-1")), ResourceNames("stackops"))


def stop_services(nodes: Path) -> None:
    """End every process a recipe started under the node roots (keepers and services)."""
    from stackops.nodes import end_nodes

    end_nodes(nodes, grace=1.0)
