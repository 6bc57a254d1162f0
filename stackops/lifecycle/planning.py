"""Turning a batch of events into work: resolve instances, drop what needs nothing.

Reads are batched (one DescribeInstances for the batch's EC2 ids, one BatchGetItem
for its instance records, one read per stack for configure requests) and failures
are kept to the messages they concern: a record that is not found drops that
message with its reason; AWS being unavailable leaves those messages to come back.
No decision here is final: every handler decides again under the instance's lease.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from stackops.errors import NotFound
from stackops.lifecycle import coalesce
from stackops.lifecycle.events import (
    ConfigureRequest,
    DeploymentRequest,
    Ec2StateChange,
    InstanceCommand,
    LifecycleAction,
    LifecycleEvent,
    TestNotification,
)
from stackops.lifecycle.settle import Verdict
from stackops.lifecycle.status import on_ec2_state
from stackops.lifecycle.work import (
    ConfigureWork,
    DeploymentWork,
    LaunchWork,
    StartWork,
    StateWork,
    StopWork,
    TerminateWork,
    Work,
)
from stackops.model.instances import Instance
from stackops.wire import TAG_INSTANCE, TAG_STACK

if TYPE_CHECKING:
    from stackops.aws.sqs import Message
    from stackops.lifecycle.activities import StackView
    from stackops.services import Services

log = logging.getLogger("stackops.dispatch")


@dataclass
class Plan:
    """The work of a batch, and the messages already settled (with why)."""

    works: list[Work] = field(default_factory=list)
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)
    ignored: int = 0

    def settle(self, message: Message, verdict: Verdict, reason: str) -> None:
        self.verdicts[message.message_id] = verdict
        self.reasons[message.message_id] = reason
        level = logging.WARNING if verdict is Verdict.retry else logging.INFO
        log.log(level, "%s message %s: %s", verdict.name, message.message_id, reason)


class Planner:
    """Plans batches; remembers which EC2 instance is which stackops instance (tags)."""

    def __init__(self, services: Services, view: Callable[[str], StackView]) -> None:
        self.services = services
        self._view = view
        self._where: dict[str, tuple[str, str]] = {}  # ec2 id -> (instance id, stack id)

    def plan(self, events: list[tuple[Message, LifecycleEvent]]) -> Plan:
        plan = Plan()
        ec2_ids = [e.ec2_instance_id for _, e in events if isinstance(e, Ec2StateChange)]
        ec2_ids += [e.ec2_instance_id for _, e in events if isinstance(e, LifecycleAction)]
        resolve_error = self._try(lambda: self._resolve(ec2_ids))
        wanted = [self._where[i][0] for i in ec2_ids if i in self._where]
        wanted += [e.instance_id for _, e in events if isinstance(e, InstanceCommand)]
        records: dict[str, Instance] = {}
        read_error = self._try(
            lambda: records.update(self.services.store.find_many(Instance, dict.fromkeys(wanted)))
        )
        configured: set[str] = set()
        for message, event in events:
            needs_ec2 = isinstance(event, Ec2StateChange | LifecycleAction | InstanceCommand)
            failure = (resolve_error or read_error) if needs_ec2 else None
            if failure is not None:
                plan.settle(message, Verdict.retry, failure)
                continue
            try:
                self._one(plan, message, event, records, configured)
            except NotFound as exc:
                plan.settle(message, Verdict.dropped, exc.message)
            except Exception as exc:  # AWS unavailable, or a fault: the message comes back
                plan.settle(message, Verdict.retry, f"{type(exc).__name__}: {exc}")
        return plan

    @staticmethod
    def _try(step: Callable[[], object]) -> str | None:
        try:
            step()
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"
        return None

    def _resolve(self, ec2_ids: Iterable[str]) -> None:
        """Learn the stackops ids of EC2 instances from their tags (one call for the batch).

        Only what was found is remembered: an instance tagged later (an Auto Scaling
        instance adopted into a layer) is looked up again next time.
        """
        unknown = [i for i in dict.fromkeys(ec2_ids) if i not in self._where]
        if not unknown:
            return
        for ec2_id, found in self.services.ec2.describe(unknown).items():
            if TAG_INSTANCE in found.tags and TAG_STACK in found.tags:
                self._where[ec2_id] = (found.tags[TAG_INSTANCE], found.tags[TAG_STACK])

    def _one(
        self,
        plan: Plan,
        message: Message,
        event: LifecycleEvent,
        records: dict[str, Instance],
        configured: set[str],
    ) -> None:
        mid = message.message_id
        match event:
            case TestNotification():
                plan.settle(
                    message,
                    Verdict.dropped,
                    f"Auto Scaling test notification for group {event.group_name}: "
                    "acknowledged, nothing to do",
                )
            case Ec2StateChange():
                instance = self._instance_of(plan, message, event.ec2_instance_id, records)
                if instance is None:
                    return
                decision = on_ec2_state(
                    instance.status,
                    event.state,
                    auto_healing=False,  # healing never turns a no-op into work
                    stop_requested=instance.stop_requested,
                )
                if decision.is_noop:
                    plan.ignored += 1
                    plan.settle(message, Verdict.done, decision.reason)
                    return
                plan.works.append(
                    StateWork(
                        mid,
                        event.event_id,
                        instance.instance_id,
                        event.ec2_instance_id,
                        event.state,
                    )
                )
            case LifecycleAction():
                where = self._where.get(event.ec2_instance_id)
                if event.transition == "launch":
                    instance_id = where[0] if where else None
                    plan.works.append(LaunchWork(mid, event.event_id, event, instance_id))
                elif where is None:
                    plan.settle(
                        message,
                        Verdict.dropped,
                        f"EC2 instance {event.ec2_instance_id} is not a stackops instance",
                    )
                else:
                    plan.works.append(TerminateWork(mid, event.event_id, event, where[0]))
            case InstanceCommand():
                if event.instance_id not in records:
                    raise NotFound(f"no instance with id {event.instance_id}")
                if event.command == "stop":
                    plan.works.append(StopWork(mid, event.event_id, event.instance_id, event.force))
                else:
                    plan.works.append(StartWork(mid, event.event_id, event.instance_id))
            case ConfigureRequest() if event.stack_id in configured:
                plan.ignored += 1  # one read of a stack's queued configures serves them all
                plan.settle(message, Verdict.done, "configure of this stack planned already")
            case ConfigureRequest():
                view = self._view(event.stack_id)  # NotFound: the stack is gone
                configured.add(event.stack_id)
                # Every member's slot, online or not: a configure queued for an instance
                # that has since stopped is settled (skipped) by its handler, never left
                # pending for ever (found by the kill -9 trials).
                members = [i.instance_id for i in view.instances]
                slots = coalesce.queued(self.services.commands, members)
                if not slots:
                    plan.ignored += 1
                    plan.settle(message, Verdict.done, "no configure queued")
                for instance_id, slot in slots.items():
                    plan.works.append(
                        ConfigureWork(mid, event.stack_id, instance_id, slot.command_id)
                    )
            case DeploymentRequest():
                plan.works.append(DeploymentWork(mid, event.event_id, event.deployment_id))

    def _instance_of(
        self, plan: Plan, message: Message, ec2_id: str, records: dict[str, Instance]
    ) -> Instance | None:
        where = self._where.get(ec2_id)
        if where is None:
            plan.settle(message, Verdict.dropped, f"{ec2_id} is not a stackops instance")
            return None
        instance = records.get(where[0])
        if instance is None:
            plan.settle(message, Verdict.dropped, f"instance {where[0]} of {ec2_id} is gone")
            return None
        if instance.ec2_instance_id != ec2_id:
            plan.settle(
                message,
                Verdict.dropped,
                f"{ec2_id} is no longer the EC2 instance of {instance.hostname} "
                f"(now {instance.ec2_instance_id or 'none'})",
            )
            return None
        return instance
