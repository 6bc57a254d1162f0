"""Commands: one activity's run on one instance (OpsWorks's `Command`), as recorded."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field

from stackops.model.base import OpsWorksModel
from stackops.model.fields import RecordId, Timestamp


class CommandStatus(StrEnum):
    """Where a command is; `superseded` is a queued configure a newer one made moot."""

    pending = "pending"
    running = "running"
    successful = "successful"
    failed = "failed"
    skipped = "skipped"
    superseded = "superseded"

    @property
    def done(self) -> bool:
        return self not in (CommandStatus.pending, CommandStatus.running)


class CommandType(StrEnum):
    """What a command runs: a lifecycle event or a deployment command."""

    setup = "setup"
    configure = "configure"
    deploy = "deploy"
    undeploy = "undeploy"
    shutdown = "shutdown"
    rollback = "rollback"
    execute_recipes = "execute_recipes"
    update_custom_cookbooks = "update_custom_cookbooks"
    install_dependencies = "install_dependencies"
    update_dependencies = "update_dependencies"
    start = "start"
    stop = "stop"
    restart = "restart"


class Command(OpsWorksModel):
    """One run of recipes on one instance, with its outcome; the log lives in S3."""

    command_id: RecordId
    instance_id: RecordId
    stack_id: RecordId
    type: CommandType
    status: CommandStatus = CommandStatus.pending
    deployment_id: str | None = None
    created_at: Timestamp
    acknowledged_at: Timestamp | None = None
    completed_at: Timestamp | None = None
    exit_code: int | None = None
    log_url: str | None = None
    recipes: list[str] = []
    summary: str | None = None
    """The converge summary line, or why the command did not run."""
    seq: int = Field(default=0, ge=0)
    """For configure: the stack membership version it was queued for."""
    releases: dict[str, str] = {}
    """For deploy and rollback: the release each app was switched to (app shortname -> id)."""

    def to_api(self) -> dict[str, Any]:
        """OpsWorks's Command shape (plus Recipes, Summary, StackId)."""
        data = super().to_api()
        data.pop("Seq", None)
        return data
