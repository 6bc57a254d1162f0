"""Auto Scaling adapter: complete a lifecycle action once setup or shutdown is done.

moto lacks complete_lifecycle_action; tests drive this with botocore's Stubber.
"""

from __future__ import annotations

from typing import Literal

from stackops.aws.roles import DISPATCHER, calls
from stackops.aws.session import AwsSession, aws_errors


class AutoScaling:
    """Small Auto Scaling adapter over one session."""

    def __init__(self, session: AwsSession) -> None:
        self.client = session.client("autoscaling")

    @calls("autoscaling:CompleteLifecycleAction", roles=(DISPATCHER,))
    def complete(
        self,
        *,
        group_name: str,
        hook_name: str,
        token: str,
        ec2_instance_id: str,
        result: Literal["CONTINUE", "ABANDON"],
    ) -> None:
        """Let the Auto Scaling group go on (CONTINUE) or give the instance up (ABANDON)."""
        with aws_errors("autoscaling:CompleteLifecycleAction"):
            self.client.complete_lifecycle_action(
                AutoScalingGroupName=group_name,
                LifecycleHookName=hook_name,
                LifecycleActionToken=token,
                InstanceId=ec2_instance_id,
                LifecycleActionResult=result,
            )
