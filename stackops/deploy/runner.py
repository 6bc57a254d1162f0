"""Running a deployment: batches by strategy, health checks, rollback, one at a time per app.

The runner is called by the dispatcher for a `Deployment Request` message. It
holds the deployment's lease (`deployment#<stack>#<app>`, owner: the deployment
id) with a heartbeat, records each batch's progress so a dispatcher that dies
mid-way is replaced by one that resumes, and takes each instance's lease around
its run, so a deploy never overlaps a configure on the same instance.

Per batch: deregister from the layers' target groups, run the command, check
health, register again. A failed deploy leaves its instance on the release it
had (the switch of `current` is the release resource's last step); an instance
that switched and then failed its health check counts as failed and switched,
and its command is recorded failed with the check's detail. Each instance's
outcome is written to the record as it happens (`stackops.deploy.progress`).
On failure beyond the tolerance, and on any error after a switch, the failure
policy applies (`stackops.deploy.rollback`); the deployment's message says why it
failed and what was rolled back. One instance's run is `stackops.deploy.instance_run`.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING, Any

from stackops.deploy.instance_run import InstanceRun
from stackops.deploy.progress import Outcome, ProgressLog, clip, failure_message
from stackops.deploy.rollback import rollback_note, rollback_targets, switch_back, switched_ids
from stackops.errors import AwsUnavailable
from stackops.model.apps import App
from stackops.model.deployments import BatchProgress, Deployment, DeploymentStatus
from stackops.model.instances import Instance
from stackops.model.strategies import failure_tolerance, get_strategy
from stackops.store.app_secrets import forget_app
from stackops.store.leases import (
    DEPLOYMENT_LEASE_SECONDS,
    LeaseKeeper,
    deployment_lease_name,
)

if TYPE_CHECKING:
    from stackops.lifecycle.activities import Activities, StackView
    from stackops.lifecycle.publish import Publisher
    from stackops.services import Services

log = logging.getLogger("stackops.deploy")

LEASE_SECONDS = DEPLOYMENT_LEASE_SECONDS
PAUSED_LEASE_SECONDS = 7 * 86400  # a paused deployment keeps its app while people try it


class DeploymentBusy(Exception):
    """Another dispatcher is running this deployment right now."""


def deployment_lease(deployment: Deployment) -> str:
    """The lease that makes deployments of one (stack, app) one at a time."""
    return deployment_lease_name(deployment.stack_id, deployment.app_id)


class DeploymentRunner:
    """Runs one deployment to its end, or to its pause."""

    def __init__(
        self,
        services: Services,
        activities: Activities,
        publisher: Publisher,
        *,
        workers: int = 8,
        sleep: Callable[[float], None] = time.sleep,
        health_get: Any = None,
        lease_seconds: float = LEASE_SECONDS,
    ) -> None:
        self.services = services
        self.activities = activities
        self.publisher = publisher
        self.workers = workers
        self.lease_seconds = lease_seconds
        self.progress = ProgressLog(services.deployments)
        self.on_instance = InstanceRun(
            services,
            activities,
            publisher,
            self.progress,
            lease_seconds=lease_seconds,
            sleep=sleep,
            health_get=health_get,
        )

    # -- the whole deployment ------------------------------------------------------------
    def run(self, deployment_id: str) -> Deployment:
        """Run (or resume) a deployment; returns it as recorded at the end.

        The runner holds the deployment's lease under a holder of its own
        (`<deployment id>/<runner>`), taking it over from create-deployment (which
        holds it as `<deployment id>`) or from a runner that died (once it expired),
        so two runners never run one deployment side by side. Anything that goes
        wrong fails the deployment, recorded; it is never left running.
        """
        deployment = self.services.deployments.get(deployment_id)
        if deployment.status is not DeploymentStatus.running:
            return deployment
        lease = deployment_lease(deployment)
        owner = f"{deployment.deployment_id}/{uuid.uuid4().hex[:8]}"
        if not self.services.leases.take_over(
            lease, deployment.deployment_id, owner, self.lease_seconds
        ):
            holder = self.services.leases.holder(lease) or ""
            if holder.split("/")[0] != deployment.deployment_id:
                return self._finish(deployment, False, f"deployment {holder} holds this app")
            raise DeploymentBusy(deployment_id)
        inflight = self.services.inflight
        inflight.begin_deployment(
            deployment_id, deployment.stack_id, lease, owner, self.services.epoch()
        )
        with LeaseKeeper(self.services.leases, self.lease_seconds) as keeper:
            keeper.hold(lease, owner)
            self.on_instance.keeper = keeper
            try:
                deployment = self._execute(deployment)
            except AwsUnavailable:
                # AWS is out for a while: nothing is failed that did not fail. The lease
                # is given back and the request retried; the runner resumes from the
                # batches recorded.
                keeper.drop(lease)
                self.services.leases.release(lease, owner)
                raise
            except Exception as exc:
                log.exception("deployment %s failed", deployment_id)
                deployment = self._fail_on_error(deployment_id, exc)
            finally:
                self.on_instance.keeper = None
            keeper.drop(lease)
        if deployment.status is not DeploymentStatus.paused:
            self.services.leases.release(lease, owner)
        else:  # paused: the lease stays the deployment's, for continue or abort
            self.services.leases.take_over(lease, owner, deployment_id, PAUSED_LEASE_SECONDS)
        inflight.end("deployment", deployment_id)
        return deployment

    def _execute(self, deployment: Deployment) -> Deployment:
        view = self.activities.view(deployment.stack_id)
        app = next((a for a in view.apps if a.app_id == deployment.app_id), None)
        strategy = get_strategy(deployment.strategy)
        total = len(deployment.instance_ids)
        if not deployment.batches:
            batches = strategy.batches(deployment.instance_ids, deployment.batch_size)
            deployment = self._save(
                deployment,
                batches=[BatchProgress(index=i, instance_ids=b) for i, b in enumerate(batches)],
            )
        if deployment.abort_requested:
            return self._fail(deployment, view, app, "rollback_all", "aborted")
        tolerance = failure_tolerance(deployment.max_failures, total)
        policy = deployment.on_failure or strategy.default_on_failure
        reasons: dict[str, str] = {}
        for batch in deployment.batches:
            if batch.status == "successful" or batch.status == "failed":
                continue
            deployment = self.progress.start_batch(deployment.deployment_id, batch.index)
            first = batch.index == 0
            migrate = first and deployment.command.migrate
            if not first:
                view = self.activities.view(deployment.stack_id)  # once per batch
            self._run_batch(deployment, batch, view, app, migrate, reasons)
            deployment = self.progress.end_batch(deployment.deployment_id, batch.index)
            done = deployment.batches[batch.index]
            first_id = done.instance_ids[0]
            migration_failed = migrate and first_id in done.failed_instance_ids
            if migration_failed and first_id not in done.switched_instance_ids:
                why = reasons.get(first_id, "see its command")
                host = self._hostnames(view).get(first_id, first_id)
                message = f"the migration failed on {host}: {why}; nothing switched"
                return self._finish(deployment, False, clip(message))
            failed_so_far = sum(len(b.failed_instance_ids) for b in deployment.batches)
            if strategy.should_stop(total, failed_so_far, tolerance):
                message = failure_message(deployment, reasons, self._hostnames(view))
                return self._fail(deployment, view, app, policy, message)
            if self.services.deployments.get(deployment.deployment_id).abort_requested:
                return self._fail(deployment, view, app, "rollback_all", "aborted")
            last = batch.index == len(deployment.batches) - 1
            if first and not last and deployment.pause and strategy.pause_after_first:
                return self._save(
                    deployment,
                    status=DeploymentStatus.paused,
                    message="paused after the first batch: continue or abort",
                )
        failed_total = sum(len(b.failed_instance_ids) for b in deployment.batches)
        if strategy.succeeded(total, failed_total, tolerance):
            return self._finish(deployment, True, None)
        message = failure_message(deployment, reasons, self._hostnames(view))
        return self._fail(deployment, view, app, policy, message)

    # -- one batch -----------------------------------------------------------------------
    def _run_batch(
        self,
        deployment: Deployment,
        batch: BatchProgress,
        view: StackView,
        app: App | None,
        migrate: bool,
        reasons: dict[str, str],
    ) -> None:
        """Run the batch; each instance's outcome goes to the record (and `reasons`) as
        it comes. Instances that cannot run are recorded failed with the reason."""
        by_id = {i.instance_id: i for i in view.instances}
        instances = [by_id[i] for i in batch.instance_ids if i in by_id]
        not_run = {i: "not in the stack any more" for i in batch.instance_ids if i not in by_id}
        groups = self._target_groups(view, instances)
        for arn, ec2_ids in groups.items():
            self.services.target_groups.deregister(arn, ec2_ids)
        outcomes: dict[str, Outcome] = {}
        args = (deployment, batch.index, reasons)
        deploy = self.on_instance.deploy
        if migrate and instances:
            first, *rest = instances
            outcomes[first.instance_id] = deploy(*args, first, app, view, migrate=True)
            if not outcomes[first.instance_id].ok:
                for other in rest:  # the migration failed: nobody else switches
                    not_run[other.instance_id] = "not run: the migration failed"
                rest = []
        else:
            rest = instances
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            futures = {
                i.instance_id: pool.submit(deploy, *args, i, app, view, migrate=False) for i in rest
            }
            for instance_id, future in futures.items():
                outcomes[instance_id] = future.result()
        for instance_id, why in not_run.items():
            reasons[instance_id] = why
            self.progress.note(deployment.deployment_id, batch.index, instance_id, failed=True)
        healthy = [by_id[i] for i, outcome in outcomes.items() if outcome.ok]
        for arn, ec2_ids in self._target_groups(view, healthy).items():
            self.services.target_groups.register(arn, ec2_ids)

    # -- failure and the end -------------------------------------------------------------
    def _fail(
        self,
        deployment: Deployment,
        view: StackView,
        app: App | None,
        policy: str,
        reason: str,
    ) -> Deployment:
        """Apply the failure policy to what the record says switched, and fail the deployment
        saying why and what was rolled back."""
        back = rollback_targets(deployment, policy)
        rolled: int | None = None
        trouble: list[str] = []
        if back and app is not None:
            done, trouble = switch_back(self.on_instance, deployment, view, app, back)
            rolled = len(done)
        note = rollback_note(policy, len(switched_ids(deployment)), rolled, trouble)
        return self._finish(deployment, False, clip(reason + note))

    def _fail_on_error(self, deployment_id: str, exc: Exception) -> Deployment:
        """An error at any point: the failure policy still applies to what had switched,
        and a batch it interrupted is recorded failed, not left running."""
        deployment = self.services.deployments.get(deployment_id)
        if any(b.status == "running" for b in deployment.batches):
            batches = [
                b.model_copy(update={"status": "failed"}) if b.status == "running" else b
                for b in deployment.batches
            ]
            deployment = self.progress.save(deployment_id, batches=batches)
        reason = f"error: {type(exc).__name__}: {exc}" if not str(exc) else f"error: {exc}"
        try:
            view = self.activities.view(deployment.stack_id)
            app = next((a for a in view.apps if a.app_id == deployment.app_id), None)
            return self._fail(deployment, view, app, deployment.effective_on_failure, reason)
        except Exception as again:
            log.exception("deployment %s: the failure policy failed too", deployment_id)
            switched = sum(len(b.switched_instance_ids) for b in deployment.batches)
            return self._finish(
                self.services.deployments.get(deployment_id),
                False,
                clip(
                    f"{reason}; could not apply the failure policy ({again}); "
                    f"{switched} instance(s) had switched"
                ),
            )

    def _finish(self, deployment: Deployment, ok: bool, message: str | None) -> Deployment:
        started = deployment.created_at
        now = self.services.now_precise()
        duration = int(
            (datetime.fromisoformat(now) - datetime.fromisoformat(started)).total_seconds()
        )
        status = DeploymentStatus.successful if ok else DeploymentStatus.failed
        if ok and deployment.delete_app and deployment.app_id:
            forget_app(self.services, self.services.store.get(App, deployment.app_id))
        done = self._save(
            deployment, status=status, completed_at=now, duration=max(duration, 0), message=message
        )
        self.publisher.deployment_state(
            {
                "stack-id": done.stack_id,
                "deployment-id": done.deployment_id,
                "app-id": done.app_id,
                "command": done.command.name.value,
                "status": done.status.value,
                "message": done.message,
            }
        )
        log.info(
            "deployment %s %s%s",
            done.deployment_id,
            done.status.value,
            f": {message}" if message else "",
        )
        return done

    # -- records -------------------------------------------------------------------------
    def _save(self, deployment: Deployment, **changes: Any) -> Deployment:
        return self.progress.save(deployment.deployment_id, **changes)

    @staticmethod
    def _hostnames(view: StackView) -> dict[str, str]:
        return {i.instance_id: i.hostname for i in view.instances}

    @staticmethod
    def _target_groups(view: StackView, instances: list[Instance]) -> dict[str, list[str]]:
        groups: dict[str, list[str]] = {}
        for instance in instances:
            if not instance.ec2_instance_id:
                continue
            for layer in view.layers_of(instance):
                if layer.target_group_arn:
                    groups.setdefault(layer.target_group_arn, []).append(instance.ec2_instance_id)
        return groups
