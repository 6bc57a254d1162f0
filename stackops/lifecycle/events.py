"""The one internal event shape the dispatcher consumes (DESIGN §4).

Every SQS message body is an EventBridge envelope: EC2 state changes (from EC2
itself or from `stackops watch`), Auto Scaling lifecycle actions, and
stackops's own requests sent straight to the queue with source
`stackops.internal`. `parse_message` turns a body into one frozen dataclass;
anything else raises `MalformedEvent` (or `ForeignEvent` for an envelope that
is well formed but not ours), which the dispatcher logs and drops.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal, cast, get_args

SOURCE_EC2: Final = "aws.ec2"
SOURCE_WATCHER: Final = "stackops.watcher"
SOURCE_AUTOSCALING: Final = "aws.autoscaling"
SOURCE_INTERNAL: Final = "stackops.internal"

STATE_CHANGE: Final = "EC2 Instance State-change Notification"
LAUNCH_ACTION: Final = "EC2 Instance-launch Lifecycle Action"
TERMINATE_ACTION: Final = "EC2 Instance-terminate Lifecycle Action"
INSTANCE_COMMAND: Final = "Instance Command"
CONFIGURE_REQUEST: Final = "Configure Request"
DEPLOYMENT_REQUEST: Final = "Deployment Request"

Ec2State = Literal["pending", "running", "stopping", "stopped", "shutting-down", "terminated"]
EC2_STATES: Final[frozenset[str]] = frozenset(get_args(Ec2State))

Transition = Literal["launch", "terminate"]
_TRANSITIONS: Final[dict[str, tuple[Transition, str]]] = {
    LAUNCH_ACTION: ("launch", "autoscaling:EC2_INSTANCE_LAUNCHING"),
    TERMINATE_ACTION: ("terminate", "autoscaling:EC2_INSTANCE_TERMINATING"),
}

Command = Literal["stop", "start"]
COMMANDS: Final[frozenset[str]] = frozenset(get_args(Command))


class MalformedEvent(ValueError):
    """A queue message that is not a valid event; the message says what is wrong."""


class ForeignEvent(MalformedEvent):
    """A well-formed envelope from a source or of a detail-type stackops does not consume."""


@dataclass(frozen=True, slots=True)
class Ec2StateChange:
    """An EC2 instance changed state (source `aws.ec2` or `stackops.watcher`)."""

    event_id: str
    source: str
    ec2_instance_id: str
    state: str
    time: str


@dataclass(frozen=True, slots=True)
class LifecycleAction:
    """An Auto Scaling group waits on a lifecycle hook for an instance it launches or ends."""

    event_id: str
    ec2_instance_id: str
    transition: Transition
    group_name: str
    hook_name: str
    token: str
    time: str


@dataclass(frozen=True, slots=True)
class InstanceCommand:
    """stackops asks for an instance to be stopped or started (stop-instance, start-instance)."""

    event_id: str
    instance_id: str
    command: Command
    force: bool
    time: str


@dataclass(frozen=True, slots=True)
class ConfigureRequest:
    """stackops asks for configure on a stack's online instances; `seq` orders membership."""

    event_id: str
    stack_id: str
    seq: int
    time: str


@dataclass(frozen=True, slots=True)
class DeploymentRequest:
    """stackops asks for a stored deployment to be run."""

    event_id: str
    deployment_id: str
    time: str


LifecycleEvent = (
    Ec2StateChange | LifecycleAction | InstanceCommand | ConfigureRequest | DeploymentRequest
)


# -- parsing ----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Head:
    """The envelope fields every event kind shares."""

    event_id: str
    source: str
    detail_type: str
    time: str


def parse_message(body: str | bytes) -> LifecycleEvent:
    """Parse one SQS message body into its event; raise `MalformedEvent` or `ForeignEvent`."""
    try:
        envelope = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError, TypeError) as exc:
        raise MalformedEvent(f"message body is not JSON: {exc}") from None
    if not isinstance(envelope, dict):
        raise MalformedEvent(f"message body is a JSON {type(envelope).__name__}, not an object")
    source = _text(envelope, "source", "envelope")
    detail_type = _text(envelope, "detail-type", "envelope")
    parser = _PARSERS.get((source, detail_type))
    if parser is None:
        raise ForeignEvent(f"unknown source/detail-type {source!r}/{detail_type!r}")
    head = _Head(_text(envelope, "id", "envelope"), source, detail_type, _time(envelope))
    try:
        detail = envelope.get("detail")
        if detail is None:
            raise MalformedEvent("missing field envelope.detail")
        if not isinstance(detail, dict):
            raise MalformedEvent("field envelope.detail is not an object")
        return parser(head, detail)
    except MalformedEvent as exc:
        raise MalformedEvent(f"{detail_type} event {head.event_id}: {exc}") from None


def _text(data: Mapping[str, Any], field: str, where: str = "detail") -> str:
    value = data.get(field)
    if value is None:
        raise MalformedEvent(f"missing field {where}.{field}")
    if not isinstance(value, str) or not value:
        raise MalformedEvent(f"field {where}.{field} is not a non-empty string: {value!r}")
    return value


def _time(envelope: Mapping[str, Any]) -> str:
    value = _text(envelope, "time", "envelope")
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise MalformedEvent(f"field envelope.time is not an ISO-8601 time: {value!r}") from None
    return value


def _state_change(head: _Head, detail: Mapping[str, Any]) -> Ec2StateChange:
    ec2_instance_id = _text(detail, "instance-id")
    state = _text(detail, "state")
    if state not in EC2_STATES:
        raise MalformedEvent(f"state {state!r} is not one of {', '.join(sorted(EC2_STATES))}")
    return Ec2StateChange(head.event_id, head.source, ec2_instance_id, state, head.time)


def _lifecycle_action(head: _Head, detail: Mapping[str, Any]) -> LifecycleAction:
    transition, expected = _TRANSITIONS[head.detail_type]
    given = _text(detail, "LifecycleTransition")
    if given != expected:
        raise MalformedEvent(f"LifecycleTransition {given!r} does not match; expected {expected}")
    return LifecycleAction(
        event_id=head.event_id,
        ec2_instance_id=_text(detail, "EC2InstanceId"),
        transition=transition,
        group_name=_text(detail, "AutoScalingGroupName"),
        hook_name=_text(detail, "LifecycleHookName"),
        token=_text(detail, "LifecycleActionToken"),
        time=head.time,
    )


def _instance_command(head: _Head, detail: Mapping[str, Any]) -> InstanceCommand:
    instance_id = _text(detail, "instance-id")
    command = _text(detail, "command")
    if command not in COMMANDS:
        raise MalformedEvent(f"command {command!r} is not one of {', '.join(sorted(COMMANDS))}")
    force = detail.get("force", False)
    if not isinstance(force, bool):
        raise MalformedEvent(f"field detail.force is not a boolean: {force!r}")
    return InstanceCommand(head.event_id, instance_id, cast(Command, command), force, head.time)


def _configure_request(head: _Head, detail: Mapping[str, Any]) -> ConfigureRequest:
    stack_id = _text(detail, "stack-id")
    seq = detail.get("seq")
    if seq is None:
        raise MalformedEvent("missing field detail.seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise MalformedEvent(f"field detail.seq is not a non-negative integer: {seq!r}")
    return ConfigureRequest(head.event_id, stack_id, seq, head.time)


def _deployment_request(head: _Head, detail: Mapping[str, Any]) -> DeploymentRequest:
    return DeploymentRequest(head.event_id, _text(detail, "deployment-id"), head.time)


_PARSERS: Final[dict[tuple[str, str], Callable[[_Head, Mapping[str, Any]], LifecycleEvent]]] = {
    (SOURCE_EC2, STATE_CHANGE): _state_change,
    (SOURCE_WATCHER, STATE_CHANGE): _state_change,
    (SOURCE_AUTOSCALING, LAUNCH_ACTION): _lifecycle_action,
    (SOURCE_AUTOSCALING, TERMINATE_ACTION): _lifecycle_action,
    (SOURCE_INTERNAL, INSTANCE_COMMAND): _instance_command,
    (SOURCE_INTERNAL, CONFIGURE_REQUEST): _configure_request,
    (SOURCE_INTERNAL, DEPLOYMENT_REQUEST): _deployment_request,
}


# -- building stackops's own messages ------------------------------------------------
def state_change_detail(ec2_instance_id: str, state: str) -> dict[str, str]:
    """The `detail` of an EC2 state-change event, as the watcher puts it on the bus."""
    if state not in EC2_STATES:
        raise ValueError(f"state {state!r} is not one of {', '.join(sorted(EC2_STATES))}")
    return {"instance-id": ec2_instance_id, "state": state}


def event_time(moment: datetime | None = None) -> str:
    """A time as EventBridge writes it: ISO-8601 UTC to the second (`2026-11-28T17:00:00Z`)."""
    moment = datetime.now(UTC) if moment is None else moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def instance_command_message(
    instance_id: str,
    command: Command,
    *,
    force: bool = False,
    event_id: str | None = None,
    time: str | None = None,
) -> str:
    """The queue body asking for `command` (stop or start) on a stackops instance."""
    if command not in COMMANDS:
        raise ValueError(f"command {command!r} is not one of {', '.join(sorted(COMMANDS))}")
    detail = {"instance-id": instance_id, "command": command, "force": force}
    return _internal_message(INSTANCE_COMMAND, detail, event_id, time)


def configure_request_message(
    stack_id: str, seq: int, *, event_id: str | None = None, time: str | None = None
) -> str:
    """The queue body asking for configure on a stack's online instances."""
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
        raise ValueError(f"seq must be a non-negative integer, not {seq!r}")
    return _internal_message(CONFIGURE_REQUEST, {"stack-id": stack_id, "seq": seq}, event_id, time)


def deployment_request_message(
    deployment_id: str, *, event_id: str | None = None, time: str | None = None
) -> str:
    """The queue body asking for a stored deployment to be run."""
    return _internal_message(DEPLOYMENT_REQUEST, {"deployment-id": deployment_id}, event_id, time)


def state_change_message(
    ec2_instance_id: str,
    state: str,
    instance_arn: str,
    *,
    event_id: str | None = None,
    time: str | None = None,
) -> str:
    """The queue body EventBridge delivers for the watcher's state-change event, for a verb
    that tells the dispatcher itself (the operator may send to the queue, not put events)."""
    detail = state_change_detail(ec2_instance_id, state)
    return _envelope(SOURCE_WATCHER, STATE_CHANGE, detail, event_id, time, [instance_arn])


def _internal_message(
    detail_type: str, detail: Mapping[str, Any], event_id: str | None, time: str | None
) -> str:
    return _envelope(SOURCE_INTERNAL, detail_type, detail, event_id, time, [])


def _envelope(
    source: str,
    detail_type: str,
    detail: Mapping[str, Any],
    event_id: str | None,
    time: str | None,
    resources: list[str],
) -> str:
    envelope = {
        "id": event_id or str(uuid.uuid4()),
        "time": time or event_time(),
        "version": "0",
        "detail-type": detail_type,
        "source": source,
        "resources": resources,
        "detail": dict(detail),
    }
    return json.dumps(envelope)
