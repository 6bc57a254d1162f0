"""The dispatcher as an AWS Lambda function on the lifecycle queue.

Configure the function with the queue as an event source and
`FunctionResponseTypes: ["ReportBatchItemFailures"]`; Lambda deletes the
messages that succeeded, and those listed in `batchItemFailures` come back.
Environment: `STACKOPS_NAMESPACE` (default `stackops`), `STACKOPS_EXECUTOR`
(default `ssm`: recipes run on the instances themselves).
"""

from __future__ import annotations

import os
from typing import Any

from stackops.aws.sqs import Message


def messages_of(event: dict[str, Any]) -> list[Message]:
    """The SQS records of a Lambda event as received messages."""
    return [
        Message(
            record["messageId"],
            record["receiptHandle"],
            record["body"],
            int(record.get("attributes", {}).get("ApproximateReceiveCount", "1")),
        )
        for record in event.get("Records", [])
        if record.get("eventSource") == "aws:sqs"
    ]


def handle(event: dict[str, Any], context: Any, *, services: Any = None) -> dict[str, Any]:
    """Handle one SQS batch; report the messages whose work failed or was deferred."""
    from stackops.lifecycle.runtime import build_dispatcher

    if services is None:
        from stackops.aws.session import AwsSession
        from stackops.config import Target
        from stackops.naming import ResourceNames
        from stackops.services import Services

        region = os.environ.get("AWS_REGION", "us-east-1")
        services = Services(
            AwsSession(Target("account", region)),
            ResourceNames(os.environ.get("STACKOPS_NAMESPACE", "stackops")),
        )
    dispatcher = build_dispatcher(
        services,
        executor=os.environ.get("STACKOPS_EXECUTOR", "ssm"),
        with_autoscaling=True,
        visibility_timeout=None,  # Lambda receives with the queue's own
    )
    messages = messages_of(event)
    outcome = dispatcher.handle(messages, delete=False)
    if dispatcher.sweeper.due():
        dispatcher.sweeper.sweep()
    retry = set(outcome.retried)
    return {"batchItemFailures": [{"itemIdentifier": m} for m in sorted(retry)]}
