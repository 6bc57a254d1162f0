"""The instance status machine, with plain data."""

from __future__ import annotations

import pytest

from stackops.lifecycle.status import Decision, is_member, on_ec2_state
from stackops.model.enums import InstanceStatus as S


@pytest.mark.parametrize(
    ("status", "ec2", "healing", "expected", "asked"),
    [
        (S.pending, "running", True, Decision(S.booting, "boot"), False),
        (S.requested, "running", False, Decision(S.booting, "boot"), False),
        # a dispatcher died mid-setup: the redelivered event boots it again
        (S.running_setup, "running", False, Decision(S.booting, "boot"), False),
        (S.online, "running", True, Decision(), False),
        (S.setup_failed, "running", True, Decision(), False),
        (S.rebooting, "running", True, Decision(S.online), False),
        (S.requested, "pending", True, Decision(S.pending), False),
        (S.online, "pending", True, Decision(), False),
        (S.online, "stopping", True, Decision(S.stopping, "shutdown"), False),
        (S.online, "shutting-down", True, Decision(S.shutting_down, "shutdown"), False),
        (S.stopping, "stopping", True, Decision(), True),
        (S.stopping, "stopped", True, Decision(S.stopped), True),
        # stopped outside stackops: stopping then stopped, healed at the end
        (S.stopping, "stopped", True, Decision(S.stopped, heal=True), False),
        # stop-instance on an instance-store instance: terminated as asked, not healed
        (S.stopped, "terminated", True, Decision(S.terminated), True),
        # `stopped` delivered before `stopping`: the shutdown recipes still run, once
        (S.online, "stopped", True, Decision(S.stopped, "shutdown", heal=True), False),
        (S.online, "stopped", False, Decision(S.stopped, "shutdown"), False),
        (S.stopped, "stopped", True, Decision(), False),
        (S.online, "terminated", True, Decision(S.terminated, "shutdown", heal=True), False),
        (S.terminating, "terminated", True, Decision(S.terminated), True),
    ],
)
def test_decisions(status: S, ec2: str, healing: bool, expected: Decision, asked: bool) -> None:
    got = on_ec2_state(status, ec2, auto_healing=healing, stop_requested=asked)
    assert (got.status, got.run, got.heal) == (expected.status, expected.run, expected.heal)
    assert got.reason


def test_only_online_instances_are_members() -> None:
    assert is_member(S.online)
    assert not any(is_member(s) for s in S if s is not S.online)


@pytest.mark.parametrize(
    ("reported", "now", "stale"),
    [
        ("running", "running", False),
        ("pending", "running", False),
        ("running", "stopped", True),  # stopped since: never set up a stopped instance
        ("running", "terminated", True),
        ("stopping", "stopped", False),
        ("stopped", "stopped", False),
        ("stopped", "running", True),  # running again (healed): never heal twice
        ("stopped", "pending", True),
        ("stopped", "terminated", False),
        ("terminated", "terminated", False),
        ("shutting-down", "terminated", False),
        ("terminated", "running", True),
    ],
)
def test_an_event_overtaken_by_what_ec2_says_now_is_stale(reported, now, stale):
    from stackops.lifecycle.status import is_stale

    assert is_stale(reported, now) is stale
