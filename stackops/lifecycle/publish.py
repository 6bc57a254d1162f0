"""stackops's own events on the bus: Instance, Command and Deployment State Change.

OpsWorks published the same three; users hang alerts and chat bots on them with
ordinary EventBridge rules (source `stackops`). Events are collected and put in
batches of ten, so a dispatcher batch costs one or two calls, not one per event.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from stackops.aws.events import Event
from stackops.wire import COMMAND_STATE, DEPLOYMENT_STATE, INSTANCE_STATE
from stackops.wire import SOURCE_STACKOPS as SOURCE

if TYPE_CHECKING:
    from stackops.aws.events import EventBus
    from stackops.model.commands import Command
    from stackops.model.instances import Instance

__all__ = ["COMMAND_STATE", "DEPLOYMENT_STATE", "INSTANCE_STATE", "SOURCE", "Publisher"]


class Publisher:
    """Collects events (from several threads) and puts them on the bus on flush."""

    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        self._pending: list[Event] = []
        self._lock = threading.Lock()

    def _add(self, detail_type: str, detail: dict[str, Any]) -> None:
        with self._lock:
            self._pending.append(Event(SOURCE, detail_type, detail))

    def instance_state(self, instance: Instance, old: str, new: str) -> None:
        self._add(
            INSTANCE_STATE,
            {
                "stack-id": instance.stack_id,
                "instance-id": instance.instance_id,
                "ec2-instance-id": instance.ec2_instance_id,
                "hostname": instance.hostname,
                "layer-ids": instance.layer_ids,
                "previous-status": str(old),
                "status": str(new),
            },
        )

    def command_state(self, command: Command) -> None:
        self._add(
            COMMAND_STATE,
            {
                "stack-id": command.stack_id,
                "command-id": command.command_id,
                "instance-id": command.instance_id,
                "deployment-id": command.deployment_id,
                "type": command.type.value,
                "status": command.status.value,
                "exit-code": command.exit_code,
            },
        )

    def deployment_state(self, detail: dict[str, Any]) -> None:
        self._add(DEPLOYMENT_STATE, detail)

    def flush(self) -> int:
        """Put what was collected; returns how many events went out."""
        with self._lock:
            events, self._pending = self._pending, []
        if events:
            try:
                self._bus.put_events(events)
            except Exception:  # kept, in order, for the next flush
                with self._lock:
                    self._pending[:0] = events
                raise
        return len(events)
