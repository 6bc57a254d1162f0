"""What a failure policy rolls back and what the failure message adds, from plain records."""

from __future__ import annotations

import pytest

from stackops.deploy.rollback import rollback_note, rollback_targets, switched_ids
from stackops.model.deployments import BatchProgress, Deployment


def deployment(*batches: tuple[list[str], list[str], list[str]]) -> Deployment:
    """A deployment whose batches are (instances, switched, failed)."""
    return Deployment(
        deployment_id="d1",
        stack_id="s1",
        app_id="a1",
        created_at="2026-11-28T17:00:00+00:00",
        command={"name": "deploy"},
        instance_ids=[i for ids, _, _ in batches for i in ids],
        batches=[
            BatchProgress(
                index=n, instance_ids=ids, switched_instance_ids=sw, failed_instance_ids=failed
            )
            for n, (ids, sw, failed) in enumerate(batches)
        ],
    )


# i1 switched and passed, i2 switched and failed its check, i3 failed before the switch,
# i4 switched in the second batch.
MIXED = deployment((["i1", "i2", "i3"], ["i1", "i2"], ["i2", "i3"]), (["i4"], ["i4"], []))
NOTHING_SWITCHED = deployment((["i1", "i2"], [], ["i1"]))


@pytest.mark.parametrize(
    ("record", "policy", "expected"),
    [
        (MIXED, "rollback_all", ["i1", "i2", "i4"]),
        (MIXED, "rollback_failed", ["i2"]),
        (MIXED, "stop", []),
        (NOTHING_SWITCHED, "rollback_all", []),
        (NOTHING_SWITCHED, "rollback_failed", []),
    ],
)
def test_rollback_targets(record: Deployment, policy: str, expected: list[str]) -> None:
    assert rollback_targets(record, policy) == expected


def test_switched_ids_in_batch_order() -> None:
    assert switched_ids(MIXED) == ["i1", "i2", "i4"]
    assert switched_ids(NOTHING_SWITCHED) == []


@pytest.mark.parametrize(
    ("policy", "switched", "rolled", "trouble", "expected"),
    [
        ("rollback_all", 3, 3, [], "; rolled back 3 instance(s)"),
        (
            "rollback_all",
            3,
            2,
            ["web2: no earlier release of shop"],
            "; rolled back 2 instance(s) (1 could not be: web2: no earlier release of shop)",
        ),
        (
            "rollback_failed",
            3,
            0,
            ["a: x", "b: y"],
            "; rolled back 0 instance(s) (2 could not be: a: x; b: y)",
        ),
        ("rollback_all", 0, None, [], "; nothing had switched"),
        ("rollback_failed", 0, None, [], "; nothing had switched"),
        # rollback_failed with nobody failed after a switch: nothing to say
        ("rollback_failed", 2, None, [], ""),
        ("stop", 2, None, [], "; 2 switched instance(s) left as they are (policy stop)"),
        ("stop", 0, None, [], ""),
    ],
)
def test_rollback_note(
    policy: str, switched: int, rolled: int | None, trouble: list[str], expected: str
) -> None:
    assert rollback_note(policy, switched, rolled, trouble) == expected
