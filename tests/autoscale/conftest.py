"""A bootstrapped moto with one stack, one layer and instances of each kind, driven by the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from tests.helpers import ok_json
from tests.lifecycle.conftest import stack_env  # noqa: F401 (a fixture the lifecycle test uses)


@dataclass
class Scaling:
    """The CLI on moto, with the stack's ids at hand."""

    invoke: Any
    aws: boto3.session.Session
    stack_id: str = ""
    layer_id: str = ""
    ids: dict[str, str] = field(default_factory=dict)
    services: Any = None

    def run(self, *args: str) -> Any:
        return ok_json(self.invoke(*args))

    def create(self, hostname: str, kind: str | None = None, layer_id: str | None = None) -> str:
        args = ["create-instance", "--stack-id", self.stack_id, "--layer-ids"]
        args += [layer_id or self.layer_id, "--instance-type", "t3.micro", "--hostname", hostname]
        if kind:
            args += ["--auto-scaling-type", kind]
        self.ids[hostname] = self.run(*args)["InstanceId"]
        return self.ids[hostname]

    def round(self, now: datetime | str, *extra: str) -> dict[str, Any]:
        """`stackops autoscale --once --now NOW` as a user runs it."""
        moment = now if isinstance(now, str) else now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return self.run("autoscale", "--once", "--now", moment, *extra)

    def quick_round(self, now: datetime) -> dict[str, Any]:
        """The same round through one long-lived Services, as the `stackops autoscale`
        loop runs them (a CLI call makes its AWS clients anew: ~1 s each on moto)."""
        from stackops.api.autoscaling import autoscale_round

        return autoscale_round(self.services, now)

    def statuses(self) -> dict[str, str]:
        found = self.services.store.contents(self.stack_id).instances
        return {i.hostname: i.status.value for i in found}

    def put_cpu(self, hostname: str, values: dict[datetime, float]) -> None:
        """CPU figures of one instance, put directly in CloudWatch (as a node's agent would)."""
        cloudwatch = self.aws.client("cloudwatch")
        dims = [
            {"Name": "StackId", "Value": self.stack_id},
            {"Name": "LayerId", "Value": self.layer_id},
            {"Name": "InstanceId", "Value": self.ids[hostname]},
        ]
        cloudwatch.put_metric_data(
            Namespace="stackops",
            MetricData=[
                {"MetricName": "CPUUtilization", "Dimensions": dims, "Timestamp": at, "Value": v}
                for at, v in values.items()
            ],
        )

    def settle(self) -> None:
        """Play the dispatcher's part on the records: pending -> online, stopping -> stopped.

        The tests that need the real recipes run the real dispatcher
        (test_autoscale_lifecycle.py); these look at the scaler's decisions.
        """
        from stackops.model.enums import InstanceStatus

        services = self.services
        ec2 = services.session.client("ec2")  # made once (a boto3 ec2 client costs ~0.1 s)
        for instance in services.store.contents(self.stack_id).instances:
            if instance.status in (InstanceStatus.pending, InstanceStatus.requested):
                services.store.put(instance.model_copy(update={"status": InstanceStatus.online}))
            elif instance.status is InstanceStatus.stopping:
                ec2.stop_instances(InstanceIds=[instance.ec2_instance_id])
                services.store.put(instance.model_copy(update={"status": InstanceStatus.stopped}))


@pytest.fixture
def scaling(aws, invoke) -> Iterator[Scaling]:
    """Bootstrapped moto; stack `shop` (with a default AMI) and its layer `app`."""
    ok_json(invoke("bootstrap"))
    from tests.lifecycle.conftest import moto_services

    env = Scaling(invoke, aws, services=moto_services())
    env.stack_id = env.run(
        "create-stack", "--name", "shop", "--default-ami-id", "ami-0123456789abcdef0"
    )["StackId"]
    env.layer_id = env.run(
        "create-layer",
        "--stack-id",
        env.stack_id,
        "--type",
        "custom",
        "--name",
        "app",
        "--shortname",
        "app",
    )["LayerId"]
    yield env
