"""Configure coalescing: one home for the protocol that keeps every host list complete.

OpsWorks users who started 20 instances at once got nodes whose last configure saw
a partial membership. stackops queues at most one configure per instance, always
the newest, and runs it from a fresh read of the stack. The protocol:

1. Membership change. When the online members of stack S change, S's membership
   counter is bumped once (`next_membership`, an atomic add) to `seq`. For each
   online instance I a pending configure command C (with that `seq`) is stored and
   I's slot is compare-and-set to C (`queue`): if the slot already holds a command
   of the same or a newer `seq`, C loses and is stored `superseded`; otherwise C
   replaces it, and the command it replaced is marked `superseded` if still pending
   (never run: a newer one will see more). Then one Configure Request for S is sent.
2. Running. A dispatcher handling a Configure Request reads the slots of S's online
   instances once per batch (`queued`). For each slot, under the instance's lease,
   it reads the command and runs it if it is `pending` — or `running`: whoever holds
   the lease is the only one running anything there, so a running command was left
   by a process that died, and configure is idempotent, so it is run again
   (`should_run`). The attributes are built from a fresh read of the stack at run
   time, so a command queued for an older membership still carries the newest.
3. Dequeuing. Only after the outcome is recorded is the slot cleared, and only if
   it still names that command (`dequeue`, conditional): a newer configure queued
   meanwhile keeps its place and runs next.
4. Crashes. Until the outcome is recorded the slot names the command and the
   request message (never deleted before) comes back: the command runs again.
   After recording, the command is done and is not run again; its slot is cleared.

Hence: after the last membership change, every online instance runs one configure
that read the stack after that change.

`ConfigureTable` is what this needs from storage: the DynamoDB `CommandLog`, or an
in-memory table in tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from stackops.lifecycle.events import configure_request_message
from stackops.model.commands import Command, CommandStatus, CommandType
from stackops.model.instances import Instance
from stackops.store.commands import Slot

__all__ = [
    "ConfigureTable",
    "Slot",
    "dequeue",
    "fan_out",
    "next_membership",
    "queue",
    "queued",
    "request",
    "should_run",
    "supersede_orphans",
]


class ConfigureTable(Protocol):
    """Storage for coalescing: counters, one slot per instance, command records."""

    def bump_membership(self, stack_id: str) -> int:
        """Add one to the stack's membership counter; the new value (atomic)."""
        ...

    def slot(self, instance_id: str) -> Slot | None: ...

    def slots(self, instance_ids: Iterable[str]) -> dict[str, Slot]: ...

    def swap_slot(self, instance_id: str, replacing: str | None, new: Slot) -> bool:
        """Set the slot to `new` if it holds `replacing` (None: if empty); False otherwise."""
        ...

    def clear_slot(self, instance_id: str, command_id: str) -> bool:
        """Empty the slot if it holds `command_id`; False otherwise."""
        ...

    def find(self, command_id: str) -> Command | None: ...

    def for_instance(self, instance_id: str) -> list[Command]: ...

    def put(self, command: Command) -> None: ...


def next_membership(table: ConfigureTable, stack_id: str) -> int:
    """Step 1: the stack's new membership version."""
    return table.bump_membership(stack_id)


def queue(table: ConfigureTable, command: Command) -> str | None:
    """Step 1: make `command` its instance's queued configure unless a newer one is queued.

    Returns the id of the command that lost (the one replaced, now superseded, or
    `command` itself when the slot already held a newer one), else None.
    """
    while True:
        current = table.slot(command.instance_id)
        if current is not None and current.seq >= command.seq:
            table.put(command.model_copy(update={"status": CommandStatus.superseded}))
            return command.command_id
        table.put(command)
        replacing = current.command_id if current is not None else None
        slot = Slot(command.command_id, command.seq)
        if not table.swap_slot(command.instance_id, replacing, slot):
            continue  # someone queued meanwhile: look again
        if current is None:
            return None
        older = table.find(current.command_id)
        if older is not None and older.status is CommandStatus.pending:
            table.put(older.model_copy(update={"status": CommandStatus.superseded}))
        return current.command_id


def supersede_orphans(table: ConfigureTable, settled: Command) -> list[str]:
    """Step 3, after `settled` (a queued configure) ran or was skipped: mark superseded
    every configure of its instance older than it and still pending. A process killed
    inside `queue` leaves one (written but never slotted, or slotted out but never
    marked); nothing would ever run or settle it. Newer ones are left alone: `queue`
    writes a command before it takes the slot."""
    orphans = [
        c
        for c in table.for_instance(settled.instance_id)
        if c.type is CommandType.configure
        and c.status is CommandStatus.pending
        and not c.deployment_id
        and c.command_id != settled.command_id
        and c.created_at < settled.created_at
    ]
    for orphan in orphans:
        table.put(orphan.model_copy(update={"status": CommandStatus.superseded}))
    return [c.command_id for c in orphans]


def fan_out(
    table: ConfigureTable,
    stack_id: str,
    online: Sequence[Instance],
    make_command: Callable[[Instance, int], Command],
) -> tuple[int, list[str]]:
    """Step 1 for one stack: bump its membership and queue a configure on each online
    instance; returns the new `seq` and the ids of the commands superseded. The caller
    then sends one Configure Request for the stack."""
    seq = next_membership(table, stack_id)
    lost = [queue(table, make_command(instance, seq)) for instance in online]
    return seq, [command_id for command_id in lost if command_id]


def request(
    table: ConfigureTable,
    send: Callable[[str], object],
    stack_id: str,
    online: Sequence[Instance],
    make_command: Callable[[Instance, int], Command],
) -> int | None:
    """Step 1 and its request, the one way anything queues configures: `fan_out` on the
    online instances, then one Configure Request for the stack through `send` (the
    lifecycle queue's). Returns the new `seq`, or None when no instance is online."""
    if not online:
        return None
    seq, _ = fan_out(table, stack_id, online, make_command)
    send(configure_request_message(stack_id, seq))
    return seq


def queued(table: ConfigureTable, instance_ids: Iterable[str]) -> dict[str, Slot]:
    """Step 2: the queued configure of each instance that has one."""
    return table.slots(instance_ids)


def should_run(command: Command) -> bool:
    """Step 2, under the instance's lease: pending runs; running was orphaned and runs again."""
    return command.status in (CommandStatus.pending, CommandStatus.running)


def dequeue(table: ConfigureTable, instance_id: str, command_id: str) -> bool:
    """Step 3: clear the slot after the outcome is recorded; False if a newer one took it."""
    return table.clear_slot(instance_id, command_id)
