"""Configure coalescing against a fake table: the protocol of lifecycle/coalesce.py."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import count

from stackops.lifecycle import coalesce
from stackops.lifecycle.coalesce import Slot
from stackops.model.commands import Command, CommandStatus, CommandType
from stackops.model.instances import Instance

NOW = "2026-11-28T17:00:00.000000+00:00"


class FakeTable:
    """A ConfigureTable in memory, with compare-and-set slots like DynamoDB's conditions."""

    def __init__(self) -> None:
        self.counters: dict[str, int] = {}
        self.slots_by_instance: dict[str, Slot] = {}
        self.commands: dict[str, Command] = {}
        self.on_swap = None  # a hook to interleave another writer

    def bump_membership(self, stack_id: str) -> int:
        self.counters[stack_id] = self.counters.get(stack_id, 0) + 1
        return self.counters[stack_id]

    def slot(self, instance_id: str) -> Slot | None:
        return self.slots_by_instance.get(instance_id)

    def slots(self, instance_ids: Iterable[str]) -> dict[str, Slot]:
        return {i: s for i in instance_ids if (s := self.slots_by_instance.get(i))}

    def swap_slot(self, instance_id: str, replacing: str | None, new: Slot) -> bool:
        if self.on_swap is not None:
            hook, self.on_swap = self.on_swap, None
            hook()
        current = self.slots_by_instance.get(instance_id)
        if (current.command_id if current else None) != replacing:
            return False
        self.slots_by_instance[instance_id] = new
        return True

    def clear_slot(self, instance_id: str, command_id: str) -> bool:
        current = self.slots_by_instance.get(instance_id)
        if current is None or current.command_id != command_id:
            return False
        del self.slots_by_instance[instance_id]
        return True

    def find(self, command_id: str) -> Command | None:
        return self.commands.get(command_id)

    def put(self, command: Command) -> None:
        self.commands[command.command_id] = command


_ids = count(1)


def configure(instance_id: str, seq: int) -> Command:
    return Command(
        command_id=f"c{next(_ids)}",
        instance_id=instance_id,
        stack_id="st",
        type=CommandType.configure,
        created_at=NOW,
        seq=seq,
    )


def instance(instance_id: str) -> Instance:
    return Instance(
        instance_id=instance_id,
        stack_id="st",
        hostname=instance_id,
        instance_type="t3.micro",
        created_at=NOW,
    )


def status(table: FakeTable, command_id: str) -> CommandStatus:
    return table.commands[command_id].status


def test_a_newer_configure_supersedes_the_queued_one():
    table = FakeTable()
    old, new = configure("i1", 1), configure("i1", 2)
    assert coalesce.queue(table, old) is None
    assert coalesce.queue(table, new) == old.command_id
    assert status(table, old.command_id) is CommandStatus.superseded
    assert table.slot("i1") == Slot(new.command_id, 2)


def test_an_older_configure_loses_to_the_queued_one():
    table = FakeTable()
    new, old = configure("i1", 5), configure("i1", 4)
    coalesce.queue(table, new)
    assert coalesce.queue(table, old) == old.command_id
    assert status(table, old.command_id) is CommandStatus.superseded
    assert table.slot("i1") == Slot(new.command_id, 5)


def test_a_concurrent_writer_is_seen_and_the_newest_wins():
    table = FakeTable()
    mine, theirs = configure("i1", 2), configure("i1", 3)
    table.on_swap = lambda: coalesce.queue(table, theirs)  # lands between read and swap
    assert coalesce.queue(table, mine) == mine.command_id
    assert table.slot("i1") == Slot(theirs.command_id, 3)
    assert status(table, mine.command_id) is CommandStatus.superseded


def test_fan_out_queues_one_per_online_instance_with_one_seq():
    table = FakeTable()
    online = [instance("i1"), instance("i2"), instance("i3")]
    seq, lost = coalesce.fan_out(table, "st", online, lambda i, s: configure(i.instance_id, s))
    assert (seq, lost) == (1, [])
    again, lost = coalesce.fan_out(table, "st", online, lambda i, s: configure(i.instance_id, s))
    assert again == 2 and len(lost) == 3
    assert {s.seq for s in coalesce.queued(table, ["i1", "i2", "i3", "i9"]).values()} == {2}


def test_running_means_orphaned_under_the_lease_and_runs_again():
    pending = configure("i1", 1)
    assert coalesce.should_run(pending)
    assert coalesce.should_run(pending.model_copy(update={"status": CommandStatus.running}))
    for done in (CommandStatus.successful, CommandStatus.failed, CommandStatus.superseded):
        assert not coalesce.should_run(pending.model_copy(update={"status": done}))


def test_dequeue_keeps_a_newer_configure_queued_meanwhile():
    table = FakeTable()
    first = configure("i1", 1)
    coalesce.queue(table, first)
    newer = configure("i1", 2)
    coalesce.queue(table, newer)  # queued while `first` ran
    assert not coalesce.dequeue(table, "i1", first.command_id)
    assert table.slot("i1") == Slot(newer.command_id, 2)
    assert coalesce.dequeue(table, "i1", newer.command_id)
    assert table.slot("i1") is None


def test_a_crash_before_dequeue_leaves_the_command_to_run_again():
    table = FakeTable()
    command = configure("i1", 1)
    coalesce.queue(table, command)
    # The run began (running recorded) and the process died before recording the outcome.
    table.put(command.model_copy(update={"status": CommandStatus.running}))
    slot = coalesce.queued(table, ["i1"])["i1"]
    found = table.find(slot.command_id)
    assert found is not None and coalesce.should_run(found)
