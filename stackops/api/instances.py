"""Instance verbs: create, describe, update, delete, start, stop, reboot, register.

Status changes that launch or stop EC2 instances are conditional writes
(`Store.transition`), so two concurrent start-instance calls launch one
instance even where ClientToken is not honoured (moto). Running recipes on the
way (setup, shutdown) is the lifecycle dispatcher's work, not these verbs'.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stackops.api.records import ensure_unique, require_one, updated
from stackops.ec2_lifecycle import (
    STARTABLE,
    instance_tags,
    launch_ami,
    next_port_offset,
    stack_layers,
    stop_ec2,
)
from stackops.ec2_lifecycle import start as start_ec2
from stackops.errors import Conflict, InvalidInput
from stackops.lifecycle.events import instance_command_message
from stackops.model.enums import InstanceStatus as S
from stackops.model.fields import new_id
from stackops.model.hostnames import suggest_hostname
from stackops.model.instances import Instance, InstanceSpec
from stackops.model.layers import Layer
from stackops.model.stacks import Stack

if TYPE_CHECKING:
    from stackops.services import Services

__all__ = [
    "STARTABLE",
    "STOPPABLE",
    "instance_tags",
    "next_port_offset",
    "stack_layers",
]

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
    launch_ami(services, stack, instance)  # an OS or AMI that cannot launch is refused now
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
        launch_ami(services, services.store.get(Stack, instance.stack_id), new)
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


def start_instance(services: Services, instance_id: str) -> None:
    """Launch (or start again) the EC2 instance of a stopped instance; status `pending`.

    Idempotent per instance (`stackops.ec2_lifecycle.start`): a second start at the
    same time is refused by the status write and never launches a second EC2 instance.
    """
    start_ec2(services, instance_id)


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
        try:
            final = stop_ec2(services, instance, force=True)
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
