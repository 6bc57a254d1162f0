"""Time- and load-based instances: the scaler.

`decide` is the pure decision of one round (facts in, starts and stops out);
`round` gathers the facts from the store and CloudWatch, decides, and hands
each start or stop to the paths `start-instance` and `stop-instance` use;
`records` keeps schedules, layer thresholds, what the scaler last did and
its history in the state table. `lambda_handler` runs one round as an AWS
Lambda function on an EventBridge schedule.
"""

from __future__ import annotations

from typing import Any


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """EventBridge-scheduled Lambda entry point: one scaler round over the stacks."""
    from stackops.autoscale.lambda_entry import handle

    return handle(event, context)
