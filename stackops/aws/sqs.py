"""SQS adapter: one queue — its attributes, and sending, receiving and deleting messages."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from stackops.aws.roles import BOOTSTRAP, DISPATCHER, OPERATOR, calls
from stackops.aws.session import AwsSession, aws_errors, error_code
from stackops.errors import AwsFailure

_MISSING = frozenset({"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"})


@dataclass(frozen=True)
class Message:
    """One received message; `receive_count` counts deliveries, this one included.

    `sent_timestamp` is when SQS first accepted it, in epoch milliseconds.
    """

    message_id: str
    receipt_handle: str
    body: str
    receive_count: int
    sent_timestamp: int | None = None


class Queue:
    """One SQS queue by name; its URL is looked up once, on first use."""

    def __init__(self, session: AwsSession, name: str) -> None:
        self.name = name
        self._client = session.client("sqs")
        self._url: str | None = None

    # -- the queue itself --------------------------------------------------
    @calls("sqs:GetQueueUrl", roles=(BOOTSTRAP, OPERATOR, DISPATCHER))
    def find_url(self) -> str | None:
        """The queue's URL, or None when it does not exist."""
        if self._url is None:
            try:
                with aws_errors("sqs:GetQueueUrl"):
                    self._url = self._client.get_queue_url(QueueName=self.name)["QueueUrl"]
            except AwsFailure as exc:
                if error_code(exc) in _MISSING:
                    return None
                raise
        return self._url

    @property
    def url(self) -> str:
        """The queue's URL; AwsFailure when it does not exist."""
        url = self.find_url()
        if url is None:
            raise AwsFailure(
                f"SQS queue {self.name} does not exist", hint="run 'stackops bootstrap'"
            )
        return url

    @calls("sqs:CreateQueue", roles=(BOOTSTRAP,), implied=("sqs:TagQueue",))
    def create(self, attributes: Mapping[str, str], tags: Mapping[str, str]) -> str:
        """Create the queue with `attributes` and `tags`; return its URL."""
        with aws_errors("sqs:CreateQueue"):
            resp = self._client.create_queue(
                QueueName=self.name, Attributes=dict(attributes), tags=dict(tags)
            )
        self._url = resp["QueueUrl"]
        return self._url

    @calls("sqs:GetQueueAttributes", roles=(BOOTSTRAP,))
    def attributes(self) -> dict[str, str]:
        """All the queue's attributes, as SQS gives them (strings)."""
        with aws_errors("sqs:GetQueueAttributes"):
            resp = self._client.get_queue_attributes(QueueUrl=self.url, AttributeNames=["All"])
        return dict(resp.get("Attributes", {}))

    @calls("sqs:SetQueueAttributes", roles=(BOOTSTRAP,))
    def set_attributes(self, attributes: Mapping[str, str]) -> None:
        with aws_errors("sqs:SetQueueAttributes"):
            self._client.set_queue_attributes(QueueUrl=self.url, Attributes=dict(attributes))

    # -- messages -------------------------------------------------------------
    @calls("sqs:SendMessage", roles=(OPERATOR, DISPATCHER))
    def send(self, body: str, *, delay_seconds: int = 0) -> str:
        """Send one message; return its id."""
        with aws_errors("sqs:SendMessage"):
            resp = self._client.send_message(
                QueueUrl=self.url, MessageBody=body, DelaySeconds=delay_seconds
            )
        return resp["MessageId"]

    @calls("sqs:ReceiveMessage", roles=(OPERATOR, DISPATCHER))
    def receive(
        self,
        *,
        max_messages: int = 10,
        wait_seconds: int = 0,
        visibility_timeout: int | None = None,
    ) -> list[Message]:
        """Up to `max_messages` (at most 10) messages; waits up to `wait_seconds` for one."""
        kwargs: dict[str, object] = {
            "QueueUrl": self.url,
            "MaxNumberOfMessages": max_messages,
            "WaitTimeSeconds": wait_seconds,
            "MessageSystemAttributeNames": ["ApproximateReceiveCount", "SentTimestamp"],
        }
        if visibility_timeout is not None:
            kwargs["VisibilityTimeout"] = visibility_timeout
        with aws_errors("sqs:ReceiveMessage"):
            resp = self._client.receive_message(**kwargs)
        return [_message(m) for m in resp.get("Messages", [])]

    @calls("sqs:DeleteMessage", roles=(OPERATOR, DISPATCHER))
    def delete_batch(self, receipt_handles: Sequence[str]) -> list[str]:
        """Delete messages (any number, 10 per call); return the handles that failed."""
        failed: list[str] = []
        for start in range(0, len(receipt_handles), 10):
            chunk = receipt_handles[start : start + 10]
            entries = [{"Id": str(i), "ReceiptHandle": h} for i, h in enumerate(chunk)]
            with aws_errors("sqs:DeleteMessageBatch"):
                resp = self._client.delete_message_batch(QueueUrl=self.url, Entries=entries)
            failed.extend(chunk[int(f["Id"])] for f in resp.get("Failed", []))
        return failed

    @calls("sqs:ChangeMessageVisibility", roles=(DISPATCHER,))
    def change_visibility(self, receipt_handle: str, seconds: int) -> None:
        """Hide a received message for `seconds` more (0 makes it visible again)."""
        with aws_errors("sqs:ChangeMessageVisibility"):
            self._client.change_message_visibility(
                QueueUrl=self.url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
            )

    @calls("sqs:ChangeMessageVisibility", roles=(OPERATOR,))
    def change_visibility_batch(self, receipt_handles: Sequence[str], seconds: int) -> list[str]:
        """`change_visibility` for many messages (10 per call); return the handles that failed."""
        failed: list[str] = []
        for start in range(0, len(receipt_handles), 10):
            chunk = receipt_handles[start : start + 10]
            entries = [
                {"Id": str(i), "ReceiptHandle": h, "VisibilityTimeout": seconds}
                for i, h in enumerate(chunk)
            ]
            with aws_errors("sqs:ChangeMessageVisibilityBatch"):
                resp = self._client.change_message_visibility_batch(
                    QueueUrl=self.url, Entries=entries
                )
            failed.extend(chunk[int(f["Id"])] for f in resp.get("Failed", []))
        return failed


def _message(raw: dict[str, Any]) -> Message:
    attributes = raw.get("Attributes", {})
    sent = attributes.get("SentTimestamp")
    return Message(
        raw["MessageId"],
        raw["ReceiptHandle"],
        raw["Body"],
        int(attributes.get("ApproximateReceiveCount", "1")),
        int(sent) if sent is not None else None,
    )
