"""The EC2 watcher: state-change events for platforms that emit none (moto, LocalStack).

Real EC2 puts `EC2 Instance State-change Notification` events on the default bus by
itself. `stackops watch` polls DescribeInstances for the instances stackops tagged and
puts the same event shape on the bus with source `stackops.watcher`, so the bootstrap
rule routes both to the lifecycle queue and the dispatcher has one input (DESIGN §3).

Deciding what changed (`state_changes`, `remember`) is pure and works on plain data;
`Watcher.poll` reads once, decides, publishes, and only then updates its memory.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stackops.aws.ec2 import Ec2, Ec2Instance
from stackops.aws.events import Event, EventBus
from stackops.bootstrap import partition
from stackops.errors import StackopsError
from stackops.lifecycle.events import EC2_STATES
from stackops.wire import SOURCE_WATCHER, STATE_CHANGE, TAG_INSTANCE

if TYPE_CHECKING:
    from stackops.aws.session import AwsSession

SOURCE = SOURCE_WATCHER
WATCHED_TAG = TAG_INSTANCE  # the tag create-instance puts on every EC2 instance
EVENTS_PER_CALL = 10  # PutEvents takes at most 10 entries

States = Mapping[str, str]  # EC2 instance id -> state name


@dataclass(frozen=True)
class StateChange:
    """One instance found in a state other than the one last seen."""

    instance_id: str
    state: str

    def to_dict(self) -> dict[str, str]:
        return {"InstanceId": self.instance_id, "State": self.state}


@dataclass(frozen=True)
class PollResult:
    """What one poll saw and published."""

    seen: int
    changes: tuple[StateChange, ...]

    @property
    def published(self) -> int:
        return len(self.changes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "Seen": self.seen,
            "Published": self.published,
            "Changes": [c.to_dict() for c in self.changes],
        }


# -- deciding (pure) -----------------------------------------------------------------
def current_states(instances: Iterable[Ec2Instance]) -> dict[str, str]:
    """Id -> state of the instances in one of the six EC2 states (others are skipped)."""
    return {i.instance_id: i.state for i in instances if i.state in EC2_STATES}


def state_changes(known: States, current: States) -> list[StateChange]:
    """Instances whose state differs from the one last seen; with nothing known, all of them.

    So an instance that started while nobody watched is still announced on the first poll.
    """
    return [StateChange(i, s) for i, s in current.items() if known.get(i) != s]


def remember(known: States, current: States, published: Iterable[StateChange]) -> dict[str, str]:
    """The memory after a poll: instances no longer listed are forgotten, published states kept.

    EC2 lists a terminated instance for a while, then drops it; it is remembered (and so not
    announced again) exactly as long as it is listed, which bounds the memory by the listing.
    """
    memory = {i: s for i, s in known.items() if i in current}
    memory.update((c.instance_id, c.state) for c in published)
    return memory


def state_change_event(change: StateChange, instance_arn: str) -> Event:
    """The event EC2 itself would emit for `change`, with the watcher as its source."""
    return Event(
        source=SOURCE,
        detail_type=STATE_CHANGE,
        detail={"instance-id": change.instance_id, "state": change.state},
        resources=(instance_arn,),
    )


def instance_arn_maker(account: str, region: str) -> Callable[[str], str]:
    """A function giving the ARN of an EC2 instance id in this account and region."""
    prefix = f"arn:{partition(region)}:ec2:{region}:{account}:instance/"
    return lambda instance_id: prefix + instance_id


# -- polling -------------------------------------------------------------------------
class Watcher:
    """Polls the tagged instances and publishes each state change; remembers what it saw.

    `list_instances` returns the tagged instances (one describe per call), `publish` puts
    up to 10 events on the bus, `instance_arn` names an instance. `known` is the memory to
    start from (None: nothing known, so the first poll announces every instance).
    """

    def __init__(
        self,
        list_instances: Callable[[], Iterable[Ec2Instance]],
        publish: Callable[[Sequence[Event]], None],
        instance_arn: Callable[[str], str],
        *,
        known: States | None = None,
    ) -> None:
        self._list_instances = list_instances
        self._publish = publish
        self._instance_arn = instance_arn
        self._known: dict[str, str] = dict(known or {})

    @property
    def known(self) -> dict[str, str]:
        """A copy of the memory: instance id -> last state published."""
        return dict(self._known)

    def poll(self) -> PollResult:
        """Read once, publish the changes (10 per call), then remember them.

        If publishing fails the memory is left as it was, so the next poll publishes the
        same changes again (the dispatcher ignores repeats) and nothing is lost.
        """
        current = current_states(self._list_instances())
        changes = state_changes(self._known, current)
        events = [state_change_event(c, self._instance_arn(c.instance_id)) for c in changes]
        for start in range(0, len(events), EVENTS_PER_CALL):
            self._publish(events[start : start + EVENTS_PER_CALL])
        self._known = remember(self._known, current, changes)
        return PollResult(seen=len(current), changes=tuple(changes))

    def run(
        self,
        interval: float,
        *,
        should_stop: Callable[[], bool],
        sleep: Callable[[float], object] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        on_poll: Callable[[PollResult], None] | None = None,
        on_error: Callable[[StackopsError], None] | None = None,
    ) -> int:
        """Poll every `interval` seconds (start to start) until `should_stop`; return polls.

        A failed poll goes to `on_error` and the loop goes on (raised when there is none).
        Checked before each poll, `should_stop` ends the loop between polls, never inside one.
        """
        polls = 0
        while not should_stop():
            started = clock()
            try:
                result = self.poll()
            except StackopsError as exc:
                if on_error is None:
                    raise
                on_error(exc)
            else:
                if on_poll is not None:
                    on_poll(result)
            polls += 1
            if should_stop():
                break
            sleep(max(0.0, interval - (clock() - started)))
        return polls


def watcher_for(session: AwsSession, *, known: States | None = None) -> Watcher:
    """A Watcher on the target of `session`: its EC2 instances, its default event bus."""
    ec2, bus = Ec2(session), EventBus(session)
    return Watcher(
        lambda: ec2.describe_tagged(WATCHED_TAG),
        bus.put_events,
        instance_arn_maker(session.account_id(), session.target.region),
        known=known,
    )
