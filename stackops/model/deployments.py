"""Deployments: one command run over a stack's (or an app's) instances, as recorded.

OpsWorks's `Deployment` and `DeploymentCommand` shapes, plus what stackops adds
(DESIGN §8): a strategy with its batches, a failure policy and tolerance, the
release and source it deploys, and the progress of each batch.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any, ClassVar, Literal, Self

from pydantic import Field, field_validator, model_validator
from pydantic.alias_generators import to_pascal

from stackops.model import validation as v
from stackops.model.base import OpsWorksModel
from stackops.model.enums import DeploymentCommandName, SourceType
from stackops.model.fields import CustomJson, RecordId, Text, Timestamp
from stackops.model.sources import Source
from stackops.model.strategies import get_strategy, parse_batch_size, parse_max_failures

Cmd = DeploymentCommandName
ArgCheck = Callable[[Cmd, str, list[str]], list[str]]
"""Checks (and normalizes) the values of one argument of one command."""

APP_COMMANDS = frozenset({Cmd.deploy, Cmd.rollback, Cmd.start, Cmd.stop, Cmd.restart, Cmd.undeploy})
"""Commands that act on one app, so a deployment running them names its app."""

_BOOLEAN = ("true", "false")


def _one_of(choices: tuple[str, ...]) -> ArgCheck:
    def check(command: Cmd, arg: str, values: list[str]) -> list[str]:
        if len(values) != 1 or values[0].lower() not in choices:
            raise ValueError(
                f"{command.value} argument {arg!r} takes one value, "
                f"{' or '.join(repr(c) for c in choices)}; got {values!r}"
            )
        return [values[0].lower()]

    return check


def _one_value(what: str) -> ArgCheck:
    def check(command: Cmd, arg: str, values: list[str]) -> list[str]:
        if len(values) != 1 or not values[0].strip():
            raise ValueError(f"{command.value} argument {arg!r} takes one {what}; got {values!r}")
        return values

    return check


def _recipes(command: Cmd, arg: str, values: list[str]) -> list[str]:
    if not values:
        raise ValueError(
            f"{command.value} argument {arg!r} needs at least one recipe (like 'web::deploy')"
        )
    return [v.as_value_error(v.validate_recipe_name, name) for name in values]


ARGS: dict[Cmd, dict[str, ArgCheck]] = {
    Cmd.execute_recipes: {"recipes": _recipes},
    Cmd.deploy: {"migrate": _one_of(_BOOLEAN)},
    Cmd.rollback: {"to": _one_value("deployment id")},
    Cmd.update_dependencies: {
        "upgrade_os_to": _one_value("OS version"),
        "allow_reboot": _one_of(_BOOLEAN),
    },
}
"""The arguments each command takes, each with its check; commands not listed take none."""

REQUIRED_ARGS: dict[Cmd, tuple[str, ...]] = {Cmd.execute_recipes: ("recipes",)}


class DeploymentCommand(OpsWorksModel):
    """What a deployment runs (OpsWorks `DeploymentCommand`): `{"Name": "deploy",
    "Args": {"migrate": ["true"]}}`."""

    name: DeploymentCommandName
    args: dict[str, list[str]] = {}

    @model_validator(mode="after")
    def _check_args(self) -> Self:
        takes = ARGS.get(self.name, {})
        for arg in self.args:
            if arg not in takes:
                valid = f"valid: {', '.join(takes)}" if takes else "it takes none"
                raise ValueError(f"{self.name.value} takes no argument {arg!r}; {valid}")
        for arg in REQUIRED_ARGS.get(self.name, ()):
            if arg not in self.args:
                raise ValueError(
                    f"{self.name.value} needs the argument {arg!r} "
                    '(like {"recipes": ["web::deploy"]})'
                )
        self.args = {arg: takes[arg](self.name, arg, values) for arg, values in self.args.items()}
        return self

    @property
    def migrate(self) -> bool:
        """True when a deploy asks for the migration (`{"migrate": ["true"]}`)."""
        return self.args.get("migrate") == ["true"]

    @property
    def recipes(self) -> list[str]:
        """The recipes an execute_recipes runs (empty for other commands)."""
        return list(self.args.get("recipes", []))

    @property
    def rollback_to(self) -> str | None:
        """The deployment a rollback asks to go back to; None means the previous one."""
        to = self.args.get("to")
        return to[0] if to else None


class DeploymentStatus(StrEnum):
    """Where a deployment is; `paused` is a `half` deployment waiting for continue or abort."""

    running = "running"
    paused = "paused"
    successful = "successful"
    failed = "failed"

    @property
    def done(self) -> bool:
        return self in (DeploymentStatus.successful, DeploymentStatus.failed)


class BatchProgress(OpsWorksModel):
    """One batch of a deployment: its instances and how they went."""

    index: int = Field(ge=0)
    instance_ids: list[RecordId] = Field(min_length=1)
    status: Literal["pending", "running", "successful", "failed"] = "pending"
    failed_instance_ids: list[RecordId] = []
    switched_instance_ids: list[RecordId] = []
    """Instances whose `current` release was switched to the new one."""

    @model_validator(mode="after")
    def _subsets(self) -> Self:
        for field in ("failed_instance_ids", "switched_instance_ids"):
            stray = [i for i in getattr(self, field) if i not in self.instance_ids]
            if stray:
                raise ValueError(f"batch {self.index} {field} {stray} are not in the batch")
        return self


SOURCE_SNAPSHOT_KEYS = ("type", "url", "revision")
_SNAPSHOT_ALIASES = {to_pascal(key): key for key in SOURCE_SNAPSHOT_KEYS}


def snapshot_source(source: Source | None) -> dict[str, Any] | None:
    """What a deployment records of an app's source: type, url and revision, never a secret."""
    if source is None:
        return None
    return source.model_dump(mode="json", include=set(SOURCE_SNAPSHOT_KEYS))


class Deployment(OpsWorksModel):
    """A deployment as stored (OpsWorks `Deployment`, plus strategy, policy and progress)."""

    api_hidden: ClassVar[frozenset[str]] = frozenset({"delete_app", "abort_requested"})

    deployment_id: RecordId
    stack_id: RecordId
    app_id: RecordId | None = None
    """None for stack commands (setup, configure, execute_recipes, ...)."""
    created_at: Timestamp
    completed_at: Timestamp | None = None
    duration: int | None = Field(default=None, ge=0)
    """Seconds from creation to completion."""
    comment: Text | None = None
    command: DeploymentCommand
    status: DeploymentStatus = DeploymentStatus.running
    custom_json: CustomJson = {}
    instance_ids: list[RecordId] = []
    strategy: str = "all_at_once"
    batch_size: str | None = None
    """Rolling only: "N" instances or "N%" of all per batch."""
    on_failure: Literal["rollback_all", "rollback_failed", "stop"] | None = None
    """None means the strategy's default (`effective_on_failure`)."""
    max_failures: str = "0"
    """How many instances may fail: "N" or "N%" of all (rounded down)."""
    pause: bool = False
    """Half only: hold after the first batch until continued or aborted."""
    release: str | None = None
    """The release (folder name under the app's releases) this deployment makes."""
    app_source: dict[str, Any] | None = None
    """The app's source when the deployment was created: type, url, revision (no secrets)."""
    rollback_of: RecordId | None = None
    """Rollback only: the earlier deployment whose parameters this one redeploys."""
    batches: list[BatchProgress] = []
    command_ids: list[RecordId] = []
    message: str | None = None
    delete_app: bool = False
    """An undeploy made by delete-app: the app record goes when it succeeds."""
    abort_requested: bool = False
    """Set by abort-deployment; the runner rolls back what it switched and fails the deployment."""
    """Why the deployment failed or was aborted."""

    @field_validator("strategy")
    @classmethod
    def _strategy(cls, name: str) -> str:
        v.as_value_error(get_strategy, name)
        return name

    @field_validator("batch_size")
    @classmethod
    def _batch_size(cls, text: str | None) -> str | None:
        return None if text is None else str(v.as_value_error(parse_batch_size, text))

    @field_validator("max_failures")
    @classmethod
    def _max_failures(cls, text: str) -> str:
        return str(v.as_value_error(parse_max_failures, text))

    @field_validator("instance_ids")
    @classmethod
    def _unique_instances(cls, ids: list[str]) -> list[str]:
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"instance ids {repeated} are given more than once")
        return ids

    @field_validator("app_source")
    @classmethod
    def _app_source(cls, source: dict[str, Any] | None) -> dict[str, Any] | None:
        if source is None:
            return None
        source = {_SNAPSHOT_ALIASES.get(key, key): value for key, value in source.items()}
        extra = [key for key in source if key not in SOURCE_SNAPSHOT_KEYS]
        if extra:
            raise ValueError(
                f"app_source keeps only {', '.join(SOURCE_SNAPSHOT_KEYS)} (never credentials); "
                f"got {', '.join(map(repr, extra))}"
            )
        if source.get("type") not in tuple(SourceType):
            raise ValueError(
                f"app_source type {source.get('type')!r} is not one of "
                f"{', '.join(t.value for t in SourceType)}"
            )
        for key in ("url", "revision"):
            if source.get(key) is not None and not isinstance(source[key], str):
                raise ValueError(f"app_source {key} must be a string")
        return source

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        strategy = get_strategy(self.strategy)
        name = self.command.name
        if name in APP_COMMANDS and self.app_id is None:
            raise ValueError(f"a {name.value} deployment needs an app id (--app-id)")
        if self.batch_size is not None and not strategy.uses_batch_size:
            raise ValueError(
                f"--batch-size applies to the rolling strategy, not {self.strategy}; "
                "leave it out or choose --strategy rolling"
            )
        if self.pause and not strategy.pause_after_first:
            raise ValueError(
                f"--pause applies to the half strategy, not {self.strategy}; "
                "leave it out or choose --strategy half"
            )
        if self.rollback_of is not None:
            if name is not Cmd.rollback:
                raise ValueError(f"rollback_of is for rollback deployments, not {name.value}")
            asked = self.command.rollback_to
            if asked is not None and asked != self.rollback_of:
                raise ValueError(
                    f"rollback_of {self.rollback_of!r} differs from the command's "
                    f"'to' argument {asked!r}"
                )
        targets = set(self.instance_ids)
        for batch in self.batches:
            stray = [i for i in batch.instance_ids if i not in targets]
            if stray:
                raise ValueError(
                    f"batch {batch.index} holds instances {stray} the deployment does not target"
                )
        return self

    @property
    def effective_on_failure(self) -> Literal["rollback_all", "rollback_failed", "stop"]:
        """`on_failure`, or the strategy's default when it is not set."""
        return self.on_failure or get_strategy(self.strategy).default_on_failure

    def to_api(self) -> dict[str, Any]:
        """OpsWorks's Deployment shape, plus the stackops fields in PascalCase."""
        data = super().to_api()
        if "AppSource" in data:
            source = data["AppSource"].items()
            data["AppSource"] = {to_pascal(k): val for k, val in source if val is not None}
        return data
