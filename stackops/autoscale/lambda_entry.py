"""The scaler as an AWS Lambda function on an EventBridge schedule.

Create a rule with `ScheduleExpression: rate(1 minute)` whose target is the
function; each invocation runs one round over every stack (or over
`STACKOPS_AUTOSCALE_STACKS`, comma-separated ids) and returns the round's
report. Rounds are serialised per stack by the same DynamoDB lease the
`stackops autoscale` process takes, so a function and a process may overlap.
Environment: `STACKOPS_NAMESPACE` (default `stackops`), `AWS_REGION`.
"""

from __future__ import annotations

import os
from typing import Any


def handle(event: dict[str, Any], context: Any, *, services: Any = None) -> dict[str, Any]:
    """Run one scaler round as of the invocation (the clock, not the event's time)."""
    from stackops.api.autoscaling import autoscale_round

    if services is None:
        from stackops.aws.session import AwsSession
        from stackops.config import Target
        from stackops.naming import ResourceNames
        from stackops.services import Services

        services = Services(
            AwsSession(Target("account", os.environ.get("AWS_REGION", "us-east-1"))),
            ResourceNames(os.environ.get("STACKOPS_NAMESPACE", "stackops")),
        )
    stacks = [s for s in os.environ.get("STACKOPS_AUTOSCALE_STACKS", "").split(",") if s.strip()]
    return autoscale_round(services, None, [s.strip() for s in stacks] or None)
