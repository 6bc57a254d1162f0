"""`--wait`: follow an instance or a deployment until it ends, reporting each change.

start-instance, stop-instance and create-deployment take `--wait`; each follows
its record here until it reaches an end, and says how it ended by an exit
status: 0 when it reached what was asked (online; stopped; successful, or the
pause asked for), 1 when it ended otherwise (a failed status) or did not end
within the timeout. The work itself is the dispatcher's: waiting changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from stackops.errors import Conflict
from stackops.model.deployments import Deployment, DeploymentStatus
from stackops.model.enums import InstanceStatus as S
from stackops.model.instances import Instance

if TYPE_CHECKING:
    from stackops.services import Services

T = TypeVar("T")
Progress = Callable[[T, float], None]
"""Called with the record on every change (0.0), and once more with the seconds it has
not changed after `stall_after` seconds (so the caller can say what may be missing)."""

# What each wait is after, and the statuses that end it without getting there.
ONLINE_FAILED = frozenset(
    {S.setup_failed, S.start_failed, S.stop_failed, S.stopped, S.terminated, S.connection_lost}
)
STOPPED = frozenset({S.stopped, S.terminated})
STOP_FAILED = frozenset({S.stop_failed})


class WaitTimedOut(Conflict):
    """The record did not reach an end within the wait's timeout (exit status 1)."""


@dataclass(frozen=True)
class Ended(Generic[T]):
    """How a wait ended: the last record, and whether it reached what was asked."""

    record: T
    ok: bool


def follow(
    read: Callable[[], T],
    state: Callable[[T], object],
    verdict: Callable[[T], bool | None],
    *,
    what: str,
    on_progress: Progress[T],
    interval: float,
    timeout: float,
    stall_after: float = 30.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Ended[T]:
    """Poll `read` until `verdict` says True (reached) or False (ended otherwise)."""
    started = changed = clock()
    last: object = object()
    stalled = False
    while True:
        record = read()
        seen = state(record)
        now = clock()
        if seen != last:
            on_progress(record, 0.0)
            last, changed, stalled = seen, now, False
        done = verdict(record)
        if done is not None:
            return Ended(record, done)
        if not stalled and now - changed >= stall_after:
            on_progress(record, now - changed)
            stalled = True
        if now - started >= timeout:
            raise WaitTimedOut(
                f"{what} has not ended after {timeout:g} s",
                hint="it goes on without you: follow it with describe-instances or "
                "describe-deployments",
            )
        sleep(interval)


def wait_for_instance(
    services: Services,
    instance_id: str,
    *,
    until: str,
    on_progress: Progress[Instance],
    interval: float = 1.0,
    timeout: float = 900.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Ended[Instance]:
    """Follow an instance until it is `until` ("online" or "stopped": stopped or
    terminated), or in a status that ends the wait otherwise."""
    if until == "online":
        goal, failed = frozenset({S.online}), ONLINE_FAILED
    elif until == "stopped":
        goal, failed = STOPPED, STOP_FAILED
    else:
        raise ValueError(f"cannot wait until {until!r}")

    def verdict(instance: Instance) -> bool | None:
        if instance.status in goal:
            return True
        return False if instance.status in failed else None

    return follow(
        lambda: services.store.get(Instance, instance_id),
        lambda i: (i.status, i.status_reason),
        verdict,
        what=f"instance {instance_id}",
        on_progress=on_progress,
        interval=interval,
        timeout=timeout,
        sleep=sleep,
    )


def wait_for_deployment(
    services: Services,
    deployment_id: str,
    *,
    on_progress: Progress[Deployment],
    interval: float = 1.0,
    timeout: float = 3600.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Ended[Deployment]:
    """Follow a deployment until it ends (successful: reached) or pauses (reached too:
    a pause is what --pause asked for)."""

    def verdict(deployment: Deployment) -> bool | None:
        match deployment.status:
            case DeploymentStatus.running:
                return None
            case DeploymentStatus.failed:
                return False
        return True

    return follow(
        lambda: services.deployments.get(deployment_id),
        lambda d: (
            d.status,
            [
                (b.status, len(b.switched_instance_ids), len(b.failed_instance_ids))
                for b in d.batches
            ],
        ),
        verdict,
        what=f"deployment {deployment_id}",
        on_progress=on_progress,
        interval=interval,
        timeout=timeout,
        sleep=sleep,
    )
