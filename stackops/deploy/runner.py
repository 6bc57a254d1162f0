"""Running a deployment: batches by strategy, health checks, rollback, one at a time per app.

The runner is called by the dispatcher for a `Deployment Request` message. It
holds the deployment's lease (`deployment#<stack>#<app>`, owner: the deployment
id) with a heartbeat, records each batch's progress so a dispatcher that dies
mid-way is replaced by one that resumes, and takes each instance's lease around
its run, so a deploy never overlaps a configure on the same instance.

Per batch: deregister from the layers' target groups, run the command, check
health, register again. A failed deploy leaves its instance on the release it
had (the switch of `current` is the release resource's last step); an instance
that switched and then failed its health check counts as failed and switched.
On failure beyond the tolerance: rollback_all switches every instance this
deployment switched back to its previous release, rollback_failed only the
failed ones, stop leaves them.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING, Any

from stackops.deploy.health import parse_health_check, run_health_check
from stackops.deploy.strategies import failure_tolerance, get_strategy
from stackops.errors import AwsUnavailable
from stackops.lifecycle.attributes import deep_merge
from stackops.model.commands import Command, CommandStatus, CommandType
from stackops.model.deployments import BatchProgress, Deployment, DeploymentStatus
from stackops.model.enums import DeploymentCommandName as C
from stackops.model.resources import App, Instance
from stackops.store.app_secrets import forget_app
from stackops.store.leases import (
    DEPLOYMENT_LEASE_SECONDS,
    LeaseBusy,
    LeaseKeeper,
    deployment_lease_name,
    instance_lease,
)

if TYPE_CHECKING:
    from stackops.lifecycle.activities import Activities, StackView
    from stackops.lifecycle.publish import Publisher
    from stackops.services import Services

log = logging.getLogger("stackops.deploy")

LEASE_SECONDS = DEPLOYMENT_LEASE_SECONDS
PAUSED_LEASE_SECONDS = 7 * 86400  # a paused deployment keeps its app while people try it
INSTANCE_WAIT_SECONDS = 600
# Deployment command -> (command type recorded, lifecycle activity whose recipes run).
ACTIVITY: dict[str, tuple[CommandType, str]] = {
    C.deploy: (CommandType.deploy, "deploy"),
    C.rollback: (CommandType.rollback, "deploy"),
    C.undeploy: (CommandType.undeploy, "undeploy"),
    C.setup: (CommandType.setup, "setup"),
    C.configure: (CommandType.configure, "configure"),
    C.execute_recipes: (CommandType.execute_recipes, "configure"),
    C.start: (CommandType.start, "deploy"),
    C.restart: (CommandType.restart, "deploy"),
    C.stop: (CommandType.stop, "shutdown"),
    C.install_dependencies: (CommandType.install_dependencies, "setup"),
    C.update_dependencies: (CommandType.update_dependencies, "setup"),
    C.update_custom_cookbooks: (CommandType.update_custom_cookbooks, "setup"),
}
SWITCHES = frozenset({C.deploy, C.rollback})  # commands that switch releases (health, rollback)


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
        self.sleep = sleep
        self.health_get = health_get
        self.lease_seconds = lease_seconds
        self._lock = threading.Lock()  # batch threads update one deployment record
        self._keeper: LeaseKeeper | None = None  # renews the leases a run holds

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
            self._keeper = keeper
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
                deployment = self._finish(
                    self.services.deployments.get(deployment_id), False, f"error: {exc}"
                )
            finally:
                self._keeper = None
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
        for batch in deployment.batches:
            if batch.status == "successful" or batch.status == "failed":
                continue
            deployment = self._save_batch(
                deployment, batch.model_copy(update={"status": "running"})
            )
            first = batch.index == 0
            migrate = first and deployment.command.migrate
            if not first:
                view = self.activities.view(deployment.stack_id)  # once per batch
            failed, switched, ran = self._run_batch(deployment, batch, view, app, migrate)
            done = batch.model_copy(
                update={
                    "status": "failed" if failed else "successful",
                    "failed_instance_ids": failed,
                    "switched_instance_ids": switched,
                }
            )
            deployment = self._save_batch(deployment, done, ran)
            first_id = deployment.batches[0].instance_ids[0]
            if migrate and first_id in failed and first_id not in switched:
                return self._finish(deployment, False, "the migration failed; nothing switched")
            failed_so_far = sum(len(b.failed_instance_ids) for b in deployment.batches)
            if strategy.should_stop(total, failed_so_far, tolerance):
                reason = f"{failed_so_far} of {total} instance(s) failed"
                return self._fail(deployment, view, app, policy, reason)
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
        return self._fail(deployment, view, app, policy, f"{failed_total} of {total} failed")

    # -- one batch -----------------------------------------------------------------------
    def _run_batch(
        self,
        deployment: Deployment,
        batch: BatchProgress,
        view: StackView,
        app: App | None,
        migrate: bool,
    ) -> tuple[list[str], list[str], list[str]]:
        """Run the batch; returns the failed and the switched instance ids, and the commands."""
        by_id = {i.instance_id: i for i in view.instances}
        instances = [by_id[i] for i in batch.instance_ids if i in by_id]
        missing = [i for i in batch.instance_ids if i not in by_id]
        groups = self._target_groups(view, instances)
        for arn, ec2_ids in groups.items():
            self.services.target_groups.deregister(arn, ec2_ids)
        outcomes: dict[str, tuple[bool, bool, str]] = {}
        if migrate and instances:
            first, *rest = instances
            outcomes[first.instance_id] = self._deploy_one(
                deployment, first, app, view, migrate=True
            )
            if not outcomes[first.instance_id][0]:
                rest = []  # the migration failed: nobody else switches
                missing += [i.instance_id for i in instances[1:]]
        else:
            rest = instances
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            futures = {
                i.instance_id: pool.submit(
                    self._deploy_one, deployment, i, app, view, migrate=False
                )
                for i in rest
            }
            for instance_id, future in futures.items():
                outcomes[instance_id] = future.result()
        healthy = [by_id[i] for i, (ok, _, _) in outcomes.items() if ok]
        for arn, ec2_ids in self._target_groups(view, healthy).items():
            self.services.target_groups.register(arn, ec2_ids)
        failed = [i for i, (ok, _, _) in outcomes.items() if not ok] + missing
        switched = [i for i, (_, moved, _) in outcomes.items() if moved]
        return failed, switched, [command_id for _, _, command_id in outcomes.values()]

    def _deploy_one(
        self,
        deployment: Deployment,
        instance: Instance,
        app: App | None,
        view: StackView,
        *,
        migrate: bool,
    ) -> tuple[bool, bool, str]:
        """(ok, switched, command id) for one instance: the command, then the health check."""
        name = deployment.command.name
        command = self._run_on(
            deployment, instance, app, view, migrate=migrate, switch_back_to=None
        )
        ok = command.status is CommandStatus.successful
        switched = ok and name in SWITCHES
        if ok and switched and app is not None:
            health = self._health(app, instance)
            if health is not None and not health:
                return False, True, command.command_id
        return ok, switched, command.command_id

    def _run_on(
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
        kind, activity = ACTIVITY[deployment.command.name]
        if switch_back_to is not None:
            kind = CommandType.rollback
        command = self.activities.new_command(
            instance, kind, deployment_id=deployment.deployment_id
        )
        custom = dict(deployment.custom_json)
        releases: dict[str, str] = {}
        if app is not None and deployment.command.name in SWITCHES | {C.start, C.restart}:
            release = switch_back_to or deployment.release or self.current_release(instance, app)
            if release:
                releases = {app.shortname: release}
            override: dict[str, Any] = {}
            if deployment.app_source and switch_back_to is None:
                override["scm"] = {
                    "repository": deployment.app_source.get("url"),
                    "revision": deployment.app_source.get("revision"),
                }
            if switch_back_to is not None or deployment.command.name in (C.start, C.restart):
                override["switch_back"] = True
            if override:
                custom = deep_merge(custom, {"deploy": {app.shortname: override}})
        recipes = (
            deployment.command.recipes if deployment.command.name == C.execute_recipes else None
        )
        holder = f"{deployment.deployment_id}/{uuid.uuid4().hex[:8]}"
        try:
            with instance_lease(
                self.services.leases,
                instance.instance_id,
                holder,
                self.lease_seconds,
                keeper=self._keeper,
                wait_seconds=INSTANCE_WAIT_SECONDS,
                sleep=self.sleep,
            ):
                return self.activities.run(
                    command,
                    activity,
                    recipes=recipes,
                    custom_json=custom,
                    releases=releases,
                    migrate=migrate,
                    view=view,
                )
        except LeaseBusy:
            raise TimeoutError(
                f"{instance.hostname} stayed busy for {INSTANCE_WAIT_SECONDS} s"
            ) from None

    def _health(self, app: App, instance: Instance) -> bool | None:
        check = parse_health_check(app.health_check)
        if check is None:
            return None
        sandbox = self.activities.settings.sandbox
        address = "127.0.0.1" if sandbox else (instance.private_ip or "127.0.0.1")
        options: dict[str, Any] = {"sleep": self.sleep}
        if self.health_get is not None:
            options["get"] = self.health_get
        result = run_health_check(
            check, address=address, port_offset=instance.port_offset if sandbox else 0, **options
        )
        log.info("health of %s: %s", instance.hostname, result.detail)
        return result.ok

    def current_release(
        self, instance: Instance, app: App, *, before: str | None = None
    ) -> str | None:
        """The release of `app` the instance is on (its last successful switch), or before
        deployment `before` started, the one it was on then."""
        commands = self.services.commands.for_instance(instance.instance_id)
        for command in reversed(commands):
            if before is not None and command.deployment_id == before:
                continue
            if command.status is CommandStatus.successful and app.shortname in command.releases:
                return command.releases[app.shortname]
        return None

    # -- failure and the end -------------------------------------------------------------
    def _fail(
        self,
        deployment: Deployment,
        view: StackView,
        app: App | None,
        policy: str,
        reason: str,
    ) -> Deployment:
        switched = [i for b in deployment.batches for i in b.switched_instance_ids]
        failed = {i for b in deployment.batches for i in b.failed_instance_ids}
        match policy:
            case "rollback_all":
                back = switched
            case "rollback_failed":
                back = [i for i in switched if i in failed]
            case _:
                back = []
        rolled = self._switch_back(deployment, view, app, back) if back and app else []
        note = f"; rolled back {len(rolled)} instance(s)" if back else ""
        return self._finish(deployment, False, reason + note)

    def _switch_back(
        self, deployment: Deployment, view: StackView, app: App, instance_ids: list[str]
    ) -> list[str]:
        by_id = {i.instance_id: i for i in view.instances}
        done: list[str] = []
        ran: list[str] = []
        for instance_id in instance_ids:
            instance = by_id.get(instance_id)
            if instance is None:
                continue
            previous = self.current_release(instance, app, before=deployment.deployment_id)
            if previous is None:
                log.warning(
                    "%s: no earlier release of %s to go back to", instance.hostname, app.shortname
                )
                continue
            command = self._run_on(
                deployment, instance, app, view, migrate=False, switch_back_to=previous
            )
            ran.append(command.command_id)
            if command.status is CommandStatus.successful:
                done.append(instance_id)
        self._note_commands(deployment, ran)
        return done

    def _finish(self, deployment: Deployment, ok: bool, message: str | None) -> Deployment:
        started = deployment.created_at
        now = self.services.now_iso()
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
        with self._lock:
            current = self.services.deployments.get(deployment.deployment_id)
            updated = current.model_copy(update=changes)
            self.services.deployments.put(updated)
        return updated

    def _save_batch(
        self, deployment: Deployment, batch: BatchProgress, command_ids: Sequence[str] = ()
    ) -> Deployment:
        """Record a batch's progress (and the commands it ran) in one write."""
        with self._lock:
            current = self.services.deployments.get(deployment.deployment_id)
            batches = [batch if b.index == batch.index else b for b in current.batches]
            ids = [*current.command_ids, *command_ids]
            updated = current.model_copy(update={"batches": batches, "command_ids": ids})
            self.services.deployments.put(updated)
        return updated

    def _note_commands(self, deployment: Deployment, command_ids: list[str]) -> None:
        if not command_ids:
            return
        with self._lock:
            current = self.services.deployments.get(deployment.deployment_id)
            ids = [*current.command_ids, *command_ids]
            self.services.deployments.put(current.model_copy(update={"command_ids": ids}))

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
