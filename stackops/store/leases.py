"""Leases and event claims: conditional writes with the expiry checked in the condition.

moto (and DynamoDB itself, for up to days) keeps items past their TTL, so an
expired lease or claim is recognised by comparing `expires_at` with the clock,
never by its absence.

Every run of recipes on an instance happens under that instance's lease
(`instance_lease`, used by the dispatcher and the deployment runner alike), held
by one holder per piece of work and kept alive by a `LeaseKeeper` while the work
runs. So whoever holds an instance's lease knows that no other run is under way
there: a command found `running` then was left by a process that died.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from enum import StrEnum
from typing import TYPE_CHECKING

from stackops.aws.dynamodb import ConditionFailed

if TYPE_CHECKING:
    from stackops.aws.dynamodb import StateTable

log = logging.getLogger("stackops.leases")

FREE = "attribute_not_exists(pk) OR expires_at < :now"
DEPLOYMENT_LEASE_SECONDS = 300  # renewed by the runner while it runs


def instance_lease_name(instance_id: str) -> str:
    """The lease every run on an instance holds."""
    return f"instance#{instance_id}"


def deployment_lease_name(stack_id: str, app_id: str | None) -> str:
    """The lease that makes deployments of one (stack, app) one at a time."""
    return f"deployment#{stack_id}#{app_id or 'stack'}"


_HERE = threading.local()  # the instance leases this thread holds: name -> holder


def holder_here(name: str) -> str:
    """The holder under which this thread holds lease `name` ("" if it does not).

    Runs record it in the in-flight index, so the sweeper can tell a run whose
    holder still holds its lease from one whose process is gone.
    """
    return getattr(_HERE, "held", {}).get(name, "")


class LeaseBusy(Exception):
    """Another holder has the lease (and kept it for as long as we were willing to wait)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"{name} is held by another run")
        self.name = name


class Leases:
    """Named leases: one owner at a time, taken over once expired."""

    def __init__(self, table: StateTable, clock: Callable[[], float]) -> None:
        self._table = table
        self._clock = clock

    def acquire(self, name: str, owner: str, seconds: float) -> bool:
        """Take (or renew) the lease `name` for `seconds`; False if another owner holds it."""
        now = self._clock()
        try:
            self._table.put(
                {"pk": f"lease#{name}", "sk": "lease", "owner": owner, "expires_at": now + seconds},
                condition=f"{FREE} OR #o = :me",
                names={"#o": "owner"},
                values={":now": now, ":me": owner},
            )
        except ConditionFailed:
            return False
        return True

    def take_over(self, name: str, from_owner: str, owner: str, seconds: float) -> bool:
        """Take the lease from `from_owner` (or free, or already ours) for `seconds`."""
        now = self._clock()
        try:
            self._table.put(
                {"pk": f"lease#{name}", "sk": "lease", "owner": owner, "expires_at": now + seconds},
                condition=f"{FREE} OR #o = :me OR #o = :from",
                names={"#o": "owner"},
                values={":now": now, ":me": owner, ":from": from_owner},
            )
        except ConditionFailed:
            return False
        return True

    def holder(self, name: str) -> str | None:
        """The current owner of a lease that has not expired, if any."""
        item = self._table.get(f"lease#{name}", "lease")
        if item is None or item.get("expires_at", 0) < self._clock():
            return None
        return item.get("owner")

    def release(self, name: str, owner: str) -> None:
        """Give the lease back if we still hold it."""
        with contextlib.suppress(ConditionFailed):
            self._table.delete(
                f"lease#{name}",
                "lease",
                condition="#o = :me",
                names={"#o": "owner"},
                values={":me": owner},
            )


class LeaseKeeper:
    """Renews the leases registered with it every third of their time, on its own thread.

    Use it as a context manager around work that holds leases; `hold` registers one,
    `drop` forgets it. A renewal that fails (the lease was taken over) is logged.
    """

    def __init__(self, leases: Leases, seconds: float, *, interval: float | None = None) -> None:
        self._leases = leases
        self.seconds = seconds
        self._interval = interval if interval is not None else max(seconds / 3, 0.2)
        self._held: dict[str, str] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.renewals = 0

    def __enter__(self) -> LeaseKeeper:
        self._thread = threading.Thread(target=self._run, name="lease-keeper", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def hold(self, name: str, holder: str) -> None:
        with self._lock:
            self._held[name] = holder

    def drop(self, name: str) -> None:
        with self._lock:
            self._held.pop(name, None)

    def held(self) -> dict[str, str]:
        with self._lock:
            return dict(self._held)

    def renew(self) -> None:
        """Renew every held lease once (the thread calls this on its interval)."""
        for name, holder in self.held().items():
            try:
                if not self._leases.acquire(name, holder, self.seconds):
                    log.warning("lease %s was taken over while %s held it", name, holder)
            except Exception:  # an outage: the next beat tries again
                log.warning("could not renew lease %s", name, exc_info=True)
        self.renewals += 1

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.renew()


@contextlib.contextmanager
def instance_lease(
    leases: Leases,
    instance_id: str,
    holder: str,
    seconds: float,
    *,
    keeper: LeaseKeeper | None = None,
    wait_seconds: float = 0.0,
    sleep: Callable[[float], object] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[str]:
    """Hold an instance's lease around a run: one run per instance at a time.

    Without `wait_seconds` a busy lease raises LeaseBusy at once (the dispatcher
    sends the work back to the queue); with it, the lease is tried every half second
    until then (the deployment runner waits for a configure to end). The keeper, if
    given, renews the lease while the block runs.
    """
    name = instance_lease_name(instance_id)
    deadline = clock() + wait_seconds
    while not leases.acquire(name, holder, seconds):
        if clock() >= deadline:
            raise LeaseBusy(name)
        sleep(0.5)
    if keeper is not None:
        keeper.hold(name, holder)
    held = _HERE.__dict__.setdefault("held", {})
    held[name] = holder
    try:
        yield holder
    finally:
        held.pop(name, None)
        if keeper is not None:
            keeper.drop(name)
        leases.release(name, holder)


class Claim(StrEnum):
    """What claiming an event found."""

    claimed = "claimed"  # ours now (or still ours): do its work
    done = "done"  # its work is recorded: a duplicate, acknowledge it
    held = "held"  # another live dispatcher works on it: leave it for later, never delete


class EventClaims:
    """At-least-once delivery made effectively once: an event id is claimed, then done.

    A claim lasts as long as the message stays invisible (the visibility timeout in
    use), so when a dead dispatcher's message comes back its claim has run out too.
    """

    def __init__(self, table: StateTable, clock: Callable[[], float]) -> None:
        self._table = table
        self._clock = clock

    def claim(self, event_id: str, owner: str, seconds: float) -> Claim:
        """Claim an event (or renew our claim) for `seconds`."""
        now = self._clock()
        try:
            self._table.put(
                {
                    "pk": f"event#{event_id}",
                    "sk": "event",
                    "state": "claimed",
                    "owner": owner,
                    "expires_at": now + seconds,
                },
                condition=f"{FREE} OR (#o = :me AND #s = :claimed)",
                names={"#o": "owner", "#s": "state"},
                values={":now": now, ":me": owner, ":claimed": "claimed"},
            )
        except ConditionFailed:
            item = self._table.get(f"event#{event_id}", "event")
            if item is not None and item.get("state") == "done":
                return Claim.done
            return Claim.held
        return Claim.claimed

    def done(self, event_ids: list[str], owner: str, keep_seconds: float) -> None:
        """Mark events done; their ids are remembered for `keep_seconds` (TTL)."""
        until = self._clock() + keep_seconds
        self._table.put_many(
            {
                "pk": f"event#{e}",
                "sk": "event",
                "state": "done",
                "owner": owner,
                "expires_at": until,
            }
            for e in event_ids
        )

    def release(self, event_id: str, owner: str) -> None:
        """Give a claim back (the event will be handled again when redelivered)."""
        with contextlib.suppress(ConditionFailed):
            self._table.delete(
                f"event#{event_id}",
                "event",
                condition="#o = :me AND #s = :claimed",
                names={"#o": "owner", "#s": "state"},
                values={":me": owner, ":claimed": "claimed"},
            )
