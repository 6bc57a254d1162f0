"""The lifecycle dispatcher: SQS messages in, recorded activities out (DESIGN §4).

One batch: receive up to ten messages, parse, drop duplicates, resolve EC2 ids
to instances (tags, batched, cached), decide with the status machine, claim the
events that have work (conditional write), run the work in parallel, one
activity per instance at a time (a lease), then fan configure out to the
stacks whose membership changed, publish, mark the events done and delete the
messages. A message is deleted only after its work is recorded; while work
runs, a heartbeat keeps the messages invisible and the leases held.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from stackops.deploy.runner import DeploymentBusy, DeploymentRunner
from stackops.lifecycle.activities import Activities, RunSettings, StackView
from stackops.lifecycle.events import (
    ConfigureRequest,
    DeploymentRequest,
    Ec2StateChange,
    InstanceCommand,
    LifecycleAction,
    LifecycleEvent,
    MalformedEvent,
    configure_request_message,
    parse_message,
)
from stackops.lifecycle.publish import Publisher
from stackops.lifecycle.status import Decision, is_member, on_ec2_state
from stackops.model.commands import CommandStatus, CommandType
from stackops.model.enums import InstanceStatus as S
from stackops.model.resources import Instance
from stackops.nodes import end_node

if TYPE_CHECKING:
    from stackops.aws.autoscaling import AutoScaling
    from stackops.aws.sqs import Message
    from stackops.executors import Executor
    from stackops.services import Services

log = logging.getLogger("stackops.dispatch")

TAG_INSTANCE = "stackops:instance-id"
TAG_STACK = "stackops:stack-id"


@dataclass(frozen=True)
class DispatchSettings:
    """How the dispatcher runs; defaults suit a real queue (bootstrap's 300 s visibility)."""

    run: RunSettings = field(default_factory=RunSettings)
    workers: int = 8
    visibility_timeout: int = 300
    claim_seconds: int = 300
    keep_event_ids_seconds: int = 86400
    retry_busy_seconds: int = 5


@dataclass
class BatchOutcome:
    """What one batch (or a drain of many) did, for logs, tests and the benchmark."""

    received: int = 0
    dropped: int = 0
    duplicates: int = 0
    ignored: int = 0
    handled: int = 0
    deferred: int = 0
    failed: list[str] = field(default_factory=list)
    retried: list[str] = field(default_factory=list)  # message ids left to come back later

    def add(self, other: BatchOutcome) -> None:
        self.received += other.received
        self.dropped += other.dropped
        self.duplicates += other.duplicates
        self.ignored += other.ignored
        self.handled += other.handled
        self.deferred += other.deferred
        self.failed.extend(other.failed)
        self.retried.extend(other.retried)

    def to_dict(self) -> dict[str, object]:
        return {
            "Received": self.received,
            "Dropped": self.dropped,
            "Duplicates": self.duplicates,
            "Ignored": self.ignored,
            "Handled": self.handled,
            "Deferred": self.deferred,
            "Failed": len(self.failed),
        }


@dataclass
class Work:
    """One piece of work an event asks for, on one instance."""

    message: Message
    event: LifecycleEvent
    instance: Instance | None  # None for a deployment (it takes its instances' leases itself)
    kind: str  # "state", "stop", "launch", "terminate", "configure", "deployment"
    decision: Decision | None = None
    configure_command_id: str | None = None


class InstanceBusy(Exception):
    """Another dispatcher holds the instance's lease."""


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
        self.autoscaling = autoscaling
        self.deployments = DeploymentRunner(
            services, self.activities, self.publisher, workers=settings.workers
        )
        self._where: dict[str, tuple[str, str] | None] = {}  # ec2 id -> (instance id, stack id)
        self._changed: set[str] = set()  # stacks whose online membership changed this batch
        self._changed_lock = threading.Lock()
        # Make every client now: boto3 sessions are not thread-safe, clients are.
        for part in (
            "store",
            "commands",
            "deployments",
            "leases",
            "claims",
            "queue",
            "ec2",
            "artifacts",
            "parameters",
            "target_groups",
            "bus",
        ):
            getattr(services, part)

    # -- the loop ---------------------------------------------------------------------
    def poll(self, wait_seconds: int = 0) -> BatchOutcome:
        """Receive one batch and handle it."""
        messages = self.services.queue.receive(
            max_messages=10,
            wait_seconds=wait_seconds,
            visibility_timeout=self.settings.visibility_timeout,
        )
        return self.handle(messages)

    def drain(self, max_batches: int = 10_000) -> BatchOutcome:
        """Handle batches until the queue answers with nothing (scripts and tests)."""
        total = BatchOutcome()
        for _ in range(max_batches):
            outcome = self.poll()
            total.add(outcome)
            if outcome.received == 0:
                break
        return total

    def serve(self, stop: threading.Event, wait_seconds: int = 20) -> None:
        """Long-poll until `stop` is set."""
        while not stop.is_set():
            outcome = self.poll(wait_seconds)
            if outcome.received:
                log.info("batch: %s", outcome.to_dict())

    # -- one batch ---------------------------------------------------------------------
    def handle(self, messages: list[Message], *, delete: bool = True) -> BatchOutcome:
        """Handle received messages; `delete=False` leaves deleting to the caller (Lambda)."""
        outcome = BatchOutcome(received=len(messages))
        if not messages:
            return outcome
        done_messages: list[Message] = []
        events: list[tuple[Message, LifecycleEvent]] = []
        seen: set[str] = set()
        for message in messages:
            try:
                event = parse_message(message.body)
            except MalformedEvent as exc:
                log.warning("dropped message %s: %s", message.message_id, exc)
                outcome.dropped += 1
                done_messages.append(message)
                continue
            if event.event_id in seen:
                outcome.duplicates += 1
                done_messages.append(message)
                continue
            seen.add(event.event_id)
            events.append((message, event))

        works, skipped = self._plan(events, outcome)
        done_messages.extend(skipped)
        claimed = [w for w in works if self._claim(w, outcome, done_messages)]
        finished, resent = self._run_all(claimed, outcome)
        done_messages.extend(finished + resent)
        self._finish(done_messages, claimed, finished, delete)
        return outcome

    def _plan(
        self, events: list[tuple[Message, LifecycleEvent]], outcome: BatchOutcome
    ) -> tuple[list[Work], list[Message]]:
        """Turn events into work; events that need none are acknowledged."""
        self._resolve(
            [
                e.ec2_instance_id
                for _, e in events
                if isinstance(e, Ec2StateChange | LifecycleAction)
            ]
        )
        views: dict[str, StackView] = {}
        configured: set[str] = set()
        works: list[Work] = []
        skipped: list[Message] = []

        def view(stack_id: str) -> StackView:  # one read per stack per batch
            if stack_id not in views:
                views[stack_id] = self.activities.view(stack_id)
            return views[stack_id]

        for message, event in events:
            match event:
                case Ec2StateChange() | LifecycleAction():
                    where = self._where.get(event.ec2_instance_id)
                    instance = self._instance(view, where)
                    if instance is None:
                        log.info("ignored %s: not a stackops instance", event.ec2_instance_id)
                        outcome.dropped += 1
                        skipped.append(message)
                        continue
                    if isinstance(event, LifecycleAction):
                        works.append(Work(message, event, instance, event.transition))
                        continue
                    layers = view(instance.stack_id).layers_of(instance)
                    decision = on_ec2_state(
                        instance.status,
                        event.state,
                        auto_healing=any(layer.enable_auto_healing for layer in layers),
                        stop_requested=instance.stop_requested,
                    )
                    if decision.is_noop:
                        outcome.ignored += 1
                        skipped.append(message)
                        continue
                    works.append(Work(message, event, instance, "state", decision))
                case InstanceCommand():
                    found = self.services.store.find_many(Instance, [event.instance_id])
                    instance = found.get(event.instance_id)
                    if instance is None or event.command != "stop":
                        outcome.dropped += 1
                        skipped.append(message)
                        continue
                    works.append(Work(message, event, instance, "stop"))
                case ConfigureRequest() if event.stack_id in configured:
                    # One read of the queued configures per stack per batch serves them all.
                    outcome.ignored += 1
                    skipped.append(message)
                case ConfigureRequest():
                    configured.add(event.stack_id)
                    stack_view = view(event.stack_id)
                    online = {i.instance_id: i for i in stack_view.online()}
                    queued = self.services.commands.queued_configures(online)
                    if not queued:
                        outcome.ignored += 1
                        skipped.append(message)
                    for instance_id, (command_id, _seq) in queued.items():
                        works.append(
                            Work(
                                message,
                                event,
                                online[instance_id],
                                "configure",
                                configure_command_id=command_id,
                            )
                        )
                case DeploymentRequest():
                    works.append(Work(message, event, None, "deployment"))
        return works, skipped

    def _resolve(self, ec2_ids: list[str]) -> None:
        """Learn which stackops instance each EC2 instance is, from its tags (one call)."""
        unknown = [i for i in dict.fromkeys(ec2_ids) if i not in self._where]
        if not unknown:
            return
        found = self.services.ec2.describe(unknown)
        for ec2_id in unknown:
            tags = found[ec2_id].tags if ec2_id in found else {}
            if TAG_INSTANCE in tags and TAG_STACK in tags:
                self._where[ec2_id] = (tags[TAG_INSTANCE], tags[TAG_STACK])
            else:
                self._where[ec2_id] = None

    @staticmethod
    def _instance(view: Callable, where: tuple[str, str] | None) -> Instance | None:
        if where is None:
            return None
        instance_id, stack_id = where
        try:
            instances = view(stack_id).instances
        except Exception:  # the stack is gone
            return None
        return next((i for i in instances if i.instance_id == instance_id), None)

    def _claim(self, work: Work, outcome: BatchOutcome, done: list[Message]) -> bool:
        """Claim the event of `work` (configure work is claimed per instance by its queue)."""
        if work.kind == "configure":
            return True
        if self.services.claims.claim(work.event.event_id, self.owner, self.settings.claim_seconds):
            return True
        outcome.duplicates += 1
        done.append(work.message)
        return False

    # -- running the work ----------------------------------------------------------------
    def _run_all(
        self, works: list[Work], outcome: BatchOutcome
    ) -> tuple[list[Message], list[Message]]:
        """Run the work in parallel; return the messages whose work is all recorded, and
        those sent again for later (both are deleted; only the first are done).

        Work that found its instance busy goes back to the queue as a new, delayed copy
        (the original is deleted), so waiting never counts toward the dead-letter limit;
        work that failed is left to come back and, if it keeps failing, reach the DLQ.
        """
        if not works:
            return [], []
        claimed = [w.event.event_id for w in works if w.kind != "configure"]
        heartbeat = Heartbeat(self, [w.message for w in works], claimed)
        heartbeat.start()
        results: dict[int, str] = {}
        try:
            with ThreadPoolExecutor(max_workers=self.settings.workers) as pool:
                futures = {id(w): pool.submit(self._perform, w, heartbeat) for w in works}
                for work in works:
                    try:
                        futures[id(work)].result()
                        results[id(work)] = "done"
                    except InstanceBusy:
                        results[id(work)] = "busy"
                        outcome.deferred += 1
                    except Exception:
                        where = work.instance.hostname if work.instance else work.kind
                        log.exception("work on %s failed", where)
                        results[id(work)] = "failed"
                        outcome.failed.append(work.message.message_id)
        finally:
            heartbeat.stop()
        finished: list[Message] = []
        resent: list[Message] = []
        by_message: dict[str, list[Work]] = {}
        for work in works:
            by_message.setdefault(work.message.message_id, []).append(work)
        for group in by_message.values():
            states = {results[id(w)] for w in group}
            if states == {"done"}:
                outcome.handled += 1
                finished.append(group[0].message)
                continue
            outcome.retried.append(group[0].message.message_id)
            for work in group:
                if work.kind != "configure":
                    self.services.claims.release(work.event.event_id, self.owner)
            message = group[0].message
            if "failed" in states:
                self.services.queue.change_visibility(
                    message.receipt_handle, self.settings.retry_busy_seconds
                )
            else:  # busy only: a fresh delayed copy, and this one is done with
                delay = self.settings.retry_busy_seconds
                self.services.queue.send(message.body, delay_seconds=delay)
                resent.append(message)
        return finished, resent

    def _perform(self, work: Work, heartbeat: Heartbeat) -> bool:
        if work.kind == "deployment":
            return self._deploy(work)
        assert work.instance is not None
        lease = f"instance#{work.instance.instance_id}"
        # One holder per piece of work, not per dispatcher: two events for one instance
        # in one batch must not run side by side either.
        holder = f"{self.owner}/{uuid.uuid4().hex[:8]}"
        if not self.services.leases.acquire(lease, holder, self.settings.visibility_timeout):
            raise InstanceBusy(work.instance.instance_id)
        heartbeat.hold(lease, holder)
        try:
            # Re-read under the lease: another piece of work may have moved it on.
            current = self.services.store.get(Instance, work.instance.instance_id)
            changed = self._do(work, current)
        finally:
            heartbeat.drop(lease)
            self.services.leases.release(lease, holder)
        if changed:
            self._membership_changed(current.stack_id)
        return True

    def _do(self, work: Work, instance: Instance) -> bool:
        """Do one piece of work; True when the stack's online membership changed."""
        acts = self.activities
        was_member = is_member(instance.status)
        match work.kind:
            case "state":
                decision = work.decision
                if work.event.state == "running":  # type: ignore[union-attr]
                    decision = on_ec2_state(
                        instance.status,
                        "running",
                        auto_healing=False,
                        stop_requested=instance.stop_requested,
                    )
                if decision is None or decision.is_noop:
                    return False
                if decision.run == "boot":
                    instance = acts.boot(acts.set_status(instance, S.booting))
                elif decision.run == "shutdown":
                    instance = acts.set_status(instance, decision.status or instance.status)
                    acts.shutdown(instance)
                elif decision.status is not None:
                    instance = acts.set_status(instance, decision.status)
                if decision.status in (S.stopped, S.terminated):
                    end_node(self.settings.run.host_nodes, instance.ec2_instance_id)
                if decision.heal:
                    self._heal(instance)
            case "launch":
                instance = acts.boot(acts.set_status(instance, S.booting))
                self._complete_action(work, instance.status is S.online)
            case "terminate":
                instance = instance.model_copy(update={"stop_requested": True})
                instance = acts.set_status(instance, S.shutting_down)
                acts.shutdown(instance)
                instance = acts.set_status(instance, S.terminating)
                self._complete_action(work, True)
            case "stop":
                instance = self._stop(instance, force=getattr(work.event, "force", False))
                return True  # it left the membership when stop-instance marked it stopping
            case "configure":
                return self._configure(work, instance)
        return was_member != is_member(instance.status)

    def _deploy(self, work: Work) -> bool:
        try:
            self.deployments.run(work.event.deployment_id)  # type: ignore[union-attr]
        except DeploymentBusy as exc:
            raise InstanceBusy(str(exc)) from exc
        return True

    def _stop(self, instance: Instance, *, force: bool) -> Instance:
        """Shutdown recipes (unless forced), then EC2 stops (EBS) or terminates it."""
        acts = self.activities
        instance = instance.model_copy(update={"stop_requested": True})
        if instance.status in (S.stopped, S.terminated):  # forced: EC2 is stopped already
            self.services.store.put(instance)
            return instance
        if instance.ec2_instance_id and not force:
            acts.shutdown(instance)
        final = S.stopped
        if instance.ec2_instance_id:
            if instance.root_device_type == "instance-store":
                self.services.ec2.terminate(instance.ec2_instance_id)
                final = S.terminated
            else:
                self.services.ec2.stop(instance.ec2_instance_id)
            end_node(self.settings.run.host_nodes, instance.ec2_instance_id)
        return acts.set_status(instance, final)

    def _configure(self, work: Work, instance: Instance) -> bool:
        """Run the queued configure (under the instance's lease), then dequeue it.

        Dequeued only after its run is recorded, so a crash in between leaves it
        queued and the redelivered request runs it; a configure that is no longer
        pending (superseded by a newer one, or already run) is not run again.
        """
        command_id = work.configure_command_id or ""
        command = self.services.commands.get(command_id)
        if instance.status is S.online and command.status is CommandStatus.pending:
            self.activities.run(command, "configure")
        self.services.commands.take_configure(instance.instance_id, command_id)
        return False

    def _heal(self, instance: Instance) -> None:
        from stackops.api.instances import start_instance

        log.info("auto-healing %s: starting it again", instance.hostname)
        start_instance(self.services, instance.instance_id)

    def _complete_action(self, work: Work, ok: bool) -> None:
        event = work.event
        if self.autoscaling is None or not isinstance(event, LifecycleAction):
            return
        self.autoscaling.complete(
            group_name=event.group_name,
            hook_name=event.hook_name,
            token=event.token,
            ec2_instance_id=event.ec2_instance_id,
            result="CONTINUE" if ok else "ABANDON",
        )

    # -- configure fan-out -----------------------------------------------------------------
    def _membership_changed(self, stack_id: str) -> None:
        with self._changed_lock:
            self._changed.add(stack_id)

    def _fan_out_configure(self) -> None:
        """Queue one configure per online instance of each changed stack, then one message."""
        with self._changed_lock:
            stacks, self._changed = self._changed, set()
        try:
            for stack_id in sorted(stacks):
                self._queue_configures(stack_id)
        except Exception:
            with self._changed_lock:  # not lost: the next batch queues them
                self._changed |= stacks
            raise

    def _queue_configures(self, stack_id: str) -> None:
        """One queued configure per online instance of the stack, and one request."""
        view = self.activities.view(stack_id)
        online = view.online()
        if not online:
            return
        seq = self.services.commands.next_membership(stack_id)
        for instance in online:
            command = self.activities.new_command(instance, CommandType.configure, seq=seq)
            superseded = self.services.commands.queue_configure(command)
            if superseded:
                log.info("configure %s superseded on %s", superseded, instance.hostname)
        self.services.queue.send(configure_request_message(stack_id, seq))

    def _finish(
        self,
        done_messages: list[Message],
        claimed: list[Work],
        finished: list[Message],
        delete: bool,
    ) -> None:
        self._fan_out_configure()
        self.publisher.flush()
        finished_ids = {m.message_id for m in finished}
        events_done = [
            w.event.event_id
            for w in claimed
            if w.kind != "configure" and w.message.message_id in finished_ids
        ]
        if events_done:
            self.services.claims.done(events_done, self.owner, self.settings.keep_event_ids_seconds)
        if delete and done_messages:
            unique = {m.message_id: m.receipt_handle for m in done_messages}
            failed = self.services.queue.delete_batch(list(unique.values()))
            if failed:
                log.warning("%d message(s) could not be deleted", len(failed))


class Heartbeat:
    """Keeps in-flight messages invisible and held leases alive while work runs."""

    def __init__(
        self, dispatcher: Dispatcher, messages: list[Message], event_ids: list[str]
    ) -> None:
        self._dispatcher = dispatcher
        self._handles = {m.receipt_handle for m in messages}
        self._event_ids = list(dict.fromkeys(event_ids))
        self._leases: dict[str, str] = {}  # lease -> holder
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True)
        self.beats = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def hold(self, lease: str, holder: str) -> None:
        with self._lock:
            self._leases[lease] = holder

    def drop(self, lease: str) -> None:
        with self._lock:
            self._leases.pop(lease, None)

    def _beat(self) -> None:
        settings = self._dispatcher.settings
        services = self._dispatcher.services
        interval = max(settings.visibility_timeout / 3, 0.2)
        while not self._stop.wait(interval):
            self.beats += 1
            with self._lock:
                leases = list(self._leases.items())
            for handle in self._handles:
                try:
                    services.queue.change_visibility(handle, settings.visibility_timeout)
                except Exception:  # the message may be gone already
                    log.debug("could not extend a message's visibility", exc_info=True)
            for lease, holder in leases:
                services.leases.acquire(lease, holder, settings.visibility_timeout)
            for event_id in self._event_ids:  # our claims outlive a long run too
                services.claims.claim(event_id, self._dispatcher.owner, settings.claim_seconds)
