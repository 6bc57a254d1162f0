"""Command records, and the one queued configure per instance that coalescing relies on."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from stackops.aws.dynamodb import ConditionFailed
from stackops.errors import NotFound
from stackops.model.commands import Command, CommandStatus

if TYPE_CHECKING:
    from stackops.aws.dynamodb import StateTable


class CommandLog:
    """Commands by id and by instance; queued configures by instance."""

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

    # -- configure coalescing -------------------------------------------------
    def next_membership(self, stack_id: str) -> int:
        """Bump and return the stack's membership version."""
        return self._table.increment(f"stack#{stack_id}", "membership", "seq")

    def queue_configure(self, command: Command) -> str | None:
        """Make `command` the instance's queued configure unless a newer one is queued.

        Returns the id of the command that lost (the older one now superseded, or
        `command` itself when a newer one was already queued), else None.
        """
        key = (f"configure#{command.instance_id}", "pending")
        while True:
            current = self._table.get(*key)
            if current and int(current["seq"]) >= command.seq:
                self.put(command.model_copy(update={"status": CommandStatus.superseded}))
                return command.command_id
            self.put(command)
            condition = "attribute_not_exists(pk)" if current is None else "command_id = :old"
            values = None if current is None else {":old": current["command_id"]}
            try:
                self._table.put(
                    {
                        "pk": key[0],
                        "sk": key[1],
                        "command_id": command.command_id,
                        "seq": command.seq,
                    },
                    condition=condition,
                    values=values,
                )
            except ConditionFailed:
                continue  # someone queued meanwhile: look again
            if current is None:
                return None
            self._supersede(current["command_id"])
            return str(current["command_id"])

    def queued_configures(self, instance_ids: Iterable[str]) -> dict[str, tuple[str, int]]:
        """instance id -> (command id, seq) of its queued configure, for those that have one."""
        items = self._table.get_many((f"configure#{i}", "pending") for i in instance_ids)
        return {
            item["pk"].split("#", 1)[1]: (str(item["command_id"]), int(item["seq"]))
            for item in items
        }

    def take_configure(self, instance_id: str, command_id: str) -> bool:
        """Dequeue a configure to run it; False if another dispatcher took it first."""
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

    def _supersede(self, command_id: str) -> None:
        try:
            older = self.get(command_id)
        except NotFound:
            return
        if older.status is CommandStatus.pending:
            self.put(older.model_copy(update={"status": CommandStatus.superseded}))


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
