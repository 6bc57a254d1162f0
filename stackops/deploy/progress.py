"""A deployment's record while it runs: each batch's progress written as it happens.

The runner's threads report each instance as it goes (switched, failed, the
commands it ran) and every report is one read-modify-write of the record under
a lock, so `describe-deployments` shows what happened so far at any moment and
a dispatcher that dies mid-batch leaves a record that says which instances had
switched (the one that resumes, or the failure policy, rolls them back).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stackops.model.deployments import BatchProgress, Deployment

if TYPE_CHECKING:
    from stackops.store import DeploymentLog

MESSAGE_LIMIT = 2000  # characters of a deployment's message


@dataclass(frozen=True)
class Outcome:
    """How one instance went: its command succeeded (and its health check passed),
    whether its release switched, the command it ran, and why it failed."""

    ok: bool
    switched: bool
    command_id: str | None
    reason: str | None = None


class ProgressLog:
    """Writes a deployment's progress to its record, one change at a time."""

    def __init__(self, deployments: DeploymentLog) -> None:
        self._deployments = deployments
        self._lock = threading.Lock()

    def save(self, deployment_id: str, **changes: Any) -> Deployment:
        """Apply `changes` to the stored record; returns it as stored."""
        with self._lock:
            current = self._deployments.get(deployment_id)
            updated = current.model_copy(update=changes)
            self._deployments.put(updated)
        return updated

    def start_batch(self, deployment_id: str, index: int) -> Deployment:
        """Mark a batch running; a batch resumed keeps the instances it had switched
        (they may need rolling back) and judges its failures afresh."""
        return self._batch(deployment_id, index, status="running", failed=[])

    def end_batch(self, deployment_id: str, index: int) -> Deployment:
        """Mark a batch successful or failed by what its instances reported."""
        with self._lock:
            current = self._deployments.get(deployment_id)
            batch = current.batches[index]
            status = "failed" if batch.failed_instance_ids else "successful"
            return self._put_batch(current, batch.model_copy(update={"status": status}))

    def note(
        self,
        deployment_id: str,
        index: int,
        instance_id: str,
        *,
        switched: bool = False,
        failed: bool = False,
        command_ids: Iterable[str] = (),
    ) -> Deployment:
        """Record what one instance of batch `index` just did."""
        with self._lock:
            current = self._deployments.get(deployment_id)
            batch = current.batches[index]
            changes: dict[str, Any] = {}
            if switched and instance_id not in batch.switched_instance_ids:
                changes["switched_instance_ids"] = [*batch.switched_instance_ids, instance_id]
            if failed and instance_id not in batch.failed_instance_ids:
                changes["failed_instance_ids"] = [*batch.failed_instance_ids, instance_id]
            ids = [i for i in command_ids if i not in current.command_ids]
            if ids:
                current = current.model_copy(update={"command_ids": [*current.command_ids, *ids]})
            return self._put_batch(current, batch.model_copy(update=changes))

    def note_commands(self, deployment_id: str, command_ids: Iterable[str]) -> None:
        """Add commands the deployment ran outside its batches (switching back)."""
        ids = list(command_ids)
        if not ids:
            return
        with self._lock:
            current = self._deployments.get(deployment_id)
            merged = [*current.command_ids, *(i for i in ids if i not in current.command_ids)]
            self._deployments.put(current.model_copy(update={"command_ids": merged}))

    def _batch(
        self, deployment_id: str, index: int, *, status: str, failed: list[str]
    ) -> Deployment:
        with self._lock:
            current = self._deployments.get(deployment_id)
            batch = current.batches[index]
            changed = batch.model_copy(update={"status": status, "failed_instance_ids": failed})
            return self._put_batch(current, changed)

    def _put_batch(self, current: Deployment, batch: BatchProgress) -> Deployment:
        batches = [batch if b.index == batch.index else b for b in current.batches]
        updated = current.model_copy(update={"batches": batches})
        self._deployments.put(updated)
        return updated


def failure_message(
    deployment: Deployment, reasons: Mapping[str, str], hostnames: Mapping[str, str]
) -> str:
    """ "2 of 3 instance(s) failed: app1: <why>; app2: <why>" from the record's batches."""
    failed = [i for b in deployment.batches for i in b.failed_instance_ids]
    total = len(deployment.instance_ids)
    head = f"{len(failed)} of {total} instance(s) failed"
    details = [
        f"{hostnames.get(i, i)}: {reasons[i]}" for i in dict.fromkeys(failed) if i in reasons
    ]
    return clip(f"{head}: {'; '.join(details)}" if details else head)


def clip(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """`text` cut to `limit` characters, marked when cut."""
    return text if len(text) <= limit else text[: limit - 3] + "..."
