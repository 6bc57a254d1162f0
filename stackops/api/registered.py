"""Existing EC2 instances: register-instance, assign-instance, unassign-instance,
deregister-instance.

As in OpsWorks: a registered instance is `registered` (in no layer) until
assign-instance puts it in layers, which sets it up and then configures the
stack (the dispatcher boots it as it boots any instance that runs); unassign
takes it out of its layers and configures the rest; deregister-instance forgets
it and removes stackops's tags while the EC2 instance keeps running
(delete-instance is the one that terminates). Only EC2 instances can be
registered: the OpsWorks agent's on-premises registration is not supported.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from stackops.api.records import ensure_unique
from stackops.ec2_lifecycle import ec2_tags, instance_tags, next_port_offset, stack_layers
from stackops.errors import Conflict, InvalidInput
from stackops.lifecycle import coalesce
from stackops.model.commands import Command, CommandType
from stackops.model.enums import InstanceStatus as S
from stackops.model.fields import new_id
from stackops.model.hostnames import suggest_hostname
from stackops.model.instances import Instance, InstanceSpec
from stackops.model.layers import Layer
from stackops.model.stacks import Stack
from stackops.model.validation import validate_hostname
from stackops.wire import TAG_INSTANCE

if TYPE_CHECKING:
    from stackops.aws.ec2 import Ec2Instance
    from stackops.services import Services

REGISTERED_BY = "stackops register-instance"
AGENT_KEYS = (
    "the OpsWorks agent's key exchange (RsaPublicKey, RsaPublicKeyFingerprint) is not used: "
    "stackops reaches EC2 instances through SSM and its own agent; leave them out"
)
ON_PREMISES = (
    "on-premises instances are not supported: stackops registers EC2 instances of this "
    "account and region"
)


def find_ec2_instance(
    services: Services,
    *,
    ec2_instance_id: str | None,
    instance_identity: dict[str, Any] | None,
    private_ip: str | None,
    public_ip: str | None,
) -> Ec2Instance:
    """The EC2 instance the RegisterInstance parameters name; every one given must agree."""
    candidates: dict[str, str] = {}
    if ec2_instance_id:
        candidates["--ec2-instance-id"] = ec2_instance_id
    if instance_identity:
        candidates["--instance-identity"] = _identity_instance_id(services, instance_identity)
    if private_ip or public_ip:
        found = services.ec2.find_by_address(private_ip=private_ip, public_ip=public_ip)
        given = " and ".join(
            f"{name} {ip}"
            for name, ip in (("private IP", private_ip), ("public IP", public_ip))
            if ip
        )
        if not found:
            raise InvalidInput(f"no EC2 instance with {given} in {services.region}; {ON_PREMISES}")
        if len(found) > 1:
            raise InvalidInput(f"{len(found)} EC2 instances have {given}; give --ec2-instance-id")
        candidates["--private-ip/--public-ip"] = found[0].instance_id
    if not candidates:
        raise InvalidInput(
            "give --ec2-instance-id (or --instance-identity, --private-ip or --public-ip of an "
            f"EC2 instance); {ON_PREMISES}"
        )
    if len(set(candidates.values())) > 1:
        named = ", ".join(f"{k} {v}" for k, v in candidates.items())
        raise InvalidInput(f"the instance parameters name different EC2 instances: {named}")
    chosen = next(iter(candidates.values()))
    ec2 = services.ec2.describe([chosen]).get(chosen)
    if ec2 is None or ec2.state in ("terminated", "shutting-down"):
        raise InvalidInput(f"no running or stopped EC2 instance {chosen}; {ON_PREMISES}")
    return ec2


def _identity_instance_id(services: Services, identity: dict[str, Any]) -> str:
    """The instanceId of an EC2 instance identity document (its region must be the target's)."""
    document = identity.get("Document", identity.get("document"))
    try:
        data = json.loads(document) if isinstance(document, str) else None
    except json.JSONDecodeError:
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("instanceId"), str):
        raise InvalidInput(
            "--instance-identity: Document must be the EC2 instance identity document (JSON "
            "with instanceId), as http://169.254.169.254/latest/dynamic/instance-identity/"
            "document answers"
        )
    if data.get("region") not in (None, services.region):
        raise InvalidInput(
            f"--instance-identity: the instance is in {data['region']}, the target is "
            f"{services.region}"
        )
    return data["instanceId"]


def register_instance(
    services: Services,
    stack_id: str,
    *,
    hostname: str | None = None,
    ec2_instance_id: str | None = None,
    instance_identity: dict[str, Any] | None = None,
    private_ip: str | None = None,
    public_ip: str | None = None,
    rsa_public_key: str | None = None,
    rsa_public_key_fingerprint: str | None = None,
    layer_ids: Sequence[str] = (),
    spec: InstanceSpec | None = None,
) -> dict[str, Any]:
    """Register an existing EC2 instance with a stack: recorded `registered`, tagged as the
    stack's. With `layer_ids` (a stackops extension) it is assigned to them at once; `spec`
    (an adopted stack-file entry) gives the settings EC2 does not tell."""
    if rsa_public_key or rsa_public_key_fingerprint:
        raise InvalidInput(f"--rsa-public-key: {AGENT_KEYS}")
    stack = services.store.get(Stack, stack_id)
    layers = stack_layers(services, stack_id, list(layer_ids)) if layer_ids else []
    ec2 = find_ec2_instance(
        services,
        ec2_instance_id=ec2_instance_id,
        instance_identity=instance_identity,
        private_ip=private_ip,
        public_ip=public_ip,
    )
    if ec2.tags.get(TAG_INSTANCE):
        raise Conflict(
            f"EC2 instance {ec2.instance_id} is already registered as {ec2.tags[TAG_INSTANCE]}"
        )
    existing = services.store.contents(stack_id).instances
    taken = {i.hostname: i.instance_id for i in existing}
    base = layers[0].shortname if layers else "instance"  # as create-instance names them
    name = hostname or _name_tag(ec2) or suggest_hostname(stack.hostname_theme, base, set(taken))
    validate_hostname(name)
    ensure_unique("instance", "hostname", name, taken, None)
    instance_id = new_id()
    given = spec.model_dump(exclude_unset=True) if spec is not None else {}
    facts = {  # what EC2 says wins over what a stack file claims
        "instance_id": instance_id,
        "stack_id": stack_id,
        "layer_ids": [],
        "hostname": name,
        "instance_type": ec2.instance_type or "unknown",
        "ami_id": ec2.image_id,
        "status": S.registered if ec2.state in ("running", "pending") else S.stopped,
        "ec2_instance_id": ec2.instance_id,
        "private_ip": ec2.private_ip,
        "public_ip": ec2.public_ip,
        "private_dns": ec2.private_dns,
        "public_dns": ec2.public_dns,
        "subnet_id": ec2.subnet_id,
        "availability_zone": ec2.availability_zone,
        "security_group_ids": list(ec2.security_group_ids),
        "arn": services.arn("instance", instance_id),
        "created_at": services.now_iso(),
        "registered_by": REGISTERED_BY,
        "port_offset": next_port_offset(services),
    }
    instance = Instance(**{"os": "Custom", **given, **facts})
    services.ec2.tag(ec2.instance_id, ec2_tags(stack, [], instance))
    services.store.put(instance)
    if layer_ids:
        assign_instance(services, instance_id, list(layer_ids))
    return {"InstanceId": instance_id}


def _name_tag(ec2: Ec2Instance) -> str | None:
    """The EC2 Name tag, when it is a valid hostname."""
    name = ec2.tags.get("Name")
    try:
        return validate_hostname(name) if name else None
    except InvalidInput:
        return None


def _registered_instance(services: Services, instance_id: str, verb: str) -> Instance:
    instance = services.store.get(Instance, instance_id)
    if instance.registered_by is None:
        raise InvalidInput(
            f"{verb} is for registered instances; {instance.hostname} was created by stackops "
            "(change its layers with update-instance --layer-ids)"
        )
    return instance


def assign_instance(services: Services, instance_id: str, layer_ids: list[str]) -> None:
    """Put a registered instance in layers; the dispatcher runs setup, then configure."""
    instance = _registered_instance(services, instance_id, "assign-instance")
    if not layer_ids:
        raise InvalidInput("--layer-ids: give at least one layer")
    if instance.layer_ids:
        raise Conflict(
            f"instance {instance.hostname} is assigned already",
            hint="unassign-instance first; assignment applies to every layer at once (OpsWorks)",
        )
    stack = services.store.get(Stack, instance.stack_id)
    layers = stack_layers(services, instance.stack_id, layer_ids)
    ec2 = services.ec2.describe([instance.ec2_instance_id or ""]).get(
        instance.ec2_instance_id or ""
    )
    running = ec2 is not None and ec2.state in ("pending", "running")
    assigned = instance.model_copy(
        update={
            "layer_ids": list(dict.fromkeys(layer_ids)),
            "status": S.pending if running else S.stopped,
        }
    )
    services.store.transition(assigned, {S.registered, S.stopped})
    if instance.ec2_instance_id:
        services.ec2.tag(instance.ec2_instance_id, ec2_tags(stack, layers, assigned))
    if running and instance.ec2_instance_id:
        announce_running(services, instance.ec2_instance_id)


def announce_running(services: Services, ec2_instance_id: str) -> None:
    """Tell the dispatcher the EC2 instance runs (as EC2 or the watcher would): it sets it up.

    The event goes on the lifecycle queue, as the operator's other requests do (its role
    may send there; putting events on the bus is the dispatcher's)."""
    from stackops.lifecycle.events import state_change_message
    from stackops.lifecycle.watcher import instance_arn_maker

    arn = instance_arn_maker(services.session.account_id(), services.region)(ec2_instance_id)
    services.queue.send(state_change_message(ec2_instance_id, "running", arn))


def unassign_instance(services: Services, instance_id: str) -> None:
    """Take a registered instance out of all its layers; the rest of the stack is configured."""
    instance = _registered_instance(services, instance_id, "unassign-instance")
    if not instance.layer_ids:
        raise InvalidInput(f"instance {instance.hostname} is in no layer")
    token = _membership_changing(services, instance)
    _leave_layers(services, instance)
    down = instance.status in (S.stopped, S.terminated)
    unassigned = instance.model_copy(
        update={"layer_ids": [], "status": instance.status if down else S.registered}
    )
    services.store.put(unassigned)
    if instance.ec2_instance_id:
        services.ec2.tag(instance.ec2_instance_id, instance_tags(unassigned))
    if token is not None:
        request_configure(services, instance.stack_id, token)


def deregister_instance(services: Services, instance_id: str) -> None:
    """Forget a registered instance and remove stackops's tags; its EC2 instance keeps running."""
    instance = _registered_instance(services, instance_id, "deregister-instance")
    stack = services.store.get(Stack, instance.stack_id)
    layers = services.store.get_many(Layer, instance.layer_ids) if instance.layer_ids else []
    token = _membership_changing(services, instance)
    _leave_layers(services, instance)
    if instance.ec2_instance_id:
        services.ec2.untag(instance.ec2_instance_id, list(ec2_tags(stack, layers, instance)))
    services.store.delete(instance)
    if token is not None:
        request_configure(services, instance.stack_id, token)


def _leave_layers(services: Services, instance: Instance) -> None:
    """Out of its layers' load balancers and target groups."""
    from stackops.layer_attachments import leave_load_balancers

    layers = services.store.get_many(Layer, instance.layer_ids) if instance.layer_ids else []
    leave_load_balancers(services, layers, instance)
    for layer in layers:
        if layer.target_group_arn and instance.ec2_instance_id:
            services.target_groups.deregister(layer.target_group_arn, [instance.ec2_instance_id])


def _membership_changing(services: Services, instance: Instance) -> str | None:
    """For an online instance about to leave: note the stack's membership change first
    (durable before it happens, as the dispatcher does, so a crash before the configures
    are queued leaves them to the sweeper); its token, or None when nothing changes."""
    if instance.status is not S.online:
        return None
    return services.inflight.membership_changed(instance.stack_id, services.epoch())


def request_configure(services: Services, stack_id: str, token: str) -> None:
    """Queue one configure per online instance of the stack and ask the dispatcher to run
    them (the membership changed), through the one queueing path, `lifecycle.coalesce`."""
    online = [i for i in services.store.contents(stack_id).instances if i.status is S.online]
    coalesce.request(
        services.commands,
        services.queue.send,
        stack_id,
        online,
        lambda instance, seq: Command(
            command_id=new_id(),
            instance_id=instance.instance_id,
            stack_id=stack_id,
            type=CommandType.configure,
            created_at=services.now_precise(),
            seq=seq,
        ),
    )
    services.inflight.membership_queued(stack_id, token)
