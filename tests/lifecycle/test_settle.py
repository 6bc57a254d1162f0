"""Batch settlement as plain data: which messages are deleted, sent again or left to return."""

from __future__ import annotations

import pytest

from stackops.aws.sqs import Message
from stackops.lifecycle.settle import Resend, Settlement, Verdict, settle, verdict_of
from stackops.lifecycle.work import Busy, Done, Gone, Retry, Skipped


def msg(n: int) -> Message:
    return Message(f"m{n}", f"r{n}", f"body{n}", 1)


@pytest.mark.parametrize(
    ("effects", "expected"),
    [
        ([], Verdict.done),
        ([Done()], Verdict.done),
        ([Skipped("repeat")], Verdict.done),
        ([Gone("no stack")], Verdict.dropped),
        ([Done(), Busy("held")], Verdict.busy),
        ([Busy("held"), Retry("throttled"), Done()], Verdict.retry),
        ([Skipped("x"), Gone("y")], Verdict.dropped),
    ],
)
def test_a_message_takes_the_worst_verdict_of_its_works(effects, expected):
    assert verdict_of(effects) is expected


def test_every_verdict_settles_its_own_message_only():
    messages = [msg(n) for n in range(6)]
    verdicts = {
        "m0": Verdict.done,
        "m1": Verdict.dropped,
        "m2": Verdict.duplicate,
        "m3": Verdict.busy,
        "m4": Verdict.retry,
        # m5 has no verdict (its work never reported): retried, never deleted
    }
    claimed = {"m0": ["e0"], "m3": ["e3"], "m4": ["e4"]}
    assert settle(messages, verdicts, claimed, retry_delay=5) == Settlement(
        delete=("r0", "r1", "r2", "r3"),
        resend=(Resend("body3", 5),),
        retry=("r4", "r5"),
        events_done=("e0",),
        claims_released=("e3", "e4"),
        failed_ids=("m4", "m5"),
    )


def test_a_poison_message_never_drags_its_batch_mates():
    messages = [msg(1), msg(2), msg(3)]
    verdicts = {"m1": Verdict.done, "m2": Verdict.dropped, "m3": Verdict.done}
    result = settle(messages, verdicts, {"m1": ["e1"], "m3": ["e3"]}, retry_delay=5)
    assert result.delete == ("r1", "r2", "r3")
    assert result.retry == () and result.failed_ids == ()
    assert result.events_done == ("e1", "e3")


def test_lambda_leaves_busy_messages_to_come_back_instead_of_copying_them():
    result = settle(
        [msg(1)], {"m1": Verdict.busy}, {"m1": ["e1"]}, retry_delay=5, resend_busy=False
    )
    assert result.resend == () and result.delete == ()
    assert result.retry == ("r1",) and result.failed_ids == ("m1",)
    assert result.claims_released == ("e1",)


def test_a_message_received_twice_in_a_batch_is_settled_once():
    twice = [msg(1), msg(1)]
    result = settle(twice, {"m1": Verdict.done}, {}, retry_delay=5)
    assert result.delete == ("r1",)
