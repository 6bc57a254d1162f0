"""Elastic IP adapter: addresses registered with a stack are EC2 addresses carrying its tag.

The registration itself lives on the address (tags `stackops:stack-id` and
`Name`), as an instance's membership lives on the instance, so nothing is
recorded twice. An address stackops allocated for a layer's
AutoAssignElasticIps also carries `stackops:allocated-for` (the stackops
instance id), which is how delete-instance knows to release it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from stackops.aws.roles import DISPATCHER, OPERATOR, calls
from stackops.aws.session import AwsSession, aws_errors, error_code
from stackops.errors import AwsFailure
from stackops.wire import TAG_STACK


@dataclass(frozen=True)
class Address:
    """One Elastic IP as EC2 describes it."""

    public_ip: str
    allocation_id: str | None
    domain: str
    association_id: str | None = None
    ec2_instance_id: str | None = None
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def stack_id(self) -> str | None:
        return self.tags.get(TAG_STACK)

    @property
    def name(self) -> str | None:
        return self.tags.get("Name")


class Addresses:
    """Find, allocate, associate, disassociate, release and tag Elastic IPs."""

    def __init__(self, session: AwsSession) -> None:
        self._client = session.client("ec2")

    @calls("ec2:DescribeAddresses", roles=(OPERATOR, DISPATCHER))
    def find(self, public_ip: str) -> Address | None:
        """The address with this IP in the region, or None."""
        try:
            with aws_errors("ec2:DescribeAddresses"):
                resp = self._client.describe_addresses(PublicIps=[public_ip])
        except AwsFailure as exc:
            if error_code(exc) in ("InvalidAddress.NotFound", "InvalidParameterValue"):
                return None
            raise
        found = [_address(raw) for raw in resp.get("Addresses", [])]
        return found[0] if found else None

    @calls("ec2:DescribeAddresses", roles=(OPERATOR,))
    def of_stack(self, stack_id: str) -> list[Address]:
        """Every address registered with the stack, by IP."""
        with aws_errors("ec2:DescribeAddresses"):
            resp = self._client.describe_addresses(
                Filters=[{"Name": f"tag:{TAG_STACK}", "Values": [stack_id]}]
            )
        return sorted((_address(raw) for raw in resp.get("Addresses", [])), key=_ip_key)

    @calls("ec2:AllocateAddress", roles=(DISPATCHER,), implied=("ec2:CreateTags",))
    def allocate(self, tags: dict[str, str]) -> Address:
        """A new VPC address, tagged at allocation."""
        with aws_errors("ec2:AllocateAddress"):
            resp = self._client.allocate_address(
                Domain="vpc",
                TagSpecifications=[
                    {
                        "ResourceType": "elastic-ip",
                        "Tags": [{"Key": k, "Value": v} for k, v in tags.items()],
                    }
                ],
            )
        return Address(
            resp["PublicIp"], resp.get("AllocationId"), resp.get("Domain", "vpc"), tags=tags
        )

    @calls("ec2:AssociateAddress", roles=(OPERATOR, DISPATCHER))
    def associate(self, address: Address, ec2_instance_id: str) -> None:
        """Point the address at the instance (moving it from any other)."""
        kwargs: dict[str, Any] = {"InstanceId": ec2_instance_id, "AllowReassociation": True}
        if address.allocation_id:
            kwargs["AllocationId"] = address.allocation_id
        else:
            kwargs["PublicIp"] = address.public_ip
        with aws_errors("ec2:AssociateAddress"):
            self._client.associate_address(**kwargs)

    @calls("ec2:DisassociateAddress", roles=(OPERATOR,))
    def disassociate(self, address: Address) -> None:
        """Detach the address from its instance, if it has one."""
        if not address.ec2_instance_id:
            return
        kwargs = (
            {"AssociationId": address.association_id}
            if address.association_id
            else {"PublicIp": address.public_ip}
        )
        with aws_errors("ec2:DisassociateAddress"):
            self._client.disassociate_address(**kwargs)

    @calls("ec2:ReleaseAddress", roles=(OPERATOR,))
    def release(self, address: Address) -> None:
        """Give the address back to AWS (disassociating it first)."""
        self.disassociate(address)
        kwargs = (
            {"AllocationId": address.allocation_id}
            if address.allocation_id
            else {"PublicIp": address.public_ip}
        )
        with aws_errors("ec2:ReleaseAddress"):
            self._client.release_address(**kwargs)

    @calls("ec2:CreateTags", roles=(OPERATOR,))
    def tag(self, address: Address, tags: dict[str, str]) -> None:
        with aws_errors("ec2:CreateTags"):
            self._client.create_tags(
                Resources=[_resource_id(address)],
                Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
            )

    @calls("ec2:DeleteTags", roles=(OPERATOR,))
    def untag(self, address: Address, keys: Iterable[str]) -> None:
        with aws_errors("ec2:DeleteTags"):
            self._client.delete_tags(
                Resources=[_resource_id(address)], Tags=[{"Key": k} for k in keys]
            )


def _resource_id(address: Address) -> str:
    if not address.allocation_id:
        raise AwsFailure(
            f"Elastic IP {address.public_ip} is an EC2-Classic address",
            hint="stackops keeps registration in tags, which only VPC addresses have",
        )
    return address.allocation_id


def _ip_key(address: Address) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else 0 for part in address.public_ip.split("."))


def _address(raw: dict[str, Any]) -> Address:
    return Address(
        public_ip=raw["PublicIp"],
        allocation_id=raw.get("AllocationId"),
        domain=raw.get("Domain", "vpc"),
        association_id=raw.get("AssociationId") or None,
        ec2_instance_id=raw.get("InstanceId") or None,
        tags={t["Key"]: t["Value"] for t in raw.get("Tags", [])},
    )
