"""Auto Scaling lifecycle actions: the outcome of each recorded once, by its token.

An action is delivered at least once, maybe through two routes (EventBridge and a
hook pointed at the queue), under different event ids but one LifecycleActionToken.
The first delivery to finish its recipes records CONTINUE or ABANDON here; every
later one finds the outcome and only retries CompleteLifecycleAction, never the
recipes. An EC2 instance an Auto Scaling group launched into a layer is adopted
once too: the first dispatcher to claim its EC2 id chooses the stackops id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from stackops.aws.dynamodb import ConditionFailed

if TYPE_CHECKING:
    from collections.abc import Callable

    from stackops.aws.dynamodb import StateTable

Result = Literal["CONTINUE", "ABANDON"]
KEEP_SECONDS = 3 * 86400  # a hook waits at most 48 h (its global timeout)


@dataclass(frozen=True)
class ActionOutcome:
    """What an action's recipes came to, and whether Auto Scaling has been told."""

    token: str
    result: Result
    reason: str
    completed: bool


class ActionLog:
    """Outcomes of lifecycle actions by token; adoptions of EC2 instances by EC2 id."""

    def __init__(self, table: StateTable, clock: Callable[[], float]) -> None:
        self._table = table
        self._clock = clock

    def outcome(self, token: str) -> ActionOutcome | None:
        item = self._table.get(f"action#{token}", "action")
        if item is None:
            return None
        return ActionOutcome(
            token, item["result"], str(item.get("reason", "")), bool(item.get("completed"))
        )

    def record(self, token: str, result: Result, reason: str) -> ActionOutcome:
        """Record the outcome unless one is recorded already; return the one that stands."""
        try:
            self._table.put(
                {
                    "pk": f"action#{token}",
                    "sk": "action",
                    "result": result,
                    "reason": reason,
                    "completed": False,
                    "expires_at": self._clock() + KEEP_SECONDS,
                },
                condition="attribute_not_exists(pk)",
            )
        except ConditionFailed:
            found = self.outcome(token)
            if found is not None:
                return found
            raise
        return ActionOutcome(token, result, reason, False)

    def completed(self, outcome: ActionOutcome) -> None:
        """Note that Auto Scaling was told (or no longer waits)."""
        self._table.put(
            {
                "pk": f"action#{outcome.token}",
                "sk": "action",
                "result": outcome.result,
                "reason": outcome.reason,
                "completed": True,
                "expires_at": self._clock() + KEEP_SECONDS,
            }
        )

    def adopt(self, ec2_instance_id: str, instance_id: str) -> str:
        """Claim `ec2_instance_id` for `instance_id`; the stackops id that won the claim."""
        try:
            self._table.put(
                {"pk": f"adopt#{ec2_instance_id}", "sk": "adopt", "instance_id": instance_id},
                condition="attribute_not_exists(pk)",
            )
        except ConditionFailed:
            item = self._table.get(f"adopt#{ec2_instance_id}", "adopt")
            if item is None:
                raise
            return str(item["instance_id"])
        return instance_id
