"""Stacks, layers, apps and instances: specs (what a user sets) and records (plus ids and state).

Field names are snake_case; OpsWorks's PascalCase names are accepted as
aliases, so `{"Setup": [...]}` and `{"setup": [...]}` both validate. Unknown
fields are refused. `to_api()` gives the OpsWorks response shape (secrets
filtered); `to_record()` / `from_record()` give the plain storage form (secrets
kept: the store decides where they go).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_pascal

from stackops.model import validation as v
from stackops.model.enums import (
    AppType,
    Architecture,
    AutoScalingType,
    HostnameTheme,
    InstanceStatus,
    LayerType,
    RootDeviceType,
    SourceType,
    VirtualizationType,
)
from stackops.model.fields import (
    AbsolutePath,
    AmiId,
    Arn,
    Attributes,
    AutoScalingGroupName,
    AvailabilityZone,
    CustomJson,
    DomainName,
    Hostname,
    InstanceType,
    Name,
    PackageName,
    RecipeName,
    RecordId,
    Region,
    SecurityGroupId,
    Shortname,
    SubnetId,
    TargetGroupArn,
    Timestamp,
    VpcId,
)

FILTERED = "*****FILTERED*****"
"""What OpsWorks showed instead of a secret value."""


class OpsWorksModel(BaseModel):
    """Base of every model: snake_case names, PascalCase aliases, unknown fields refused."""

    model_config = ConfigDict(
        alias_generator=to_pascal,
        validate_by_name=True,
        validate_by_alias=True,
        extra="forbid",
    )

    def to_record(self) -> dict[str, Any]:
        """The plain JSON-able storage form: snake_case keys, secrets kept."""
        return self.model_dump(mode="json")

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Self:
        """Rebuild a model from `to_record()` output."""
        return cls.model_validate(dict(record))

    def to_api(self) -> dict[str, Any]:
        """The OpsWorks response shape: PascalCase keys, None left out, secrets filtered."""
        data = self.model_dump(mode="json", by_alias=True, exclude_none=True)
        if "CustomJson" in data:
            custom = data.pop("CustomJson")
            if custom:
                data["CustomJson"] = json.dumps(custom)
        for key in ("AppSource", "CustomCookbooksSource"):
            if key in data:
                data[key] = _filter_source(data[key])
        if "Environment" in data:
            data["Environment"] = [
                {**item, "Value": FILTERED} if item.get("Secure") else item
                for item in data["Environment"]
            ]
        return data


def _filter_source(source: dict[str, Any]) -> dict[str, Any]:
    return {k: FILTERED if k in ("Password", "SshKey") else val for k, val in source.items()}


class Source(OpsWorksModel):
    """Where code comes from: a git or svn repository, an archive URL or an S3 object."""

    type: SourceType
    url: str | None = Field(default=None, min_length=1)
    username: str | None = None
    password: str | None = Field(default=None, repr=False)
    ssh_key: str | None = Field(default=None, repr=False)
    revision: str | None = None

    @model_validator(mode="after")
    def _url_required(self) -> Self:
        if self.url is None:
            raise ValueError(
                f"a {self.type.value} source needs a url "
                "(like s3://bucket/app.tar.gz, https://host/app.tar.gz or a git URL)"
            )
        return self


class Recipes(OpsWorksModel):
    """Recipes per lifecycle event, each `cookbook::recipe` (or `cookbook` for its default)."""

    setup: list[RecipeName] = []
    configure: list[RecipeName] = []
    deploy: list[RecipeName] = []
    undeploy: list[RecipeName] = []
    shutdown: list[RecipeName] = []


STACKOPS_DEFAULT_RECIPES = Recipes(
    setup=["stackops::setup"],
    configure=["stackops::configure"],
    deploy=["stackops::deploy"],
    undeploy=["stackops::undeploy"],
    shutdown=["stackops::shutdown"],
)
"""The built-in `stackops` cookbook's recipes, run before a layer's custom recipes."""


class EnvironmentVariable(OpsWorksModel):
    """One app environment variable; `secure` hides its value in API output."""

    key: str
    value: str = ""
    secure: bool = False

    def __repr_args__(self) -> Iterable[tuple[str | None, Any]]:
        """Secure values stay out of reprs and logs."""
        for name, value in super().__repr_args__():
            yield name, "(secret)" if name == "value" and self.secure else value

    @field_validator("key")
    @classmethod
    def _key(cls, key: str) -> str:
        return v.as_value_error(v.validate_environment_key, key)

    @field_validator("value")
    @classmethod
    def _value(cls, value: str, info: ValidationInfo) -> str:
        return v.as_value_error(v.validate_environment_value, info.data.get("key", "?"), value)


class ShutdownEventConfiguration(OpsWorksModel):
    """How long shutdown recipes may run (seconds) and whether to drain the load balancer."""

    execution_timeout: int = Field(default=120, ge=1, le=900)
    delay_until_elb_connections_drained: bool = False


class LifecycleEventConfiguration(OpsWorksModel):
    """Per-event settings of a layer; only shutdown has any, as in OpsWorks."""

    shutdown: ShutdownEventConfiguration = ShutdownEventConfiguration()


class StackConfigurationManager(OpsWorksModel):
    """The configuration manager; always stackops's own recipe engine."""

    name: str = "stackops"
    version: str = "1"


class DataSource(OpsWorksModel):
    """A database attached to an app (OpsWorks `DataSource`)."""

    type: str | None = None
    arn: Arn | None = None
    database_name: str | None = None


class StackSpec(OpsWorksModel):
    """What a user sets on a stack (OpsWorks `CreateStackRequest`, plus `default_ami_id`)."""

    name: Name
    region: Region = "us-east-1"
    vpc_id: VpcId | None = None
    attributes: Attributes = {}
    service_role_arn: Arn | None = None
    default_instance_profile_arn: Arn | None = None
    default_os: str = "Amazon Linux 2023"
    hostname_theme: HostnameTheme = HostnameTheme.Layer_Dependent
    default_availability_zone: AvailabilityZone | None = None
    default_subnet_id: SubnetId | None = None
    custom_json: CustomJson = {}
    configuration_manager: StackConfigurationManager = StackConfigurationManager()
    use_custom_cookbooks: bool = False
    use_opsworks_security_groups: bool = False
    custom_cookbooks_source: Source | None = None
    default_ssh_key_name: str | None = None
    default_root_device_type: RootDeviceType = RootDeviceType.ebs
    agent_version: str | None = None
    default_ami_id: AmiId | None = None
    """stackops extension: the AMI start-instance uses when the instance names none."""

    @model_validator(mode="after")
    def _zone_in_region(self) -> Self:
        zone = self.default_availability_zone
        if zone and not zone.startswith(self.region):
            raise ValueError(
                f"default_availability_zone {zone!r} is not in region {self.region!r}; "
                f"choose a zone like '{self.region}a'"
            )
        return self


class _Record(OpsWorksModel):
    """Mixin behaviour of records: split off the spec, build from a spec."""

    spec_class: ClassVar[type[OpsWorksModel]]

    def spec(self) -> Any:
        """The user-set part of this record, as its spec class."""
        names = set(self.spec_class.model_fields)
        return self.spec_class.model_validate(self.model_dump(include=names))

    @classmethod
    def from_spec(cls, spec: OpsWorksModel, **state: Any) -> Self:
        """Build a record from a spec plus its ids and state (`stack_id=...`, ...)."""
        return cls.model_validate({**spec.model_dump(), **state})


class Stack(_Record, StackSpec):
    """A stack as stored: its spec plus id, ARN and creation time."""

    spec_class: ClassVar[type[OpsWorksModel]] = StackSpec

    stack_id: RecordId
    arn: str | None = None
    created_at: Timestamp

    def spec(self) -> StackSpec:
        """The user-set part of this stack."""
        return super().spec()


def _default_name_from_shortname(data: Any) -> Any:
    if isinstance(data, dict) and "name" not in data and "Name" not in data:
        shortname = data.get("shortname", data.get("Shortname"))
        if isinstance(shortname, str):
            return {**data, "name": shortname}
    return data


class LayerSpec(OpsWorksModel):
    """What a user sets on a layer (OpsWorks `CreateLayerRequest`, plus `target_group_arn`).

    `name` defaults to `shortname` when left out.
    """

    type: LayerType
    name: Name
    shortname: Shortname
    attributes: Attributes = {}
    custom_instance_profile_arn: Arn | None = None
    custom_json: CustomJson = {}
    custom_security_group_ids: list[SecurityGroupId] = []
    packages: list[PackageName] = []
    enable_auto_healing: bool = True
    auto_assign_elastic_ips: bool = False
    auto_assign_public_ips: bool = True
    custom_recipes: Recipes = Recipes()
    install_updates_on_boot: bool = True
    use_ebs_optimized_instances: bool = False
    lifecycle_event_configuration: LifecycleEventConfiguration = LifecycleEventConfiguration()
    target_group_arn: TargetGroupArn | None = None
    """stackops extension: ELBv2 target group the layer's online instances are registered in."""
    auto_scaling_group: AutoScalingGroupName | None = None
    """stackops extension: an EC2 Auto Scaling group whose launch lifecycle actions bring
    instances into this layer: each one is registered and set up before the launch goes on."""

    @model_validator(mode="before")
    @classmethod
    def _name_default(cls, data: Any) -> Any:
        return _default_name_from_shortname(data)


class Layer(_Record, LayerSpec):
    """A layer as stored: its spec plus ids, creation time and the built-in recipes."""

    spec_class: ClassVar[type[OpsWorksModel]] = LayerSpec

    layer_id: RecordId
    stack_id: RecordId
    arn: str | None = None
    created_at: Timestamp
    default_recipes: Recipes = Field(
        default_factory=lambda: STACKOPS_DEFAULT_RECIPES.model_copy(deep=True)
    )

    def spec(self) -> LayerSpec:
        """The user-set part of this layer."""
        return super().spec()


def derive_shortname(name: str) -> str:
    """An app shortname from its name: lower-case, other characters '_' ("My App!" -> "my_app")."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


class AppSpec(OpsWorksModel):
    """What a user sets on an app (OpsWorks `CreateAppRequest`, plus deploy extensions).

    `shortname` is derived from `name` when left out, `name` from `shortname`;
    `deploy_to` defaults to `/srv/www/<shortname>`.
    """

    shortname: Shortname
    name: Name
    description: str | None = None
    type: AppType = AppType.other
    app_source: Source | None = None
    domains: list[DomainName] = []
    enable_ssl: bool = False
    attributes: Attributes = {}
    environment: list[EnvironmentVariable] = []
    data_sources: list[DataSource] = []
    deploy_to: AbsolutePath | None = None
    """stackops extension: where releases go; `/srv/www/<shortname>` when not set."""
    migrate_command: list[str] | None = Field(default=None, min_length=1)
    """stackops extension: argv run once per deployment before the switch."""
    health_check: dict[str, Any] | None = None
    """stackops extension: e.g. {"path": "/health", "port": 8080} or {"command": [...]}."""
    layers: list[Shortname] = []
    """stackops extension: shortnames of the layers whose instances get this app; empty means
    every layer (OpsWorks tied apps to layers by type; custom layers need it said)."""

    @model_validator(mode="before")
    @classmethod
    def _derive_names(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        if "shortname" not in data and "Shortname" not in data:
            name = data.get("name", data.get("Name"))
            if isinstance(name, str):
                derived = derive_shortname(name)
                if not derived:
                    raise ValueError(
                        f"cannot derive a shortname from name {name!r}; give shortname"
                    )
                data = {**data, "shortname": derived}
        return _default_name_from_shortname(data)

    @field_validator("environment")
    @classmethod
    def _environment(cls, env: list[EnvironmentVariable]) -> list[EnvironmentVariable]:
        v.as_value_error(v.validate_environment, [(e.key, e.value) for e in env])
        return env

    @model_validator(mode="after")
    def _deploy_to_default(self) -> Self:
        if self.deploy_to is None:
            self.deploy_to = f"/srv/www/{self.shortname}"
        return self


class App(_Record, AppSpec):
    """An app as stored: its spec plus ids and creation time."""

    spec_class: ClassVar[type[OpsWorksModel]] = AppSpec

    app_id: RecordId
    stack_id: RecordId
    created_at: Timestamp

    def spec(self) -> AppSpec:
        """The user-set part of this app."""
        return super().spec()


class InstanceSpec(OpsWorksModel):
    """What a user sets on an instance (OpsWorks `CreateInstanceRequest` without stack/layers).

    Fields left None are decided at creation: os from the stack's default_os,
    ami_id from its default_ami_id, and so on.
    """

    instance_type: InstanceType
    hostname: Hostname | None = None
    os: str | None = None
    ami_id: AmiId | None = None
    ssh_key_name: str | None = None
    availability_zone: AvailabilityZone | None = None
    subnet_id: SubnetId | None = None
    architecture: Architecture = Architecture.x86_64
    root_device_type: RootDeviceType = RootDeviceType.ebs
    install_updates_on_boot: bool = True
    ebs_optimized: bool = False
    agent_version: str | None = None
    tenancy: Literal["default", "dedicated", "host"] | None = None
    auto_scaling_type: AutoScalingType | None = None
    virtualization_type: VirtualizationType | None = None


class Instance(_Record, InstanceSpec):
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
    port_offset: int = Field(default=0, ge=0)
    """stackops extension: added to service ports where nodes share one host (the sandbox),
    so services of different nodes never collide. Assigned at creation, never reused."""

    def spec(self) -> InstanceSpec:
        """The user-set part of this instance."""
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
