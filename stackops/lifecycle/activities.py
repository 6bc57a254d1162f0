"""Lifecycle activities on one instance: boot (setup, deploy), configure, shutdown.

Each run is a recorded command: built from a fresh read of the stack (so a
configure carries the newest membership), run through an executor, its log put
in S3, its outcome recorded and published.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stackops.errors import AwsFailure, AwsUnavailable, StackopsError
from stackops.executors import RunRequest, RunResult
from stackops.layer_attachments import (
    assign_elastic_ip,
    leave_load_balancers,
    register_with_load_balancers,
)
from stackops.lifecycle.attributes import (
    apps_for,
    build_node_attributes,
    layers_of,
    recipes_for,
)
from stackops.lifecycle.status import is_member
from stackops.model.apps import App
from stackops.model.commands import Command, CommandStatus, CommandType
from stackops.model.enums import InstanceStatus as S
from stackops.model.fields import new_id
from stackops.model.instances import Instance
from stackops.model.layers import Layer
from stackops.model.stacks import Stack
from stackops.store.leases import holder_here, instance_lease_name

if TYPE_CHECKING:
    from stackops.executors import Executor
    from stackops.lifecycle.publish import Publisher
    from stackops.services import Services

log = logging.getLogger("stackops.dispatch")

DEFAULT_SHUTDOWN_TIMEOUT = 120.0


@dataclass(frozen=True)
class RunSettings:
    """Where and how recipes run."""

    cookbook_paths: tuple[str, ...] = ()
    nodes_root: Path | None = None
    """Sandbox: every EC2 instance is a folder `<nodes_root>/<ec2 instance id>`."""
    sandbox: bool = False
    timeout: float = 600.0
    agent_nodes_root: Path | None = None
    """Sandbox with the ssm executor: where its SSM agent keeps the nodes, on this host."""

    @property
    def host_nodes(self) -> Path | None:
        """Where this host keeps the nodes (either executor): a node there is ended when its
        EC2 instance stops or terminates, as a stopped machine has no processes."""
        return self.nodes_root or self.agent_nodes_root


@dataclass(frozen=True)
class StackView:
    """One fresh read of a stack: its layers, apps and instances."""

    stack: Stack
    layers: list[Layer]
    apps: list[App]
    instances: list[Instance]

    def layers_of(self, instance: Instance) -> list[Layer]:
        return layers_of(instance, self.layers)

    def apps_for(self, instance: Instance) -> list[App]:
        return apps_for((la.shortname for la in self.layers_of(instance)), self.apps)

    def online(self) -> list[Instance]:
        return [i for i in self.instances if i.status is S.online]

    def target_groups(self, instance: Instance) -> list[str]:
        """The ELBv2 target groups of the instance's layers."""
        return [la.target_group_arn for la in self.layers_of(instance) if la.target_group_arn]


class Activities:
    """Runs and records lifecycle activities."""

    def __init__(
        self,
        services: Services,
        settings: RunSettings,
        executor: Executor,
        publisher: Publisher,
    ) -> None:
        self.services = services
        self.settings = settings
        self.executor = executor
        self.publisher = publisher

    # -- reading and recording ------------------------------------------------
    def view(self, stack_id: str) -> StackView:
        """The stack as it is now (one query for its contents)."""
        stack = self.services.store.get(Stack, stack_id)
        contents = self.services.store.contents(stack_id)
        return StackView(stack, contents.layers, contents.apps, contents.instances)

    def set_status(self, instance: Instance, status: S) -> Instance:
        """Record a new status (and the instance's other fields as given); publish it.

        A change of online membership is noted in the in-flight index first, so the
        configure fan-out it calls for survives a crash (the sweeper does it then)."""
        if instance.status is status:
            return instance
        changed = instance.model_copy(update={"status": status})
        if is_member(instance.status) != is_member(status):  # durable before it happens
            self.services.inflight.membership_changed(instance.stack_id, self.services.epoch())
        self.services.store.put(changed)
        self.publisher.instance_state(changed, instance.status, status)
        log.info("%s %s -> %s", instance.hostname, instance.status, status)
        return changed

    def new_command(
        self,
        instance: Instance,
        kind: CommandType,
        *,
        deployment_id: str | None = None,
        seq: int = 0,
    ) -> Command:
        """A pending command for `instance` (not yet stored)."""
        return Command(
            command_id=new_id(),
            instance_id=instance.instance_id,
            stack_id=instance.stack_id,
            type=kind,
            deployment_id=deployment_id,
            created_at=self.services.now_precise(),
            seq=seq,
        )

    # -- running ----------------------------------------------------------------
    def run(
        self,
        command: Command,
        activity: str,
        *,
        recipes: list[str] | None = None,
        custom_json: dict[str, Any] | None = None,
        releases: dict[str, str] | None = None,
        app_revisions: dict[str, str] | None = None,
        migrate: bool = False,
        timeout: float | None = None,
        view: StackView | None = None,
    ) -> Command:
        """Run one command on its instance and record the outcome.

        A failed run is an outcome, recorded, not an exception. AwsUnavailable is raised
        when AWS fails before the run starts (the command is then put back, never
        recorded as failed) or while its outcome is recorded (it stays in the in-flight
        index and the work is retried). Node attributes come from `view` when given (a
        deployment reads its stack once per batch), else from a fresh read: configure must
        see the newest membership."""
        running = command.model_copy(
            update={"status": CommandStatus.running, "acknowledged_at": self.services.now_precise()}
        )
        chosen: list[str] = list(recipes or [])
        try:
            # In the in-flight index before `running` is written: a process killed between
            # the two leaves an entry the sweeper settles, never a `running` nothing names.
            self._in_flight(running)
            self.services.commands.put(running)
            view = view or self.view(command.stack_id)
            instance = next(i for i in view.instances if i.instance_id == command.instance_id)
            if recipes is None:
                chosen = recipes_for(activity, view.layers_of(instance))
            node = build_node_attributes(
                activity=activity,
                command_id=command.command_id,
                deployment_id=command.deployment_id,
                stack=view.stack,
                layers=view.layers,
                apps=view.apps,
                instances=view.instances,
                instance=instance,
                releases=releases or {},
                secret_prefix=self.services.names.secret_prefix(),
                sandbox=self.settings.sandbox,
                deployment_custom_json=custom_json,
                app_revisions=app_revisions,
                migrate=migrate,
            )
            request = RunRequest(
                command_id=command.command_id,
                ec2_instance_id=instance.ec2_instance_id or "",
                recipes=tuple(chosen),
                node=node,
                cookbook_paths=self.settings.cookbook_paths,
                timeout=timeout or self.settings.timeout,
                root=self.node_root(instance),
            )
            result = self.executor.run(request)
        except AwsUnavailable as exc:  # nothing ran: never record it as failed
            self._not_run(running, exc)
            raise
        except StackopsError as exc:
            result = RunResult(False, 2, None, f"not run: {exc}", False, 0.0)
        except Exception as exc:  # a bug or an outage: record it, never leave it "running"
            log.exception("command %s could not run", command.command_id)
            result = RunResult(False, 70, None, f"not run: {type(exc).__name__}: {exc}", False, 0.0)
        return self._record(running, chosen, result, releases or {})

    def _in_flight(self, command: Command) -> None:
        """Note the run in the in-flight index, with the holder of the instance's lease."""
        lease = instance_lease_name(command.instance_id)
        self.services.inflight.begin_command(
            command, lease, holder_here(lease), self.services.epoch()
        )

    def _not_run(self, command: Command, exc: AwsUnavailable) -> None:
        """AWS failed before the executor started: undo `running`, best effort.

        A queued configure goes back to pending (its slot still names it and it runs
        when the request comes back); any other command is recorded as skipped, with
        why; the work that asked for it is retried. If this write fails as well, the
        in-flight entry stays and the sweeper closes the command.
        """
        if command.type is CommandType.configure and command.deployment_id is None:
            undone = command.model_copy(update={"status": CommandStatus.pending})
        else:
            undone = command.model_copy(
                update={
                    "status": CommandStatus.skipped,
                    "summary": f"not run: AWS unavailable ({exc.message}); retried",
                }
            )
        try:
            self.services.commands.put(undone)
        except Exception:
            log.warning("could not undo command %s", command.command_id, exc_info=True)
            return
        self.services.inflight.end("command", command.command_id)

    def node_root(self, instance: Instance) -> str | None:
        """The instance's node folder in the sandbox (made if missing); None on AWS."""
        if self.settings.nodes_root is None:
            return None
        root = self.settings.nodes_root / (instance.ec2_instance_id or instance.instance_id)
        root.mkdir(parents=True, exist_ok=True)
        return str(root)

    def _record(
        self, command: Command, recipes: list[str], result: RunResult, releases: dict[str, str]
    ) -> Command:
        key = f"commands/{command.command_id}.json"  # the agent keeps logs/ for its own report
        body = {"CommandId": command.command_id, "Report": result.report, "Log": result.log}
        summary = _summary(result)
        log_url: str | None = f"s3://{self.services.artifacts.name}/{key}"
        try:
            self.services.artifacts.put_object(
                key, json.dumps(body).encode(), content_type="application/json"
            )
        except AwsFailure as exc:  # the run happened: its outcome is recorded all the same
            log.warning("log of command %s not stored: %s", command.command_id, exc)
            summary = f"{summary} (log not stored: {exc.message})"
            log_url = None
        done = command.model_copy(
            update={
                "status": CommandStatus.successful if result.ok else CommandStatus.failed,
                "exit_code": result.exit_code,
                "completed_at": self.services.now_precise(),
                "log_url": log_url,
                "recipes": recipes,
                "summary": summary,
                "releases": releases if result.ok else {},
            }
        )
        self.services.commands.put(done)
        self.services.inflight.end("command", command.command_id)
        self.publisher.command_state(done)
        log.info("%s %s: %s", command.type.value, command.instance_id, summary)
        return done

    # -- the lifecycle ----------------------------------------------------------
    def boot(self, instance: Instance) -> Instance:
        """Setup, then deploy of every app of its layers, each app health-checked as a
        deployment would; online only when all that passed, else setup_failed with the
        reason on the failed command and on the instance (`status_reason`)."""
        instance = self.set_status(
            instance.model_copy(update={"status_reason": None}), S.running_setup
        )
        view = self.view(instance.stack_id)  # one read serves setup and deploy
        instance = assign_elastic_ip(self.services, view.layers_of(instance), instance)
        setup = self.run(self.new_command(instance, CommandType.setup), "setup", view=view)
        if setup.status is not CommandStatus.successful:
            return self._boot_failed(instance, f"setup failed: {setup.summary}")
        apps = view.apps_for(instance)
        if apps:
            deploy = self.new_command(instance, CommandType.deploy)
            releases = {app.shortname: self.release_id(deploy.command_id) for app in apps}
            done = self.run(deploy, "deploy", releases=releases, view=view)
            if done.status is not CommandStatus.successful:
                return self._boot_failed(instance, f"deploy failed: {done.summary}")
            failure = self._check_apps(done, instance, apps)
            if failure is not None:
                return self._boot_failed(instance, failure)
        for group in view.target_groups(instance):
            if instance.ec2_instance_id:
                self.services.target_groups.register(group, [instance.ec2_instance_id])
        register_with_load_balancers(self.services, view.layers_of(instance), instance)
        return self.set_status(instance, S.online)

    def _check_apps(self, deploy: Command, instance: Instance, apps: list[App]) -> str | None:
        """Health-check each app the boot deployed (as a deployment does); their outcome
        goes on the deploy command. Returns why the first failing one failed."""
        from stackops.deploy.checks import check_app

        notes: list[str] = []
        failure: str | None = None
        for app in apps:
            try:
                result = check_app(
                    app,
                    instance,
                    executor=self.executor,
                    sandbox=self.settings.sandbox,
                    root=self.node_root(instance),
                    secret_prefix=self.services.names.secret_prefix(),
                    check_id=f"{deploy.command_id}-{app.shortname}",
                )
            except StackopsError as exc:
                failure = f"health check of {app.shortname} could not run: {exc}"
                break
            if result is None:
                continue
            verdict = "passed" if result.ok else "failed"
            notes.append(f"health check of {app.shortname} {verdict}: {result.detail}")
            if not result.ok:
                failure = notes[-1]
                break
        if notes or failure:
            changes: dict[str, Any] = {
                "summary": f"{deploy.summary}; {'; '.join(notes or [failure or ''])}"
            }
            if failure is not None:  # failed, yet it did switch: its releases stay
                changes["status"] = CommandStatus.failed
            updated = deploy.model_copy(update=changes)
            self.services.commands.put(updated)
            if failure is not None:
                self.publisher.command_state(updated)
        return failure

    def _boot_failed(self, instance: Instance, reason: str) -> Instance:
        """setup_failed (OpsWorks's status for a failed setup or boot deploy), with why."""
        reason = reason if len(reason) <= REASON_LIMIT else reason[: REASON_LIMIT - 3] + "..."
        log.warning("%s: %s", instance.hostname, reason)
        return self.set_status(
            instance.model_copy(update={"status_reason": reason}), S.setup_failed
        )

    def shutdown(self, instance: Instance) -> Command:
        """Shutdown recipes, bounded by the longest shutdown timeout of its layers."""
        view = self.view(instance.stack_id)
        for group in view.target_groups(instance):
            if instance.ec2_instance_id:
                self.services.target_groups.deregister(group, [instance.ec2_instance_id])
        leave_load_balancers(self.services, view.layers_of(instance), instance)
        limits = [
            layer.lifecycle_event_configuration.shutdown.execution_timeout
            for layer in view.layers_of(instance)
        ]
        timeout = float(max(limits, default=DEFAULT_SHUTDOWN_TIMEOUT))
        return self.run(
            self.new_command(instance, CommandType.shutdown), "shutdown", timeout=timeout
        )

    def release_id(self, command_id: str) -> str:
        """A release name that sorts by time: `20261128T170000Z-1a2b`."""
        return f"{self.services.clock():%Y%m%dT%H%M%SZ}-{command_id[:4]}"


REASON_LIMIT = 1000  # characters of a failure's reason kept in a command's summary


def _summary(result: RunResult) -> str:
    """One line for the record: the run's summary and, when it failed, why (the failed
    resource, its error and the last lines it printed)."""
    if result.timed_out:
        return f"timed out after {result.seconds:.0f} s"
    if result.report and result.report.get("summary_line"):
        line = str(result.report["summary_line"])
        reason = failure_reason(result.report) if not result.ok else None
        return f"{line}; {reason}" if reason else line
    first = (result.log or "").strip().splitlines()
    return first[0][:300] if first else f"exit code {result.exit_code}"


def failure_reason(report: dict[str, Any]) -> str | None:
    """Why a converge report failed, on one line: `service[web] failed: <error>`, with the
    error's last lines (a service's output) joined by ' | '; None when nothing failed."""
    entries = [*report.get("resources", ()), *report.get("notifications", ())]
    failed = [e for e in entries if isinstance(e, dict) and e.get("status") == "failed"]
    if not failed:
        return None
    first = failed[0]
    lines = [line.strip() for line in str(first.get("error") or "").splitlines() if line.strip()]
    text = f"{first.get('resource')} failed: {lines[0] if lines else 'no error text'}"
    if len(lines) > 1:
        text += " | " + " | ".join(lines[1:][-5:])
    if len(failed) > 1:
        text += f" (and {len(failed) - 1} more)"
    return text if len(text) <= REASON_LIMIT else text[: REASON_LIMIT - 3] + "..."
