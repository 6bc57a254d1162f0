"""Elastic IP verbs: register, deregister, associate, disassociate, update, describe.

An address is registered with one stack at a time (OpsWorks's rule); the
registration is the address's `stackops:stack-id` tag and its name its `Name`
tag. An instance remembers the address associated with it (`ElasticIp`), so
the dispatcher associates it again whenever the instance boots.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stackops.aws.eip import Address
from stackops.errors import Conflict, InvalidInput, NotFound
from stackops.model.instances import Instance
from stackops.model.stacks import Stack
from stackops.wire import TAG_ALLOCATED_FOR, TAG_STACK

if TYPE_CHECKING:
    from stackops.services import Services

# EC2 states in which an address can be associated with an instance.
ASSOCIABLE = ("pending", "running", "stopping", "stopped")


def _address(services: Services, ip: str) -> Address:
    found = services.addresses.find(ip)
    if found is None:
        raise NotFound(
            f"no Elastic IP {ip} in {services.region}",
            hint="allocate one first ('aws ec2 allocate-address'), as OpsWorks required",
        )
    return found


def _registered(services: Services, ip: str) -> Address:
    address = _address(services, ip)
    if address.stack_id is None:
        raise InvalidInput(
            f"Elastic IP {ip} is not registered with a stack",
            hint="stackops register-elastic-ip --elastic-ip IP --stack-id S",
        )
    return address


def register_elastic_ip(services: Services, ip: str, stack_id: str) -> dict[str, Any]:
    """Register an address with a stack; it may belong to one stack at a time."""
    services.store.get(Stack, stack_id)
    address = _address(services, ip)
    if address.stack_id not in (None, stack_id):
        raise Conflict(
            f"Elastic IP {ip} is registered with stack {address.stack_id}",
            hint="deregister it there first (deregister-elastic-ip)",
        )
    services.addresses.tag(address, {TAG_STACK: stack_id})
    return {"ElasticIp": ip}


def deregister_elastic_ip(services: Services, ip: str) -> None:
    """Forget an address (it stays allocated and associated in EC2, as in OpsWorks)."""
    address = _registered(services, ip)
    _forget_on_instances(services, address)
    services.addresses.untag(address, [TAG_STACK, TAG_ALLOCATED_FOR])


def update_elastic_ip(services: Services, ip: str, name: str | None) -> None:
    """Name a registered address (no name: remove it)."""
    address = _registered(services, ip)
    if name:
        services.addresses.tag(address, {"Name": name})
    elif address.name is not None:
        services.addresses.untag(address, ["Name"])


def associate_elastic_ip(services: Services, ip: str, instance_id: str | None) -> None:
    """Associate a registered address with an instance of its stack (now, and at every boot)."""
    if not instance_id:
        raise InvalidInput("--instance-id: give the instance to associate the address with")
    address = _registered(services, ip)
    instance = services.store.get(Instance, instance_id)
    if instance.stack_id != address.stack_id:
        raise InvalidInput(
            f"Elastic IP {ip} is registered with stack {address.stack_id}, "
            f"instance {instance.hostname} is in stack {instance.stack_id}"
        )
    _forget_on_instances(services, address, keep=instance_id)
    services.store.put(instance.model_copy(update={"elastic_ip": ip}))
    ec2 = _ec2_state(services, instance)
    if ec2 in ASSOCIABLE:
        services.addresses.associate(address, instance.ec2_instance_id or "")
        services.store.put(
            services.store.get(Instance, instance_id).model_copy(update={"public_ip": ip})
        )


def disassociate_elastic_ip(services: Services, ip: str) -> None:
    """Detach a registered address from its instance."""
    address = _registered(services, ip)
    _forget_on_instances(services, address)
    services.addresses.disassociate(address)


def describe_elastic_ips(
    services: Services,
    instance_id: str | None = None,
    stack_id: str | None = None,
    ips: list[str] | None = None,
) -> dict[str, Any]:
    """Registered addresses of an instance, of a stack, or by IP (OpsWorks takes one of these)."""
    given = [name for name, v in (("--instance-id", instance_id), ("--stack-id", stack_id)) if v]
    if ips:
        given.append("--ips")
    if len(given) != 1:
        raise InvalidInput("give exactly one of --instance-id, --stack-id or --ips")
    if ips:
        addresses = [_registered(services, ip) for ip in ips]
    elif instance_id:
        instance = services.store.get(Instance, instance_id)
        addresses = [
            a
            for a in services.addresses.of_stack(instance.stack_id)
            if a.public_ip == instance.elastic_ip
            or (a.ec2_instance_id and a.ec2_instance_id == instance.ec2_instance_id)
        ]
    else:
        services.store.get(Stack, stack_id or "")
        addresses = services.addresses.of_stack(stack_id or "")
    by_ec2 = _instances_by_ec2(services, {a.stack_id for a in addresses if a.stack_id})
    answers = []
    for address in addresses:
        answer: dict[str, Any] = {"Ip": address.public_ip}
        if address.name:
            answer["Name"] = address.name
        answer["Domain"] = address.domain
        answer["Region"] = services.region
        owner = by_ec2.get(address.ec2_instance_id or "")
        if owner is not None:
            answer["InstanceId"] = owner
        answers.append(answer)
    return {"ElasticIps": answers}


def release_instance_addresses(services: Services, instance: Instance, *, release: bool) -> None:
    """At delete-instance: release what stackops allocated for it (AutoAssignElasticIps) and,
    with `release` (--delete-elastic-ip), the address associated with it; others stay."""
    for address in services.addresses.of_stack(instance.stack_id):
        mine = address.tags.get(TAG_ALLOCATED_FOR) == instance.instance_id
        associated = address.public_ip == instance.elastic_ip or (
            instance.ec2_instance_id and address.ec2_instance_id == instance.ec2_instance_id
        )
        if mine or (release and associated):
            services.addresses.release(address)


def _forget_on_instances(services: Services, address: Address, keep: str | None = None) -> None:
    """Clear `ElasticIp` on the stack's instances that remember this address."""
    if address.stack_id is None:
        return
    for instance in services.store.contents(address.stack_id).instances:
        if instance.elastic_ip == address.public_ip and instance.instance_id != keep:
            services.store.put(instance.model_copy(update={"elastic_ip": None}))


def _ec2_state(services: Services, instance: Instance) -> str | None:
    if not instance.ec2_instance_id:
        return None
    found = services.ec2.describe([instance.ec2_instance_id]).get(instance.ec2_instance_id)
    return found.state if found else None


def _instances_by_ec2(services: Services, stack_ids: set[str]) -> dict[str, str]:
    return {
        i.ec2_instance_id: i.instance_id
        for stack_id in stack_ids
        for i in services.store.contents(stack_id).instances
        if i.ec2_instance_id
    }
