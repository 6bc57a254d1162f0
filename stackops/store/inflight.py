"""The index of runs under way: what the sweeper reads instead of scanning the table.

A command gets an entry when it starts running and loses it when its outcome is
recorded; a deployment has one from the moment a runner takes it until it ends or
pauses; a stack whose online members changed has one until its configures are
queued. Entries sit in one index partition (`gsi1pk = "inflight"`), so the sweeper
lists only what is in flight (a handful of items), never every command ever run.
An entry names the holder of the lease the run holds, so an entry whose holder no
longer holds that lease belongs to a run whose process is gone.
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, cast

from stackops.aws.dynamodb import ConditionFailed

if TYPE_CHECKING:
    from stackops.aws.dynamodb import StateTable
    from stackops.model.commands import Command

INDEX_KEY = "inflight"
Kind = Literal["command", "deployment", "membership"]


@dataclass(frozen=True)
class InFlight:
    """One run under way: a command on an instance, or a deployment."""

    kind: Kind
    run_id: str  # the command id or the deployment id
    lease: str  # the lease its holder holds while it runs
    holder: str
    since: float  # epoch seconds
    stack_id: str
    instance_id: str = ""
    command_type: str = ""
    deployment_id: str = ""


class InFlightIndex:
    """Entries for runs under way; written with the run, removed with its outcome."""

    def __init__(self, table: StateTable) -> None:
        self._table = table

    def begin_command(self, command: Command, lease: str, holder: str, since: float) -> None:
        self._put(
            InFlight(
                "command",
                command.command_id,
                lease,
                holder,
                since,
                command.stack_id,
                command.instance_id,
                command.type.value,
                command.deployment_id or "",
            )
        )

    def begin_deployment(
        self, deployment_id: str, stack_id: str, lease: str, holder: str, since: float
    ) -> None:
        self._put(InFlight("deployment", deployment_id, lease, holder, since, stack_id))

    def membership_changed(self, stack_id: str, since: float) -> str:
        """Note that a stack's online members changed and its configures are not yet
        queued; returns the note's token. Written before the status change it announces,
        so a crash in between costs one configure too many, never one too few."""
        token = uuid.uuid4().hex
        self._put(InFlight("membership", stack_id, "", token, since, stack_id))
        return token

    def membership_token(self, stack_id: str) -> str | None:
        item = self._table.get(f"inflight#membership#{stack_id}", "inflight")
        return str(item["holder"]) if item else None

    def membership_queued(self, stack_id: str, token: str) -> None:
        """Clear the note if no newer change came since `token` was read."""
        with contextlib.suppress(ConditionFailed):
            self._table.delete(
                f"inflight#membership#{stack_id}",
                "inflight",
                condition="holder = :t",
                values={":t": token},
            )

    def end(self, kind: Kind, run_id: str) -> None:
        with contextlib.suppress(Exception):  # a leftover entry is what the sweeper is for
            self._table.delete(f"inflight#{kind}#{run_id}", "inflight")

    def all(self) -> list[InFlight]:
        """Every run under way (one query of a small index partition)."""
        return [_decode(item) for item in self._table.query_index(INDEX_KEY)]

    def _put(self, entry: InFlight) -> None:
        self._table.put(
            {
                "pk": f"inflight#{entry.kind}#{entry.run_id}",
                "sk": "inflight",
                "gsi1pk": INDEX_KEY,
                "gsi1sk": f"{entry.kind}#{entry.run_id}",
                "kind": entry.kind,
                "run_id": entry.run_id,
                "lease": entry.lease,
                "holder": entry.holder,
                "since": entry.since,
                "stack_id": entry.stack_id,
                "instance_id": entry.instance_id,
                "command_type": entry.command_type,
                "deployment_id": entry.deployment_id,
            }
        )


def _decode(item: dict[str, object]) -> InFlight:
    return InFlight(
        kind=cast(Kind, item.get("kind", "command")),
        run_id=str(item["run_id"]),
        lease=str(item.get("lease", "")),
        holder=str(item.get("holder", "")),
        since=float(item.get("since", 0)),  # type: ignore[arg-type]
        stack_id=str(item.get("stack_id", "")),
        instance_id=str(item.get("instance_id", "")),
        command_type=str(item.get("command_type", "")),
        deployment_id=str(item.get("deployment_id", "")),
    )
