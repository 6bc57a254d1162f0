"""The sweeper: what a dead process left behind, finished or failed, on every round.

Part of every dispatcher round, and cheap: it runs at most every `every_seconds`
across all dispatchers (a lease named `sweeper` is the rate limit), and reads the
in-flight index (runs under way: a few items), never the whole table. For each
entry whose holder no longer holds its lease (its process is gone):
- a configure still queued is handed back to the dispatcher (a Configure Request
  for its stack): it runs again, being idempotent; one no longer queued is
  superseded by the newer one that is;
- any other command is recorded `failed` ("interrupted") and what it belonged to
  is resumed: the deployment is requested again (it resumes, or rolls back, from
  its recorded batches), a boot is set up again, a stop is asked for again;
- a deployment whose runner died is requested again;
- a stack whose online members changed without its configures being queued gets
  them queued.
It also stops stray EC2 instances (tagged with a stackops id their record does not
name), removes staging folders that killed agents left on this host's nodes, and
switches a node of this host back to the release its record says it runs when the
two disagree (nodes elsewhere are reconciled by the deployment that resumes).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stackops import ec2_lifecycle
from stackops.converge.supervise import process_alive
from stackops.errors import NotFound
from stackops.lifecycle import coalesce
from stackops.lifecycle.events import (
    configure_request_message,
    deployment_request_message,
    instance_command_message,
)
from stackops.model.apps import App
from stackops.model.commands import CommandStatus, CommandType
from stackops.model.deployments import DeploymentStatus
from stackops.model.enums import InstanceStatus as S
from stackops.model.instances import Instance
from stackops.nodes import end_node
from stackops.store.leases import LeaseBusy, instance_lease

if TYPE_CHECKING:
    from stackops.lifecycle.activities import Activities
    from stackops.services import Services
    from stackops.store.inflight import InFlight

log = logging.getLogger("stackops.sweeper")

SWEEPER_LEASE = "sweeper"
# A staging sibling the recipe engine writes then renames: `.<name>.<purpose>-<pid>-<hex>`.
STAGING = re.compile(r"^\..+\.(unpack|download|tmp|link|old)-(\d+)-[0-9a-f]{8}$")


@dataclass
class SweepReport:
    """What one sweep found and did."""

    resumed: list[str] = field(default_factory=list)
    interrupted: list[str] = field(default_factory=list)
    fanned_out: list[str] = field(default_factory=list)
    strays: list[str] = field(default_factory=list)
    staging_removed: list[str] = field(default_factory=list)
    reconciled: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "Resumed": len(self.resumed),
            "Interrupted": len(self.interrupted),
            "FannedOut": len(self.fanned_out),
            "StraysStopped": self.strays,
            "StagingRemoved": len(self.staging_removed),
            "Reconciled": self.reconciled,
        }

    def __bool__(self) -> bool:
        return any(vars(self).values())


def stale_staging(names: Iterable[str], alive: Callable[[int], bool]) -> list[str]:
    """The staging names among `names` whose writer process is gone (pure)."""
    found = []
    for name in names:
        match = STAGING.match(name)
        if match and not alive(int(match.group(2))):
            found.append(name)
    return found


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs on this host (a zombie does not)."""
    return process_alive(pid, None)


class Sweeper:
    """Finishes or fails what dead processes left; see the module docstring."""

    def __init__(
        self,
        services: Services,
        activities: Activities,
        *,
        owner: str,
        lease_seconds: float,
        every_seconds: float,
        current_release: Callable[[Instance, App], str | None],
        nodes_root: Path | None = None,
    ) -> None:
        self.services = services
        self.activities = activities
        self.owner = owner
        self.lease_seconds = lease_seconds
        self.every_seconds = every_seconds
        self._current_release = current_release
        self.nodes_root = nodes_root
        self._next = 0.0

    def due(self) -> bool:
        """True at most every `every_seconds` across all dispatchers (the sweeper lease)."""
        now = self.services.epoch()
        if now < self._next:
            return False
        self._next = now + self.every_seconds
        return self.services.leases.acquire(SWEEPER_LEASE, self.owner, self.every_seconds)

    def sweep(self) -> SweepReport:
        """One sweep; each step's failure is logged and leaves the rest to be done."""
        report = SweepReport()
        for step in (self._in_flight, self._strays, self._staging, self._reconcile):
            try:
                step(report)
            except Exception:
                log.warning(
                    "sweep step %s failed; next sweep tries again", step.__name__, exc_info=True
                )
        if report:
            log.info("sweep: %s", report.to_dict())
        return report

    # -- in-flight entries --------------------------------------------------------------------
    def _in_flight(self, report: SweepReport) -> None:
        now = self.services.epoch()
        for entry in self.services.inflight.all():
            if entry.kind == "membership":
                if now - entry.since >= self.lease_seconds:
                    self.fan_out(entry.stack_id, entry.holder)
                    report.fanned_out.append(entry.stack_id)
                continue
            if not self._abandoned(entry, now):
                continue
            if entry.kind == "deployment":
                self._resume_deployment(entry.run_id, report)
                self.services.inflight.end("deployment", entry.run_id)
            else:
                self._orphaned_command(entry, report)
                self.services.inflight.end("command", entry.run_id)

    def _abandoned(self, entry: InFlight, now: float) -> bool:
        """Whether the run's holder no longer holds its lease (its process is gone)."""
        if not entry.holder:  # ran outside a lease: give it a lease's time
            return now - entry.since >= self.lease_seconds and (
                self.services.leases.holder(entry.lease) is None
            )
        return self.services.leases.holder(entry.lease) != entry.holder

    def _orphaned_command(self, entry: InFlight, report: SweepReport) -> None:
        command = self.services.commands.find(entry.run_id)
        if command is None or command.status.done:
            return
        services = self.services
        if command.type is CommandType.configure and not command.deployment_id:
            slot = services.commands.slot(command.instance_id)
            if slot is not None and slot.command_id == command.command_id:
                services.queue.send(configure_request_message(command.stack_id, slot.seq))
                report.resumed.append(f"configure {command.command_id}")
            else:
                superseded = command.model_copy(update={"status": CommandStatus.superseded})
                services.commands.put(superseded)
            return
        if command.status is CommandStatus.pending:  # taken up, never begun: nothing ran
            status, summary = CommandStatus.skipped, "not run: the process that took it up "
            summary += "stopped before it began; what it belonged to is resumed"
        else:
            status, summary = CommandStatus.failed, "outcome unknown: the process running "
            summary += "it stopped, or could not record how it went; what it belonged to is resumed"
        services.commands.put(
            command.model_copy(
                update={
                    "status": status,
                    "completed_at": services.now_precise(),
                    "summary": summary,
                }
            )
        )
        report.interrupted.append(f"{command.type.value} {command.command_id}")
        if command.deployment_id:
            self._resume_deployment(command.deployment_id, report)
            return
        instance = services.store.find_many(Instance, [command.instance_id]).get(
            command.instance_id
        )
        if instance is None:
            return
        if instance.status in (S.booting, S.running_setup):
            services.queue.send(instance_command_message(instance.instance_id, "start"))
            report.resumed.append(f"boot of {instance.hostname}")
        elif instance.status in (S.stopping, S.shutting_down) and instance.stop_requested:
            services.queue.send(instance_command_message(instance.instance_id, "stop"))
            report.resumed.append(f"stop of {instance.hostname}")

    def _resume_deployment(self, deployment_id: str, report: SweepReport) -> None:
        try:
            deployment = self.services.deployments.get(deployment_id)
        except Exception:
            return
        if deployment.status is DeploymentStatus.running:
            self.services.queue.send(deployment_request_message(deployment_id))
            report.resumed.append(f"deployment {deployment_id}")

    def fan_out(self, stack_id: str, token: str | None = None) -> None:
        """Queue a configure on every online instance of the stack, then one request."""
        services = self.services
        token = token or services.inflight.membership_token(stack_id)
        try:
            view = self.activities.view(stack_id)
        except NotFound:  # the stack is gone: nothing to configure
            if token:
                services.inflight.membership_queued(stack_id, token)
            return
        coalesce.request(
            services.commands,
            services.queue.send,
            stack_id,
            view.online(),
            lambda instance, seq: self.activities.new_command(
                instance, CommandType.configure, seq=seq
            ),
        )
        if token:
            services.inflight.membership_queued(stack_id, token)

    # -- EC2, staging folders, releases ----------------------------------------------------------
    def _strays(self, report: SweepReport) -> None:
        for stray in ec2_lifecycle.find_strays(self.services):
            ec2_lifecycle.stop_stray(self.services, stray)
            end_node(self.nodes_root, stray.ec2_instance_id)
            report.strays.append(stray.describe())

    def _staging(self, report: SweepReport) -> None:
        if self.nodes_root is None or not self.nodes_root.is_dir():
            return
        for folder, dirs, files in os.walk(self.nodes_root):
            for name in stale_staging([*dirs, *files], pid_alive):
                path = Path(folder) / name
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path, ignore_errors=True)
                    dirs.remove(name)
                else:
                    path.unlink(missing_ok=True)
                report.staging_removed.append(str(path))

    def _reconcile(self, report: SweepReport) -> None:
        """Nodes of this host whose `current` differs from their record: switched back."""
        if self.nodes_root is None or not self.nodes_root.is_dir():
            return
        here = {p.name for p in self.nodes_root.iterdir()}
        for stack in self.services.store.stacks():
            view = self.activities.view(stack.stack_id)
            for instance in view.online():
                if instance.ec2_instance_id in here:
                    self._reconcile_one(instance, view, report)

    def _reconcile_one(self, instance: Instance, view: Any, report: SweepReport) -> None:
        assert self.nodes_root is not None and instance.ec2_instance_id
        root = self.nodes_root / instance.ec2_instance_id
        recorded: dict[str, str] = {}
        differs = []
        for app in view.apps_for(instance):
            release = self._current_release(instance, app)
            if release is None:
                return  # the record knows no release of it: nothing to go back to
            recorded[app.shortname] = release
            link = root / str(app.deploy_to).lstrip("/") / "current"
            node = os.path.basename(os.readlink(link)) if link.is_symlink() else None
            if node is not None and node != release:
                differs.append(f"{app.shortname}: node on {node}, record says {release}")
        if not differs:
            return
        holder = f"{self.owner}/sweeper"
        try:
            with instance_lease(self.services.leases, instance.instance_id, holder, 60):
                command = self.activities.new_command(instance, CommandType.rollback)
                custom = {"deploy": {name: {"switch_back": True} for name in recorded}}
                done = self.activities.run(
                    command, "deploy", releases=recorded, custom_json=custom, view=view
                )
        except LeaseBusy:
            return  # a run is under way there: next sweep
        line = f"{instance.hostname}: {'; '.join(differs)}: switched back ({done.status.value})"
        log.warning("reconciled %s", line)
        report.reconciled.append(line)
