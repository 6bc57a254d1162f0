"""One deployment command on one instance: under the instance's lease, then the app's health
check; what it did goes to the deployment's record at once (the switch before the check)."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stackops.deploy.checks import check_app
from stackops.deploy.health import HealthResult
from stackops.deploy.progress import Outcome, ProgressLog, clip
from stackops.deploy.releases import SWITCHES, plan_run, release_of
from stackops.model.commands import Command, CommandStatus
from stackops.model.deployments import Deployment
from stackops.store.leases import LeaseBusy, LeaseKeeper, instance_lease

if TYPE_CHECKING:
    from stackops.lifecycle.activities import Activities, StackView
    from stackops.lifecycle.publish import Publisher
    from stackops.model.apps import App
    from stackops.model.instances import Instance
    from stackops.services import Services

log = logging.getLogger("stackops.deploy")

INSTANCE_WAIT_SECONDS = 600


@dataclass
class InstanceRun:
    """Runs a deployment's command on one instance at a time (the runner runs many side by
    side); `keeper` renews the instance leases with the deployment's own while a run holds it."""

    services: Services
    activities: Activities
    publisher: Publisher
    progress: ProgressLog
    lease_seconds: float
    sleep: Callable[[float], None] = time.sleep
    health_get: Any = None
    keeper: LeaseKeeper | None = None

    def deploy(
        self,
        deployment: Deployment,
        index: int,
        reasons: dict[str, str],
        instance: Instance,
        app: App | None,
        view: StackView,
        *,
        migrate: bool,
    ) -> Outcome:
        """One instance: the command, then (after a switch) the app's health check; what
        it did is recorded at once, the switch before the check."""
        name = deployment.command.name
        record = self.progress.note
        command = self.run(deployment, instance, app, view, migrate=migrate, switch_back_to=None)
        ok = command.status is CommandStatus.successful
        switched = ok and name in SWITCHES
        record(
            deployment.deployment_id,
            index,
            instance.instance_id,
            switched=switched,
            command_ids=[command.command_id],
        )
        outcome = Outcome(ok, switched, command.command_id)
        if not ok:
            why = f"{command.type.value} failed (exit code {command.exit_code}): {command.summary}"
            outcome = Outcome(False, False, command.command_id, why)
        elif switched and app is not None:
            health = self.health(app, instance, command.command_id)
            if health is not None:
                passed = "passed" if health.ok else "failed"
                self._annotate(command, f"health check {passed}: {health.detail}", health.ok)
                if not health.ok:
                    outcome = Outcome(
                        False, True, command.command_id, f"health check failed: {health.detail}"
                    )
        if not outcome.ok:
            reasons[instance.instance_id] = outcome.reason or "failed"
            record(deployment.deployment_id, index, instance.instance_id, failed=True)
        return outcome

    def _annotate(self, command: Command, note: str, ok: bool) -> None:
        """Add the health check's outcome to a command's record; a failed check fails it."""
        changes: dict[str, Any] = {"summary": clip(f"{command.summary}; {note}", 1500)}
        if not ok:  # failed, yet it did switch: its releases stay the instance's history
            changes["status"] = CommandStatus.failed
        updated = command.model_copy(update=changes)
        self.services.commands.put(updated)
        if not ok:
            self.publisher.command_state(updated)

    def run(
        self,
        deployment: Deployment,
        instance: Instance,
        app: App | None,
        view: StackView,
        *,
        migrate: bool,
        switch_back_to: str | None,
    ) -> Command:
        """One command of this deployment on one instance, under the instance's lease."""
        plan = plan_run(
            deployment,
            app.shortname if app else None,
            lambda: self.services.commands.for_instance(instance.instance_id),
            switch_back_to=switch_back_to,
        )
        command = self.activities.new_command(
            instance, plan.kind, deployment_id=deployment.deployment_id
        )
        holder = f"{deployment.deployment_id}/{uuid.uuid4().hex[:8]}"
        try:
            with instance_lease(
                self.services.leases,
                instance.instance_id,
                holder,
                self.lease_seconds,
                keeper=self.keeper,
                wait_seconds=INSTANCE_WAIT_SECONDS,
                sleep=self.sleep,
            ):
                return self.activities.run(
                    command,
                    plan.activity,
                    recipes=plan.recipes,
                    custom_json=plan.custom_json,
                    releases=plan.releases,
                    migrate=migrate,
                    view=view,
                )
        except LeaseBusy:
            raise TimeoutError(
                f"{instance.hostname} stayed busy for {INSTANCE_WAIT_SECONDS} s"
            ) from None

    def health(self, app: App, instance: Instance, command_id: str) -> HealthResult | None:
        """The app's health check on the instance (None when it has none): HTTP from here,
        a command on the node through the run's executor."""
        result = check_app(
            app,
            instance,
            executor=self.activities.executor,
            sandbox=self.activities.settings.sandbox,
            root=self.activities.node_root(instance),
            secret_prefix=self.services.names.secret_prefix(),
            check_id=f"{command_id}-health",
            get=self.health_get,
            sleep=self.sleep,
        )
        if result is not None:
            log.info("health of %s: %s", instance.hostname, result.detail)
        return result

    def current_release(
        self, instance: Instance, app: App, *, before: str | None = None
    ) -> str | None:
        """The release of `app` the instance is on, or the one it had before deployment
        `before` (`stackops.deploy.releases.release_of`)."""
        history = self.services.commands.for_instance(instance.instance_id)
        return release_of(history, app.shortname, before=before)
