"""Classic ELB adapter: the load balancers OpsWorks layers attach by name.

OpsWorks never created load balancers; a user made one and attached it to a
layer. stackops does the same: it reads the load balancer, registers the
layer's online instances with it and deregisters them before shutdown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from stackops.aws.roles import DISPATCHER, OPERATOR, calls
from stackops.aws.session import AwsSession, aws_errors, error_code
from stackops.errors import AwsFailure, NotFound

# The operator's verbs (attach, detach, describe, deregister-instance) and the dispatcher's
# boots and shutdowns both move instances in and out: every call is made by both roles.
_BOTH = (OPERATOR, DISPATCHER)


@dataclass(frozen=True)
class ClassicLoadBalancer:
    """What stackops reads about one Classic ELB."""

    name: str
    dns_name: str | None
    vpc_id: str | None
    availability_zones: tuple[str, ...] = ()
    subnet_ids: tuple[str, ...] = ()
    instance_ids: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Draining:
    """A load balancer's connection draining setting."""

    enabled: bool
    timeout: int


class ClassicLoadBalancers:
    """Describe Classic ELBs and move EC2 instances in and out of them."""

    def __init__(self, session: AwsSession) -> None:
        self._client = session.client("elb")

    @calls("elasticloadbalancing:DescribeLoadBalancers", roles=_BOTH)
    def describe(self, names: Sequence[str]) -> dict[str, ClassicLoadBalancer]:
        """The named load balancers that exist, by name (missing names are left out)."""
        found: dict[str, ClassicLoadBalancer] = {}
        for name in dict.fromkeys(names):
            one = self._describe_one(name)
            if one is not None:
                found[name] = one
        return found

    @calls("elasticloadbalancing:DescribeLoadBalancers", roles=_BOTH)
    def get(self, name: str) -> ClassicLoadBalancer:
        """One load balancer; NotFound naming it when it does not exist."""
        found = self._describe_one(name)
        if found is None:
            raise NotFound(
                f"no Classic Load Balancer named {name!r} in this region",
                hint="create it with 'aws elb create-load-balancer' first: OpsWorks attached "
                "existing load balancers, it never made them",
            )
        return found

    def _describe_one(self, name: str) -> ClassicLoadBalancer | None:
        try:
            with aws_errors("elasticloadbalancing:DescribeLoadBalancers"):
                resp = self._client.describe_load_balancers(LoadBalancerNames=[name])
        except AwsFailure as exc:
            if error_code(exc) in ("LoadBalancerNotFound", "AccessPointNotFound"):
                return None
            raise
        (raw,) = resp["LoadBalancerDescriptions"]
        return ClassicLoadBalancer(
            name=raw["LoadBalancerName"],
            dns_name=raw.get("DNSName"),
            vpc_id=raw.get("VPCId") or None,
            availability_zones=tuple(raw.get("AvailabilityZones", [])),
            subnet_ids=tuple(raw.get("Subnets", [])),
            instance_ids=tuple(i["InstanceId"] for i in raw.get("Instances", [])),
        )

    @calls("elasticloadbalancing:RegisterInstancesWithLoadBalancer", roles=_BOTH)
    def register(self, name: str, ec2_instance_ids: Sequence[str]) -> None:
        """Put the instances behind the load balancer (already registered ones stay)."""
        if not ec2_instance_ids:
            return
        with aws_errors("elasticloadbalancing:RegisterInstancesWithLoadBalancer"):
            self._client.register_instances_with_load_balancer(
                LoadBalancerName=name, Instances=[{"InstanceId": i} for i in ec2_instance_ids]
            )

    @calls("elasticloadbalancing:DeregisterInstancesFromLoadBalancer", roles=_BOTH)
    def deregister(self, name: str, ec2_instance_ids: Sequence[str]) -> list[str]:
        """Take the registered ones of the instances out; returns those taken out."""
        present = [i for i in ec2_instance_ids if i in self.get(name).instance_ids]
        if present:
            with aws_errors("elasticloadbalancing:DeregisterInstancesFromLoadBalancer"):
                self._client.deregister_instances_from_load_balancer(
                    LoadBalancerName=name, Instances=[{"InstanceId": i} for i in present]
                )
        return present

    @calls("elasticloadbalancing:DescribeLoadBalancerAttributes", roles=_BOTH)
    def draining(self, name: str) -> Draining:
        """The load balancer's connection draining (off, or on with its timeout in seconds)."""
        with aws_errors("elasticloadbalancing:DescribeLoadBalancerAttributes"):
            resp = self._client.describe_load_balancer_attributes(LoadBalancerName=name)
        raw = resp.get("LoadBalancerAttributes", {}).get("ConnectionDraining", {})
        return Draining(bool(raw.get("Enabled")), int(raw.get("Timeout") or 300))

    @calls("elasticloadbalancing:DescribeInstanceHealth", roles=_BOTH)
    def in_service(self, name: str, ec2_instance_id: str) -> bool:
        """True while the load balancer still sends traffic to (or drains) the instance."""
        with aws_errors("elasticloadbalancing:DescribeInstanceHealth"):
            try:
                resp = self._client.describe_instance_health(
                    LoadBalancerName=name, Instances=[{"InstanceId": ec2_instance_id}]
                )
            except self._client.exceptions.ClientError as exc:
                if exc.response.get("Error", {}).get("Code") == "InvalidInstance":
                    return False
                raise
        return any(s.get("State") == "InService" for s in resp.get("InstanceStates", []))
