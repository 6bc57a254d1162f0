"""Events in, activities out: the lifecycle dispatcher and what it is made of.

`lambda_handler` runs the dispatcher as an AWS Lambda function on the SQS queue.
"""

from __future__ import annotations

from typing import Any


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """SQS-triggered Lambda entry point; reports partial batch failures."""
    from stackops.lifecycle.lambda_entry import handle

    return handle(event, context)
