"""The lifecycle dead-letter queue: listing without consuming, redriving without losing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stackops.aws.session import AwsSession
from stackops.aws.sqs import Queue
from stackops.config import Target
from stackops.errors import AwsFailure
from stackops.lifecycle.dlq import list_dead_letters, redrive, summarize_body
from tests.helpers import ok_json

REGION = "us-east-1"
STATE_CHANGE = "EC2 Instance State-change Notification"


def envelope(source: str, detail_type: str, detail: Any) -> str:
    return json.dumps({"id": "e-1", "source": source, "detail-type": detail_type, "detail": detail})


WATCHER_EVENT = envelope(
    "stackops.watcher", STATE_CHANGE, {"instance-id": "i-0abc", "state": "running"}
)
ASG_EVENT = envelope(
    "aws.autoscaling",
    "EC2 Instance-launch Lifecycle Action",
    {"EC2InstanceId": "i-0def", "LifecycleTransition": "autoscaling:EC2_INSTANCE_LAUNCHING"},
)
NOT_JSON = "hello {not json\nsecond line"


# -- plain data ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "summary"),
    [
        (WATCHER_EVENT, "stackops.watcher / " + STATE_CHANGE + ": instance-id i-0abc running"),
        (
            ASG_EVENT,
            "aws.autoscaling / EC2 Instance-launch Lifecycle Action: EC2InstanceId i-0def "
            "autoscaling:EC2_INSTANCE_LAUNCHING",
        ),
        (envelope("x", "y", "not an object"), "x / y"),
        (json.dumps({"detail": {"instance-id": {"nested": 1}}}), "? / ?"),
        (NOT_JSON, "not JSON: hello {not json second line"),
        ("", "not JSON: "),
        ("[1, 2]", "JSON list, not an event: [1, 2]"),
        ("null", "JSON NoneType, not an event: null"),
        ("[" * 100_000, "not JSON: " + "[" * 59 + "…"),
    ],
)
def test_summary_of_a_body(body, summary):
    assert summarize_body(body) == summary


# -- on moto ---------------------------------------------------------------------------
@pytest.fixture
def queues(aws, invoke) -> tuple[Queue, Queue]:
    """(dead-letter queue, lifecycle queue) after a bootstrap."""
    ok_json(invoke("bootstrap"))
    session = AwsSession(Target("account", REGION))
    return Queue(session, "stackops-lifecycle-dlq"), Queue(session, "stackops-lifecycle")


def put_in_dlq(aws, *bodies: str) -> list[str]:
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName="stackops-lifecycle-dlq")["QueueUrl"]
    return [sqs.send_message(QueueUrl=url, MessageBody=b)["MessageId"] for b in bodies]


def bodies_in(queue: Queue) -> list[str]:
    """Every body in the queue (consumed)."""
    found: list[str] = []
    while batch := queue.receive(wait_seconds=0):
        found += [m.body for m in batch]
        queue.delete_batch([m.receipt_handle for m in batch])
    return found


def test_listing_shows_messages_and_leaves_them(aws, invoke, queues):
    ids = put_in_dlq(aws, WATCHER_EVENT, NOT_JSON, ASG_EVENT)
    first = ok_json(invoke("events", "dlq", "--wait-seconds", "0"))
    listed = {m["MessageId"]: m for m in first["Messages"]}
    assert set(listed) == set(ids)
    one = listed[ids[0]]
    assert one["Summary"] == f"stackops.watcher / {STATE_CHANGE}: instance-id i-0abc running"
    assert one["ReceiveCount"] == 1
    assert one["SentTimestamp"].endswith("+00:00") and one["SentTimestamp"].startswith("20")
    assert listed[ids[1]]["Summary"].startswith("not JSON: hello")

    second = invoke("events", "dlq", "--wait-seconds", "0")
    again = {m["MessageId"]: m for m in ok_json(second)["Messages"]}
    assert set(again) == set(ids)
    assert again[ids[0]]["ReceiveCount"] == 2  # listing is a receive
    assert "dlq: 3 message(s) in stackops-lifecycle-dlq" in second.stderr
    dlq, queue = queues
    assert sorted(bodies_in(dlq)) == sorted([WATCHER_EVENT, NOT_JSON, ASG_EVENT])
    assert bodies_in(queue) == []


def test_listing_with_a_limit_says_there_may_be_more(aws, invoke, queues):
    put_in_dlq(aws, *(envelope("s", "t", {"instance-id": f"i-{n}"}) for n in range(12)))
    result = invoke("events", "dlq", "--max", "11", "--output", "table")
    assert result.exit_code == 0, result.output
    assert "dlq: 11 message(s) in stackops-lifecycle-dlq shown; there may be more" in result.stderr
    header = result.stdout.splitlines()[3]
    assert [c.strip() for c in header.split("|")[1:-1]] == [
        "MessageId",
        "ReceiveCount",
        "SentTimestamp",
        "Summary",
    ]
    dlq, _ = queues
    assert len(list_dead_letters(dlq)) == 12


def test_an_empty_dlq_lists_nothing_with_default_long_polling(invoke, queues):
    assert ok_json(invoke("events", "dlq")) == {"Messages": []}
    assert ok_json(invoke("events", "dlq", "--redrive")) == {"Redriven": 0}


def test_redrive_moves_every_message_to_the_lifecycle_queue(aws, invoke, queues):
    bodies = [WATCHER_EVENT, NOT_JSON, *(envelope("s", "t", {"n": n}) for n in range(11))]
    put_in_dlq(aws, *bodies)
    result = invoke("events", "dlq", "--redrive", "--wait-seconds", "0")
    assert ok_json(result) == {"Redriven": 13}
    assert "13 message(s) moved to stackops-lifecycle" in result.stderr
    dlq, queue = queues
    assert list_dead_letters(dlq) == []
    assert sorted(bodies_in(queue)) == sorted(bodies)
    assert ok_json(invoke("events", "dlq", "--redrive", "--wait-seconds", "0")) == {"Redriven": 0}


def test_redrive_with_a_limit(aws, invoke, queues):
    put_in_dlq(aws, *(envelope("s", "t", {"n": n}) for n in range(5)))
    assert ok_json(invoke("events", "dlq", "--redrive", "--max", "2", "--wait-seconds", "0")) == {
        "Redriven": 2
    }
    dlq, queue = queues
    assert len(bodies_in(queue)) == 2
    assert len(bodies_in(dlq)) == 3


class FailingQueue:
    """A lifecycle queue whose send fails after `ok` messages."""

    def __init__(self, ok: int) -> None:
        self.ok = ok
        self.bodies: list[str] = []

    def send(self, body: str, *, delay_seconds: int = 0) -> str:
        if len(self.bodies) >= self.ok:
            raise AwsFailure("sqs:SendMessage failed: AccessDenied: no")
        self.bodies.append(body)
        return f"m-{len(self.bodies)}"


def test_a_failed_send_loses_nothing(aws, queues):
    dlq, _ = queues
    bodies = [envelope("s", "t", {"n": n}) for n in range(4)]
    put_in_dlq(aws, *bodies)
    target = FailingQueue(ok=2)
    with pytest.raises(AwsFailure, match=r"redrive stopped after 2 message\(s\): sqs:SendMessage"):
        redrive(dlq, target)  # type: ignore[arg-type]
    left = bodies_in(dlq)  # the unsent ones are visible again at once
    assert sorted(left + target.bodies) == sorted(bodies)
    assert len(left) == 2


def test_a_missing_dlq_says_to_bootstrap(aws, invoke):
    result = invoke("events", "dlq")
    assert result.exit_code == 1
    assert "SQS queue stackops-lifecycle-dlq does not exist" in result.stderr
    assert "stackops bootstrap" in result.stderr
