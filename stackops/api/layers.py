"""Layer verbs: create, describe, update, delete."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stackops.api.elb import check_load_balancer, move_members
from stackops.api.records import ensure_unique, require_one, updated
from stackops.api.secrets import layer_secret_paths, stash_layer_secrets
from stackops.errors import Conflict
from stackops.model.fields import new_id
from stackops.model.layers import Layer, LayerSpec
from stackops.model.stacks import Stack

if TYPE_CHECKING:
    from stackops.services import Services


def create_layer(services: Services, stack_id: str, spec: LayerSpec) -> dict[str, Any]:
    """Record a new layer in a stack; shortnames are unique within the stack."""
    services.store.get(Stack, stack_id)
    existing = services.store.contents(stack_id).layers
    taken = {layer.shortname: layer.layer_id for layer in existing}
    ensure_unique("layer", "shortname", spec.shortname, taken, None)
    layer_id = new_id()
    layer = Layer(
        **spec.model_dump(),
        layer_id=layer_id,
        stack_id=stack_id,
        arn=services.arn("layer", layer_id),
        created_at=services.now_iso(),
    )
    check_load_balancer(services, layer, layer.elastic_load_balancer)
    services.store.put(stash_layer_secrets(services, layer))
    return {"LayerId": layer_id}


def select_layers(
    services: Services, stack_id: str | None, layer_ids: list[str] | None
) -> list[Layer]:
    """The layers named, or else every layer of the stack (one of the two must be given)."""
    if layer_ids:
        return services.store.get_many(Layer, layer_ids)
    services.store.get(Stack, require_one(stack_id, "--stack-id", "--layer-ids"))
    return services.store.contents(stack_id or "").layers


def describe_layers(
    services: Services, stack_id: str | None, layer_ids: list[str] | None
) -> dict[str, Any]:
    """The layers of a stack, or the layers named."""
    return {"Layers": [layer.to_api() for layer in select_layers(services, stack_id, layer_ids)]}


def update_layer(services: Services, layer_id: str, changes: dict[str, Any]) -> None:
    """Change the given fields of a layer."""
    layer = services.store.get(Layer, layer_id)
    if "shortname" in changes:
        others = services.store.contents(layer.stack_id).layers
        taken = {other.shortname: other.layer_id for other in others}
        ensure_unique("layer", "shortname", changes["shortname"], taken, layer_id)
    new = updated(layer, changes)
    if new.elastic_load_balancer != layer.elastic_load_balancer:
        check_load_balancer(services, new, new.elastic_load_balancer)
        move_members(services, layer, layer.elastic_load_balancer, new.elastic_load_balancer)
    services.store.put(stash_layer_secrets(services, new))


def delete_layer(services: Services, layer_id: str) -> None:
    """Delete a layer that no instance belongs to (OpsWorks's rule)."""
    layer = services.store.get(Layer, layer_id)
    members = [
        i.hostname
        for i in services.store.contents(layer.stack_id).instances
        if layer_id in i.layer_ids
    ]
    if members:
        raise Conflict(
            f"layer {layer.shortname} ({layer_id}) still has instances: {', '.join(members)}",
            hint="delete those instances (or remove them from the layer) first",
        )
    services.store.delete(layer)
    services.parameters.delete_many(layer_secret_paths(services, layer))
