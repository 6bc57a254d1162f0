"""The EC2 instance behind a stackops instance: launch or start it, stop it, adopt one.

Below both the verbs (`stackops.api.instances`) and the dispatcher
(`stackops.lifecycle`): start-instance, start-stack, auto-healing and the auto
scaler all start instances through `start`, and it is idempotent per stackops
instance. The status change is a conditional write (two starts at once: one wins);
before launching, EC2 is asked for the instances already tagged with this stackops
id, so a start that died between RunInstances and recording its answer is not
repeated (moto ignores ClientToken; this does not rely on it). EC2 instances tagged
with the id that the record does not name are strays: stopped and reported.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from stackops.agent_install import agent_launch
from stackops.api.amis import instance_ami
from stackops.api.tags import inherited_tags
from stackops.aws.ec2 import Ec2Instance, LaunchRequest
from stackops.errors import InvalidInput
from stackops.model.enums import InstanceStatus as S
from stackops.model.hostnames import suggest_hostname
from stackops.model.instances import Instance
from stackops.model.layers import Layer
from stackops.model.stacks import Stack
from stackops.model.validation import validate_ec2_tags
from stackops.wire import TAG_INSTANCE, TAG_LAYERS, TAG_STACK

if TYPE_CHECKING:
    from stackops.services import Services

log = logging.getLogger("stackops.ec2")

STARTABLE = frozenset({S.stopped, S.start_failed, S.setup_failed, S.stop_failed, S.terminated})
GONE_STATES = frozenset({"terminated", "shutting-down"})


@dataclass(frozen=True)
class Stray:
    """An EC2 instance tagged with a stackops id whose record names another (or none)."""

    ec2_instance_id: str
    instance_id: str
    state: str
    recorded: str | None  # the EC2 id the record names

    def describe(self) -> str:
        named = f"its record names {self.recorded}" if self.recorded else "no record names it"
        return (
            f"EC2 instance {self.ec2_instance_id} ({self.state}) is tagged as stackops "
            f"instance {self.instance_id} but {named}"
        )


def instance_tags(instance: Instance) -> dict[str, str]:
    """The tags that tie an EC2 instance to its stackops instance, checked against EC2's limits."""
    tags = {
        TAG_STACK: instance.stack_id,
        TAG_INSTANCE: instance.instance_id,
        TAG_LAYERS: ",".join(instance.layer_ids),
        "Name": instance.hostname,
    }
    validate_ec2_tags(tags)
    return tags


PORT_COUNTER = ("counter#port-offsets", "counter")  # state table item: instances numbered


def next_port_offset(services: Services) -> int:
    """A port offset no other instance of this target has, whatever its stack (never
    reused): an atomic counter in the state table, from the sandbox's own port block."""
    from stackops.aws.dynamodb import StateTable
    from stackops.nodes import port_block, port_offset

    table = StateTable(services.session, services.names.table)
    number = table.increment(*PORT_COUNTER, "value")
    return port_offset(port_block(services.session.target.endpoint_url), number)


def ec2_tags(stack: Stack, layers: list[Layer], instance: Instance) -> dict[str, str]:
    """Every tag the EC2 instance carries: the stack's and layers' tags (OpsWorks's tag
    propagation), then the stackops tags that tie it to its record (those win)."""
    return {**inherited_tags(stack, layers), **instance_tags(instance)}


def stack_layers(services: Services, stack_id: str, layer_ids: list[str]) -> list[Layer]:
    """The layers named, each checked to belong to the stack."""
    layers = services.store.get_many(Layer, layer_ids)
    for layer in layers:
        if layer.stack_id != stack_id:
            raise InvalidInput(
                f"layer {layer.layer_id} belongs to another stack ({layer.stack_id})"
            )
    return layers


def launch_ami(services: Services, stack: Stack, instance: Instance) -> str:
    """The AMI `instance` launches now (see `stackops.api.amis.instance_ami`)."""
    return instance_ami(
        services,
        stack,
        os_name=instance.os,
        ami_id=instance.ami_id,
        architecture=instance.architecture.value,
    )


def launch_request(
    services: Services, stack: Stack, layers: list[Layer], instance: Instance, token: str
) -> LaunchRequest:
    """run_instances parameters from the instance, its layers and the stack's defaults."""
    groups = [g for layer in layers for g in layer.custom_security_group_ids]
    user_data, profile = agent_launch(services, stack, layers, instance)
    return LaunchRequest(
        image_id=launch_ami(services, stack, instance),
        instance_type=instance.instance_type,
        tags=ec2_tags(stack, layers, instance),
        client_token=token,
        subnet_id=instance.subnet_id or stack.default_subnet_id,
        availability_zone=instance.availability_zone or stack.default_availability_zone,
        security_group_ids=tuple(dict.fromkeys(groups)),
        key_name=instance.ssh_key_name or stack.default_ssh_key_name,
        instance_profile_arn=profile,
        ebs_optimized=instance.ebs_optimized
        or any(la.use_ebs_optimized_instances for la in layers),
        associate_public_ip=all(la.auto_assign_public_ips for la in layers),
        tenancy=instance.tenancy,
        user_data=user_data,
    )


def with_ec2(instance: Instance, ec2: Ec2Instance, status: S) -> Instance:
    """The record with the EC2 instance's id and addresses, at `status`."""
    return instance.model_copy(
        update={
            "ec2_instance_id": ec2.instance_id,
            "status": status,
            "private_ip": ec2.private_ip,
            "public_ip": ec2.public_ip,
            "private_dns": ec2.private_dns,
            "public_dns": ec2.public_dns,
            "subnet_id": ec2.subnet_id or instance.subnet_id,
            "availability_zone": ec2.availability_zone or instance.availability_zone,
            "security_group_ids": list(ec2.security_group_ids),
        }
    )


# -- starting ----------------------------------------------------------------------------
def start(services: Services, instance_id: str) -> Instance:
    """Launch, or start again, the EC2 instance of a startable instance; status `pending`.

    Conflict (from the conditional write) when the instance is not startable, e.g.
    because another start won: a second start never launches a second EC2 instance.
    """
    instance = services.store.get(Instance, instance_id)
    stack = services.store.get(Stack, instance.stack_id)
    layers = stack_layers(services, instance.stack_id, instance.layer_ids)
    requested = instance.model_copy(update={"status": S.requested, "stop_requested": False})
    services.store.transition(requested, STARTABLE)
    try:
        ec2 = _launch_or_restart(services, stack, layers, requested)
    except Exception:
        services.store.put(requested.model_copy(update={"status": S.start_failed}))
        raise
    started = with_ec2(requested, ec2, S.pending)
    services.store.put(started)
    return started


def _launch_or_restart(
    services: Services, stack: Stack, layers: list[Layer], instance: Instance
) -> Ec2Instance:
    """The EC2 instance to run: the recorded one, or one a dead start launched, or a new one."""
    tagged = services.ec2.describe_tagged(TAG_INSTANCE, instance.instance_id)
    alive = {i.instance_id: i for i in tagged if i.state not in GONE_STATES}
    chosen = alive.get(instance.ec2_instance_id or "")
    if chosen is None:  # a start that died after RunInstances left one running: take it
        chosen = next((i for i in alive.values() if i.state in ("pending", "running")), None)
    for other in alive.values():
        extra = chosen is None or other.instance_id != chosen.instance_id
        if extra and other.state in ("pending", "running"):
            stop_stray(services, Stray(other.instance_id, instance.instance_id, other.state, None))
    if chosen is None:
        token = f"{instance.instance_id}-{services.clock():%Y%m%dT%H%M%S}"
        return services.ec2.launch(launch_request(services, stack, layers, instance, token))
    if chosen.state in ("stopped", "stopping"):
        services.ec2.start(chosen.instance_id)
    return chosen


# -- stopping ----------------------------------------------------------------------------
def stop_ec2(services: Services, instance: Instance, *, force: bool = False) -> S:
    """Stop the EC2 instance (EBS root) or terminate it (instance store); the final status."""
    if not instance.ec2_instance_id:
        return S.stopped
    if instance.root_device_type == "instance-store":
        services.ec2.terminate(instance.ec2_instance_id)
        return S.terminated
    services.ec2.stop(instance.ec2_instance_id, force=force)
    return S.stopped


def find_strays(services: Services) -> list[Stray]:
    """Running EC2 instances tagged with a stackops id whose record does not name them.

    One describe of every tagged instance and one batched read of their records.
    """
    tagged = [
        i for i in services.ec2.describe_tagged(TAG_INSTANCE) if i.state in ("pending", "running")
    ]
    records = services.store.find_many(Instance, {i.tags[TAG_INSTANCE] for i in tagged})
    strays = []
    for ec2 in tagged:
        instance_id = ec2.tags[TAG_INSTANCE]
        record = records.get(instance_id)
        recorded = record.ec2_instance_id if record else None
        if recorded != ec2.instance_id:
            strays.append(Stray(ec2.instance_id, instance_id, ec2.state, recorded))
    return strays


def stop_stray(services: Services, stray: Stray) -> None:
    """Stop a stray EC2 instance (never left running unseen) and say so in the log."""
    log.warning("stopping stray: %s", stray.describe())
    services.ec2.stop(stray.ec2_instance_id)


# -- adopting an instance an Auto Scaling group launched ---------------------------------------
def layer_for_group(services: Services, group_name: str) -> tuple[Stack, Layer] | None:
    """The layer whose `auto_scaling_group` is `group_name`, with its stack, if any."""
    for stack in services.store.stacks():
        for layer in services.store.contents(stack.stack_id).layers:
            if layer.auto_scaling_group == group_name:
                return stack, layer
    return None


def adopt(
    services: Services, stack: Stack, layer: Layer, ec2: Ec2Instance, instance_id: str
) -> Instance:
    """Record `ec2` as instance `instance_id` of `layer` and tag it; idempotent for that id.

    Its hostname follows the stack's theme; it starts `pending` (the dispatcher sets it
    up next, under its lease, before the launch action completes).
    """
    existing = services.store.find_many(Instance, [instance_id]).get(instance_id)
    if existing is None:
        others = services.store.contents(stack.stack_id).instances
        taken = {i.hostname for i in others}
        existing = with_ec2(
            Instance(
                instance_id=instance_id,
                stack_id=stack.stack_id,
                layer_ids=[layer.layer_id],
                hostname=suggest_hostname(stack.hostname_theme, layer.shortname, taken),
                instance_type=ec2.instance_type or "unknown",
                ami_id=ec2.image_id,
                arn=services.arn("instance", instance_id),
                created_at=services.now_iso(),
                registered_by=f"auto scaling group {layer.auto_scaling_group}",
                port_offset=next_port_offset(services),
            ),
            ec2,
            S.pending,
        )
        services.store.put(existing)
    services.ec2.tag(ec2.instance_id, ec2_tags(stack, [layer], existing))
    return existing
