"""EC2 adapter: launch, stop, start, reboot, terminate, tag and describe instances."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from stackops.aws.roles import DISPATCHER, OPERATOR, calls
from stackops.aws.session import AwsSession, aws_errors

# What EC2 answers for an id that names no instance (only these mean "gone").
GONE = frozenset({"InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed"})


@dataclass(frozen=True)
class LaunchRequest:
    """Everything run_instances needs for one stackops instance."""

    image_id: str
    instance_type: str
    tags: dict[str, str]
    client_token: str
    subnet_id: str | None = None
    availability_zone: str | None = None
    security_group_ids: tuple[str, ...] = ()
    key_name: str | None = None
    instance_profile_arn: str | None = None
    ebs_optimized: bool = False
    tenancy: str | None = None
    associate_public_ip: bool | None = None
    """None: the subnet decides; True/False: ask for (or refuse) a public IP (VPC subnets)."""
    user_data: str | None = None  # cloud-init: installs the agent (stackops.agent_install)


@dataclass(frozen=True)
class Ec2Instance:
    """What stackops reads back about an EC2 instance."""

    instance_id: str
    state: str
    private_ip: str | None = None
    public_ip: str | None = None
    private_dns: str | None = None
    public_dns: str | None = None
    subnet_id: str | None = None
    availability_zone: str | None = None
    security_group_ids: tuple[str, ...] = ()
    image_id: str | None = None
    instance_type: str | None = None
    tags: dict[str, str] = field(default_factory=dict)


class Ec2:
    """Small EC2 adapter over one session."""

    def __init__(self, session: AwsSession) -> None:
        self._client = session.client("ec2")

    @calls(
        "ec2:RunInstances",
        roles=(OPERATOR, DISPATCHER),
        implied=("ec2:CreateTags", "iam:PassRole"),  # tags at launch, the instance profile
    )
    def launch(self, req: LaunchRequest) -> Ec2Instance:
        """Run one instance tagged at launch (instance and its volumes)."""
        tags = [{"Key": k, "Value": v} for k, v in req.tags.items()]
        kwargs: dict[str, Any] = {
            "ImageId": req.image_id,
            "InstanceType": req.instance_type,
            "MinCount": 1,
            "MaxCount": 1,
            "ClientToken": req.client_token,
            "TagSpecifications": [
                {"ResourceType": "instance", "Tags": tags},
                {"ResourceType": "volume", "Tags": tags},
            ],
            "EbsOptimized": req.ebs_optimized,
        }
        if req.associate_public_ip is not None and (req.subnet_id or not req.associate_public_ip):
            # The public IP choice lives on the network interface, with the subnet and groups.
            interface: dict[str, Any] = {
                "DeviceIndex": 0,
                "AssociatePublicIpAddress": req.associate_public_ip,
            }
            if req.subnet_id:
                interface["SubnetId"] = req.subnet_id
            if req.security_group_ids:
                interface["Groups"] = list(req.security_group_ids)
            kwargs["NetworkInterfaces"] = [interface]
        else:
            if req.subnet_id:
                kwargs["SubnetId"] = req.subnet_id
            if req.security_group_ids:
                kwargs["SecurityGroupIds"] = list(req.security_group_ids)
        if req.key_name:
            kwargs["KeyName"] = req.key_name
        if req.instance_profile_arn:
            kwargs["IamInstanceProfile"] = {"Arn": req.instance_profile_arn}
        if req.user_data:
            kwargs["UserData"] = req.user_data  # boto3 base64-encodes it
        placement: dict[str, str] = {}
        if req.availability_zone and not req.subnet_id:
            placement["AvailabilityZone"] = req.availability_zone
        if req.tenancy:
            placement["Tenancy"] = req.tenancy
        if placement:
            kwargs["Placement"] = placement
        with aws_errors("ec2:RunInstances"):
            resp = self._client.run_instances(**kwargs)
        return _instance(resp["Instances"][0])

    @calls("ec2:DescribeInstances", roles=(OPERATOR, DISPATCHER))
    def describe(self, instance_ids: Iterable[str]) -> dict[str, Ec2Instance]:
        """The named instances by id (missing ones are left out), in one call per 200 ids."""
        ids = list(dict.fromkeys(instance_ids))
        found: dict[str, Ec2Instance] = {}
        for start in range(0, len(ids), 200):
            chunk = ids[start : start + 200]
            with aws_errors("ec2:DescribeInstances"):
                try:
                    pages = self._client.get_paginator("describe_instances").paginate(
                        InstanceIds=chunk
                    )
                    for page in pages:
                        for reservation in page["Reservations"]:
                            for raw in reservation["Instances"]:
                                found[raw["InstanceId"]] = _instance(raw)
                except self._client.exceptions.ClientError as exc:
                    if exc.response["Error"]["Code"] not in GONE:
                        raise
                    for one in chunk:  # rare: look the survivors up one by one
                        found.update(self._describe_one(one))
        return found

    @calls("ec2:DescribeInstances", roles=(OPERATOR, DISPATCHER))
    def describe_tagged(self, tag_key: str, value: str | None = None) -> list[Ec2Instance]:
        """Every instance carrying `tag_key` (with `value`, if given; any state): one
        paginated describe. Pages hold up to 1000 reservations (moto counts reservations).
        """
        found: dict[str, Ec2Instance] = {}
        if value is None:
            tag_filter = {"Name": "tag-key", "Values": [tag_key]}
        else:
            tag_filter = {"Name": f"tag:{tag_key}", "Values": [value]}
        with aws_errors("ec2:DescribeInstances"):
            pages = self._client.get_paginator("describe_instances").paginate(
                Filters=[tag_filter], PaginationConfig={"PageSize": 1000}
            )
            for page in pages:
                for reservation in page["Reservations"]:
                    for raw in reservation["Instances"]:
                        found[raw["InstanceId"]] = _instance(raw)
        return list(found.values())

    @calls("ec2:DescribeInstances", roles=(OPERATOR,))  # register-instance --private-ip
    def find_by_address(
        self, *, private_ip: str | None, public_ip: str | None
    ) -> list[Ec2Instance]:
        """The instances (not terminated) with this private and/or public IP address."""
        filters = [
            {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}
        ]
        if private_ip:
            filters.append({"Name": "private-ip-address", "Values": [private_ip]})
        if public_ip:
            filters.append({"Name": "ip-address", "Values": [public_ip]})
        with aws_errors("ec2:DescribeInstances"):
            resp = self._client.describe_instances(Filters=filters)
        return [_instance(raw) for res in resp["Reservations"] for raw in res["Instances"]]

    def _describe_one(self, instance_id: str) -> dict[str, Ec2Instance]:
        """One instance, or nothing when EC2 says it does not exist (only then)."""
        try:
            resp = self._client.describe_instances(InstanceIds=[instance_id])
        except self._client.exceptions.ClientError as exc:
            if exc.response["Error"]["Code"] in GONE:
                return {}
            raise
        return {
            raw["InstanceId"]: _instance(raw)
            for res in resp["Reservations"]
            for raw in res["Instances"]
        }

    @calls("ec2:StartInstances", roles=(OPERATOR, DISPATCHER))
    def start(self, instance_id: str) -> None:
        with aws_errors("ec2:StartInstances"):
            self._client.start_instances(InstanceIds=[instance_id])

    @calls("ec2:StopInstances", roles=(OPERATOR, DISPATCHER))
    def stop(self, instance_id: str, *, force: bool = False) -> None:
        with aws_errors("ec2:StopInstances"):
            self._client.stop_instances(InstanceIds=[instance_id], Force=force)

    @calls("ec2:RebootInstances", roles=(OPERATOR,))
    def reboot(self, instance_id: str) -> None:
        with aws_errors("ec2:RebootInstances"):
            self._client.reboot_instances(InstanceIds=[instance_id])

    @calls("ec2:TerminateInstances", roles=(OPERATOR, DISPATCHER))
    def terminate(self, instance_id: str) -> None:
        with aws_errors("ec2:TerminateInstances"):
            self._client.terminate_instances(InstanceIds=[instance_id])

    @calls("ec2:CreateTags", roles=(OPERATOR,))
    def tag(self, instance_id: str, tags: dict[str, str]) -> None:
        with aws_errors("ec2:CreateTags"):
            self._client.create_tags(
                Resources=[instance_id], Tags=[{"Key": k, "Value": v} for k, v in tags.items()]
            )

    @calls("ec2:DeleteTags", roles=(OPERATOR,))  # untag-resource, deregister-instance
    def untag(self, instance_id: str, keys: Iterable[str]) -> None:
        with aws_errors("ec2:DeleteTags"):
            self._client.delete_tags(Resources=[instance_id], Tags=[{"Key": k} for k in keys])


def _instance(raw: dict[str, Any]) -> Ec2Instance:
    return Ec2Instance(
        instance_id=raw["InstanceId"],
        state=raw.get("State", {}).get("Name", "unknown"),
        private_ip=raw.get("PrivateIpAddress"),
        public_ip=raw.get("PublicIpAddress"),
        private_dns=raw.get("PrivateDnsName") or None,
        public_dns=raw.get("PublicDnsName") or None,
        subnet_id=raw.get("SubnetId"),
        availability_zone=raw.get("Placement", {}).get("AvailabilityZone"),
        security_group_ids=tuple(g["GroupId"] for g in raw.get("SecurityGroups", [])),
        image_id=raw.get("ImageId"),
        instance_type=raw.get("InstanceType"),
        tags={t["Key"]: t["Value"] for t in raw.get("Tags", [])},
    )
