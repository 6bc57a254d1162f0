"""Leases and event claims: conditional writes with the expiry checked in the condition.

moto (and DynamoDB itself, for up to days) keeps items past their TTL, so an
expired lease or claim is recognised by comparing `expires_at` with the clock,
never by its absence.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from stackops.aws.dynamodb import ConditionFailed

if TYPE_CHECKING:
    from stackops.aws.dynamodb import StateTable

FREE = "attribute_not_exists(pk) OR expires_at < :now"


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


class EventClaims:
    """At-least-once delivery made effectively once: an event id is claimed, then done."""

    def __init__(self, table: StateTable, clock: Callable[[], float]) -> None:
        self._table = table
        self._clock = clock

    def claim(self, event_id: str, owner: str, seconds: float) -> bool:
        """Claim an event (or renew our claim) for `seconds`; False if it is done or
        claimed by someone else."""
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
            return False
        return True

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
