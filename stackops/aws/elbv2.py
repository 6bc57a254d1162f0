"""ELBv2 adapter: take instances out of a layer's target group while they deploy (the
dispatcher) or leave their layers (the operator's unassign-instance, deregister-instance)."""

from __future__ import annotations

from collections.abc import Sequence

from stackops.aws.roles import DISPATCHER, OPERATOR, calls
from stackops.aws.session import AwsSession, aws_errors


class TargetGroups:
    """Register and deregister EC2 instances in target groups."""

    def __init__(self, session: AwsSession) -> None:
        self._client = session.client("elbv2")

    @calls("elasticloadbalancing:DeregisterTargets", roles=(OPERATOR, DISPATCHER))
    def deregister(self, target_group_arn: str, ec2_instance_ids: Sequence[str]) -> None:
        """Take the instances out (those not registered are left alone)."""
        registered = self.health(target_group_arn)
        present = [i for i in ec2_instance_ids if i in registered]
        if not present:
            return
        with aws_errors("elasticloadbalancing:DeregisterTargets"):
            self._client.deregister_targets(
                TargetGroupArn=target_group_arn, Targets=[{"Id": i} for i in present]
            )

    @calls("elasticloadbalancing:RegisterTargets", roles=(DISPATCHER,))
    def register(self, target_group_arn: str, ec2_instance_ids: Sequence[str]) -> None:
        if not ec2_instance_ids:
            return
        with aws_errors("elasticloadbalancing:RegisterTargets"):
            self._client.register_targets(
                TargetGroupArn=target_group_arn,
                Targets=[{"Id": i} for i in ec2_instance_ids],
            )

    @calls("elasticloadbalancing:DescribeTargetHealth", roles=(OPERATOR, DISPATCHER))
    def health(self, target_group_arn: str) -> dict[str, str]:
        """EC2 instance id -> target state (healthy, unused, draining, ...)."""
        with aws_errors("elasticloadbalancing:DescribeTargetHealth"):
            resp = self._client.describe_target_health(TargetGroupArn=target_group_arn)
        return {
            d["Target"]["Id"]: d["TargetHealth"]["State"]
            for d in resp.get("TargetHealthDescriptions", [])
        }
