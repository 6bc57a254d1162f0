"""Instances: what a user sets on one (`InstanceSpec`) and the stored record."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from stackops.model import opsworks_values as ow
from stackops.model import unsupported as refused
from stackops.model.base import OpsWorksModel, RecordModel
from stackops.model.enums import Architecture, AutoScalingType, InstanceStatus, RootDeviceType
from stackops.model.fields import (
    AmiId,
    AvailabilityZone,
    Hostname,
    InstanceType,
    Line,
    RecordId,
    SubnetId,
    Timestamp,
)


class InstanceSpec(OpsWorksModel):
    """What a user sets on an instance (OpsWorks `CreateInstanceRequest` without stack/layers).

    Fields left None are decided at creation: os from the stack's default_os,
    ami_id from its default_ami_id, and so on.
    """

    instance_type: InstanceType
    hostname: Hostname | None = None
    os: ow.OsName | None = None
    ami_id: AmiId | None = None
    ssh_key_name: Line | None = None
    availability_zone: AvailabilityZone | None = None
    subnet_id: SubnetId | None = None
    architecture: Architecture = Architecture.x86_64
    root_device_type: RootDeviceType = RootDeviceType.ebs
    install_updates_on_boot: bool = True
    ebs_optimized: bool = False
    agent_version: ow.AgentVersion | None = None
    tenancy: Literal["default", "dedicated", "host"] | None = None
    auto_scaling_type: AutoScalingType | None = None
    virtualization_type: ow.HvmOnly | None = None
    block_device_mappings: refused.BlockDeviceMappings = None


class Instance(RecordModel, InstanceSpec):
    """An instance as stored: its spec plus ids, layer membership, status and addresses."""

    spec_class: ClassVar[type[OpsWorksModel]] = InstanceSpec

    instance_id: RecordId
    stack_id: RecordId
    layer_ids: list[RecordId] = []
    """Empty only for a registered instance not yet assigned to a layer (as in OpsWorks)."""
    hostname: Hostname
    status: InstanceStatus = InstanceStatus.stopped
    ec2_instance_id: str | None = None
    private_ip: str | None = None
    public_ip: str | None = None
    private_dns: str | None = None
    public_dns: str | None = None
    security_group_ids: list[str] = []
    created_at: Timestamp
    arn: str | None = None
    registered_by: str | None = None
    infrastructure_class: str = "ec2"
    stop_requested: bool = False
    """stackops extension: stackops asked for the current stop (not auto-healed)."""
    elastic_ip: str | None = None
    """The Elastic IP associated with the instance (associated again whenever it boots)."""
    port_offset: int = Field(default=0, ge=0)
    """stackops extension: added to service ports where nodes share one host (the sandbox),
    so services of different nodes never collide. Assigned at creation, never reused."""
    status_reason: str | None = None
    """stackops extension: why the instance is in a failed status (setup_failed: the boot's
    failed setup, deploy or health check); cleared when it boots again."""

    api_hidden: ClassVar[frozenset[str]] = frozenset({"stop_requested"})

    def spec(self) -> InstanceSpec:
        """The user-set part of this instance."""
        return super().spec()
