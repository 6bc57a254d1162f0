"""Stacks: what a user sets on one (`StackSpec`), the stored record, the summary."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar, Self

from pydantic import model_validator
from pydantic.alias_generators import to_pascal

from stackops.model import opsworks_values as ow
from stackops.model import unsupported as refused
from stackops.model.base import OpsWorksModel, RecordModel
from stackops.model.enums import HostnameTheme, InstanceStatus, RootDeviceType
from stackops.model.fields import (
    AmiId,
    Arn,
    AvailabilityZone,
    CustomJson,
    Line,
    Name,
    RecordId,
    Region,
    SubnetId,
    Timestamp,
    VpcId,
)
from stackops.model.sources import Source

if TYPE_CHECKING:
    from stackops.model.apps import App
    from stackops.model.instances import Instance
    from stackops.model.layers import Layer


class StackConfigurationManager(OpsWorksModel):
    """The configuration manager; always stackops's own recipe engine."""

    name: ow.ConfigurationManagerName = "stackops"
    version: Line = "1"


class StackSpec(OpsWorksModel):
    """What a user sets on a stack (OpsWorks `CreateStackRequest`, plus `default_ami_id`)."""

    name: Name
    region: Region = "us-east-1"
    vpc_id: VpcId | None = None
    attributes: ow.StackAttributes = {}
    service_role_arn: Arn | None = None
    default_instance_profile_arn: Arn | None = None
    default_os: ow.OsName = "Amazon Linux 2023"
    hostname_theme: HostnameTheme = HostnameTheme.Layer_Dependent
    default_availability_zone: AvailabilityZone | None = None
    default_subnet_id: SubnetId | None = None
    custom_json: CustomJson = {}
    configuration_manager: StackConfigurationManager = StackConfigurationManager()
    use_custom_cookbooks: bool = False
    use_opsworks_security_groups: ow.NoOpsWorksSecurityGroups = False
    custom_cookbooks_source: Source | None = None
    default_ssh_key_name: Line | None = None
    default_root_device_type: RootDeviceType = RootDeviceType.ebs
    agent_version: ow.AgentVersion | None = None
    default_ami_id: AmiId | None = None
    """stackops extension: the AMI start-instance uses when the instance names none."""
    chef_configuration: refused.ChefConfiguration = None

    @model_validator(mode="after")
    def _zone_in_region(self) -> Self:
        zone = self.default_availability_zone
        if zone and not zone.startswith(self.region):
            raise ValueError(
                f"default_availability_zone {zone!r} is not in region {self.region!r}; "
                f"choose a zone like '{self.region}a'"
            )
        return self


class Stack(RecordModel, StackSpec):
    """A stack as stored: its spec plus id, ARN and creation time."""

    spec_class: ClassVar[type[OpsWorksModel]] = StackSpec

    stack_id: RecordId
    arn: str | None = None
    created_at: Timestamp
    tags: dict[str, str] = {}
    """Tags of the stack (tag-resource); every instance of the stack carries them."""

    api_hidden: ClassVar[frozenset[str]] = frozenset({"tags"})

    def spec(self) -> StackSpec:
        """The user-set part of this stack."""
        return super().spec()


_COUNT_KEYS = {status: to_pascal(status.value) for status in InstanceStatus}


def summarize(
    stack: Stack, layers: Iterable[Layer], apps: Iterable[App], instances: Iterable[Instance]
) -> dict[str, Any]:
    """OpsWorks's `StackSummary` shape: counts of layers, apps and instances by status."""
    counts = dict.fromkeys(_COUNT_KEYS.values(), 0)
    for instance in instances:
        counts[_COUNT_KEYS[instance.status]] += 1
    summary: dict[str, Any] = {
        "StackId": stack.stack_id,
        "Name": stack.name,
        "Arn": stack.arn,
        "LayersCount": sum(1 for _ in layers),
        "AppsCount": sum(1 for _ in apps),
        "InstancesCount": counts,
    }
    return {key: value for key, value in summary.items() if value is not None}
