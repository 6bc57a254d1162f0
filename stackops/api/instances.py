"""Instance verbs: create, describe, update, delete, start, stop, reboot, register.

Status changes that launch or stop EC2 instances are conditional writes
(`Store.transition`), so two concurrent start-instance calls launch one
instance even where ClientToken is not honoured (moto). Running recipes on the
way (setup, shutdown) is the lifecycle dispatcher's work, not these verbs'.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stackops.api.amis import instance_ami
from stackops.api.records import ensure_unique, require_one, updated
from stackops.api.tags import inherited_tags
from stackops.aws.ec2 import LaunchRequest
from stackops.errors import Conflict, InvalidInput
from stackops.lifecycle.events import instance_command_message
from stackops.model.enums import InstanceStatus as S
from stackops.model.fields import new_id
from stackops.model.hostnames import suggest_hostname
from stackops.model.resources import Instance, InstanceSpec, Layer, Stack
from stackops.model.validation import validate_ec2_tags

if TYPE_CHECKING:
    from stackops.aws.ec2 import Ec2Instance
    from stackops.services import Services

TAG_STACK = "stackops:stack-id"
TAG_INSTANCE = "stackops:instance-id"
TAG_LAYERS = "stackops:layer-ids"

STARTABLE = {S.stopped, S.start_failed, S.setup_failed, S.stop_failed, S.terminated}
STOPPABLE = {
    S.requested,
    S.pending,
    S.booting,
    S.running_setup,
    S.online,
    S.setup_failed,
    S.start_failed,
    S.stop_failed,
    S.connection_lost,
    S.rebooting,
}
# Fields of a launched instance that only a stopped instance may change (OpsWorks's rule).
NEEDS_STOPPED = {"instance_type", "hostname", "os", "ami_id", "architecture", "ssh_key_name"}


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


def stack_layers(services: Services, stack_id: str, layer_ids: list[str]) -> list[Layer]:
    """The layers named, each checked to belong to the stack."""
    layers = services.store.get_many(Layer, layer_ids)
    for layer in layers:
        if layer.stack_id != stack_id:
            raise InvalidInput(
                f"layer {layer.layer_id} belongs to another stack ({layer.stack_id})"
            )
    return layers


PORT_COUNTER = ("counter#port-offsets", "counter")  # state table item: instances numbered


def next_port_offset(services: Services) -> int:
    """A port offset no other instance of this target has, whatever its stack (never
    reused): an atomic counter in the state table, from the sandbox's own port block."""
    from stackops.aws.dynamodb import StateTable
    from stackops.nodes import port_block, port_offset

    table = StateTable(services.session, services.names.table)
    number = table.increment(*PORT_COUNTER, "value")
    return port_offset(port_block(services.session.target.endpoint_url), number)


def create_instance(
    services: Services, stack_id: str, layer_ids: list[str], spec: InstanceSpec
) -> dict[str, Any]:
    """Record a stopped instance in one or more layers; the hostname follows the stack's theme."""
    stack = services.store.get(Stack, stack_id)
    if not layer_ids:
        raise InvalidInput("--layer-ids: give at least one layer id")
    layers = stack_layers(services, stack_id, layer_ids)
    existing = services.store.contents(stack_id).instances
    taken = {i.hostname: i.instance_id for i in existing}
    hostname = spec.hostname or suggest_hostname(
        stack.hostname_theme, layers[0].shortname, set(taken)
    )
    ensure_unique("instance", "hostname", hostname, taken, None)
    instance_id = new_id()
    instance = Instance(
        **{**spec.model_dump(), "hostname": hostname},
        instance_id=instance_id,
        stack_id=stack_id,
        layer_ids=list(dict.fromkeys(layer_ids)),
        status=S.stopped,
        arn=services.arn("instance", instance_id),
        created_at=services.now_iso(),
        port_offset=next_port_offset(services),
    )
    instance_tags(instance)  # refuse now what EC2 would refuse at launch
    _ami(services, stack, instance)  # an OS or AMI that cannot launch is refused now
    services.store.put(instance)
    return {"InstanceId": instance_id}


def describe_instances(
    services: Services,
    stack_id: str | None = None,
    layer_id: str | None = None,
    instance_ids: list[str] | None = None,
) -> dict[str, Any]:
    """Instances by id, by layer or by stack (OpsWorks takes exactly one of these)."""
    if instance_ids:
        instances = services.store.get_many(Instance, instance_ids)
    elif layer_id:
        layer = services.store.get(Layer, layer_id)
        instances = [
            i for i in services.store.contents(layer.stack_id).instances if layer_id in i.layer_ids
        ]
    else:
        services.store.get(
            Stack, require_one(stack_id, "--stack-id", "--layer-id or --instance-ids")
        )
        instances = services.store.contents(stack_id).instances
    return {"Instances": [i.to_api() for i in instances]}


def update_instance(services: Services, instance_id: str, changes: dict[str, Any]) -> None:
    """Change an instance's settings or layers; launch settings only while stopped."""
    instance = services.store.get(Instance, instance_id)
    launched = instance.status not in STARTABLE
    blocked = sorted(NEEDS_STOPPED & {k for k, v in changes.items() if v != getattr(instance, k)})
    if launched and blocked:
        raise Conflict(
            f"instance {instance.hostname} is {instance.status}: stop it before changing "
            + ", ".join("--" + b.replace("_", "-") for b in blocked)
        )
    if "layer_ids" in changes:
        stack_layers(services, instance.stack_id, changes["layer_ids"])
    if "hostname" in changes:
        others = services.store.contents(instance.stack_id).instances
        taken = {i.hostname: i.instance_id for i in others}
        ensure_unique("instance", "hostname", changes["hostname"], taken, instance_id)
    new = updated(instance, changes)
    if {"os", "ami_id", "architecture"} & changes.keys():
        _ami(services, services.store.get(Stack, instance.stack_id), new)
    tags = instance_tags(new)
    if new.ec2_instance_id and launched:
        services.ec2.tag(new.ec2_instance_id, tags)
    services.store.put(new)


def delete_instance(
    services: Services, instance_id: str, *, delete_elastic_ip: bool = False
) -> None:
    """Delete a stopped (or registered) instance, terminating its EC2 instance if one is left.

    Elastic IPs stackops allocated for it are released; with `delete_elastic_ip` the
    address associated with it too (OpsWorks's DeleteElasticIp)."""
    from stackops.api.eips import release_instance_addresses

    instance = services.store.get(Instance, instance_id)
    if instance.status not in STARTABLE | {S.registered}:
        raise Conflict(
            f"instance {instance.hostname} is {instance.status}",
            hint=f"stop it first: stackops stop-instance --instance-id {instance_id}",
        )
    if instance.ec2_instance_id:
        found = services.ec2.describe([instance.ec2_instance_id]).get(instance.ec2_instance_id)
        if found and found.state not in ("terminated", "shutting-down"):
            release_instance_addresses(services, instance, release=delete_elastic_ip)
            services.ec2.terminate(instance.ec2_instance_id)
        else:
            release_instance_addresses(services, instance, release=delete_elastic_ip)
        _end_sandbox_node(instance.ec2_instance_id)
    services.store.delete(instance)


def _ami(services: Services, stack: Stack, instance: Instance) -> str:
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
    from stackops.agent_install import agent_launch

    groups = [g for layer in layers for g in layer.custom_security_group_ids]
    user_data, profile = agent_launch(services, stack, layers, instance)
    return LaunchRequest(
        image_id=_ami(services, stack, instance),
        instance_type=instance.instance_type,
        tags={**inherited_tags(stack, layers), **instance_tags(instance)},
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


def _with_ec2(instance: Instance, ec2: Ec2Instance, status: S) -> Instance:
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


def start_instance(services: Services, instance_id: str) -> None:
    """Launch (or start again) the EC2 instance of a stopped instance; status `pending`."""
    instance = services.store.get(Instance, instance_id)
    stack = services.store.get(Stack, instance.stack_id)
    layers = stack_layers(services, instance.stack_id, instance.layer_ids)
    requested = instance.model_copy(update={"status": S.requested, "stop_requested": False})
    services.store.transition(requested, STARTABLE)
    try:
        ec2 = _restartable(services, instance)
        if ec2 is not None:
            services.ec2.start(ec2.instance_id)
        else:
            token = f"{instance_id}-{services.clock():%Y%m%dT%H%M%S}"
            ec2 = services.ec2.launch(launch_request(services, stack, layers, instance, token))
    except Exception:
        services.store.put(requested.model_copy(update={"status": S.start_failed}))
        raise
    services.store.put(_with_ec2(requested, ec2, S.pending))


def _restartable(services: Services, instance: Instance) -> Ec2Instance | None:
    """The stopped EBS-backed EC2 instance to start again, if there is one."""
    if not instance.ec2_instance_id:
        return None
    found = services.ec2.describe([instance.ec2_instance_id]).get(instance.ec2_instance_id)
    return found if found and found.state in ("stopped", "stopping") else None


def stop_instance(services: Services, instance_id: str, force: bool = False) -> str:
    """Stop an instance the OpsWorks way: shutdown recipes first, then EC2 stops it.

    The instance is marked `stopping` (it leaves its layers' membership at once)
    and the lifecycle dispatcher is asked to run its shutdown recipes, stop or
    terminate the EC2 instance (EBS-backed: stopped; instance store: terminated)
    and configure the rest of the stack. `force` skips the recipes and stops the
    EC2 instance now, whatever the status (an instance stuck after a crash); the
    dispatcher still configures the rest. Returns what happened, for the user.
    """
    instance = services.store.get(Instance, instance_id)
    stopping = instance.model_copy(update={"status": S.stopping, "stop_requested": True})
    services.store.transition(stopping, set(S) if force else STOPPABLE)
    if not instance.ec2_instance_id:
        services.store.put(stopping.model_copy(update={"status": S.stopped}))
        return "stopped"
    if force:
        final = S.terminated if instance.root_device_type == "instance-store" else S.stopped
        try:
            if final is S.terminated:
                services.ec2.terminate(instance.ec2_instance_id)
            else:
                services.ec2.stop(instance.ec2_instance_id, force=True)
        except Exception:
            services.store.put(stopping.model_copy(update={"status": S.stop_failed}))
            raise
        _end_sandbox_node(instance.ec2_instance_id)
        services.store.put(stopping.model_copy(update={"status": final}))
    services.queue.send(instance_command_message(instance_id, "stop", force=force))
    if force:
        return f"{final.value} (no shutdown recipes); the dispatcher configures the rest"
    return "stopping: the dispatcher runs its shutdown recipes, then stops it"


def _end_sandbox_node(ec2_instance_id: str) -> None:
    """A sandbox node's processes end with its EC2 instance (nothing on a real account)."""
    from stackops.nodes import end_node, local_nodes_root

    end_node(local_nodes_root(), ec2_instance_id)


def reboot_instance(services: Services, instance_id: str) -> None:
    """Reboot an online instance."""
    instance = services.store.get(Instance, instance_id)
    rebooting = instance.model_copy(update={"status": S.rebooting})
    services.store.transition(rebooting, {S.online})
    try:
        services.ec2.reboot(instance.ec2_instance_id or "")
    finally:
        services.store.put(rebooting.model_copy(update={"status": S.online}))


def start_stack(services: Services, stack_id: str) -> dict[str, Any]:
    """Start every stopped 24/7 instance of a stack, as OpsWorks did.

    Time- and load-based instances are the scaler's: it starts them when their
    schedule or their layer's load says so. Their schedule marks are forgotten,
    so the next scaler round brings each time-based instance to its schedule.
    """
    from stackops.autoscale.round import scaling_records

    services.store.get(Stack, stack_id)
    started = []
    for instance in services.store.contents(stack_id).instances:
        if instance.status in STARTABLE and instance.auto_scaling_type is None:
            start_instance(services, instance.instance_id)
            started.append(instance.instance_id)
    scaling_records(services).clear_marks(stack_id)
    return {"StartedInstanceIds": started}


def stop_stack(services: Services, stack_id: str) -> dict[str, Any]:
    """Stop every running instance of a stack."""
    services.store.get(Stack, stack_id)
    stopped = []
    for instance in services.store.contents(stack_id).instances:
        if instance.status in STOPPABLE:
            stop_instance(services, instance.instance_id)
            stopped.append(instance.instance_id)
    return {"StoppedInstanceIds": stopped}


def get_hostname_suggestion(services: Services, layer_id: str) -> dict[str, Any]:
    """The next hostname the stack's theme gives for this layer."""
    layer = services.store.get(Layer, layer_id)
    stack = services.store.get(Stack, layer.stack_id)
    taken = {i.hostname for i in services.store.contents(layer.stack_id).instances}
    return {
        "LayerId": layer_id,
        "Hostname": suggest_hostname(stack.hostname_theme, layer.shortname, taken),
    }
