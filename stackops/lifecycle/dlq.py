"""The lifecycle dead-letter queue: look at what keeps failing, and send it back.

A message the dispatcher failed `maxReceiveCount` times lands in `<ns>-lifecycle-dlq`.
`list_dead_letters` shows those messages without consuming them (received with a short
visibility, then made visible again). `redrive` moves them to `<ns>-lifecycle` by
receive, send, delete — moto has no StartMessageMoveTask — deleting a message from the
DLQ only after its copy was sent, so none is ever lost (at worst one is sent twice).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from stackops.aws.sqs import Message, Queue
from stackops.errors import AwsFailure

LIST_VISIBILITY = 30  # seconds a listed message is hidden at most, should we crash mid-list
REDRIVE_VISIBILITY = 60  # seconds a message being moved is hidden from another redrive
DEFAULT_LIST_MAX = 100
SUMMARY_IDS = ("instance-id", "EC2InstanceId", "stack-id", "deployment-id")
SUMMARY_WORDS = ("state", "command", "LifecycleTransition")
SNIPPET = 60  # characters of a body that is not an event
SUMMARY_LIMIT = 200


@dataclass(frozen=True)
class DeadLetter:
    """One message of the DLQ as listed."""

    message_id: str
    receive_count: int
    sent_timestamp: int | None
    summary: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "MessageId": self.message_id,
            "ReceiveCount": self.receive_count,
            "SentTimestamp": _iso(self.sent_timestamp),
            "Summary": self.summary,
        }


@dataclass(frozen=True)
class RedriveResult:
    """How many messages went back to the lifecycle queue; ids left behind by a failed delete."""

    redriven: int
    not_deleted: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"Redriven": self.redriven}
        if self.not_deleted:
            out["NotDeleted"] = list(self.not_deleted)
        return out


# -- reading a body (pure) -------------------------------------------------------------
def summarize_body(body: str) -> str:
    """One line about a message body: source, detail-type and ids for an event; never raises."""
    try:
        event = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        return f"not JSON: {_snippet(body)}"
    if not isinstance(event, Mapping):
        return f"JSON {type(event).__name__}, not an event: {_snippet(body)}"
    detail = event.get("detail")
    detail = detail if isinstance(detail, Mapping) else {}
    head = f"{event.get('source') or '?'} / {event.get('detail-type') or '?'}"
    extras = [f"{key} {detail[key]}" for key in SUMMARY_IDS if _is_scalar(detail.get(key))]
    extras += [str(detail[key]) for key in SUMMARY_WORDS if _is_scalar(detail.get(key))]
    return _snippet(f"{head}: {' '.join(extras)}" if extras else head, SUMMARY_LIMIT)


def _is_scalar(value: object) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool) and value != ""


def _snippet(text: str, limit: int = SNIPPET) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _iso(epoch_ms: int | None) -> str | None:
    if epoch_ms is None:
        return None
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).isoformat(timespec="milliseconds")


def dead_letter(message: Message) -> DeadLetter:
    """A received message as listed."""
    return DeadLetter(
        message.message_id,
        message.receive_count,
        message.sent_timestamp,
        summarize_body(message.body),
    )


# -- the queue -------------------------------------------------------------------------
def list_dead_letters(
    dlq: Queue, *, limit: int = DEFAULT_LIST_MAX, wait_seconds: int = 0
) -> list[DeadLetter]:
    """Up to `limit` messages of the DLQ, in the order received; all stay in the queue.

    Each receive hides its messages for LIST_VISIBILITY seconds so the next one returns
    others; at the end (even on failure) every received message is made visible again.
    Listing counts as a receive: ApproximateReceiveCount goes up by one per listing.
    """
    listed: dict[str, DeadLetter] = {}
    handles: list[str] = []
    try:
        while len(listed) < limit:
            batch = dlq.receive(
                max_messages=min(10, limit - len(listed)),
                wait_seconds=wait_seconds,
                visibility_timeout=LIST_VISIBILITY,
            )
            handles.extend(m.receipt_handle for m in batch)
            fresh = [m for m in batch if m.message_id not in listed]
            if not fresh:  # empty, or only messages whose hiding already ran out
                break
            listed.update((m.message_id, dead_letter(m)) for m in fresh)
    finally:
        if handles:
            dlq.change_visibility_batch(handles, 0)
    return list(listed.values())


def redrive(
    dlq: Queue, queue: Queue, *, limit: int | None = None, wait_seconds: int = 0
) -> RedriveResult:
    """Move up to `limit` (None: all) messages from `dlq` to `queue`, body unchanged.

    Per batch: receive, send each body, then delete from the DLQ the ones sent. If a send
    fails, the ones already sent are deleted, the rest are made visible again in the DLQ,
    and AwsFailure says how many were moved.
    """
    moved = 0
    not_deleted: list[str] = []
    while limit is None or moved < limit:
        want = 10 if limit is None else min(10, limit - moved)
        batch = dlq.receive(
            max_messages=want, wait_seconds=wait_seconds, visibility_timeout=REDRIVE_VISIBILITY
        )
        if not batch:
            break
        sent: list[Message] = []
        failure: AwsFailure | None = None
        for message in batch:
            try:
                queue.send(message.body)
            except AwsFailure as exc:
                failure = exc
                break
            sent.append(message)
        failed = set(dlq.delete_batch([m.receipt_handle for m in sent]))
        not_deleted.extend(m.message_id for m in sent if m.receipt_handle in failed)
        moved += len(sent)
        if failure is not None:
            dlq.change_visibility_batch([m.receipt_handle for m in batch[len(sent) :]], 0)
            raise AwsFailure(
                f"redrive stopped after {moved} message(s): {failure.message}",
                hint="the messages not moved are still in the dead-letter queue; run it again",
            ) from failure
    return RedriveResult(moved, tuple(not_deleted))
