"""create-deployment and friends: record a deployment, hand it to the dispatcher, follow it.

One deployment per (stack, app) at a time: create-deployment takes the lease
`deployment#<stack>#<app>` in the deployment's name, and the dispatcher that
runs it keeps it alive; a second request is refused naming the running one, and
a lease left by a dead dispatcher expires and is taken over.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stackops.errors import Conflict, InvalidInput, NotFound
from stackops.lifecycle.attributes import apps_for, layers_of
from stackops.lifecycle.events import deployment_request_message
from stackops.model.apps import App
from stackops.model.commands import Command
from stackops.model.deployments import (
    Deployment,
    DeploymentCommand,
    DeploymentStatus,
    snapshot_source,
)
from stackops.model.enums import DeploymentCommandName as C
from stackops.model.enums import InstanceStatus
from stackops.model.fields import new_id
from stackops.model.instances import Instance
from stackops.model.layers import Layer
from stackops.model.stacks import Stack
from stackops.store.leases import DEPLOYMENT_LEASE_SECONDS, deployment_lease_name

if TYPE_CHECKING:
    from stackops.services import Services


class NoTargets(InvalidInput):
    """No online instance for the deployment to run on."""


NEEDS_APP = frozenset({C.deploy, C.rollback, C.undeploy, C.start, C.stop, C.restart})
ROLLBACK_DEPTH = 4  # a rollback reaches back at most this many successful deployments


def create_deployment(
    services: Services,
    *,
    stack_id: str,
    app_id: str | None,
    command: DeploymentCommand,
    instance_ids: list[str],
    layer_ids: list[str],
    custom_json: dict[str, Any],
    comment: str | None,
    strategy: str | None,
    batch_size: str | None,
    on_failure: str | None,
    max_failures: str | None,
    pause: bool,
    delete_app: bool = False,
) -> dict[str, Any]:
    """Record a deployment and ask the dispatcher to run it; OpsWorks answers its id.

    NoTargets when no online instance is a target (nothing to run on)."""
    stack = services.store.get(Stack, stack_id)
    contents = services.store.contents(stack_id)
    app = _app(contents.apps, app_id, command)
    deployment_id = new_id()
    fields: dict[str, Any] = {
        "deployment_id": deployment_id,
        "stack_id": stack.stack_id,
        "app_id": app.app_id if app else None,
        "created_at": services.now_precise(),
        "comment": comment,
        "command": command,
        "custom_json": custom_json,
        "pause": pause,
        "delete_app": delete_app,
    }
    for name, value in (
        ("strategy", strategy),
        ("batch_size", batch_size),
        ("on_failure", on_failure),
        ("max_failures", max_failures),
    ):
        if value is not None:
            fields[name] = value
    _validated(fields)  # the options first: a bad --strategy is named even with no targets
    targets = _targets(
        contents.layers, contents.instances, contents.apps, app, instance_ids, layer_ids
    )
    fields["instance_ids"] = [i.instance_id for i in targets]
    if app is not None and command.name in (C.deploy, C.rollback):
        fields["app_source"] = snapshot_source(app.app_source)
        fields["release"] = f"{services.clock():%Y%m%dT%H%M%SZ}-{deployment_id[:6]}"
    if command.name is C.rollback:
        assert app is not None
        earlier = _rollback_target(services, stack_id, app, command.rollback_to)
        if earlier is None:  # back to the release each instance booted on
            _require_boot_releases(services, app, targets)
            fields.update(release=None, app_source=None, rollback_of=None)
        else:
            fields.update(
                release=earlier.release,
                app_source=earlier.app_source,
                custom_json={**earlier.custom_json, **custom_json},
                rollback_of=earlier.deployment_id,
            )
    deployment = _validated(fields)
    lease = deployment_lease_name(deployment.stack_id, deployment.app_id)
    if not services.leases.acquire(lease, deployment_id, DEPLOYMENT_LEASE_SECONDS):
        holder = services.leases.holder(lease) or "another deployment"
        raise Conflict(
            f"deployment {holder} is running for this app; one deployment per app at a time",
            hint=f"follow it: stackops describe-deployments --deployment-ids {holder}",
        )
    services.deployments.put(deployment)
    services.queue.send(deployment_request_message(deployment_id))
    return {"DeploymentId": deployment_id}


def _validated(fields: dict[str, Any]) -> Deployment:
    import pydantic

    from stackops.api.records import describe_errors

    try:
        return Deployment.model_validate(fields)
    except pydantic.ValidationError as exc:
        raise InvalidInput(describe_errors(exc)) from None


def _app(apps: list[App], app_id: str | None, command: DeploymentCommand) -> App | None:
    if app_id is None:
        if command.name in NEEDS_APP:
            raise InvalidInput(f"--app-id: a {command.name.value} deployment needs an app")
        return None
    found = next((a for a in apps if a.app_id == app_id), None)
    if found is None:
        raise NotFound(f"no app with id {app_id} in this stack")
    return found


def _targets(
    layers: list[Layer],
    instances: list[Instance],
    apps: list[App],
    app: App | None,
    instance_ids: list[str],
    layer_ids: list[str],
) -> list[Instance]:
    """The online instances the deployment runs on (OpsWorks: online ones only)."""
    online = [i for i in instances if i.status is InstanceStatus.online]
    if instance_ids:
        by_id = {i.instance_id: i for i in instances}
        chosen = []
        for instance_id in instance_ids:
            instance = by_id.get(instance_id)
            if instance is None:
                raise NotFound(f"no instance with id {instance_id} in this stack")
            if instance.status is not InstanceStatus.online:
                raise InvalidInput(
                    f"instance {instance.hostname} is {instance.status.value}; "
                    "deployments run on online instances"
                )
            chosen.append(instance)
    elif layer_ids:
        known = {layer.layer_id for layer in layers}
        for layer_id in layer_ids:
            if layer_id not in known:
                raise NotFound(f"no layer with id {layer_id} in this stack")
        chosen = [i for i in online if set(layer_ids) & set(i.layer_ids)]
    elif app is not None:
        chosen = [
            i
            for i in online
            if app in apps_for((la.shortname for la in layers_of(i, layers)), apps)
        ]
    else:
        chosen = online
    if not chosen:
        raise NoTargets("no online instance to deploy to", hint="start instances first")
    return chosen


def _rollback_target(
    services: Services, stack_id: str, app: App, to: str | None
) -> Deployment | None:
    """The earlier successful deployment a rollback redeploys (one back by default), or
    None for the releases the instances booted on.

    The history is the app's successful deploys, newest first, then the boot deploy
    (the app's first release on each instance). What the instances run now is the
    newest deploy, or, after a rollback, the one it went back to; a rollback reaches
    the (at most four) entries before that, so rolling back twice steps two back,
    never forward again.
    """
    done = [
        d
        for d in services.deployments.for_stack(stack_id)
        if d.app_id == app.app_id and d.status is DeploymentStatus.successful
    ]
    deploys = [d for d in done if d.command.name is C.deploy and d.release]
    if not deploys:
        raise InvalidInput(f"{app.shortname} has no successful deployment to roll back from")
    history: list[Deployment | None] = [*deploys, None]  # None: the boot releases
    current = 0
    if done[0].command.name is C.rollback:
        ids = [d.deployment_id for d in deploys]
        back_to = done[0].rollback_of
        current = ids.index(back_to) if back_to in ids else len(deploys) if back_to is None else 0
    window = history[current + 1 : current + 1 + ROLLBACK_DEPTH]
    if to is not None:
        match = next((d for d in window if d is not None and d.deployment_id == to), None)
        if match is None:
            ids = ", ".join(d.deployment_id for d in window if d is not None) or "none"
            raise InvalidInput(
                f"Args.to: {to} is not one of the last {ROLLBACK_DEPTH} successful "
                f"deployments of {app.shortname} before the current one ({ids})"
            )
        return match
    if not window:
        raise InvalidInput(f"{app.shortname} has no earlier successful deployment to roll back to")
    return window[0]


def _require_boot_releases(services: Services, app: App, targets: list[Instance]) -> None:
    """A rollback to the boot releases needs each target to have booted with the app."""
    from stackops.deploy.releases import boot_release

    for instance in targets:
        if boot_release(services.commands.for_instance(instance.instance_id), app.shortname):
            continue
        raise InvalidInput(
            f"{app.shortname} has no earlier release to roll back to on {instance.hostname}: "
            "it was not deployed there at boot"
        )


def describe_deployments(
    services: Services,
    stack_id: str | None,
    app_id: str | None,
    deployment_ids: list[str],
) -> dict[str, Any]:
    """Deployments by id, by app or by stack, newest first."""
    if deployment_ids:
        found = [services.deployments.get(d) for d in deployment_ids]
    elif app_id:
        app = services.store.get(App, app_id)
        found = [d for d in services.deployments.for_stack(app.stack_id) if d.app_id == app_id]
    elif stack_id:
        services.store.get(Stack, stack_id)
        found = services.deployments.for_stack(stack_id)
    else:
        raise InvalidInput("give --stack-id, --app-id or --deployment-ids")
    return {"Deployments": [d.to_api() for d in found]}


def deployment_commands(services: Services, deployment_id: str) -> list[Command]:
    """The commands a deployment ran, in the order they were made."""
    return services.commands.get_many(services.deployments.get(deployment_id).command_ids)


def continue_deployment(services: Services, deployment_id: str) -> str:
    """Let a paused deployment go on with the rest of its batches."""
    deployment = services.deployments.get(deployment_id)
    if deployment.status is not DeploymentStatus.paused:
        raise Conflict(f"deployment {deployment_id} is {deployment.status.value}, not paused")
    services.deployments.put(
        deployment.model_copy(update={"status": DeploymentStatus.running, "message": None})
    )
    services.queue.send(deployment_request_message(deployment_id))
    return "continuing"


def abort_deployment(services: Services, deployment_id: str) -> str:
    """Stop a running or paused deployment and switch its switched instances back.

    A running one stops at its next batch boundary (its runner sees the flag); a
    paused one is handed to the dispatcher again to roll back.
    """
    deployment = services.deployments.get(deployment_id)
    if deployment.status.done:
        raise Conflict(f"deployment {deployment_id} is already {deployment.status.value}")
    paused = deployment.status is DeploymentStatus.paused
    services.deployments.put(
        deployment.model_copy(update={"status": DeploymentStatus.running, "abort_requested": True})
    )
    if paused:
        services.queue.send(deployment_request_message(deployment_id))
    return "aborting: switched instances go back to their previous release"
