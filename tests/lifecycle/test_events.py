"""Queue message bodies to events: every kind, malformed and foreign ones, builders round-trip."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stackops.lifecycle.events import (
    CONFIGURE_REQUEST,
    DEPLOYMENT_REQUEST,
    EC2_STATES,
    INSTANCE_COMMAND,
    SOURCE_INTERNAL,
    STATE_CHANGE,
    ConfigureRequest,
    DeploymentRequest,
    Ec2StateChange,
    ForeignEvent,
    InstanceCommand,
    LifecycleAction,
    MalformedEvent,
    TestNotification,
    configure_request_message,
    deployment_request_message,
    event_time,
    instance_command_message,
    parse_message,
    state_change_detail,
    state_change_message,
)

# Exactly what moto 5.2 delivered to SQS for put_events (no "account").
MOTO_STATE_CHANGE = (
    '{"id": "b6d0c901-6681-43f2-a6b3-aed155150ad0", "time": "2026-11-28T17:48:50Z", '
    '"version": "0", "detail-type": "EC2 Instance State-change Notification", '
    '"source": "aws.ec2", "region": "us-east-1", "resources": [], '
    '"detail": {"instance-id": "i-0123456789abcdef0", "state": "running"}}'
)

# What real EC2 sends through EventBridge (with "account" and the instance ARN).
AWS_STATE_CHANGE: dict[str, Any] = {
    "version": "0",
    "id": "7bf73129-1428-4cd3-a780-95db273d1602",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "123456789012",
    "time": "2026-11-28T17:00:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
    "detail": {"instance-id": "i-abcd1111", "state": "stopping"},
}

AWS_LAUNCH_ACTION: dict[str, Any] = {
    "version": "0",
    "id": "468fcd64-4f2d-4d55-b2b6-8d4a6e7f6b4e",
    "detail-type": "EC2 Instance-launch Lifecycle Action",
    "source": "aws.autoscaling",
    "account": "123456789012",
    "time": "2026-11-28T17:01:02Z",
    "region": "us-east-1",
    "resources": [
        "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:5a7e:"
        "autoScalingGroupName/shop-app"
    ],
    "detail": {
        "LifecycleActionToken": "87654321-4321-4321-4321-210987654321",
        "AutoScalingGroupName": "shop-app",
        "LifecycleHookName": "stackops-launch",
        "EC2InstanceId": "i-1234567890abcdef0",
        "LifecycleTransition": "autoscaling:EC2_INSTANCE_LAUNCHING",
        "NotificationMetadata": "{}",
        "Origin": "EC2",
        "Destination": "AutoScalingGroup",
    },
}


def _body(envelope: dict[str, Any], **changes: Any) -> str:
    return json.dumps({**envelope, **changes})


def _without(mapping: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if k != key}


def test_state_change_exactly_as_moto_delivers_it() -> None:
    assert parse_message(MOTO_STATE_CHANGE) == Ec2StateChange(
        event_id="b6d0c901-6681-43f2-a6b3-aed155150ad0",
        source="aws.ec2",
        ec2_instance_id="i-0123456789abcdef0",
        state="running",
        time="2026-11-28T17:48:50Z",
    )


def test_state_change_from_real_ec2_and_from_the_watcher() -> None:
    event = parse_message(_body(AWS_STATE_CHANGE))
    assert event == Ec2StateChange(
        "7bf73129-1428-4cd3-a780-95db273d1602",
        "aws.ec2",
        "i-abcd1111",
        "stopping",
        "2026-11-28T17:00:00Z",
    )
    watched = parse_message(
        _body(
            AWS_STATE_CHANGE,
            source="stackops.watcher",
            detail=state_change_detail("i-abcd1111", "terminated"),
        )
    )
    assert isinstance(watched, Ec2StateChange)
    assert (watched.source, watched.state) == ("stackops.watcher", "terminated")


@pytest.mark.parametrize("state", sorted(EC2_STATES))
def test_every_ec2_state_is_accepted(state: str) -> None:
    event = parse_message(_body(AWS_STATE_CHANGE, detail={"instance-id": "i-1", "state": state}))
    assert isinstance(event, Ec2StateChange)
    assert event.state == state


def test_launch_and_terminate_lifecycle_actions() -> None:
    launch = parse_message(_body(AWS_LAUNCH_ACTION))
    assert launch == LifecycleAction(
        event_id="468fcd64-4f2d-4d55-b2b6-8d4a6e7f6b4e",
        ec2_instance_id="i-1234567890abcdef0",
        transition="launch",
        group_name="shop-app",
        hook_name="stackops-launch",
        token="87654321-4321-4321-4321-210987654321",
        time="2026-11-28T17:01:02Z",
    )
    terminate = parse_message(
        _body(
            AWS_LAUNCH_ACTION,
            **{"detail-type": "EC2 Instance-terminate Lifecycle Action"},
            detail={
                **AWS_LAUNCH_ACTION["detail"],
                "LifecycleTransition": "autoscaling:EC2_INSTANCE_TERMINATING",
                "LifecycleHookName": "stackops-terminate",
            },
        )
    )
    assert isinstance(terminate, LifecycleAction)
    assert (terminate.transition, terminate.hook_name) == ("terminate", "stackops-terminate")


def test_lifecycle_transition_must_match_the_detail_type() -> None:
    detail = {
        **AWS_LAUNCH_ACTION["detail"],
        "LifecycleTransition": "autoscaling:EC2_INSTANCE_TERMINATING",
    }
    with pytest.raises(MalformedEvent, match="LifecycleTransition") as info:
        parse_message(_body(AWS_LAUNCH_ACTION, detail=detail))
    assert not isinstance(info.value, ForeignEvent)


def test_internal_messages_parse() -> None:
    envelope = {
        "id": "e-1",
        "time": "2026-11-28T17:02:00Z",
        "version": "0",
        "source": "stackops.internal",
        "resources": [],
    }
    command = {"detail-type": "Instance Command"}
    assert parse_message(
        _body(envelope, **command, detail={"instance-id": "in-1", "command": "stop", "force": True})
    ) == InstanceCommand("e-1", "in-1", "stop", True, "2026-11-28T17:02:00Z")
    configure = {"detail-type": "Configure Request"}
    assert parse_message(
        _body(envelope, **configure, detail={"stack-id": "st-1", "seq": 7})
    ) == ConfigureRequest("e-1", "st-1", 7, "2026-11-28T17:02:00Z")
    deployment = {"detail-type": "Deployment Request"}
    assert parse_message(
        _body(envelope, **deployment, detail={"deployment-id": "dep-1"})
    ) == DeploymentRequest("e-1", "dep-1", "2026-11-28T17:02:00Z")


def test_builders_round_trip() -> None:
    when = "2026-11-28T17:03:00Z"
    body = instance_command_message("in-1", "start", force=True, event_id="e-1", time=when)
    assert parse_message(body) == InstanceCommand("e-1", "in-1", "start", True, when)
    body = configure_request_message("st-1", 3, event_id="e-2", time=when)
    assert parse_message(body) == ConfigureRequest("e-2", "st-1", 3, when)
    body = deployment_request_message("dep-9", event_id="e-3", time=when)
    assert parse_message(body) == DeploymentRequest("e-3", "dep-9", when)
    envelope = json.loads(body)
    assert envelope["source"] == SOURCE_INTERNAL
    assert envelope["detail-type"] == DEPLOYMENT_REQUEST
    assert {"id", "time", "version", "detail-type", "source", "resources", "detail"} <= set(
        envelope
    )


def test_a_state_change_an_operator_verb_queues_reads_as_the_watchers() -> None:
    """assign-instance tells the dispatcher a registered instance runs through the queue (the
    operator's role may send there, not put events): the same event as the watcher's."""
    arn = "arn:aws:ec2:us-east-1:123456789012:instance/i-1"
    body = state_change_message("i-1", "running", arn, event_id="e-4", time="2026-11-28T17:03:00Z")
    assert parse_message(body) == Ec2StateChange(
        "e-4", "stackops.watcher", "i-1", "running", "2026-11-28T17:03:00Z"
    )
    assert json.loads(body)["resources"] == [arn]
    with pytest.raises(ValueError, match="state"):
        state_change_message("i-1", "exploded", arn)


def test_builders_default_a_fresh_id_and_the_current_utc_time() -> None:
    first = parse_message(instance_command_message("in-1", "stop"))
    second = parse_message(instance_command_message("in-1", "stop"))
    assert isinstance(first, InstanceCommand)
    assert first.force is False
    assert first.event_id != second.event_id
    assert first.time.endswith("Z") and len(first.time) == len("2026-11-28T17:03:00Z")


def test_builders_refuse_what_the_parser_would_refuse() -> None:
    with pytest.raises(ValueError, match="command"):
        instance_command_message("in-1", "reboot")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="seq"):
        configure_request_message("st-1", -1)
    with pytest.raises(ValueError, match="state"):
        state_change_detail("i-1", "exploded")


def test_event_time_is_eventbridge_style() -> None:
    from datetime import datetime, timedelta, timezone

    moment = datetime(2026, 11, 28, 18, 30, 5, 123, tzinfo=timezone(timedelta(hours=1)))
    assert event_time(moment) == "2026-11-28T17:30:05Z"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("not json at all", "not JSON"),
        ("", "not JSON"),
        ("[1, 2]", "not an object"),
        (json.dumps(_without(AWS_STATE_CHANGE, "source")), "missing field envelope.source"),
        (json.dumps(_without(AWS_STATE_CHANGE, "detail-type")), "envelope.detail-type"),
        (json.dumps(_without(AWS_STATE_CHANGE, "id")), "missing field envelope.id"),
        (json.dumps(_without(AWS_STATE_CHANGE, "time")), "missing field envelope.time"),
        (_body(AWS_STATE_CHANGE, time="yesterday"), "not an ISO-8601 time"),
        (json.dumps(_without(AWS_STATE_CHANGE, "detail")), "missing field envelope.detail"),
        (_body(AWS_STATE_CHANGE, detail="running"), "envelope.detail is not an object"),
        (_body(AWS_STATE_CHANGE, detail={"state": "running"}), "missing field detail.instance-id"),
        (_body(AWS_STATE_CHANGE, detail={"instance-id": "i-1"}), "missing field detail.state"),
        (_body(AWS_STATE_CHANGE, detail={"instance-id": "i-1", "state": "on"}), "state 'on'"),
        (_body(AWS_STATE_CHANGE, detail={"instance-id": 7, "state": "running"}), "instance-id"),
        (
            _body(AWS_LAUNCH_ACTION, detail=_without(AWS_LAUNCH_ACTION["detail"], "EC2InstanceId")),
            "missing field detail.EC2InstanceId",
        ),
        (
            configure_request_message("st-1", 1).replace('"seq": 1', '"seq": "1"'),
            "detail.seq is not a non-negative integer",
        ),
        (
            instance_command_message("in-1", "stop").replace('"force": false', '"force": "no"'),
            "detail.force is not a boolean",
        ),
    ],
)
def test_malformed_messages_say_what_is_wrong(body: str, fragment: str) -> None:
    with pytest.raises(MalformedEvent) as info:
        parse_message(body)
    assert fragment in str(info.value)
    assert not isinstance(info.value, ForeignEvent)


def test_detail_errors_name_the_event() -> None:
    body = _body(AWS_STATE_CHANGE, detail={"instance-id": "i-1"})
    with pytest.raises(MalformedEvent, match=f"^{STATE_CHANGE} event 7bf73129"):
        parse_message(body)


@pytest.mark.parametrize(
    ("source", "detail_type"),
    [
        ("aws.s3", "Object Created"),
        ("aws.ec2", "EC2 Spot Instance Interruption Warning"),
        ("aws.autoscaling", STATE_CHANGE),
        ("stackops.internal", "Something New"),
        ("stackops", "Instance State Change"),  # stackops's own outgoing events
        ("aws.s3", INSTANCE_COMMAND),
        ("aws.ec2", CONFIGURE_REQUEST),
    ],
)
def test_foreign_events_are_told_apart(source: str, detail_type: str) -> None:
    body = _body(AWS_STATE_CHANGE, source=source, **{"detail-type": detail_type}, detail={})
    with pytest.raises(ForeignEvent, match="unknown source/detail-type") as info:
        parse_message(body)
    assert isinstance(info.value, MalformedEvent)
    assert source in str(info.value) and detail_type in str(info.value)


def test_events_are_frozen() -> None:
    event = parse_message(MOTO_STATE_CHANGE)
    with pytest.raises(AttributeError):
        event.state = "stopped"  # type: ignore[misc]


# -- lifecycle hooks pointed straight at the queue, and what no body may do --------------------
HOOK_MESSAGE: dict[str, Any] = {
    "Origin": "EC2",
    "LifecycleHookName": "stackops-launch",
    "Destination": "AutoScalingGroup",
    "AccountId": "123456789012",
    "RequestId": "2b1f0b92-8e6c-4c8c-a3c4-0d0b0c6bb3f1",
    "LifecycleTransition": "autoscaling:EC2_INSTANCE_LAUNCHING",
    "AutoScalingGroupName": "shop-app",
    "Service": "AWS Auto Scaling",
    "Time": "2026-11-28T17:01:02.214Z",
    "EC2InstanceId": "i-1234567890abcdef0",
    "LifecycleActionToken": "87654321-4321-4321-4321-210987654321",
}


def test_a_hook_message_sent_straight_to_the_queue_is_a_lifecycle_action() -> None:
    action = parse_message(json.dumps(HOOK_MESSAGE))
    assert action == LifecycleAction(
        event_id="2b1f0b92-8e6c-4c8c-a3c4-0d0b0c6bb3f1",
        ec2_instance_id="i-1234567890abcdef0",
        transition="launch",
        group_name="shop-app",
        hook_name="stackops-launch",
        token="87654321-4321-4321-4321-210987654321",
        time="2026-11-28T17:01:02.214Z",
    )
    # The same action through EventBridge has another event id but the same token.
    via_bus = parse_message(_body(AWS_LAUNCH_ACTION))
    assert isinstance(via_bus, LifecycleAction) and via_bus.token == action.token


def test_the_test_notification_is_understood() -> None:
    body = {
        "AccountId": "123456789012",
        "RequestId": "ab12cd34-0000-1111-2222-333344445555",
        "AutoScalingGroupARN": "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:x",
        "AutoScalingGroupName": "shop app",
        "Service": "AWS Auto Scaling",
        "Event": "autoscaling:TEST_NOTIFICATION",
        "Time": "2026-11-28T17:00:00.000Z",
    }
    assert parse_message(json.dumps(body)) == TestNotification(
        "ab12cd34-0000-1111-2222-333344445555", "shop app", "2026-11-28T17:00:00.000Z"
    )


def test_warm_pool_origin_and_destination_are_kept() -> None:
    into_pool = parse_message(json.dumps({**HOOK_MESSAGE, "Destination": "WarmPool"}))
    assert isinstance(into_pool, LifecycleAction) and into_pool.destination == "WarmPool"
    detail = {**AWS_LAUNCH_ACTION["detail"], "Origin": "WarmPool"}
    out_of_pool = parse_message(_body(AWS_LAUNCH_ACTION, detail=detail))
    assert isinstance(out_of_pool, LifecycleAction)
    assert (out_of_pool.origin, out_of_pool.destination) == ("WarmPool", "AutoScalingGroup")
    with pytest.raises(MalformedEvent, match="Destination"):
        parse_message(json.dumps({**HOOK_MESSAGE, "Destination": "Elsewhere"}))


BAD_BODIES = [
    ("[" * (256 * 1024), "nests deeper than 32"),
    ('{"a":' * 5000 + "1" + "}" * 5000, "nests deeper than 32"),
    ("x" * (256 * 1024 + 1), "at most 262144"),
    (_body(AWS_STATE_CHANGE, id="e" * 2100), "2100 characters; at most 256"),
    (_body(AWS_STATE_CHANGE, id="id with spaces"), "is not an id"),
    (_body(AWS_STATE_CHANGE, detail={"instance-id": "i-\u0000", "state": "running"}), "not an id"),
    (configure_request_message("s" * 3000, 1), "3000 characters"),
    (configure_request_message("st-1", 1).replace('"seq": 1', '"seq": 1e400'), "seq"),
    (json.dumps({**HOOK_MESSAGE, "LifecycleTransition": "autoscaling:EC2_SOMETHING"}), "not one"),
    (json.dumps({"hello": "world"}), "neither an EventBridge event"),
    ('{"source": "\ud800"}', "detail-type"),
    (json.dumps({**HOOK_MESSAGE, "AutoScalingGroupName": "a\nb"}), "not a name"),
]


@pytest.mark.parametrize(("body", "fragment"), BAD_BODIES)
def test_no_body_raises_anything_but_a_one_line_reason(body: str, fragment: str) -> None:
    with pytest.raises(MalformedEvent) as info:
        parse_message(body)
    reason = str(info.value)
    assert fragment in reason
    assert "\n" not in reason and len(reason) < 400


def test_bytes_that_are_not_utf8_are_a_reason() -> None:
    with pytest.raises(MalformedEvent, match="not UTF-8"):
        parse_message(b'{"id": "\xff\xfe"}')


def test_nesting_is_counted_without_recursion_and_strings_do_not_count() -> None:
    from stackops.lifecycle.events import nesting_depth

    assert nesting_depth('{"a": [1, {"b": "[[[[[[[["}]}') == 3
    assert nesting_depth('"\\"[[["') == 0
    assert nesting_depth("[" * 100_000) == 33  # stops counting past the limit
