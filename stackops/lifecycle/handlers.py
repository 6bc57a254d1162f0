"""What each piece of work does, decided again under the instance's lease.

`Handlers.perform` matches the work by class. Every instance work takes the
instance's lease (one run per instance at a time, `instance_lease`), reads the
instance again, decides again from what is true now (the record, and for EC2
events what EC2 says now), acts, and returns a typed effect. Only a record that is
not found makes an effect `Gone`; AWS being unavailable makes it `Retry`, with
nothing recorded that did not happen.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from stackops import ec2_lifecycle
from stackops.deploy.runner import DeploymentBusy, DeploymentRunner
from stackops.errors import AwsFailure, AwsUnavailable, Conflict, NotFound
from stackops.lifecycle import coalesce
from stackops.lifecycle.status import BOOTABLE, is_member, is_stale, on_ec2_state
from stackops.lifecycle.work import (
    Busy,
    ConfigureWork,
    DeploymentWork,
    Done,
    Effect,
    Gone,
    LaunchWork,
    Retry,
    Skipped,
    StartWork,
    StateWork,
    StopWork,
    TerminateWork,
    Work,
)
from stackops.model.commands import CommandStatus
from stackops.model.enums import InstanceStatus as S
from stackops.model.fields import new_id
from stackops.model.instances import Instance
from stackops.nodes import end_node
from stackops.store.leases import LeaseBusy, LeaseKeeper, instance_lease
from stackops.wire import WARM_POOL

if TYPE_CHECKING:
    from stackops.aws.autoscaling import AutoScaling
    from stackops.lifecycle.activities import Activities
    from stackops.lifecycle.events import LifecycleAction
    from stackops.services import Services
    from stackops.store.actions import ActionOutcome, Result

log = logging.getLogger("stackops.dispatch")


class Handlers:
    """The handlers of every kind of work, over one dispatcher's parts."""

    def __init__(
        self,
        services: Services,
        activities: Activities,
        runner: Callable[[], DeploymentRunner],
        *,
        owner: str,
        lease_seconds: float,
        autoscaling: AutoScaling | None = None,
    ) -> None:
        self.services = services
        self.activities = activities
        self._runner = runner
        self.owner = owner
        self.lease_seconds = lease_seconds
        self.autoscaling = autoscaling

    def perform(self, work: Work, keeper: LeaseKeeper) -> Effect:
        """Do one piece of work; never raises (an unexpected error is a Retry)."""
        try:
            match work:
                case DeploymentWork():
                    return self._deployment(work)
                case LaunchWork() if work.instance_id is None:
                    return self._adopt_then_launch(work, keeper)
                case _:
                    return self._under_lease(work, work.instance_id or "", keeper)
        except LeaseBusy as exc:
            return Busy(str(exc))
        except NotFound as exc:
            return Gone(exc.message)
        except AwsUnavailable as exc:
            return Retry(f"AWS unavailable: {exc.message}")
        except Exception as exc:
            log.exception("work on %s failed", work)
            return Retry(f"{type(exc).__name__}: {exc}")

    def _under_lease(self, work: Work, instance_id: str, keeper: LeaseKeeper) -> Effect:
        # One holder per piece of work, not per dispatcher: two events for one instance
        # in one batch must not run side by side either.
        holder = f"{self.owner}/{uuid.uuid4().hex[:8]}"
        with instance_lease(
            self.services.leases, instance_id, holder, self.lease_seconds, keeper=keeper
        ):
            instance = self.services.store.get(Instance, instance_id)
            match work:
                case StateWork():
                    return self._state(work, instance)
                case StopWork():
                    return self._stop(instance, force=work.force)
                case StartWork():
                    return self._start(instance)
                case LaunchWork():
                    return self._launch(work.action, instance)
                case TerminateWork():
                    return self._terminate(work.action, instance)
                case ConfigureWork():
                    return self._configure(work, instance)
        raise TypeError(f"no handler for {type(work).__name__}")

    # -- EC2 state changes ---------------------------------------------------------------
    def _state(self, work: StateWork, instance: Instance) -> Effect:
        if instance.ec2_instance_id != work.ec2_instance_id:
            return Skipped(f"{work.ec2_instance_id} is no longer this instance's EC2 instance")
        found = self.services.ec2.describe([work.ec2_instance_id]).get(work.ec2_instance_id)
        now = found.state if found is not None else "terminated"
        if is_stale(work.state, now):
            return Skipped(f"EC2 said {work.state}, but it is {now} now")
        layers = self.activities.view(instance.stack_id).layers_of(instance)
        # An Auto Scaling group replaces its own instances (and stops its warm pool's):
        # stackops heals only instances of layers no group manages.
        healing = any(la.enable_auto_healing and not la.auto_scaling_group for la in layers)
        decision = on_ec2_state(
            instance.status,
            work.state,
            auto_healing=healing,
            stop_requested=instance.stop_requested,
        )
        if decision.is_noop:
            return Skipped(decision.reason)
        acts = self.activities
        was_member = is_member(instance.status)
        if decision.run == "boot":
            instance = acts.boot(acts.set_status(instance, S.booting))
        elif decision.run == "shutdown":
            instance = acts.set_status(instance, decision.status or instance.status)
            acts.shutdown(instance)
        elif decision.status is not None:
            instance = acts.set_status(instance, decision.status)
        if decision.status in (S.stopped, S.terminated):  # its processes end with it,
            self._end_node(instance)  # before any replacement starts
        note = decision.reason
        if decision.heal:
            note += "; " + self._heal(instance)
        return self._done(instance, was_member, note)

    def _heal(self, instance: Instance) -> str:
        """Start the instance again (one replacement at most: the start is conditional)."""
        log.info("auto-healing %s: starting it again", instance.hostname)
        try:
            started = ec2_lifecycle.start(self.services, instance.instance_id)
        except Conflict as exc:
            return f"not healed: {exc.message}"
        return f"healed on {started.ec2_instance_id}"

    def _start(self, instance: Instance) -> Effect:
        if instance.status not in BOOTABLE or instance.status in (S.stopped, S.terminated):
            return Skipped(f"{instance.hostname} is {instance.status}")
        ec2_id = instance.ec2_instance_id or ""
        found = self.services.ec2.describe([ec2_id]).get(ec2_id) if ec2_id else None
        if found is None or found.state != "running":
            return Skipped(f"EC2 does not run {instance.hostname} now")
        acts = self.activities
        was_member = is_member(instance.status)
        instance = acts.boot(acts.set_status(instance, S.booting))
        return self._done(instance, was_member, "set up")

    def _stop(self, instance: Instance, *, force: bool) -> Effect:
        """Shutdown recipes (unless forced, or already run), then EC2 stops or ends it."""
        acts = self.activities
        instance = instance.model_copy(update={"stop_requested": True})
        if instance.status in (S.stopped, S.terminated):  # forced: EC2 is stopped already
            self.services.store.put(instance)
            return Done(instance.stack_id, "stopped already")
        if instance.status is not S.stop_failed and instance.ec2_instance_id and not force:
            acts.shutdown(instance)  # stop_failed: its shutdown ran; only EC2 is left to do
        try:
            final = ec2_lifecycle.stop_ec2(self.services, instance)
        except AwsFailure:  # its shutdown ran: a retry only asks EC2 again
            acts.set_status(instance, S.stop_failed)
            raise
        self._end_node(instance)
        acts.set_status(instance, final)
        # It left the membership when stop-instance marked it stopping: configure the rest.
        return Done(instance.stack_id, f"{final}")

    # -- Auto Scaling lifecycle actions -----------------------------------------------------
    def _adopt_then_launch(self, work: LaunchWork, keeper: LeaseKeeper) -> Effect:
        """An untagged instance launched by a group attached to a layer: adopt it first."""
        action = work.action
        found = ec2_lifecycle.layer_for_group(self.services, action.group_name)
        if found is None:
            return Gone(
                f"EC2 instance {action.ec2_instance_id} of group {action.group_name} is not "
                "a stackops instance (no layer names that group in auto_scaling_group)"
            )
        stack, layer = found
        ec2 = self.services.ec2.describe([action.ec2_instance_id]).get(action.ec2_instance_id)
        if ec2 is None:
            return Gone(f"EC2 instance {action.ec2_instance_id} is gone")
        if action.destination == WARM_POOL:
            # Into the warm pool: Auto Scaling stops it once the hook goes on, and it is
            # in no layer's service until it leaves the pool (then it is adopted, set up).
            outcome = self.services.actions.record(
                action.token, "CONTINUE", "entering the warm pool: set up when it leaves it"
            )
            return self._complete(action, outcome, Done(None, "warm pool"))
        instance_id = self.services.actions.adopt(action.ec2_instance_id, new_id())
        ec2_lifecycle.adopt(self.services, stack, layer, ec2, instance_id)
        log.info(
            "adopted %s from group %s into layer %s",
            ec2.instance_id,
            action.group_name,
            layer.shortname,
        )
        return self._under_lease(work, instance_id, keeper)

    def _launch(self, action: LifecycleAction, instance: Instance) -> Effect:
        recorded = self.services.actions.outcome(action.token)
        if recorded is not None:  # the recipes ran once; only telling Auto Scaling is left
            return self._complete(action, recorded, None)
        acts = self.activities
        was_member = is_member(instance.status)
        if action.destination == WARM_POOL:  # a known instance into the pool: not set up now
            outcome = self.services.actions.record(
                action.token, "CONTINUE", "entering the warm pool: set up when it leaves it"
            )
            return self._complete(action, outcome, Done(None, "warm pool"))
        if instance.status is not S.online:
            instance = acts.boot(acts.set_status(instance, S.booting))
        ok = instance.status is S.online
        result: Result = "CONTINUE" if ok else "ABANDON"
        outcome = self.services.actions.record(action.token, result, f"{instance.status}")
        return self._complete(action, outcome, self._done(instance, was_member, result))

    def _terminate(self, action: LifecycleAction, instance: Instance) -> Effect:
        recorded = self.services.actions.outcome(action.token)
        if recorded is not None:
            return self._complete(action, recorded, None)
        acts = self.activities
        was_member = is_member(instance.status)
        instance = instance.model_copy(update={"stop_requested": True})
        if action.destination == WARM_POOL:  # back to the warm pool: stopped, not ended
            instance = acts.set_status(instance, S.stopping)
            acts.shutdown(instance)
            instance = acts.set_status(instance, S.stopped)
        elif instance.status not in (S.terminating, S.terminated):
            instance = acts.set_status(instance, S.shutting_down)
            acts.shutdown(instance)
            instance = acts.set_status(instance, S.terminating)
        self._end_node(instance)  # Auto Scaling stops or ends it once the action goes on
        outcome = self.services.actions.record(action.token, "CONTINUE", "shut down")
        return self._complete(action, outcome, self._done(instance, was_member, "shut down"))

    def _complete(
        self, action: LifecycleAction, outcome: ActionOutcome, done: Done | None
    ) -> Effect:
        """Tell Auto Scaling the recorded outcome; a redelivery does only this."""
        effect: Effect = done or Done(None, f"{outcome.result} (recorded before)")
        if outcome.completed or self.autoscaling is None:
            return effect
        try:
            self.autoscaling.complete(
                group_name=action.group_name,
                hook_name=action.hook_name,
                token=action.token,
                ec2_instance_id=action.ec2_instance_id,
                result=outcome.result,
            )
        except AwsUnavailable as exc:
            return Retry(f"{outcome.result} recorded; telling Auto Scaling failed: {exc.message}")
        except AwsFailure as exc:
            if "No active Lifecycle Action" not in exc.message:
                return Retry(f"{outcome.result} recorded; telling Auto Scaling failed: {exc}")
            log.info("lifecycle action %s no longer waits: %s", action.token, exc.message)
        self.services.actions.completed(outcome)
        return effect

    # -- configure and deployments ------------------------------------------------------------
    def _configure(self, work: ConfigureWork, instance: Instance) -> Effect:
        command = self.services.commands.find(work.command_id)
        if command is None:
            coalesce.dequeue(self.services.commands, work.instance_id, work.command_id)
            return Skipped(f"configure {work.command_id} is gone")
        ran = False
        if instance.status is S.online and coalesce.should_run(command):
            self.activities.run(command, "configure")
            ran = True
        elif command.status is CommandStatus.pending:
            reason = f"not run: {instance.hostname} is {instance.status}, not online"
            self.services.commands.put(
                command.model_copy(update={"status": CommandStatus.skipped, "summary": reason})
            )
        coalesce.dequeue(self.services.commands, work.instance_id, work.command_id)
        coalesce.supersede_orphans(self.services.commands, command)
        return Done(None, "ran" if ran else "not run")

    def _deployment(self, work: DeploymentWork) -> Effect:
        try:
            deployment = self._runner().run(work.deployment_id)
        except DeploymentBusy as exc:
            return Busy(f"deployment {exc} is being run by another dispatcher")
        return Done(None, f"deployment {deployment.status.value}")

    def _end_node(self, instance: Instance) -> None:
        """End a sandbox node's processes with its EC2 instance (no-op on an account)."""
        end_node(self.activities.settings.host_nodes, instance.ec2_instance_id)

    @staticmethod
    def _done(instance: Instance, was_member: bool, note: str) -> Done:
        changed = instance.stack_id if was_member != is_member(instance.status) else None
        return Done(changed, note)
