"""A stack on moto in-process, its nodes converged by the local executor under tmp."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from stackops.config import state_home
from tests.helpers import ok_json

ROOT = Path(__file__).resolve().parents[2]


def free_port_base(span: int = 400) -> int:
    """A base port with `span` free ports above it (nodes serve at base + offset).

    Bases lie in 2000-8000, split between xdist workers: below the ephemeral range
    (where clients' own ports come from) and below the sandbox nodes' ports (8000 and
    up), so tests running side by side never serve on one another's ports."""
    import random

    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    workers = max(1, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))
    width = 6000 // workers
    low = 2000 + (worker % workers) * width
    for _ in range(50):
        base = random.randrange(low, max(low + 1, low + width - span))
        if all(_bindable(port) for port in range(base, base + span)):
            return base
    raise RuntimeError(f"no {span} free ports between {low} and {low + width}")


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        # as the nodes' servers bind: a port in TIME_WAIT after an earlier test is free
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


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


def moto_services(clock: Any = None) -> Any:
    """The parts the dispatcher works with, on moto in-process (account 123456789012);
    `clock` (a callable giving an aware datetime) replaces the real one."""
    from stackops.aws.session import AwsSession
    from stackops.config import Target
    from stackops.naming import ResourceNames
    from stackops.services import Services

    session = AwsSession(Target("account", "us-east-1"))
    if clock is None:
        return Services(session, ResourceNames("stackops"))
    return Services(session, ResourceNames("stackops"), clock)


@dataclass
class Clock:
    """A clock a test moves by hand; it starts at the real time (moto's clock goes on)."""

    offset: float = 0.0

    def __call__(self) -> Any:
        from datetime import UTC, datetime, timedelta

        return datetime.now(UTC) + timedelta(seconds=self.offset)

    def advance(self, seconds: float) -> None:
        self.offset += seconds


def stop_services(nodes: Path) -> None:
    """End every process a recipe started under the node roots (keepers and services)."""
    from stackops.nodes import end_nodes

    end_nodes(nodes, grace=1.0)


def make_dispatcher(cookbooks: Path | None = None, **settings: Any) -> Any:
    """A dispatcher on moto in-process, with the local executor and the sandbox's nodes.

    Busy work is retried at once (`retry_busy_seconds=0`); settings override."""
    from stackops.lifecycle.activities import RunSettings
    from stackops.lifecycle.dispatcher import Dispatcher, DispatchSettings
    from stackops.lifecycle.runtime import make_executor

    svc = settings.pop("services", None) or moto_services()
    paths = (str(cookbooks),) if cookbooks else ()
    run = RunSettings(
        cookbook_paths=(*paths, str(ROOT / "recipes")),
        nodes_root=state_home() / "nodes",
        sandbox=True,
    )
    autoscaling = settings.pop("autoscaling", None)
    options = {"retry_busy_seconds": 0, **settings}
    return Dispatcher(
        svc,
        DispatchSettings(run=run, **options),
        make_executor(svc, "local"),
        autoscaling=autoscaling,
    )


def queue_url(name: str = "stackops-lifecycle") -> str:
    import boto3

    return boto3.client("sqs", region_name="us-east-1").get_queue_url(QueueName=name)["QueueUrl"]


def send(body: str) -> None:
    """Put one body on the lifecycle queue, as EventBridge or a verb would."""
    import boto3

    boto3.client("sqs", region_name="us-east-1").send_message(
        QueueUrl=queue_url(), MessageBody=body
    )


def state_event(ec2_id: str, state: str, event_id: str) -> str:
    """An EC2 state-change event as EventBridge delivers it."""
    return json.dumps(
        {
            "version": "0",
            "id": event_id,
            "source": "aws.ec2",
            "detail-type": "EC2 Instance State-change Notification",
            "time": "2026-11-28T17:00:00Z",
            "region": "us-east-1",
            "resources": [],
            "detail": {"instance-id": ec2_id, "state": state},
        }
    )


def queue_depth(name: str = "stackops-lifecycle") -> tuple[int, int]:
    """(visible, in flight) messages of a queue."""
    import boto3

    attributes = boto3.client("sqs", region_name="us-east-1").get_queue_attributes(
        QueueUrl=queue_url(name), AttributeNames=["All"]
    )["Attributes"]
    return (
        int(attributes["ApproximateNumberOfMessages"]),
        int(attributes["ApproximateNumberOfMessagesNotVisible"]),
    )


def small_stack(name: str, *hosts: str, layer: str = "") -> str:
    """A stack file: one custom layer `app` (with `layer` lines added), built-in recipes,
    and one instance per hostname in it."""
    lines = [
        "stack:",
        f"  name: {name}",
        "  custom_json: {web: {port_base: PORT_BASE}}",
        "layers:",
        "  - shortname: app",
        "    type: custom",
        *(f"    {line}" for line in layer.splitlines() if line),
        "instances:",
        *(f"  - {{hostname: {h}, layers: [app], instance_type: t3.micro}}" for h in hosts),
    ]
    return "\n".join(lines) + "\n"


def lifecycle_action_event(
    ec2_id: str, token: str, event_id: str, transition: str = "LAUNCHING", **extra: str
) -> str:
    """An Auto Scaling lifecycle action as EventBridge delivers it (group `shop-app`)."""
    kind = "launch" if transition == "LAUNCHING" else "terminate"
    return json.dumps(
        {
            "version": "0",
            "id": event_id,
            "source": "aws.autoscaling",
            "detail-type": f"EC2 Instance-{kind} Lifecycle Action",
            "time": "2026-11-28T17:00:00Z",
            "region": "us-east-1",
            "resources": [],
            "detail": {
                "LifecycleActionToken": token,
                "AutoScalingGroupName": "shop-app",
                "LifecycleHookName": f"stackops-{kind}",
                "EC2InstanceId": ec2_id,
                "LifecycleTransition": f"autoscaling:EC2_INSTANCE_{transition}",
                **extra,
            },
        }
    )


@dataclass
class FakeAutoScaling:
    """CompleteLifecycleAction as Auto Scaling answers it (moto lacks it): records each
    call, and raises the `failures` given, one per call, first."""

    failures: list[Exception] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)

    def complete(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)
        if self.failures:
            raise self.failures.pop(0)
