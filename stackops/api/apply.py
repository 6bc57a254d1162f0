"""`stackops apply`: read the current state once, plan against the file, run the plan."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from stackops.api import apps as app_api
from stackops.api import instances as instance_api
from stackops.api import layers as layer_api
from stackops.api import registered as registered_api
from stackops.api import stacks as stack_api
from stackops.api.secrets import app_secret_path, layer_secret_path
from stackops.errors import InvalidInput
from stackops.model.apps import App
from stackops.model.instances import InstanceSpec
from stackops.model.layers import Layer
from stackops.model.opsworks_values import PROTECTED_ATTRIBUTES
from stackops.model.plan import Change, CurrentState, Plan, plan_stack_changes
from stackops.model.stackfile import StackFile

if TYPE_CHECKING:
    from stackops.services import Services


def read_current(services: Services, stack_name: str) -> CurrentState:
    """The stack of that name with its layers, apps and instances (none if it is new).

    Protected app values are read back from Parameter Store, in memory only, so a
    changed secret in the file is seen as a change (and shown as "(secret)").
    """
    matches = [s for s in services.store.stacks() if s.name == stack_name]
    if not matches:
        return CurrentState()
    stack = matches[0]
    contents = services.store.contents(stack.stack_id)
    return CurrentState(
        stack,
        _layers_with_secrets(services, contents.layers),
        _with_secrets(services, contents.apps),
        contents.instances,
    )


def _layers_with_secrets(services: Services, layers: list[Layer]) -> list[Layer]:
    """Layers with their protected attributes read back (in memory), so a change is seen."""
    wanted = {
        (layer.layer_id, key): layer_secret_path(services, layer.layer_id, key)
        for layer in layers
        for key, value in layer.attributes.items()
        if key in PROTECTED_ATTRIBUTES and value == ""
    }
    if not wanted:
        return layers
    values = services.parameters.get_many(wanted.values())
    return [
        layer.model_copy(
            update={
                "attributes": {
                    key: values.get(wanted[(layer.layer_id, key)], "")
                    if (layer.layer_id, key) in wanted
                    else value
                    for key, value in layer.attributes.items()
                }
            }
        )
        for layer in layers
    ]


def _with_secrets(services: Services, apps: list[App]) -> list[App]:
    wanted = {
        (app.app_id, var.key): app_secret_path(services, app.app_id, "env", var.key)
        for app in apps
        for var in app.environment
        if var.secure and isinstance(var.value, str)  # a {ssm: ...} ref is compared as written
    }
    if not wanted and not any(app.ssl_configuration for app in apps):
        return apps
    ssl_paths = {
        app.app_id: app_secret_path(services, app.app_id, "ssl", "private_key")
        for app in apps
        if app.ssl_configuration is not None and app.ssl_configuration.private_key == ""
    }
    values = services.parameters.get_many([*wanted.values(), *ssl_paths.values()])
    filled = []
    for app in apps:
        if app.app_id in ssl_paths and app.ssl_configuration is not None:
            key = values.get(ssl_paths[app.app_id], "")
            ssl = app.ssl_configuration.model_copy(update={"private_key": key})
            app = app.model_copy(update={"ssl_configuration": ssl})
        env = [
            var.model_copy(update={"value": values.get(wanted[(app.app_id, var.key)], "")})
            if (app.app_id, var.key) in wanted
            else var
            for var in app.environment
        ]
        filled.append(app.model_copy(update={"environment": env}))
    return filled


def plan_apply(
    services: Services, desired: StackFile, *, prune: bool = False
) -> tuple[Plan, CurrentState]:
    """The plan for `desired` against what exists now."""
    current = read_current(services, desired.stack.name)
    return plan_stack_changes(desired, current, prune=prune), current


def run_plan(
    services: Services,
    plan: Plan,
    current: CurrentState,
    on_done: Callable[[Change], None] = lambda change: None,
) -> dict[str, Any]:
    """Run each change in order through the verbs; returns the stack id and the counts."""
    stack_id = current.stack.stack_id if current.stack else None
    layer_ids = {layer.shortname: layer.layer_id for layer in current.layers}
    for change in plan.changes:
        match change.kind, change.action:
            case "stack", "create":
                stack_id = stack_api.create_stack(services, change.spec)["StackId"]
            case "stack", "update":
                stack_api.update_stack(services, change.record_id, _changed(change))
            case "layer", "create":
                made = layer_api.create_layer(services, stack_id, change.spec)
                layer_ids[change.key] = made["LayerId"]
            case "layer", "update":
                layer_api.update_layer(services, change.record_id, _changed(change))
            case "layer", "delete":
                layer_api.delete_layer(services, change.record_id)
            case "app", "create":
                app_api.create_app(services, stack_id, change.spec)
            case "app", "update":
                app_api.update_app(services, change.record_id, _changed(change))
            case "app", "delete":
                app_api.delete_app(services, change.record_id)
            case "instance", "create":
                entry = change.spec
                spec = InstanceSpec.model_validate(
                    entry.model_dump(exclude={"layers", "ec2_instance_id"})
                )
                ids = [layer_ids[name] for name in entry.layers]
                if entry.ec2_instance_id:
                    registered_api.register_instance(
                        services,
                        stack_id,
                        hostname=entry.hostname,
                        ec2_instance_id=entry.ec2_instance_id,
                        layer_ids=ids,
                        spec=spec,
                    )
                else:
                    instance_api.create_instance(services, stack_id, ids, spec)
            case "instance", "update":
                changes = _changed(change)
                if "layers" in changes:
                    changes["layer_ids"] = [layer_ids[name] for name in changes.pop("layers")]
                if "ec2_instance_id" in changes:
                    raise InvalidInput(
                        f"instances[{change.key}].ec2_instance_id: an instance keeps its EC2 "
                        "instance; deregister-instance (or delete-instance) it first"
                    )
                instance_api.update_instance(services, change.record_id, changes)
            case "instance", "delete":
                instance_api.delete_instance(services, change.record_id)
        on_done(change)
    return {
        "StackId": stack_id,
        "Created": plan.count("create"),
        "Updated": plan.count("update"),
        "Deleted": plan.count("delete"),
    }


def _changed(change: Change) -> dict[str, Any]:
    """The desired values of the fields a change names (secrets unmasked, from the spec)."""
    desired = change.spec.model_dump(mode="json")
    return {fc.name: desired[fc.name] for fc in change.fields}
