"""Command records, and the configure slots and membership counters coalescing relies on.

`CommandLog` is the DynamoDB `ConfigureTable` of `stackops.lifecycle.coalesce`, where
the protocol that uses these items is written down.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

from stackops.aws.dynamodb import ConditionFailed
from stackops.errors import NotFound
from stackops.model.commands import Command

if TYPE_CHECKING:
    from stackops.aws.dynamodb import StateTable


class Slot(NamedTuple):
    """An instance's queued configure: its command and the membership it was queued for."""

    command_id: str
    seq: int


class CommandLog:
    """Commands by id and by instance; configure slots by instance; membership counters."""

    def __init__(self, table: StateTable) -> None:
        self._table = table

    # -- commands -----------------------------------------------------------
    def put(self, command: Command) -> None:
        self._table.put(_encode(command))

    def put_many(self, commands: Iterable[Command]) -> None:
        self._table.put_many(_encode(c) for c in commands)

    def get(self, command_id: str) -> Command:
        item = self._table.get(f"command#{command_id}", "command")
        if item is None:
            raise NotFound(f"no command with id {command_id}")
        return _decode(item)

    def find(self, command_id: str) -> Command | None:
        item = self._table.get(f"command#{command_id}", "command")
        return _decode(item) if item is not None else None

    def get_many(self, command_ids: Iterable[str]) -> list[Command]:
        """Commands by id, in the order asked (missing ones left out)."""
        ids = list(dict.fromkeys(command_ids))
        found = {
            c.command_id: c
            for c in map(_decode, self._table.get_many((f"command#{i}", "command") for i in ids))
        }
        return [found[i] for i in ids if i in found]

    def for_instance(self, instance_id: str) -> list[Command]:
        """Every command of an instance, oldest first."""
        return [_decode(i) for i in self._table.query_index(f"instance#{instance_id}", "command#")]

    # -- coalescing storage (see stackops.lifecycle.coalesce) ----------------------------
    def bump_membership(self, stack_id: str) -> int:
        return self._table.increment(f"stack#{stack_id}", "membership", "seq")

    def slot(self, instance_id: str) -> Slot | None:
        item = self._table.get(f"configure#{instance_id}", "pending")
        return Slot(str(item["command_id"]), int(item["seq"])) if item else None

    def slots(self, instance_ids: Iterable[str]) -> dict[str, Slot]:
        items = self._table.get_many((f"configure#{i}", "pending") for i in instance_ids)
        return {
            item["pk"].split("#", 1)[1]: Slot(str(item["command_id"]), int(item["seq"]))
            for item in items
        }

    def swap_slot(self, instance_id: str, replacing: str | None, new: Slot) -> bool:
        condition = "attribute_not_exists(pk)" if replacing is None else "command_id = :old"
        values = None if replacing is None else {":old": replacing}
        item = {
            "pk": f"configure#{instance_id}",
            "sk": "pending",
            "command_id": new.command_id,
            "seq": new.seq,
        }
        try:
            self._table.put(item, condition=condition, values=values)
        except ConditionFailed:
            return False
        return True

    def clear_slot(self, instance_id: str, command_id: str) -> bool:
        try:
            self._table.delete(
                f"configure#{instance_id}",
                "pending",
                condition="command_id = :c",
                values={":c": command_id},
            )
        except ConditionFailed:
            return False
        return True


def _encode(command: Command) -> dict[str, Any]:
    return {
        "pk": f"command#{command.command_id}",
        "sk": "command",
        "gsi1pk": f"instance#{command.instance_id}",
        "gsi1sk": f"command#{command.created_at}#{command.command_id}",
        "kind": "command",
        "status": command.status.value,
        "data": json.dumps(command.to_record(), separators=(",", ":"), sort_keys=True),
    }


def _decode(item: dict[str, Any]) -> Command:
    return Command.from_record(json.loads(item["data"]))
