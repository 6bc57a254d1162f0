"""The EC2 watcher: diffing on plain data, the poll loop with a fake clock, and on moto."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Sequence
from typing import Any

import pytest

from stackops.aws.ec2 import Ec2, Ec2Instance
from stackops.aws.events import Event
from stackops.aws.session import AwsSession
from stackops.aws.sqs import Queue
from stackops.bootstrap import EVENT_PATTERN, STATE_CHANGE
from stackops.cli.watch_cmd import _stop_on_signals
from stackops.config import Target
from stackops.errors import AwsFailure
from stackops.lifecycle.watcher import (
    SOURCE,
    WATCHED_TAG,
    PollResult,
    StateChange,
    Watcher,
    instance_arn_maker,
    remember,
    state_changes,
    watcher_for,
)
from stackops.wire import TAG_INSTANCE
from tests.helpers import ok_json

ACCOUNT = "123456789012"
REGION = "us-east-1"


# -- plain data ------------------------------------------------------------------------
def test_the_watched_tag_is_the_one_create_instance_puts():
    assert WATCHED_TAG == TAG_INSTANCE


def test_watcher_source_and_detail_type_match_the_bootstrap_rule():
    (ec2_states,) = [p for p in EVENT_PATTERN["$or"] if STATE_CHANGE in p["detail-type"]]
    assert SOURCE in ec2_states["source"]


def test_nothing_known_means_every_instance_changed():
    current = {"i-1": "running", "i-2": "stopped"}
    assert state_changes({}, current) == [
        StateChange("i-1", "running"),
        StateChange("i-2", "stopped"),
    ]


def test_only_differences_are_changes():
    known = {"i-1": "running", "i-2": "running"}
    current = {"i-1": "running", "i-2": "stopping", "i-3": "pending"}
    assert state_changes(known, current) == [
        StateChange("i-2", "stopping"),
        StateChange("i-3", "pending"),
    ]


def test_memory_forgets_what_is_no_longer_listed_and_keeps_terminated_while_listed():
    known = {"i-gone": "terminated", "i-dead": "shutting-down", "i-up": "running"}
    current = {"i-dead": "terminated", "i-up": "running"}
    changes = state_changes(known, current)
    assert changes == [StateChange("i-dead", "terminated")]
    memory = remember(known, current, changes)
    assert memory == {"i-dead": "terminated", "i-up": "running"}
    # listed again, still terminated: nothing to say, still remembered
    assert state_changes(memory, current) == []
    # EC2 stops listing it: forgotten
    assert remember(memory, {"i-up": "running"}, []) == {"i-up": "running"}


def test_unpublished_changes_are_not_remembered():
    known = {"i-1": "running"}
    current = {"i-1": "stopped", "i-2": "running"}
    assert remember(known, current, []) == {"i-1": "running"}


def test_instance_arn():
    assert instance_arn_maker(ACCOUNT, REGION)("i-0abc") == (
        f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/i-0abc"
    )
    assert instance_arn_maker(ACCOUNT, "cn-north-1")("i-1").startswith("arn:aws-cn:ec2:")


class FakeEc2:
    """Instances by id, as a describe would list them."""

    def __init__(self, **states: str) -> None:
        self.states = dict(states)
        self.calls = 0

    def list(self) -> list[Ec2Instance]:
        self.calls += 1
        return [Ec2Instance(i.replace("_", "-"), s) for i, s in self.states.items()]


class FakeBus:
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[list[Event]] = []
        self.fail = fail

    def publish(self, events: Sequence[Event]) -> None:
        if self.fail:
            raise AwsFailure("events:PutEvents failed: Throttling")
        self.calls.append(list(events))

    @property
    def published(self) -> list[tuple[str, str]]:
        return [(e.detail["instance-id"], e.detail["state"]) for call in self.calls for e in call]


def fake_watcher(ec2: FakeEc2, bus: FakeBus, **kwargs: Any) -> Watcher:
    return Watcher(ec2.list, bus.publish, instance_arn_maker(ACCOUNT, REGION), **kwargs)


def test_poll_publishes_changes_once_and_remembers_them():
    ec2, bus = FakeEc2(i_1="running", i_2="pending"), FakeBus()
    watcher = fake_watcher(ec2, bus)
    first = watcher.poll()
    assert (first.seen, first.published) == (2, 2)
    assert bus.calls[0][0] == Event(
        SOURCE,
        STATE_CHANGE,
        {"instance-id": "i-1", "state": "running"},
        (f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/i-1",),
    )
    assert watcher.poll() == PollResult(2, ())
    ec2.states["i_2"] = "running"
    ec2.states["i_3"] = "weird"  # not an EC2 state: skipped, not counted
    assert watcher.poll().changes == (StateChange("i-2", "running"),)
    assert bus.published == [("i-1", "running"), ("i-2", "pending"), ("i-2", "running")]
    assert watcher.known == {"i-1": "running", "i-2": "running"}
    assert ec2.calls == 3


def test_events_go_out_ten_per_call():
    ec2, bus = FakeEc2(**{f"i_{n:02}": "running" for n in range(23)}), FakeBus()
    assert fake_watcher(ec2, bus).poll().published == 23
    assert [len(call) for call in bus.calls] == [10, 10, 3]


def test_known_state_is_passed_in_and_a_restart_announces_only_differences():
    ec2, bus = FakeEc2(i_1="running", i_2="stopped"), FakeBus()
    watcher = fake_watcher(ec2, bus, known={"i-1": "running", "i-2": "running"})
    assert watcher.poll().changes == (StateChange("i-2", "stopped"),)


def test_a_failed_publish_is_retried_on_the_next_poll():
    ec2, bus = FakeEc2(i_1="running"), FakeBus(fail=True)
    watcher = fake_watcher(ec2, bus)
    with pytest.raises(AwsFailure):
        watcher.poll()
    assert watcher.known == {}
    bus.fail = False
    assert watcher.poll().changes == (StateChange("i-1", "running"),)


class FakeTime:
    """A clock that moves only when slept on, or by `cost` per poll."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_run_polls_on_the_interval_until_told_to_stop():
    time = FakeTime()
    ec2, bus = FakeEc2(i_1="running"), FakeBus()
    results: list[PollResult] = []
    list_instances = ec2.list

    def slow_list() -> list[Ec2Instance]:
        time.now += 0.5  # each describe takes half a second
        return list_instances()

    watcher = Watcher(slow_list, bus.publish, instance_arn_maker(ACCOUNT, REGION))
    polls = watcher.run(
        2.0,
        should_stop=lambda: len(results) >= 3,
        sleep=time.sleep,
        clock=time.clock,
        on_poll=results.append,
    )
    assert polls == 3
    assert [r.published for r in results] == [1, 0, 0]
    assert time.sleeps == [1.5, 1.5]  # start to start, and no sleep after the last poll


def test_run_reports_a_failed_poll_and_goes_on():
    time = FakeTime()
    ec2, bus = FakeEc2(i_1="running"), FakeBus(fail=True)
    errors: list[str] = []
    results: list[PollResult] = []

    def on_error(exc: Exception) -> None:
        errors.append(str(exc))
        bus.fail = False

    polls = fake_watcher(ec2, bus).run(
        1.0,
        should_stop=lambda: bool(results),
        sleep=time.sleep,
        clock=time.clock,
        on_poll=results.append,
        on_error=on_error,
    )
    assert polls == 2
    assert errors == ["events:PutEvents failed: Throttling"]
    assert results[0].changes == (StateChange("i-1", "running"),)


def test_run_without_error_handler_raises():
    ec2, bus = FakeEc2(i_1="running"), FakeBus(fail=True)
    with pytest.raises(AwsFailure):
        fake_watcher(ec2, bus).run(1.0, should_stop=lambda: False, sleep=lambda s: None)


# -- on moto, through the real rule and queue ----------------------------------------
def launch(ec2: Any, tags: dict[str, str] | None = None) -> str:
    kwargs: dict[str, Any] = {"ImageId": "ami-12345678", "MinCount": 1, "MaxCount": 1}
    if tags:
        kwargs["TagSpecifications"] = [
            {"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
        ]
    return ec2.run_instances(**kwargs)["Instances"][0]["InstanceId"]


def drain(queue: Queue) -> list[dict[str, Any]]:
    bodies: list[dict[str, Any]] = []
    while batch := queue.receive(max_messages=10, wait_seconds=0):
        bodies += [json.loads(m.body) for m in batch]
        assert queue.delete_batch([m.receipt_handle for m in batch]) == []
    return bodies


def states(bodies: list[dict[str, Any]]) -> dict[str, str]:
    return {b["detail"]["instance-id"]: b["detail"]["state"] for b in bodies}


def test_watcher_events_reach_the_lifecycle_queue(aws, invoke):
    ok_json(invoke("bootstrap"))
    ec2 = aws.client("ec2")
    web = launch(ec2, {TAG_INSTANCE: "rec-web", "Name": "web"})
    db = launch(ec2, {TAG_INSTANCE: "rec-db"})
    stranger = launch(ec2, {"Name": "not ours"})
    session = AwsSession(Target("account", REGION))
    queue = Queue(session, "stackops-lifecycle")
    watcher = watcher_for(session)

    first = watcher.poll()
    assert (first.seen, first.published) == (2, 2)
    bodies = drain(queue)
    assert states(bodies) == {web: "running", db: "running"}
    for body in bodies:
        assert body["source"] == "stackops.watcher"
        assert body["detail-type"] == "EC2 Instance State-change Notification"
        assert body["region"] == REGION
        (arn,) = body["resources"]
        assert arn == f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{body['detail']['instance-id']}"

    assert watcher.poll() == PollResult(2, ())
    assert drain(queue) == []

    ec2.stop_instances(InstanceIds=[web, stranger])
    assert watcher.poll().changes == (StateChange(web, "stopped"),)
    assert states(drain(queue)) == {web: "stopped"}

    ec2.terminate_instances(InstanceIds=[db])
    assert watcher.poll().changes == (StateChange(db, "terminated"),)
    assert watcher.poll().published == 0  # moto keeps listing it; it is not announced again
    assert states(drain(queue)) == {db: "terminated"}
    assert stranger not in watcher.known


def test_describe_tagged_reads_more_than_a_page_of_reservations(aws):
    ec2 = aws.client("ec2")
    ids = {launch(ec2, {TAG_INSTANCE: f"rec-{n}"}) for n in range(7)}
    launch(ec2)
    client = AwsSession(Target("account", REGION)).client("ec2")
    pages = client.get_paginator("describe_instances").paginate(
        Filters=[{"Name": "tag-key", "Values": [TAG_INSTANCE]}],
        PaginationConfig={"PageSize": 5},
    )
    assert len(list(pages)) == 2  # moto pages by reservation: the adapter must follow tokens
    found = Ec2(AwsSession(Target("account", REGION))).describe_tagged(TAG_INSTANCE)
    assert {i.instance_id for i in found} == ids


def test_watch_once_through_the_cli(aws, invoke):
    ok_json(invoke("bootstrap"))
    ec2 = aws.client("ec2")
    web = launch(ec2, {TAG_INSTANCE: "rec-web"})
    launch(ec2)
    result = invoke("watch", "--once")
    assert ok_json(result) == {
        "Seen": 1,
        "Published": 1,
        "Changes": [{"InstanceId": web, "State": "running"}],
    }
    assert f"target: account {ACCOUNT}, region {REGION}" in result.stderr
    assert f"{web} running" in result.stderr
    assert "does not exist" not in result.stderr
    again = invoke("watch", "--once")  # a new process remembers nothing: announces again
    assert ok_json(again)["Published"] == 1
    bodies = drain(Queue(AwsSession(Target("account", REGION)), "stackops-lifecycle"))
    assert states(bodies) == {web: "running"} and len(bodies) == 2


def test_watch_warns_when_there_is_no_rule(aws, invoke):
    result = invoke("watch", "--once", "--output", "table")
    assert result.exit_code == 0, result.output
    assert "rule stackops-instance-events does not exist" in result.stderr
    assert "stackops bootstrap" in result.stderr


def test_sigterm_and_ctrl_c_ask_the_loop_to_stop_and_handlers_come_back():
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    for sig in (signal.SIGTERM, signal.SIGINT):
        with _stop_on_signals() as stop:
            os.kill(os.getpid(), sig)
            assert stop.wait(1)
            with pytest.raises(KeyboardInterrupt):  # a second signal aborts at once
                os.kill(os.getpid(), sig)
                stop.wait(1)
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before
