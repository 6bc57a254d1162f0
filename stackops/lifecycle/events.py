"""The one internal event shape the dispatcher consumes (DESIGN §4).

A queue message body is one of:
- an EventBridge envelope: EC2 state changes (from EC2 itself or `stackops watch`),
  Auto Scaling lifecycle actions, and stackops's own requests (source
  `stackops.internal`);
- an Auto Scaling lifecycle hook notification sent straight to the queue (no
  envelope: `LifecycleTransition`, `LifecycleActionToken`, ...), or its
  `autoscaling:TEST_NOTIFICATION`, sent when a hook is pointed at the queue.

`parse_message` turns a body into one frozen dataclass, or raises
`MalformedEvent` (`ForeignEvent` for a well-formed envelope that is not ours)
whose text is the one-line reason the dispatcher logs when it drops it. No body
makes it raise anything else: size, nesting depth, encoding and the length and
characters of every id are checked before anything else touches them.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal, cast, get_args

from stackops.wire import (
    CONFIGURE_REQUEST,
    DEPLOYMENT_REQUEST,
    GROUP,
    INSTANCE_COMMAND,
    LAUNCH_ACTION,
    LAUNCHING,
    SOURCE_AUTOSCALING,
    SOURCE_EC2,
    SOURCE_INTERNAL,
    SOURCE_WATCHER,
    STATE_CHANGE,
    TERMINATE_ACTION,
    TERMINATING,
    TEST_NOTIFICATION,
)

__all__ = [
    "CONFIGURE_REQUEST",
    "DEPLOYMENT_REQUEST",
    "INSTANCE_COMMAND",
    "LAUNCH_ACTION",
    "SOURCE_AUTOSCALING",
    "SOURCE_EC2",
    "SOURCE_INTERNAL",
    "SOURCE_WATCHER",
    "STATE_CHANGE",
    "TERMINATE_ACTION",
]

Ec2State = Literal["pending", "running", "stopping", "stopped", "shutting-down", "terminated"]
EC2_STATES: Final[frozenset[str]] = frozenset(get_args(Ec2State))

Transition = Literal["launch", "terminate"]
_TRANSITIONS: Final[dict[str, tuple[Transition, str]]] = {
    LAUNCH_ACTION: ("launch", LAUNCHING),
    TERMINATE_ACTION: ("terminate", TERMINATING),
}
_BY_HOOK_TRANSITION: Final[dict[str, Transition]] = {LAUNCHING: "launch", TERMINATING: "terminate"}
PLACES: Final = frozenset({"EC2", "AutoScalingGroup", "WarmPool"})

Command = Literal["stop", "start"]
COMMANDS: Final[frozenset[str]] = frozenset(get_args(Command))

MAX_BODY_BYTES: Final = 256 * 1024  # the most SQS accepts
MAX_DEPTH: Final = 32  # events nest 3 deep; json.loads itself recurses on nesting
MAX_NAME: Final = 255  # Auto Scaling group and hook names
MAX_ID: Final = 256  # DynamoDB keys hold 2 KB; no AWS or stackops id comes close
_ID: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@+=-]*$")


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
    """An Auto Scaling group waits on a lifecycle hook for an instance it launches or ends.

    `origin` and `destination` say where the instance comes from and goes to: EC2,
    AutoScalingGroup or WarmPool (a warm pool's instances have hooks of their own).
    """

    event_id: str
    ec2_instance_id: str
    transition: Transition
    group_name: str
    hook_name: str
    token: str
    time: str
    origin: str = "EC2"
    destination: str = GROUP


@dataclass(frozen=True, slots=True)
class TestNotification:
    """Auto Scaling checks a hook's target with a test message; it asks for nothing."""

    __test__ = False  # not a pytest test class, whatever its name

    event_id: str
    group_name: str
    time: str


@dataclass(frozen=True, slots=True)
class InstanceCommand:
    """stackops asks for an instance to be stopped, or set up once EC2 runs it (start)."""

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
    Ec2StateChange
    | LifecycleAction
    | TestNotification
    | InstanceCommand
    | ConfigureRequest
    | DeploymentRequest
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
    envelope = _load(body)
    if "detail-type" not in envelope and "source" not in envelope:
        return _hook_message(envelope)
    source = _text(envelope, "source", "envelope")
    detail_type = _text(envelope, "detail-type", "envelope")
    parser = _PARSERS.get((source, detail_type))
    if parser is None:
        raise ForeignEvent(f"unknown source/detail-type {_show(source)}/{_show(detail_type)}")
    head = _Head(_id(envelope, "id", "envelope"), source, detail_type, _time(envelope, "time"))
    try:
        detail = envelope.get("detail")
        if detail is None:
            raise MalformedEvent("missing field envelope.detail")
        if not isinstance(detail, dict):
            raise MalformedEvent("field envelope.detail is not an object")
        return parser(head, detail)
    except MalformedEvent as exc:
        raise MalformedEvent(f"{detail_type} event {head.event_id}: {exc}") from None


def _load(body: str | bytes) -> dict[str, Any]:
    """The body as a JSON object, its size and nesting checked before json.loads sees it."""
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedEvent(f"message body is not UTF-8: {exc.reason}") from None
    if not isinstance(body, str):
        raise MalformedEvent(f"message body is a {type(body).__name__}, not text")
    size = len(body.encode("utf-8", "surrogatepass"))
    if size > MAX_BODY_BYTES:
        raise MalformedEvent(f"message body is {size} bytes; at most {MAX_BODY_BYTES} are read")
    depth = nesting_depth(body)
    if depth > MAX_DEPTH:
        raise MalformedEvent(f"message body nests deeper than {MAX_DEPTH} levels")
    try:
        envelope = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise MalformedEvent(f"message body is not JSON: {_show(str(exc), 80)}") from None
    if not isinstance(envelope, dict):
        raise MalformedEvent(f"message body is a JSON {type(envelope).__name__}, not an object")
    return envelope


def nesting_depth(text: str, stop_after: int = MAX_DEPTH) -> int:
    """How deep `[` and `{` nest in JSON text (outside strings); stops counting past
    `stop_after`, so a 256 KB run of `[` costs one pass and no recursion."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > stop_after:
                    return deepest
        elif char in "]}":
            depth -= 1
    return deepest


def _show(value: str, limit: int = 60) -> str:
    """A value for a log line: repr, cut to `limit` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _text(data: Mapping[str, Any], field: str, where: str = "detail") -> str:
    value = data.get(field)
    if value is None:
        raise MalformedEvent(f"missing field {where}.{field}")
    if not isinstance(value, str) or not value:
        raise MalformedEvent(f"field {where}.{field} is not a non-empty string: {_show(value)}")
    return value


def _id(data: Mapping[str, Any], field: str, where: str = "detail") -> str:
    """An id: 1-256 letters, digits and `._:/@+=-` (every AWS and stackops id fits)."""
    value = _text(data, field, where)
    if len(value) > MAX_ID:
        raise MalformedEvent(f"field {where}.{field} is {len(value)} characters; at most {MAX_ID}")
    if not _ID.match(value):
        raise MalformedEvent(f"field {where}.{field} is not an id: {_show(value)}")
    return value


def _name(data: Mapping[str, Any], field: str, where: str = "detail") -> str:
    """An Auto Scaling name: 1-255 characters, none of them a control character."""
    value = _text(data, field, where)
    if len(value) > MAX_NAME or any(ord(c) < 32 or 0xD800 <= ord(c) < 0xE000 for c in value):
        raise MalformedEvent(f"field {where}.{field} is not a name: {_show(value)}")
    return value


def _time(data: Mapping[str, Any], field: str, where: str = "envelope") -> str:
    value = _text(data, field, where)
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise MalformedEvent(
            f"field {where}.{field} is not an ISO-8601 time: {_show(value)}"
        ) from None
    return value


def _place(detail: Mapping[str, Any], field: str, default: str) -> str:
    value = detail.get(field, default)
    if value not in PLACES:
        raise MalformedEvent(
            f"field {field} is {_show(str(value))}; expected one of {', '.join(sorted(PLACES))}"
        )
    return str(value)


def _state_change(head: _Head, detail: Mapping[str, Any]) -> Ec2StateChange:
    ec2_instance_id = _id(detail, "instance-id")
    state = _text(detail, "state")
    if state not in EC2_STATES:
        raise MalformedEvent(f"state {_show(state)} is not one of {', '.join(sorted(EC2_STATES))}")
    return Ec2StateChange(head.event_id, head.source, ec2_instance_id, state, head.time)


def _action(event_id: str, time: str, transition: Transition, detail: Mapping[str, Any]) -> Any:
    return LifecycleAction(
        event_id=event_id,
        ec2_instance_id=_id(detail, "EC2InstanceId"),
        transition=transition,
        group_name=_name(detail, "AutoScalingGroupName"),
        hook_name=_name(detail, "LifecycleHookName"),
        token=_id(detail, "LifecycleActionToken"),
        time=time,
        origin=_place(detail, "Origin", "EC2"),
        destination=_place(detail, "Destination", GROUP),
    )


def _lifecycle_action(head: _Head, detail: Mapping[str, Any]) -> LifecycleAction:
    transition, expected = _TRANSITIONS[head.detail_type]
    given = _text(detail, "LifecycleTransition")
    if given != expected:
        raise MalformedEvent(
            f"LifecycleTransition {_show(given)} does not match; expected {expected}"
        )
    return cast(LifecycleAction, _action(head.event_id, head.time, transition, detail))


def _hook_message(message: Mapping[str, Any]) -> LifecycleAction | TestNotification:
    """A lifecycle hook's notification sent to the queue directly (no EventBridge envelope)."""
    where = "hook message"
    if message.get("Event") == TEST_NOTIFICATION:
        event_id = _id(message, "RequestId", where)
        group = _name(message, "AutoScalingGroupName", where)
        return TestNotification(event_id, group, _time(message, "Time", where))
    given = message.get("LifecycleTransition")
    if given is None:
        raise MalformedEvent(
            "message is neither an EventBridge event (no source/detail-type) nor an Auto "
            "Scaling lifecycle hook notification (no LifecycleTransition)"
        )
    transition = _BY_HOOK_TRANSITION.get(given) if isinstance(given, str) else None
    if transition is None:
        raise MalformedEvent(
            f"LifecycleTransition {_show(str(given))} is not one of {LAUNCHING}, {TERMINATING}"
        )
    token = _id(message, "LifecycleActionToken", where)
    event_id = _id(message, "RequestId", where) if "RequestId" in message else token
    try:
        action = _action(event_id, _time(message, "Time", where), transition, message)
    except MalformedEvent as exc:
        raise MalformedEvent(f"lifecycle hook message {event_id}: {exc}") from None
    return cast(LifecycleAction, action)


def _instance_command(head: _Head, detail: Mapping[str, Any]) -> InstanceCommand:
    instance_id = _id(detail, "instance-id")
    command = _text(detail, "command")
    if command not in COMMANDS:
        raise MalformedEvent(
            f"command {_show(command)} is not one of {', '.join(sorted(COMMANDS))}"
        )
    force = detail.get("force", False)
    if not isinstance(force, bool):
        raise MalformedEvent(f"field detail.force is not a boolean: {_show(str(force))}")
    return InstanceCommand(head.event_id, instance_id, cast(Command, command), force, head.time)


def _configure_request(head: _Head, detail: Mapping[str, Any]) -> ConfigureRequest:
    stack_id = _id(detail, "stack-id")
    seq = detail.get("seq")
    if seq is None:
        raise MalformedEvent("missing field detail.seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0 or seq >= 2**63:
        raise MalformedEvent(f"field detail.seq is not a non-negative integer: {_show(str(seq))}")
    return ConfigureRequest(head.event_id, stack_id, seq, head.time)


def _deployment_request(head: _Head, detail: Mapping[str, Any]) -> DeploymentRequest:
    return DeploymentRequest(head.event_id, _id(detail, "deployment-id"), head.time)


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
