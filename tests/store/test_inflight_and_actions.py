"""The in-flight index the sweeper reads, and Auto Scaling action outcomes recorded once."""

from __future__ import annotations

from stackops.model.commands import Command, CommandType


def command(command_id: str, instance_id: str) -> Command:
    return Command(
        command_id=command_id,
        instance_id=instance_id,
        stack_id="st-1",
        type=CommandType.setup,
        created_at="2026-11-28T17:00:00.000000+00:00",
    )


def test_runs_under_way_are_listed_and_leave_when_done(services):
    index = services.inflight
    index.begin_command(command("c-1", "in-1"), "instance#in-1", "holder-a", 100.0)
    index.begin_deployment("dep-1", "st-1", "deployment#st-1#app", "holder-b", 101.0)
    listed = {(e.kind, e.run_id, e.holder, e.instance_id) for e in index.all()}
    assert listed == {
        ("command", "c-1", "holder-a", "in-1"),
        ("deployment", "dep-1", "holder-b", ""),
    }
    index.end("command", "c-1")
    index.end("deployment", "dep-1")
    assert index.all() == []


def test_a_membership_note_is_cleared_only_by_who_read_the_newest(services):
    index = services.inflight
    first = index.membership_changed("st-1", 1.0)
    second = index.membership_changed("st-1", 2.0)  # another change before the fan-out
    index.membership_queued("st-1", first)  # a fan-out that read the older note
    assert index.membership_token("st-1") == second
    index.membership_queued("st-1", second)
    assert index.membership_token("st-1") is None


def test_an_action_outcome_is_recorded_once(services):
    actions = services.actions
    first = actions.record("tok-1", "CONTINUE", "online")
    assert (first.result, first.completed) == ("CONTINUE", False)
    later = actions.record("tok-1", "ABANDON", "a redelivery's different idea")
    assert later.result == "CONTINUE"
    actions.completed(later)
    outcome = actions.outcome("tok-1")
    assert outcome is not None and outcome.completed and outcome.result == "CONTINUE"


def test_an_ec2_instance_is_adopted_under_one_stackops_id(services):
    assert services.actions.adopt("i-0abc", "in-first") == "in-first"
    assert services.actions.adopt("i-0abc", "in-second") == "in-first"
