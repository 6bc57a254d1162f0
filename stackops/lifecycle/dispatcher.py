"""The lifecycle dispatcher: SQS messages in, recorded activities out (DESIGN §4).

One round: receive up to ten messages; parse each (a message that is not an event
is dropped with a one-line reason, alone); plan the work (`planning`); claim each
event (`EventClaims`: a duplicate is acknowledged, an event another dispatcher
holds is left for later); run the work in parallel under a heartbeat, each piece
deciding again under its instance's lease (`handlers`); queue configure on the
stacks whose membership changed (`coalesce`); publish; settle the batch
(`settle`: delete, send again later, or leave to come back); then, at most every
so often, sweep what dead processes left (`sweeper`). A message is deleted only
after its work is recorded; nothing in a message can take the process down.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from stackops.deploy.runner import DeploymentRunner
from stackops.lifecycle.activities import Activities, RunSettings
from stackops.lifecycle.events import LifecycleEvent, MalformedEvent, parse_message
from stackops.lifecycle.handlers import Handlers
from stackops.lifecycle.heartbeat import Heartbeat
from stackops.lifecycle.planning import Planner
from stackops.lifecycle.publish import Publisher
from stackops.lifecycle.settle import Settlement, Verdict, settle, verdict_of
from stackops.lifecycle.sweeper import Sweeper, SweepReport
from stackops.lifecycle.work import Busy, Done, Effect, Gone, Retry, Work, event_id_of, where
from stackops.store.leases import Claim

if TYPE_CHECKING:
    from stackops.aws.autoscaling import AutoScaling
    from stackops.aws.sqs import Message
    from stackops.executors import Executor
    from stackops.services import Services

log = logging.getLogger("stackops.dispatch")


@dataclass(frozen=True)
class DispatchSettings:
    """How the dispatcher runs; defaults suit a real queue (bootstrap's 300 s visibility).

    `visibility_timeout` is the one in use: messages are received with it, and event
    claims and instance leases last as long, so all three run out together when a
    dispatcher dies. `sweep_every_seconds` bounds how often any dispatcher sweeps.
    """

    run: RunSettings = field(default_factory=RunSettings)
    workers: int = 8
    visibility_timeout: int = 300
    keep_event_ids_seconds: int = 86400
    retry_busy_seconds: int = 5
    sweep_every_seconds: float = 60.0
    max_messages: int = 10  # per receive (SQS allows 1-10)


@dataclass
class BatchOutcome:
    """What one batch (or a drain of many) did, for logs, tests and the benchmark."""

    received: int = 0
    dropped: int = 0
    duplicates: int = 0
    ignored: int = 0
    handled: int = 0
    deferred: int = 0
    failed: list[str] = field(default_factory=list)  # message ids whose work must retry
    retried: list[str] = field(default_factory=list)  # message ids left to come back later
    reasons: dict[str, str] = field(default_factory=dict)  # message id -> why dropped/retried
    sweeps: list[SweepReport] = field(default_factory=list)

    def add(self, other: BatchOutcome) -> None:
        self.received += other.received
        self.dropped += other.dropped
        self.duplicates += other.duplicates
        self.ignored += other.ignored
        self.handled += other.handled
        self.deferred += other.deferred
        self.failed.extend(other.failed)
        self.retried.extend(other.retried)
        self.reasons.update(other.reasons)
        self.sweeps.extend(other.sweeps)

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "Received": self.received,
            "Dropped": self.dropped,
            "Duplicates": self.duplicates,
            "Ignored": self.ignored,
            "Handled": self.handled,
            "Deferred": self.deferred,
            "Failed": len(self.failed),
        }
        swept = [s for s in self.sweeps if s]
        if swept:
            out["Swept"] = [s.to_dict() for s in swept]
        return out


class Dispatcher:
    """Stateless worker on the lifecycle queue; run as many as you like."""

    def __init__(
        self,
        services: Services,
        settings: DispatchSettings,
        executor: Executor,
        *,
        autoscaling: AutoScaling | None = None,
        owner: str | None = None,
    ) -> None:
        self.services = services
        self.settings = settings
        self.owner = owner or f"dispatcher-{uuid.uuid4().hex[:8]}"
        self.publisher = Publisher(services.bus)
        self.activities = Activities(services, settings.run, executor, self.publisher)
        self.planner = Planner(services, self.activities.view)
        self.handlers = Handlers(
            services,
            self.activities,
            lambda: self.deployments,
            owner=self.owner,
            lease_seconds=settings.visibility_timeout,
            autoscaling=autoscaling,
        )
        self.sweeper = Sweeper(
            services,
            self.activities,
            owner=self.owner,
            lease_seconds=settings.visibility_timeout,
            every_seconds=settings.sweep_every_seconds,
            current_release=lambda instance, app: self.deployments.on_instance.current_release(
                instance, app
            ),
            nodes_root=settings.run.host_nodes,
        )
        # Make every client now: boto3 sessions are not thread-safe, clients are.
        for part in (
            "store",
            "commands",
            "deployments",
            "leases",
            "claims",
            "inflight",
            "actions",
            "queue",
            "ec2",
            "artifacts",
            "parameters",
            "target_groups",
            "bus",
        ):
            getattr(services, part)

    @property
    def autoscaling(self) -> AutoScaling | None:
        return self.handlers.autoscaling

    @autoscaling.setter
    def autoscaling(self, value: AutoScaling | None) -> None:
        self.handlers.autoscaling = value

    @cached_property
    def deployments(self) -> DeploymentRunner:
        return DeploymentRunner(
            self.services,
            self.activities,
            self.publisher,
            workers=self.settings.workers,
            lease_seconds=self.settings.visibility_timeout,
        )

    # -- the loop ---------------------------------------------------------------------
    def poll(self, wait_seconds: int = 0) -> BatchOutcome:
        """Receive one batch and handle it; then sweep, if it is time to."""
        messages = self.services.queue.receive(
            max_messages=self.settings.max_messages,
            wait_seconds=wait_seconds,
            visibility_timeout=self.settings.visibility_timeout,
        )
        outcome = self.handle(messages)
        if self.sweeper.due():
            outcome.sweeps.append(self.sweeper.sweep())
        return outcome

    def drain(self, max_batches: int = 10_000) -> BatchOutcome:
        """Handle batches until the queue answers with nothing (scripts and tests)."""
        total = BatchOutcome()
        for _ in range(max_batches):
            outcome = self.poll()
            total.add(outcome)
            if outcome.received == 0:
                break
        return total

    def serve(
        self,
        stop: threading.Event,
        wait_seconds: int = 20,
        *,
        pause: Callable[[float], object] | None = None,
    ) -> None:
        """Long-poll until `stop` is set; an AWS outage is waited out, never fatal."""
        pause = pause or stop.wait
        failures = 0
        while not stop.is_set():
            try:
                outcome = self.poll(wait_seconds)
            except Exception as exc:  # receive failed: AWS unavailable, say, or throttled
                failures += 1
                delay = min(2.0**failures, 60.0)
                log.warning("round failed (%s); next in %.0f s", exc, delay)
                pause(delay)
                continue
            failures = 0
            if outcome.received:
                log.info("batch: %s", outcome.to_dict())

    # -- one batch ---------------------------------------------------------------------
    def handle(self, messages: list[Message], *, delete: bool = True) -> BatchOutcome:
        """Handle received messages; `delete=False` leaves deleting to the caller (Lambda)."""
        outcome = BatchOutcome(received=len(messages))
        if not messages:
            return outcome
        verdicts: dict[str, Verdict] = {}
        reasons: dict[str, str] = {}
        events = self._parse(messages, verdicts, reasons)
        plan = self.planner.plan(events)
        verdicts.update(plan.verdicts)
        reasons.update(plan.reasons)
        outcome.ignored = plan.ignored
        works, claimed = self._claim(plan.works, verdicts, reasons)
        effects = self._run_all(works, messages)
        changed: set[str] = set()
        by_message: dict[str, list[Effect]] = {}
        for work, effect in effects:
            by_message.setdefault(work.message_id, []).append(effect)
            if isinstance(effect, Done) and effect.changed:
                changed.add(effect.changed)
            if isinstance(effect, Retry | Gone | Busy):
                reasons[work.message_id] = f"{where(work)}: {effect.reason}"
                log.info("%s: %s", where(work), effect.reason)
        for message_id, found in by_message.items():
            verdicts[message_id] = verdict_of(found)
        self._fan_out(changed)
        self._flush()
        settlement = settle(
            messages,
            verdicts,
            claimed,
            retry_delay=self.settings.retry_busy_seconds,
            resend_busy=delete,
        )
        self._apply(settlement, delete)
        self._count(outcome, messages, verdicts, reasons, by_message)
        return outcome

    def _parse(
        self, messages: list[Message], verdicts: dict[str, Verdict], reasons: dict[str, str]
    ) -> list[tuple[Message, LifecycleEvent]]:
        events: list[tuple[Message, LifecycleEvent]] = []
        seen: set[str] = set()
        for message in messages:
            try:
                event = parse_message(message.body)
            except MalformedEvent as exc:
                verdicts[message.message_id] = Verdict.dropped
                reasons[message.message_id] = str(exc)
                log.warning("dropped message %s: %s", message.message_id, exc)
                continue
            except Exception as exc:  # a parser bug must not take the batch down
                verdicts[message.message_id] = Verdict.dropped
                reasons[message.message_id] = f"unreadable: {type(exc).__name__}"
                log.exception("dropped message %s: unreadable", message.message_id)
                continue
            if event.event_id in seen:
                verdicts[message.message_id] = Verdict.duplicate
                continue
            seen.add(event.event_id)
            events.append((message, event))
        return events

    def _claim(
        self, works: list[Work], verdicts: dict[str, Verdict], reasons: dict[str, str]
    ) -> tuple[list[Work], dict[str, list[str]]]:
        """Claim the event of each piece of work; keep the work whose claim is ours."""
        kept: list[Work] = []
        claimed: dict[str, list[str]] = {}
        for work in works:
            event_id = event_id_of(work)
            if event_id is None:
                kept.append(work)
                continue
            try:
                claim = self.services.claims.claim(
                    event_id, self.owner, self.settings.visibility_timeout
                )
            except Exception as exc:
                verdicts[work.message_id] = Verdict.retry
                reasons[work.message_id] = f"could not claim event {event_id}: {exc}"
                continue
            match claim:
                case Claim.claimed:
                    kept.append(work)
                    claimed.setdefault(work.message_id, []).append(event_id)
                case Claim.done:
                    verdicts[work.message_id] = Verdict.duplicate
                case Claim.held:
                    verdicts[work.message_id] = Verdict.busy
                    reasons[work.message_id] = f"event {event_id} is being handled elsewhere"
        return kept, claimed

    def _run_all(self, works: list[Work], messages: list[Message]) -> list[tuple[Work, Effect]]:
        """Run the work in parallel, messages and claims kept alive meanwhile."""
        if not works:
            return []
        busy = {w.message_id for w in works}
        beat = Heartbeat(
            queue=self.services.queue,
            claims=self.services.claims,
            leases=self.services.leases,
            owner=self.owner,
            seconds=self.settings.visibility_timeout,
            receipt_handles=[m.receipt_handle for m in messages if m.message_id in busy],
            event_ids=[e for w in works if (e := event_id_of(w))],
        )
        with beat, ThreadPoolExecutor(max_workers=self.settings.workers) as pool:
            futures = [(w, pool.submit(self.handlers.perform, w, beat.keeper)) for w in works]
            return [(w, future.result()) for w, future in futures]

    # -- after the work -------------------------------------------------------------------
    def _fan_out(self, stacks: set[str]) -> None:
        """Queue configure on the stacks whose online members changed in this batch.

        If it fails, the membership notes written with the status changes stay in the
        in-flight index and the sweeper queues them later: nothing is lost."""
        for stack_id in sorted(stacks):
            try:
                self.sweeper.fan_out(stack_id)
            except Exception:
                log.warning(
                    "configure of stack %s not queued yet; the sweeper will",
                    stack_id,
                    exc_info=True,
                )

    def _flush(self) -> None:
        try:
            self.publisher.flush()
        except Exception:
            log.warning("state-change events not published yet", exc_info=True)

    def _apply(self, settlement: Settlement, delete: bool) -> None:
        """Carry out a settlement: claims first, then messages (a failure is logged; what
        it leaves undone comes back as a duplicate or a retry, never as lost work)."""
        services = self.services
        steps: list[tuple[str, Callable[[], object]]] = []
        if settlement.events_done:
            steps.append(
                (
                    "mark events done",
                    lambda: services.claims.done(
                        list(settlement.events_done),
                        self.owner,
                        self.settings.keep_event_ids_seconds,
                    ),
                )
            )
        for event_id in settlement.claims_released:
            steps.append(
                ("release a claim", lambda e=event_id: services.claims.release(e, self.owner))
            )
        for resend in settlement.resend:
            steps.append(
                ("send again", lambda r=resend: services.queue.send(r.body, delay_seconds=r.delay))
            )
        if settlement.retry:
            steps.append(
                (
                    "delay retries",
                    lambda: services.queue.change_visibility_batch(
                        list(settlement.retry), self.settings.retry_busy_seconds
                    ),
                )
            )
        for what, step in steps:
            try:
                step()
            except Exception:
                log.warning("could not %s", what, exc_info=True)
                if what in ("mark events done", "send again"):
                    return  # deleting now could lose work: let the messages come back
        if delete and settlement.delete:
            try:
                failed = services.queue.delete_batch(list(settlement.delete))
            except Exception:
                log.warning("could not delete handled messages; they come back", exc_info=True)
                failed = list(settlement.delete)
            if failed:  # back soon, as duplicates to acknowledge, not after the whole timeout
                log.warning("%d message(s) not deleted: they come back", len(failed))
                try:
                    services.queue.change_visibility_batch(failed, self.settings.retry_busy_seconds)
                except Exception:
                    log.debug("they come back after the visibility timeout", exc_info=True)

    @staticmethod
    def _count(
        outcome: BatchOutcome,
        messages: list[Message],
        verdicts: dict[str, Verdict],
        reasons: dict[str, str],
        by_message: dict[str, list[Effect]],
    ) -> None:
        seen: set[str] = set()
        for message in messages:
            mid = message.message_id
            if mid in seen:
                continue
            seen.add(mid)
            verdict = verdicts.get(mid, Verdict.retry)
            match verdict:
                case Verdict.dropped:
                    outcome.dropped += 1
                case Verdict.duplicate:
                    outcome.duplicates += 1
                case Verdict.busy:
                    outcome.deferred += 1
                    outcome.retried.append(mid)
                case Verdict.retry:
                    outcome.retried.append(mid)
                    outcome.failed.append(mid)
                case Verdict.done if mid in by_message:
                    outcome.handled += 1
            if mid in reasons and verdict is not Verdict.done:
                outcome.reasons[mid] = reasons[mid]
