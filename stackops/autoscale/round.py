"""One scaler round on real data: read the facts, decide, act, record.

Per stack, under the stack's scaler lease: read its instances and layers (one
query), its scaling records (one query), the metric series and alarms the
decision needs (GetMetricData in batches of 500 series, DescribeAlarms), then
`decide`, then hand each start or stop to `start_instance` / `stop_instance`
(the paths the verbs use, so setup, shutdown and configure happen as for any
instance). Nothing is kept in memory between rounds: marks, last actions and
history go to the state table. A layer's last action is recorded before its
instances are touched, so a crash mid-round never scales a layer twice.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from stackops.autoscale.decide import (
    Action,
    AlarmState,
    Facts,
    InstanceFacts,
    LastAction,
    Plan,
    ScheduleMark,
    decide,
    metric_request,
    stamp,
)
from stackops.autoscale.node_metrics import metric_id
from stackops.autoscale.records import HISTORY_DAYS, ScalingRecords, StackScaling
from stackops.aws.dynamodb import StateTable
from stackops.errors import StackopsError
from stackops.model.fields import new_id
from stackops.model.stacks import Stack

if TYPE_CHECKING:
    from stackops.services import Services
    from stackops.store import StackContents

LEASE_SECONDS = 120.0
RENEW_EVERY = 30.0


def scaling_records(services: Services) -> ScalingRecords:
    """The scaler's records on the services' state table."""
    return ScalingRecords(StateTable(services.session, services.names.table))


@dataclass(frozen=True)
class Outcome:
    """What came of one action."""

    action: Action
    result: str
    message: str = ""
    action_id: str = field(default_factory=new_id)

    def to_api(self, stack_id: str, decided_at: datetime) -> dict[str, Any]:
        a = self.action
        data: dict[str, Any] = {
            "ScalingActionId": self.action_id,
            "StackId": stack_id,
            "DecidedAt": stamp(decided_at),
            "Action": a.verb,
            "InstanceId": a.instance_id,
            "Hostname": a.hostname,
            "Cause": a.cause,
        }
        if a.layer_id:
            data["LayerId"] = a.layer_id
            data["Direction"] = a.direction
        data["Reason"] = a.reason
        if a.evidence:
            data["Metrics"] = [e.to_api() for e in a.evidence]
        data["Outcome"] = self.result
        if self.message:
            data["Message"] = self.message
        return data


@dataclass
class StackRound:
    """One stack's part of a round."""

    stack: Stack
    skipped: str | None = None
    failed: str | None = None
    plan: Plan = field(default_factory=Plan)
    outcomes: list[Outcome] = field(default_factory=list)
    layer_names: dict[str, str] = field(default_factory=dict)


@dataclass
class RoundReport:
    """What a round decided and did, for the user (and `--output json`)."""

    decided_at: datetime
    dry_run: bool
    stacks: list[StackRound] = field(default_factory=list)

    def to_api(self) -> dict[str, Any]:
        actions: list[dict[str, Any]] = []
        layers: list[dict[str, Any]] = []
        skipped: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        notes: list[str] = []
        for part in self.stacks:
            stack_id = part.stack.stack_id
            if part.skipped or part.failed:
                why = {"StackId": stack_id, "Name": part.stack.name}
                if part.failed:
                    failed.append({**why, "Error": part.failed})
                else:
                    skipped.append({**why, "Why": part.skipped})
            if part.skipped:
                continue
            done = {o.action.instance_id: o for o in part.outcomes}
            for action in part.plan.actions:
                outcome = done.get(action.instance_id, Outcome(action, "planned"))
                actions.append(outcome.to_api(stack_id, self.decided_at))
            for verdict in part.plan.layers:
                layers.append(
                    {
                        "StackId": stack_id,
                        "LayerId": verdict.layer_id,
                        "Layer": part.layer_names.get(verdict.layer_id, verdict.layer_id),
                        "Verdict": verdict.direction or "hold",
                        "Note": verdict.note,
                        "Metrics": [e.to_api() for e in verdict.evidence],
                    }
                )
            notes += [f"{part.stack.name}: {n}" for n in part.plan.notes]
        data: dict[str, Any] = {"DecidedAt": stamp(self.decided_at), "DryRun": self.dry_run}
        data.update(Actions=actions, LayerVerdicts=layers)
        if skipped:
            data["Skipped"] = skipped
        if failed:
            data["Failed"] = failed
        if notes:
            data["Notes"] = notes
        return data


class Scaler:
    """Runs rounds for one process; each round reads everything afresh."""

    def __init__(self, services: Services, owner: str | None = None) -> None:
        self.services = services
        self.records = scaling_records(services)
        self.owner = owner or f"scaler-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"

    def run(
        self, now: datetime, stack_ids: list[str] | None = None, *, dry_run: bool = False
    ) -> RoundReport:
        """One round over the given stacks (all stacks when None)."""
        store = self.services.store
        stacks = store.get_many(Stack, stack_ids) if stack_ids else store.stacks()
        report = RoundReport(now, dry_run)
        for stack in stacks:
            try:
                part = self.run_stack(stack, now, dry_run=dry_run)
            except StackopsError as exc:  # one stack's failure never stops the others
                part = StackRound(stack, failed=str(exc))
            report.stacks.append(part)
        return report

    def run_stack(self, stack: Stack, now: datetime, *, dry_run: bool = False) -> StackRound:
        """One stack's round, under its lease (a dry run takes none and changes nothing)."""
        if self.records.stack(stack.stack_id).empty:
            return StackRound(stack, skipped="no time-based schedule or enabled load-based layer")
        lease = f"autoscale#{stack.stack_id}"
        if not dry_run and not self.services.leases.acquire(lease, self.owner, LEASE_SECONDS):
            holder = self.services.leases.holder(lease) or "another scaler"
            return StackRound(stack, skipped=f"{holder} holds this stack's round")
        try:
            scaling = self.records.stack(stack.stack_id)  # again, now that the lease is ours
            contents = self.services.store.contents(stack.stack_id)
            facts = self._facts(stack.stack_id, contents, scaling, now)
            part = StackRound(stack, plan=decide(facts), layer_names=dict(facts.layer_names))
            if not dry_run:
                self._act(part, now, lease)
            return part
        finally:
            if not dry_run:
                self.services.leases.release(lease, self.owner)

    # -- reading ----------------------------------------------------------------------------
    def _facts(
        self, stack_id: str, contents: StackContents, scaling: StackScaling, now: datetime
    ) -> Facts:
        instances = tuple(
            InstanceFacts(
                i.instance_id, i.hostname, i.auto_scaling_type, i.status, tuple(i.layer_ids)
            )
            for i in contents.instances
        )
        layers = {
            la.layer_id: scaling.layers[la.layer_id]
            for la in contents.layers
            if la.layer_id in scaling.layers
        }
        request = metric_request(now, instances, layers, scaling.last_actions)
        series: dict[tuple[str, str, str], dict[datetime, float]] = {}
        if request.keys:
            ids = {key: metric_id(stack_id, *key) for key in request.keys}
            read = self.services.cloudwatch.minute_series(
                list(ids.values()), request.start, request.end
            )
            series = {key: read[mid] for key, mid in ids.items()}
        alarms: dict[str, AlarmState] = {}
        if request.alarms:
            found = self.services.cloudwatch.alarms(request.alarms)
            alarms = {name: AlarmState(a.state, a.since) for name, a in found.items()}
        present = {i.instance_id for i in instances}
        return Facts(
            now=now,
            instances=instances,
            schedules={k: v for k, v in scaling.schedules.items() if k in present},
            marks=scaling.marks,
            layers=layers,
            layer_names={la.layer_id: la.shortname for la in contents.layers},
            metrics=series,
            alarms=alarms,
            last_actions=scaling.last_actions,
        )

    # -- acting -------------------------------------------------------------------------------
    def _act(self, part: StackRound, now: datetime, lease: str) -> None:
        from stackops.api.instances import start_instance, stop_instance

        stack_id = part.stack.stack_id
        plan = part.plan
        scaled = {
            a.layer_id: LastAction(a.direction, now)
            for a in plan.actions
            if a.layer_id and a.direction
        }
        if scaled:
            self.records.put_last_actions(stack_id, scaled)
        marks: list[tuple[str, ScheduleMark]] = list(plan.settled)
        renewed = time.monotonic()
        try:
            for action in plan.actions:
                if time.monotonic() - renewed > RENEW_EVERY:
                    if not self.services.leases.acquire(lease, self.owner, LEASE_SECONDS):
                        part.outcomes.append(Outcome(action, "skipped", "the lease was lost"))
                        break
                    renewed = time.monotonic()
                try:
                    if action.verb == "start":
                        start_instance(self.services, action.instance_id)
                        part.outcomes.append(Outcome(action, "starting"))
                    else:
                        said = stop_instance(self.services, action.instance_id)
                        part.outcomes.append(Outcome(action, "stopping", said))
                except Exception as exc:  # one instance's failure never stops the round
                    message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
                    part.outcomes.append(Outcome(action, "failed", message))
                    continue
                if action.mark is not None:
                    marks.append((action.instance_id, action.mark))
        finally:
            if marks:
                self.records.put_marks(stack_id, marks)
            if part.outcomes:
                expires = self.services.epoch() + HISTORY_DAYS * 86400
                entries = [o.to_api(stack_id, now) for o in part.outcomes]
                self.records.record(stack_id, entries, expires)
