"""The scaler's records in the state table: schedules, thresholds, marks, last actions, history.

Item layout (the one state table, see `stackops.store`):
  schedule     pk "timescaling#<instance>"  sk "schedule"   gsi1pk "autoscale#<stack>"
  mark         pk "timescaling#<instance>"  sk "mark"       gsi1pk "autoscale#<stack>"
  thresholds   pk "loadscaling#<layer>"     sk "thresholds" gsi1pk "autoscale#<stack>"
  last action  pk "loadscaling#<layer>"     sk "last"       gsi1pk "autoscale#<stack>"
  history      pk "scaling#<id>"            sk "scaling"    gsi1pk "scalings#<stack>"
One query of `autoscale#<stack>` reads everything a round needs besides the
stack's instances and layers. History items expire after HISTORY_DAYS (TTL).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from stackops.autoscale.decide import LastAction, ScheduleMark
from stackops.model.autoscaling import LoadBasedAutoScaling, TimeBasedAutoScaling

if TYPE_CHECKING:
    from stackops.aws.dynamodb import StateTable

HISTORY_DAYS = 30


@dataclass
class StackScaling:
    """A stack's scaling configuration and the scaler's state, read with one query."""

    schedules: dict[str, TimeBasedAutoScaling] = field(default_factory=dict)
    marks: dict[str, ScheduleMark] = field(default_factory=dict)
    layers: dict[str, LoadBasedAutoScaling] = field(default_factory=dict)
    last_actions: dict[str, LastAction] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        """True when the stack has no schedule and no enabled load-based layer."""
        return not self.schedules and not any(c.enable for c in self.layers.values())


class ScalingRecords:
    """Typed access to the scaler's items."""

    def __init__(self, table: StateTable) -> None:
        self._table = table

    # -- configuration --------------------------------------------------------------------
    def put_schedule(self, schedule: TimeBasedAutoScaling) -> None:
        self._table.put(
            _item(
                f"timescaling#{schedule.instance_id}",
                "schedule",
                schedule.stack_id,
                data=json.dumps(schedule.to_record(), sort_keys=True),
            )
        )

    def schedules(self, instance_ids: Iterable[str]) -> dict[str, TimeBasedAutoScaling]:
        items = self._table.get_many((f"timescaling#{i}", "schedule") for i in instance_ids)
        return {
            s.instance_id: s
            for s in (TimeBasedAutoScaling.from_record(json.loads(i["data"])) for i in items)
        }

    def put_thresholds(self, config: LoadBasedAutoScaling) -> None:
        self._table.put(
            _item(
                f"loadscaling#{config.layer_id}",
                "thresholds",
                config.stack_id,
                data=json.dumps(config.to_record(), sort_keys=True),
            )
        )

    def thresholds(self, layer_ids: Iterable[str]) -> dict[str, LoadBasedAutoScaling]:
        items = self._table.get_many((f"loadscaling#{i}", "thresholds") for i in layer_ids)
        return {
            c.layer_id: c
            for c in (LoadBasedAutoScaling.from_record(json.loads(i["data"])) for i in items)
        }

    # -- a round's reads and writes -----------------------------------------------------------
    def stack(self, stack_id: str) -> StackScaling:
        """Schedules, thresholds, marks and last actions of a stack (one query)."""
        found = StackScaling()
        for item in self._table.query_index(f"autoscale#{stack_id}"):
            owner = item["pk"].split("#", 1)[1]
            match item["sk"]:
                case "schedule":
                    found.schedules[owner] = TimeBasedAutoScaling.from_record(
                        json.loads(item["data"])
                    )
                case "mark":
                    found.marks[owner] = ScheduleMark(item["state"], item.get("revision", ""))
                case "thresholds":
                    found.layers[owner] = LoadBasedAutoScaling.from_record(json.loads(item["data"]))
                case "last":
                    at = datetime.fromisoformat(item["at"])
                    found.last_actions[owner] = LastAction(item["direction"], at)
        return found

    def put_marks(self, stack_id: str, marks: Iterable[tuple[str, ScheduleMark]]) -> None:
        self._table.put_many(
            _item(
                f"timescaling#{instance_id}",
                "mark",
                stack_id,
                state=mark.state,
                revision=mark.revision,
            )
            for instance_id, mark in marks
        )

    def clear_marks(self, stack_id: str) -> int:
        """Forget every mark of a stack: the next round brings each time-based instance
        to its schedule again. Returns how many were forgotten."""
        keys = [
            (item["pk"], item["sk"])
            for item in self._table.query_index(f"autoscale#{stack_id}", "mark#")
        ]
        self._table.delete_many(keys)
        return len(keys)

    def put_last_actions(self, stack_id: str, actions: dict[str, LastAction]) -> None:
        self._table.put_many(
            _item(
                f"loadscaling#{layer_id}",
                "last",
                stack_id,
                direction=action.direction,
                at=action.at.isoformat(),
            )
            for layer_id, action in actions.items()
        )

    # -- history ------------------------------------------------------------------------------
    def record(self, stack_id: str, entries: list[dict[str, Any]], expires_at: float) -> None:
        """Keep scaling actions (their API shape, with ScalingActionId and DecidedAt)."""
        self._table.put_many(
            {
                "pk": f"scaling#{e['ScalingActionId']}",
                "sk": "scaling",
                "gsi1pk": f"scalings#{stack_id}",
                "gsi1sk": f"{e['DecidedAt']}#{n:05d}#{e['ScalingActionId']}",
                "kind": "scaling",
                "expires_at": expires_at,
                "data": json.dumps(e),
            }
            for n, e in enumerate(entries)
        )

    def history(self, stack_id: str, limit: int) -> list[dict[str, Any]]:
        """The newest `limit` scaling actions of a stack, newest first."""
        items = list(self._table.query_index(f"scalings#{stack_id}"))
        return [json.loads(i["data"]) for i in reversed(items[-limit:])] if limit else []


def _item(pk: str, sk: str, stack_id: str, **attributes: Any) -> dict[str, Any]:
    return {
        "pk": pk,
        "sk": sk,
        "gsi1pk": f"autoscale#{stack_id}",
        "gsi1sk": f"{sk}#{pk.split('#', 1)[1]}",
        "kind": f"autoscale-{sk}",
        **attributes,
    }
