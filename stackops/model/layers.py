"""Layers: their recipes per lifecycle event, what a user sets on one, the stored record."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, model_validator

from stackops.model import opsworks_values as ow
from stackops.model import unsupported as refused
from stackops.model.base import OpsWorksModel, RecordModel, default_name_from_shortname
from stackops.model.enums import LayerType
from stackops.model.fields import (
    Arn,
    AutoScalingGroupName,
    CustomJson,
    Name,
    PackageName,
    RecipeName,
    RecordId,
    SecurityGroupId,
    Shortname,
    TargetGroupArn,
    Timestamp,
)

MAX_RECIPES = 100
"""Recipes a layer may list per lifecycle event."""


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


class ShutdownEventConfiguration(OpsWorksModel):
    """How long shutdown recipes may run (seconds) and whether to drain the load balancer."""

    execution_timeout: int = Field(default=120, ge=1, le=900)
    delay_until_elb_connections_drained: bool = False


class LifecycleEventConfiguration(OpsWorksModel):
    """Per-event settings of a layer; only shutdown has any, as in OpsWorks."""

    shutdown: ShutdownEventConfiguration = ShutdownEventConfiguration()


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
        return default_name_from_shortname(data)


class Layer(RecordModel, LayerSpec):
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
