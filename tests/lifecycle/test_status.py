"""The instance status machine, with plain data."""

from __future__ import annotations

import pytest

from stackops.lifecycle.status import Decision, is_member, on_ec2_state
from stackops.model.enums import InstanceStatus as S


@pytest.mark.parametrize(
    ("status", "ec2", "healing", "expected"),
    [
        (S.pending, "running", True, Decision(S.booting, "boot")),
        (S.requested, "running", False, Decision(S.booting, "boot")),
        # a dispatcher died mid-setup: the redelivered event boots it again
        (S.running_setup, "running", False, Decision(S.booting, "boot")),
        (S.online, "running", True, Decision()),
        (S.setup_failed, "running", True, Decision()),
        (S.rebooting, "running", True, Decision(S.online)),
        (S.requested, "pending", True, Decision(S.pending)),
        (S.online, "pending", True, Decision()),
        (S.online, "stopping", True, Decision(S.stopping, "shutdown")),
        (S.online, "shutting-down", True, Decision(S.shutting_down, "shutdown")),
        (S.stopping, "stopping", True, Decision()),
        (S.stopping, "stopped", True, Decision(S.stopped)),
        (S.online, "stopped", True, Decision(S.stopped, heal=True)),
        (S.online, "stopped", False, Decision(S.stopped)),
        (S.stopped, "stopped", True, Decision()),
        (S.online, "terminated", True, Decision(S.terminated, heal=True)),
        (S.terminating, "terminated", True, Decision(S.terminated)),
    ],
)
def test_decisions(status: S, ec2: str, healing: bool, expected: Decision) -> None:
    got = on_ec2_state(status, ec2, auto_healing=healing)
    assert (got.status, got.run, got.heal) == (expected.status, expected.run, expected.heal)
    assert got.reason


def test_only_online_instances_are_members() -> None:
    assert is_member(S.online)
    assert not any(is_member(s) for s in S if s is not S.online)
