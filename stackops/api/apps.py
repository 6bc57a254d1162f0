"""App verbs: create, describe, update, delete. Protected values go to Parameter Store."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stackops.api.records import ensure_unique, require_one, updated
from stackops.api.secrets import app_secret_path, stash_app_secrets
from stackops.errors import InvalidInput
from stackops.model.apps import App, AppSpec
from stackops.model.fields import new_id
from stackops.model.layers import Layer
from stackops.model.stacks import Stack
from stackops.store.app_secrets import forget_app

if TYPE_CHECKING:
    from stackops.services import Services


def create_app(services: Services, stack_id: str, spec: AppSpec) -> dict[str, Any]:
    """Record a new app; shortnames are unique within the stack."""
    services.store.get(Stack, stack_id)
    contents = services.store.contents(stack_id)
    taken = {a.shortname: a.app_id for a in contents.apps}
    ensure_unique("app", "shortname", spec.shortname, taken, None)
    _check_layers(spec.layers, contents.layers)
    app_id = new_id()
    app = App(**spec.model_dump(), app_id=app_id, stack_id=stack_id, created_at=services.now_iso())
    services.store.put(stash_app_secrets(services, app))
    return {"AppId": app_id}


def describe_apps(
    services: Services, stack_id: str | None, app_ids: list[str] | None
) -> dict[str, Any]:
    """The apps of a stack, or the apps named; protected values are filtered."""
    if app_ids:
        apps = services.store.get_many(App, app_ids)
    else:
        services.store.get(Stack, require_one(stack_id, "--stack-id", "--app-ids"))
        apps = services.store.contents(stack_id).apps
    return {"Apps": [app.to_api() for app in apps]}


def update_app(services: Services, app_id: str, changes: dict[str, Any]) -> None:
    """Change the given fields of an app; a new environment replaces the old one whole."""
    app = services.store.get(App, app_id)
    new = updated(app, changes)
    if "layers" in changes:
        _check_layers(new.layers, services.store.contents(app.stack_id).layers)
    if "environment" in changes:
        kept = {v.key for v in new.environment if v.secure and isinstance(v.value, str)}
        dropped = [
            app_secret_path(services, app_id, "env", v.key)
            for v in app.environment
            if v.secure and isinstance(v.value, str) and v.key not in kept
        ]
        if dropped:
            services.parameters.delete_many(dropped)
    services.store.put(stash_app_secrets(services, new))


def delete_app(services: Services, app_id: str) -> str:
    """Delete an app: first undeploy it from the online instances that have it (OpsWorks
    removed it from its instances too); the record and its protected values go once the
    undeploy succeeded. Returns what happened, for the user."""
    from stackops.api.deployments import NoTargets, create_deployment
    from stackops.model.deployments import DeploymentCommand

    app = services.store.get(App, app_id)
    try:
        made = create_deployment(
            services,
            stack_id=app.stack_id,
            app_id=app_id,
            command=DeploymentCommand(name="undeploy"),
            instance_ids=[],
            layer_ids=[],
            custom_json={},
            comment="delete-app",
            strategy=None,
            batch_size=None,
            on_failure=None,
            max_failures=None,
            pause=False,
            delete_app=True,
        )
    except NoTargets:
        forget_app(services, app)
        return "deleted"
    return f"undeploying first (deployment {made['DeploymentId']}); deleted when it succeeds"


def _check_layers(shortnames: list[str], layers: list[Layer]) -> None:
    known = {layer.shortname for layer in layers}
    for name in shortnames:
        if name not in known:
            raise InvalidInput(
                f"--layers: the stack has no layer {name!r} (layers: {', '.join(sorted(known))})"
            )
