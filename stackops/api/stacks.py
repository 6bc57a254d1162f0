"""Stack verbs: create, describe, update, delete, clone, summary."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stackops.api.records import updated
from stackops.api.secrets import (
    copy_app_secrets,
    copy_stack_secrets,
    stack_secret_paths,
    stash_stack_secrets,
)
from stackops.errors import Conflict, NotFound
from stackops.model.apps import App
from stackops.model.fields import new_id
from stackops.model.layers import Layer
from stackops.model.stacks import Stack, StackSpec, summarize

if TYPE_CHECKING:
    from stackops.services import Services


def create_stack(services: Services, spec: StackSpec) -> dict[str, Any]:
    """Record a new stack; OpsWorks answers with its id."""
    stack_id = new_id()
    stack = Stack(
        **spec.model_dump(),
        stack_id=stack_id,
        arn=services.arn("stack", stack_id),
        created_at=services.now_iso(),
    )
    services.store.put(stash_stack_secrets(services, stack))
    return {"StackId": stack_id}


def describe_stacks(services: Services, stack_ids: list[str] | None = None) -> dict[str, Any]:
    """The named stacks, or every stack."""
    stacks = services.store.get_many(Stack, stack_ids) if stack_ids else services.store.stacks()
    return {"Stacks": [s.to_api() for s in stacks]}


def update_stack(services: Services, stack_id: str, changes: dict[str, Any]) -> None:
    """Change the given fields of a stack."""
    stack = services.store.get(Stack, stack_id)
    services.store.put(stash_stack_secrets(services, updated(stack, changes)))


def delete_stack(services: Services, stack_id: str) -> None:
    """Delete an empty stack (OpsWorks's rule: instances, apps and layers first)."""
    stack = services.store.get(Stack, stack_id)
    contents = services.store.contents(stack_id)
    left = [
        f"{len(items)} {kind}"
        for kind, items in (
            ("instance(s)", contents.instances),
            ("app(s)", contents.apps),
            ("layer(s)", contents.layers),
        )
        if items
    ]
    if left:
        raise Conflict(
            f"stack {stack.name} ({stack_id}) still has {', '.join(left)}",
            hint="delete its instances, apps and layers first, as OpsWorks required",
        )
    services.store.delete(stack)
    source = stack.custom_cookbooks_source
    if source is not None and "" in (source.password, source.ssh_key):
        services.parameters.delete_many(stack_secret_paths(services, stack_id))


def clone_stack(
    services: Services,
    source_stack_id: str,
    overrides: dict[str, Any],
    clone_app_ids: list[str],
) -> dict[str, Any]:
    """A new stack with the source's settings and layers (and the apps named), no instances."""
    source = services.store.get(Stack, source_stack_id)
    contents = services.store.contents(source_stack_id)
    stack_id = new_id()
    clone = updated(source, overrides).model_copy(
        update={
            "stack_id": stack_id,
            "arn": services.arn("stack", stack_id),
            "created_at": services.now_iso(),
            "name": overrides.get("name") or f"Copy of {source.name}",
        }
    )
    known_apps = {a.app_id: a for a in contents.apps}
    missing = [a for a in clone_app_ids if a not in known_apps]
    if missing:
        raise NotFound(f"no app with id {missing[0]} in stack {source.name}")
    records: list[Stack | Layer | App] = [clone]
    for layer in contents.layers:
        layer_id = new_id()
        records.append(
            layer.model_copy(
                update={
                    "layer_id": layer_id,
                    "stack_id": stack_id,
                    "arn": services.arn("layer", layer_id),
                    "created_at": services.now_iso(),
                }
            )
        )
    for app_id in clone_app_ids:
        new_app_id = new_id()
        copy_app_secrets(services, known_apps[app_id], new_app_id)
        records.append(
            known_apps[app_id].model_copy(
                update={
                    "app_id": new_app_id,
                    "stack_id": stack_id,
                    "created_at": services.now_iso(),
                }
            )
        )
    copy_stack_secrets(services, source_stack_id, stack_id)
    records[0] = stash_stack_secrets(services, clone)
    services.store.put_all(records)
    return {"StackId": stack_id}


def describe_stack_summary(services: Services, stack_id: str) -> dict[str, Any]:
    """Counts of layers, apps and instances (by status) of one stack."""
    stack = services.store.get(Stack, stack_id)
    contents = services.store.contents(stack_id)
    return {"StackSummary": summarize(stack, contents.layers, contents.apps, contents.instances)}
