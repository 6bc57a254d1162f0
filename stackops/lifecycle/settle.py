"""Settling a batch: which messages to delete, send again later, or leave to come back.

Pure: plain data in (each message's verdict and the events it claimed), plain data
out. The rules:
- done, dropped, duplicate: delete the message; a claimed event of a done or
  dropped message is marked done (a redelivery is a duplicate);
- busy (an instance or deployment held by another run, or the event claimed by
  another dispatcher): a fresh copy is sent with a short delay and this one deleted,
  so waiting never counts toward the dead-letter limit; its claims are given back;
- retry (AWS unavailable, or the work failed): the message is left in the queue and
  made visible again after the retry delay, so it comes back and, if it keeps
  failing, reaches the DLQ; its claims are given back.
A message's verdict is the worst of its works' (retry, then busy, then done).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum

from stackops.aws.sqs import Message
from stackops.lifecycle.work import Busy, Done, Effect, Gone, Retry, Skipped


class Verdict(IntEnum):
    """What became of a message; a higher value wins when a message has several works."""

    done = 0
    dropped = 1  # not an event we act on (malformed, foreign, not ours, gone)
    duplicate = 2  # its event was handled already
    busy = 3
    retry = 4


def verdict_of(effects: Iterable[Effect]) -> Verdict:
    """A message's verdict from the effects of its works."""
    worst = Verdict.done
    for effect in effects:
        match effect:
            case Retry():
                found = Verdict.retry
            case Busy():
                found = Verdict.busy
            case Gone():
                found = Verdict.dropped
            case Done() | Skipped():
                found = Verdict.done
        worst = max(worst, found)
    return worst


@dataclass(frozen=True)
class Resend:
    """A body to send again after `delay` seconds."""

    body: str
    delay: int


@dataclass(frozen=True)
class Settlement:
    """What to do with a batch's messages and claims."""

    delete: tuple[str, ...] = ()  # receipt handles
    resend: tuple[Resend, ...] = ()
    retry: tuple[str, ...] = ()  # receipt handles made visible after the retry delay
    events_done: tuple[str, ...] = ()
    claims_released: tuple[str, ...] = ()
    failed_ids: tuple[str, ...] = field(default=())  # message ids left to come back (Lambda)


def settle(
    messages: Sequence[Message],
    verdicts: Mapping[str, Verdict],
    claimed: Mapping[str, Sequence[str]],
    *,
    retry_delay: int,
    resend_busy: bool = True,
) -> Settlement:
    """Decide the fate of every message of a batch; a message without a verdict is retried.

    `resend_busy=False` (Lambda, which deletes what it is not told failed) leaves a busy
    message to come back like a retry instead of sending a copy."""
    delete: list[str] = []
    resend: list[Resend] = []
    retry: list[str] = []
    done: list[str] = []
    released: list[str] = []
    failed: list[str] = []
    seen: set[str] = set()
    for message in messages:
        if message.message_id in seen:
            continue
        seen.add(message.message_id)
        verdict = verdicts.get(message.message_id, Verdict.retry)
        events = list(claimed.get(message.message_id, ()))
        match verdict:
            case Verdict.done | Verdict.dropped | Verdict.duplicate:
                delete.append(message.receipt_handle)
                done.extend(events)
            case Verdict.busy if not resend_busy:
                retry.append(message.receipt_handle)
                released.extend(events)
                failed.append(message.message_id)
            case Verdict.busy:
                resend.append(Resend(message.body, retry_delay))
                delete.append(message.receipt_handle)
                released.extend(events)
            case Verdict.retry:
                retry.append(message.receipt_handle)
                released.extend(events)
                failed.append(message.message_id)
    return Settlement(
        tuple(delete),
        tuple(resend),
        tuple(retry),
        tuple(dict.fromkeys(done)),
        tuple(dict.fromkeys(released)),
        tuple(failed),
    )
