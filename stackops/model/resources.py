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

from stackops.model import deploysettings
from stackops.model import opsworks_values as ow
from stackops.model import unsupported as refused
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
)
from stackops.model.fields import (
    AmiId,
    Argv,
    Arn,
    AutoScalingGroupName,
    AvailabilityZone,
    CustomJson,
    DeployTo,
    DomainName,
    Hostname,
    InstanceType,
    Line,
    Name,
    PackageName,
    RecipeName,
    RecordId,
    Region,
    SecurityGroupId,
    Shortname,
    SubnetId,
    TargetGroupArn,
    Text,
    Timestamp,
    VpcId,
)
from stackops.model.health import HealthCheckSpec
from stackops.model.secret_ref import SecretRef, SecretText

FILTERED = ow.FILTERED
MAX_RECIPES = 100
"""Recipes a layer may list per lifecycle event."""
"""What OpsWorks showed instead of a secret value."""


class OpsWorksModel(BaseModel):
    """Base of every model: snake_case names, PascalCase aliases, unknown fields refused."""

    model_config = ConfigDict(
        alias_generator=to_pascal,
        validate_by_name=True,
        validate_by_alias=True,
        extra="forbid",
    )

    api_hidden: ClassVar[frozenset[str]] = frozenset()
    """Fields kept in records but left out of API answers (stackops's own bookkeeping)."""

    def to_record(self) -> dict[str, Any]:
        """The plain JSON-able storage form: snake_case keys, secrets kept."""
        return self.model_dump(mode="json")

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Self:
        """Rebuild a model from `to_record()` output."""
        return cls.model_validate(dict(record))

    def to_api(self) -> dict[str, Any]:
        """The OpsWorks response shape: PascalCase keys, None left out, secrets filtered."""
        data = self.model_dump(
            mode="json", by_alias=True, exclude_none=True, exclude=set(self.api_hidden)
        )
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
        return ow.answer_form(data)


def _filter_source(source: dict[str, Any]) -> dict[str, Any]:
    return {k: FILTERED if k in ("Password", "SshKey") else val for k, val in source.items()}


class Source(OpsWorksModel):
    """Where code comes from: a git or svn repository, an archive URL or an S3 object."""

    type: SourceType
    url: Line | None = Field(default=None, min_length=1)
    username: Line | None = None
    password: SecretText | None = Field(default=None, repr=False)
    ssh_key: SecretText | None = Field(default=None, repr=False)
    revision: Line | None = None

    @model_validator(mode="after")
    def _url_required(self) -> Self:
        if self.type is SourceType.svn:
            raise ValueError(
                "svn sources are not supported; use git (a repository URL and a revision), "
                "archive (an http(s) URL of a .tar.gz or .zip) or s3 (s3://bucket/key)"
            )
        if self.url is None:
            raise ValueError(
                f"a {self.type.value} source needs a url "
                "(like s3://bucket/app.tar.gz, https://host/app.tar.gz or a git URL)"
            )
        v.as_value_error(deploysettings.validate_source_url, self.type.value, self.url)
        return self


class Recipes(OpsWorksModel):
    """Recipes per lifecycle event, each `cookbook::recipe` (or `cookbook` for its default)."""

    setup: list[RecipeName] = Field(default=[], max_length=MAX_RECIPES)
    configure: list[RecipeName] = Field(default=[], max_length=MAX_RECIPES)
    deploy: list[RecipeName] = Field(default=[], max_length=MAX_RECIPES)
    undeploy: list[RecipeName] = Field(default=[], max_length=MAX_RECIPES)
    shutdown: list[RecipeName] = Field(default=[], max_length=MAX_RECIPES)


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

    key: Line
    value: SecretText = ""
    """The value, or {"ssm": "/param"}: kept in your parameter, read when recipes run."""
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
    def _value(cls, value: str | SecretRef, info: ValidationInfo) -> str | SecretRef:
        if isinstance(value, SecretRef):
            return value
        return v.as_value_error(v.validate_environment_value, info.data.get("key", "?"), value)

    @model_validator(mode="after")
    def _ref_is_secure(self) -> Self:
        if isinstance(self.value, SecretRef) and not self.secure:
            raise ValueError(f"{self.key}: a value kept in Parameter Store needs secure: true")
        return self


class ShutdownEventConfiguration(OpsWorksModel):
    """How long shutdown recipes may run (seconds) and whether to drain the load balancer."""

    execution_timeout: int = Field(default=120, ge=1, le=900)
    delay_until_elb_connections_drained: bool = False


class LifecycleEventConfiguration(OpsWorksModel):
    """Per-event settings of a layer; only shutdown has any, as in OpsWorks."""

    shutdown: ShutdownEventConfiguration = ShutdownEventConfiguration()


class StackConfigurationManager(OpsWorksModel):
    """The configuration manager; always stackops's own recipe engine."""

    name: ow.ConfigurationManagerName = "stackops"
    version: Line = "1"


class SslConfiguration(OpsWorksModel):
    """An app's SSL certificate (PEM); the private key is kept in Parameter Store."""

    certificate: str = Field(min_length=1)
    private_key: SecretText = Field(repr=False)
    """PEM text, or {ssm: ...}; "" in a record: kept at the app's own parameter."""
    chain: str | None = None


class DataSource(OpsWorksModel):
    """A database attached to an app (OpsWorks `DataSource`), passed to its recipes."""

    type: ow.DataSourceType | None = None
    arn: Arn | None = None
    database_name: Line | None = None


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
    tags: dict[str, str] = {}
    """Tags of the stack (tag-resource); every instance of the stack carries them."""

    api_hidden: ClassVar[frozenset[str]] = frozenset({"tags"})

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
    attributes: ow.LayerAttributes = {}
    custom_instance_profile_arn: Arn | None = None
    custom_json: CustomJson = {}
    custom_security_group_ids: list[SecurityGroupId] = Field(default=[], max_length=16)
    packages: list[PackageName] = Field(default=[], max_length=200)
    enable_auto_healing: bool = True
    auto_assign_elastic_ips: bool = False
    auto_assign_public_ips: bool = True
    custom_recipes: Recipes = Recipes()
    install_updates_on_boot: bool = True
    use_ebs_optimized_instances: bool = False
    lifecycle_event_configuration: LifecycleEventConfiguration = LifecycleEventConfiguration()
    target_group_arn: TargetGroupArn | None = None
    """stackops extension: ELBv2 target group the layer's online instances are registered in."""
    elastic_load_balancer: str | None = Field(default=None, min_length=1, max_length=32)
    """The Classic ELB attached to the layer (attach-elastic-load-balancer), by name."""
    volume_configurations: refused.VolumeConfigurations = None
    cloud_watch_logs_configuration: refused.CloudWatchLogsConfiguration = None
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
    tags: dict[str, str] = {}
    """Tags of the layer (tag-resource), over the stack's, on every instance of the layer."""

    api_hidden: ClassVar[frozenset[str]] = frozenset({"tags", "elastic_load_balancer"})

    def spec(self) -> LayerSpec:
        """The user-set part of this layer."""
        return super().spec()


def derive_shortname(name: str) -> str:
    """An app shortname from its name: lower-case, other characters '_' ("My App!" -> "my_app")."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


APP_SOURCE_TYPES = (SourceType.s3, SourceType.archive, SourceType.git)
"""The app source types a deployment can fetch (svn is refused at the door)."""


class AppSpec(OpsWorksModel):
    """What a user sets on an app (OpsWorks `CreateAppRequest`, plus deploy extensions).

    `shortname` is derived from `name` when left out, `name` from `shortname`;
    `deploy_to` defaults to `/srv/www/<shortname>`.
    """

    shortname: Shortname
    name: Name
    description: Text | None = None
    type: AppType = AppType.other
    app_source: Source | None = None
    domains: list[DomainName] = Field(default=[], max_length=100)
    enable_ssl: bool = False
    ssl_configuration: SslConfiguration | None = None
    attributes: ow.AppAttributes = {}
    environment: list[EnvironmentVariable] = []
    data_sources: list[DataSource] = Field(default=[], max_length=10)
    deploy_to: DeployTo | None = None
    """stackops extension: where releases go; `/srv/www/<shortname>` when not set."""
    migrate_command: Argv | None = None
    """stackops extension: argv run once per deployment before the switch."""
    health_check: HealthCheckSpec | None = None
    """stackops extension: e.g. {"path": "/health", "port": 8080} or {"command": [...]}."""
    layers: list[Shortname] = Field(default=[], max_length=100)
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
                derived = derive_shortname(name)[: v.SHORTNAME_MAX]
                if not derived:
                    raise ValueError(
                        f"cannot derive a shortname from name {name!r}; give shortname"
                    )
                data = {**data, "shortname": derived}
        return _default_name_from_shortname(data)

    @field_validator("app_source")
    @classmethod
    def _deployable_source(cls, source: Source | None) -> Source | None:
        if source is not None and source.type not in APP_SOURCE_TYPES:
            kinds = " or ".join(t.value for t in APP_SOURCE_TYPES)
            raise ValueError(
                f"type {source.type.value!r} cannot be deployed yet: stackops deploys {kinds} "
                "sources (a .tar.gz or .zip at an s3://, https:// or local address, or a git "
                "repository with a revision)"
            )
        return source

    @field_validator("environment")
    @classmethod
    def _environment(cls, env: list[EnvironmentVariable]) -> list[EnvironmentVariable]:
        pairs = [(e.key, e.value) for e in env if isinstance(e.value, str)]
        v.as_value_error(v.validate_environment, pairs)
        return env

    @model_validator(mode="after")
    def _ssl_needs_certificate(self) -> Self:
        if self.enable_ssl and self.ssl_configuration is None:
            raise ValueError(
                "enable_ssl needs ssl_configuration (Certificate and PrivateKey, PEM text; "
                "file://cert.pem reads a file)"
            )
        return self

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
