"""What a deployment runs on one instance, and which release each instance is on.

Pure: deployments and command records in, run parameters and release ids out.
An instance's release history is its commands that switched a release
(`Command.releases`, recorded only when the switch was made: a run that failed
before it records none, one whose health check failed after it keeps them):
the deploy at boot (no deployment), deployments' deploys and rollbacks. The boot
deploy counts as the app's first release, so a rollback after one deployment
returns each instance to the release it booted on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from stackops.errors import InvalidInput
from stackops.lifecycle.attributes import deep_merge
from stackops.model.commands import Command, CommandType
from stackops.model.deployments import Deployment
from stackops.model.enums import DeploymentCommandName as C

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
ON_CURRENT = frozenset({C.start, C.restart, C.undeploy})  # act on the release the app is on


@dataclass(frozen=True)
class RunPlan:
    """The parameters of one deployment command on one instance."""

    kind: CommandType
    activity: str
    custom_json: dict[str, Any]
    releases: dict[str, str] = field(default_factory=dict)
    recipes: list[str] | None = None


def plan_run(
    deployment: Deployment,
    app_shortname: str | None,
    history: Callable[[], Sequence[Command]],
    *,
    switch_back_to: str | None = None,
) -> RunPlan:
    """What `deployment` runs on an instance; `history` reads its commands (oldest first),
    called only when the run needs the release the instance is on.

    Only the deployment's app gets a release in this run (`releases`), so the
    built-in deploy leaves the node's other apps as they are; its `deploy` attributes
    get the deployment's source, `switch_back` for a switch to a release already on
    the node (rollbacks, start, restart), and `undeploy` for an undeploy. A rollback
    with no earlier deployment to redeploy (`rollback_of` None) returns each instance
    to the release it booted on.
    """
    name = deployment.command.name
    kind, activity = ACTIVITY[name]
    if switch_back_to is not None:
        kind = CommandType.rollback
    custom = dict(deployment.custom_json)
    recipes = deployment.command.recipes if name == C.execute_recipes else None
    if app_shortname is None or name not in SWITCHES | ON_CURRENT:
        return RunPlan(kind, activity, custom, recipes=recipes)
    boot_rollback = name == C.rollback and deployment.rollback_of is None
    if switch_back_to is None and boot_rollback:
        switch_back_to = boot_release(history(), app_shortname)
        if switch_back_to is None:
            raise InvalidInput(f"no release of {app_shortname} from its boot on this instance")
    own = deployment.release if name in SWITCHES else None
    release = switch_back_to or own or release_of(history(), app_shortname)
    override: dict[str, Any] = {}
    if deployment.app_source and switch_back_to is None and name in SWITCHES:
        override["scm"] = {
            "repository": deployment.app_source.get("url"),
            "revision": deployment.app_source.get("revision"),
        }
    if switch_back_to is not None or name in (C.start, C.restart):
        override["switch_back"] = True
    if name == C.undeploy:
        override["undeploy"] = True
    releases = {app_shortname: release} if release and name != C.undeploy else {}
    if override:
        custom = deep_merge(custom, {"deploy": {app_shortname: override}})
    return RunPlan(kind, activity, custom, releases, recipes)


def release_of(
    history: Sequence[Command], app_shortname: str, *, before: str | None = None
) -> str | None:
    """The release of the app an instance is on (its last switch); with `before`,
    leaving out the commands of that deployment: the one it had before it."""
    for command in reversed(history):
        if before is not None and command.deployment_id == before:
            continue
        if app_shortname in command.releases:
            return command.releases[app_shortname]
    return None


def boot_release(history: Sequence[Command], app_shortname: str) -> str | None:
    """The release the instance's last boot deployed the app at (None if it did not)."""
    for command in reversed(history):
        if (
            command.deployment_id is None
            and command.type is CommandType.deploy
            and app_shortname in command.releases
        ):
            return command.releases[app_shortname]
    return None
