"""What a layer attaches to its instances besides recipes: its Classic ELB and Elastic IPs.

Called by the lifecycle activities at two moments, as OpsWorks did: when an
instance boots (its Elastic IP, remembered or allocated for the layer's
AutoAssignElasticIps) and comes online (registered with its layers' load
balancers), and before its shutdown recipes (deregistered, then, when the
layer asks for DelayUntilElbConnectionsDrained, a wait until the load
balancer has drained its connections).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from stackops.errors import StackopsError
from stackops.model.instances import Instance
from stackops.model.layers import Layer
from stackops.wire import TAG_ALLOCATED_FOR, TAG_STACK

if TYPE_CHECKING:
    from stackops.services import Services

log = logging.getLogger("stackops.dispatch")

DRAIN_POLL_SECONDS = 2.0


def assign_elastic_ip(services: Services, layers: Sequence[Layer], instance: Instance) -> Instance:
    """Associate the instance's Elastic IP (its own, or a new one for AutoAssignElasticIps).

    Returns the instance as recorded afterwards. A failure is logged and the boot goes
    on without the address (the instance is still reachable on its own addresses).
    """
    wanted = instance.elastic_ip is not None or any(la.auto_assign_elastic_ips for la in layers)
    if not instance.ec2_instance_id or not wanted:
        return instance
    try:
        address = services.addresses.find(instance.elastic_ip) if instance.elastic_ip else None
        if address is None and instance.elastic_ip is not None:
            log.warning(
                "%s: Elastic IP %s no longer exists", instance.hostname, instance.elastic_ip
            )
        if address is None and any(la.auto_assign_elastic_ips for la in layers):
            address = services.addresses.allocate(
                {
                    TAG_STACK: instance.stack_id,
                    TAG_ALLOCATED_FOR: instance.instance_id,
                    "Name": instance.hostname,
                }
            )
        if address is None:
            return instance
        if address.ec2_instance_id != instance.ec2_instance_id:
            services.addresses.associate(address, instance.ec2_instance_id)
    except StackopsError as exc:
        log.warning("%s: no Elastic IP: %s", instance.hostname, exc)
        return instance
    updated = instance.model_copy(
        update={"elastic_ip": address.public_ip, "public_ip": address.public_ip}
    )
    services.store.put(updated)
    return updated


def register_with_load_balancers(
    services: Services, layers: Sequence[Layer], instance: Instance
) -> None:
    """Put an instance that came online behind its layers' Classic ELBs."""
    if not instance.ec2_instance_id:
        return
    for layer in layers:
        if layer.elastic_load_balancer:
            services.load_balancers.register(
                layer.elastic_load_balancer, [instance.ec2_instance_id]
            )


def leave_load_balancers(
    services: Services,
    layers: Sequence[Layer],
    instance: Instance,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Take an instance out of its layers' Classic ELBs before its shutdown recipes run;
    wait for connection draining where a layer asks for DelayUntilElbConnectionsDrained."""
    if not instance.ec2_instance_id:
        return
    for layer in layers:
        name = layer.elastic_load_balancer
        if not name or not services.load_balancers.describe([name]):
            continue
        taken_out = services.load_balancers.deregister(name, [instance.ec2_instance_id])
        if (
            not taken_out
            or not layer.lifecycle_event_configuration.shutdown.delay_until_elb_connections_drained
        ):
            continue
        draining = services.load_balancers.draining(name)
        if not draining.enabled:
            continue
        ec2_id = instance.ec2_instance_id
        drained = wait_until(
            lambda name=name, ec2_id=ec2_id: not services.load_balancers.in_service(name, ec2_id),
            timeout=float(draining.timeout),
            sleep=sleep,
            clock=clock,
        )
        if not drained:
            log.warning(
                "%s: %s still draining after %s s; shutdown goes on",
                instance.hostname,
                name,
                draining.timeout,
            )


def wait_until(
    done: Callable[[], bool],
    *,
    timeout: float,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
    interval: float = DRAIN_POLL_SECONDS,
) -> bool:
    """Poll `done` every `interval` seconds until it is true or `timeout` passes."""
    deadline = clock() + timeout
    while True:
        if done():
            return True
        left = deadline - clock()
        if left <= 0:
            return False
        sleep(min(interval, left))
