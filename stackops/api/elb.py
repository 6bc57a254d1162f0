"""Load balancer verbs: attach, detach and describe a layer's Classic ELB.

As in OpsWorks, a layer has at most one load balancer and a load balancer
serves one layer; it is made outside stackops and attached by name. Attaching
registers the layer's online instances; the dispatcher registers each instance
that comes online and deregisters it before its shutdown recipes
(`stackops.layer_attachments`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stackops.errors import Conflict, InvalidInput
from stackops.model.enums import InstanceStatus
from stackops.model.layers import Layer

if TYPE_CHECKING:
    from stackops.services import Services


def check_load_balancer(services: Services, layer: Layer, name: str | None) -> None:
    """Refuse a load balancer that does not exist or serves another layer (None: detaching)."""
    if name is None:
        return
    services.load_balancers.get(name)
    for stack in services.store.stacks():
        for other in services.store.contents(stack.stack_id).layers:
            if other.elastic_load_balancer == name and other.layer_id != layer.layer_id:
                raise Conflict(
                    f"load balancer {name} is attached to layer {other.shortname} "
                    f"({other.layer_id}) of stack {stack.name}",
                    hint="a load balancer serves one layer: detach it there first",
                )


def move_members(services: Services, layer: Layer, old: str | None, new: str | None) -> None:
    """Move the layer's online instances from load balancer `old` to `new`."""
    if old == new:
        return
    members = [
        i.ec2_instance_id
        for i in services.store.contents(layer.stack_id).instances
        if layer.layer_id in i.layer_ids and i.status is InstanceStatus.online and i.ec2_instance_id
    ]
    if old is not None and members and services.load_balancers.describe([old]):
        services.load_balancers.deregister(old, members)
    if new is not None:
        services.load_balancers.register(new, members)


def attach_elastic_load_balancer(services: Services, name: str, layer_id: str) -> None:
    """Attach a Classic ELB to a layer and register the layer's online instances with it."""
    layer = services.store.get(Layer, layer_id)
    if layer.elastic_load_balancer == name:
        return
    if layer.elastic_load_balancer is not None:
        raise Conflict(
            f"layer {layer.shortname} already has load balancer {layer.elastic_load_balancer}",
            hint="a layer has one load balancer (OpsWorks's rule): detach that one first",
        )
    check_load_balancer(services, layer, name)
    services.store.put(layer.model_copy(update={"elastic_load_balancer": name}))
    move_members(services, layer, None, name)


def detach_elastic_load_balancer(services: Services, name: str, layer_id: str) -> None:
    """Detach a layer's Classic ELB, deregistering the layer's instances from it."""
    layer = services.store.get(Layer, layer_id)
    if layer.elastic_load_balancer != name:
        raise InvalidInput(
            f"load balancer {name} is not attached to layer {layer.shortname} "
            f"(attached: {layer.elastic_load_balancer or 'none'})"
        )
    move_members(services, layer, name, None)
    services.store.put(layer.model_copy(update={"elastic_load_balancer": None}))


def describe_elastic_load_balancers(
    services: Services, stack_id: str | None, layer_ids: list[str] | None
) -> dict[str, Any]:
    """The load balancers attached to a stack's layers, or to the layers named."""
    from stackops.api.layers import select_layers  # layers.py imports this module

    layers = select_layers(services, stack_id, layer_ids)
    attached = [layer for layer in layers if layer.elastic_load_balancer]
    found = services.load_balancers.describe([la.elastic_load_balancer or "" for la in attached])
    answers = []
    for layer in attached:
        name = layer.elastic_load_balancer or ""
        answer: dict[str, Any] = {
            "ElasticLoadBalancerName": name,
            "Region": services.region,
            "StackId": layer.stack_id,
            "LayerId": layer.layer_id,
        }
        lb = found.get(name)
        if lb is not None:
            if lb.dns_name:
                answer["DnsName"] = lb.dns_name
            if lb.vpc_id:
                answer["VpcId"] = lb.vpc_id
            answer["AvailabilityZones"] = list(lb.availability_zones)
            answer["SubnetIds"] = list(lb.subnet_ids)
            answer["Ec2InstanceIds"] = list(lb.instance_ids)
        answers.append(answer)
    return {"ElasticLoadBalancers": answers}
